import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { AuthenticationConstants, type ClaimsIdentity, type ConnectorClient, type ConnectorFactory, type UserTokenClient } from 'botframework-connector';

/**
 * Ways a connector client is set up besides the SDK's own (its default retry policy), each by
 * changing its pipeline once: the outbox's and a turn's retries (see outbound.ts).
 */
export type ClientSetups = Record<string, (client: ConnectorClient) => void>;

/** Bot Connector endpoints kept at once: a few in practice (one per Teams region), bounded against made-up serviceUrls. */
const MAX_ENDPOINTS = 64;

/** The clients for one Bot Connector endpoint: the SDK's as it makes them, and one per setup. */
type Clients = Record<string, ConnectorClient>;
const AS_MADE = '';

/**
 * The Bot Connector clients of one adapter, made once per app id, endpoint and audience and shared
 * by the turns and deliveries that reach it. The SDK would make a new client, with its HTTP pipeline
 * and serializer, for every turn and every proactive message.
 */
export class ConnectorClients {
  private readonly endpoints = new Map<string, Promise<Clients>>();
  private readonly userTokenClients = new Map<string, Promise<UserTokenClient>>();

  /** The connections of all the clients, pooled per endpoint (see ConnectionAgents). */
  private readonly agents: ConnectionAgents;

  /** `idleSocketMs`: how long an unused connection is kept when the server announces no Keep-Alive timeout. */
  constructor(private readonly setups: ClientSetups, idleSocketMs = IDLE_SOCKET_MS) {
    this.agents = {
      'http:': new (closingIdleSockets(http.Agent, idleSocketMs))({ keepAlive: true }),
      'https:': new (closingIdleSockets(https.Agent, idleSocketMs))({ keepAlive: true }),
    };
  }

  /**
   * A factory giving the endpoint's shared client; `made` is the SDK's own, which says for which app
   * and audience. One that does not say is used as it is.
   */
  factory(made: ConnectorFactory): ConnectorFactory {
    if (!('appId' in made)) return made;
    const { appId, toChannelFromBotOAuthScope } = made as unknown as { appId?: string; toChannelFromBotOAuthScope?: string };
    return { create: (serviceUrl, audience) => this.clients(made, [appId ?? '', audience ?? toChannelFromBotOAuthScope ?? '', serviceUrl].join('\n'), serviceUrl, audience).then((c) => c[AS_MADE]) };
  }

  /** The user token client (unused by the bot, but made for every turn by the SDK), once per app id. */
  userTokenClient(identity: ClaimsIdentity, make: () => Promise<UserTokenClient>): Promise<UserTokenClient> {
    const appId = identity.getClaimValue(AuthenticationConstants.AudienceClaim) ?? identity.getClaimValue(AuthenticationConstants.AppIdClaim) ?? '';
    return remembered(this.userTokenClients, appId, make);
  }

  private clients(made: ConnectorFactory, key: string, serviceUrl: string, audience?: string): Promise<Clients> {
    return remembered(this.endpoints, key, async () => {
      const names = [AS_MADE, ...Object.keys(this.setups)];
      const created = await Promise.all(names.map(() => made.create(serviceUrl, audience)));
      const clients: Clients = Object.fromEntries(names.map((name, i) => [name, created[i]]));
      for (const [name, setUp] of Object.entries(this.setups)) setUp(clients[name]);
      for (const client of created) {
        sendActivitiesAsJson(client);
        acceptAnyNatively(client);
        useAgents(client, this.agents);
        clientsOf.set(client, clients);
      }
      return clients;
    });
  }
}

type OperationSpec = Parameters<ConnectorClient['sendOperationRequest']>[1];

/**
 * Has the client send an activity (a reply, a message, an update) as the JSON it is. The SDK's Azure
 * serializer would first copy it, property by property and at every level, along the Activity model
 * (typing each value), and then write the copy as JSON: twice the work for every message, for an
 * activity botbuilder and the bot built to that model already.
 */
function sendActivitiesAsJson(client: ConnectorClient): void {
  const send = client.sendOperationRequest.bind(client);
  client.sendOperationRequest = (operationArguments, operationSpec, callback) => send(operationArguments, activityAsJson(operationSpec), callback);
}

/** Each operation taking an activity, with the body passed through ("any") instead of mapped; one per operation, made once. */
const asJson = new WeakMap<OperationSpec, OperationSpec>();

function activityAsJson(spec: OperationSpec): OperationSpec {
  const body = spec.requestBody;
  if (body?.mapper.type.name !== 'Composite' || body.mapper.type.className !== 'Activity') return spec;
  let plain = asJson.get(spec);
  if (!plain) {
    // Still required, as the SDK's mapper has it: an operation without its activity fails before sending.
    plain = { ...spec, requestBody: { ...body, mapper: { ...body.mapper, type: { name: 'any' } } } };
    asJson.set(spec, plain);
  }
  return plain;
}

/** The parts of the client's pipeline and options used below (see outbound.ts for the retry policies). */
interface PipelineHeaders { has(name: string): boolean; set(name: string, value: string): void }
interface PipelineRequest { url?: unknown; headers: PipelineHeaders; agent?: unknown; tlsSettings?: unknown; disableKeepAlive?: unknown }
interface CompatClient {
  options?: { requestPolicyFactories?: unknown };
  client?: { pipeline?: {
    getOrderedPolicies(): { name: string }[];
    removePolicy(options: { name: string }): unknown;
    addPolicy(policy: { name: string; sendRequest<R extends PipelineRequest, A>(request: R, next: (request: R) => Promise<A>): Promise<A> }): void;
  } };
}

/** Where the compatibility layer puts the old-style policies botframework-connector gives a client. */
const COMPAT_POLICIES = 'ServiceClientContext_RequestPolicyFactories';

/**
 * botframework-connector gives each client one old-style policy, which accepts any content type (the
 * Accept header) when a request names none; the compatibility layer runs it by converting every
 * request and its response to the old types and back. The same header is set here on the request as
 * it is. A client given other old-style policies keeps them as they are.
 */
function acceptAnyNatively(connector: ConnectorClient): void {
  const { options, client } = connector as unknown as CompatClient;
  const factories = options?.requestPolicyFactories;
  const pipeline = client?.pipeline;
  if (!pipeline || !Array.isArray(factories) || factories.length !== 1 || !pipeline.getOrderedPolicies().some((p) => p.name === COMPAT_POLICIES)) return;
  pipeline.removePolicy({ name: COMPAT_POLICIES });
  pipeline.addPolicy({
    name: 'acceptAnyContentType',
    sendRequest(request, next) {
      if (!request.headers.has('accept')) request.headers.set('accept', '*/*');
      return next(request);
    },
  });
}

/**
 * How long a connection to the Bot Connector is kept unused when the server announces no Keep-Alive
 * timeout: 4 s, as Node's own fetch (undici) and its global agent (5 s) keep one. It is below the idle
 * timeouts of common servers and load balancers (Node and Apache close after 5 s, nginx 75 s, load
 * balancers a minute or more), so that the bot closes an unused connection before the server would,
 * even where a proxy drops the announcement. A request written onto a connection the server is just
 * closing is lost with ECONNRESET, and is not sent again (it may have arrived, see outbound.ts). Replies
 * of a turn and deliveries of the outbox come in bursts well within it, and keep their connection.
 */
export const IDLE_SOCKET_MS = 4_000;

/**
 * Node closes an announced "Keep-Alive: timeout=N" this much early (its HTTP_AGENT_KEEP_ALIVE_TIMEOUT_BUFFER);
 * a server announcing a second or less has its connections not kept.
 */
const ANNOUNCED_TIMEOUT_MARGIN_MS = 1_000;

/** An agent per protocol of the endpoints' URLs. */
type ConnectionAgents = Record<'http:' | 'https:', http.Agent>;

type AgentClass = new (...args: any[]) => http.Agent;

/**
 * The agent `Base` keeping connections alive (TCP keep-alive probes included: a load balancer may
 * drop an idle flow silently), whose unused connections are closed after `idleMs`, or before the
 * timeout the server announced for the connection (Keep-Alive: timeout=N) if sooner. Node's agent
 * applies an announced timeout only with its `timeout` option, which also sets the timeout of a
 * connection while a request is on it: a slow answer then gets a 'timeout' event, which the HTTP client
 * ignores today and Node's agent acts on only for a free socket. Here the timer runs only while the
 * connection is free, so a slow answer is waited for whatever a later version does with that event.
 */
function closingIdleSockets<A extends AgentClass>(Base: A, idleMs: number) {
  return class extends Base {
    override keepSocketAlive(duplex: Duplex): boolean {
      if ((super.keepSocketAlive(duplex) as unknown) === false) return false;
      const socket = duplex as Socket & { _httpMessage?: { res?: { headers?: Record<string, unknown> } } };
      const hint = socket._httpMessage?.res?.headers?.['keep-alive'];
      const announced = typeof hint === 'string' ? /^timeout=(\d+)/.exec(hint)?.[1] : undefined;
      const idle = announced === undefined ? idleMs : Math.min(idleMs, Number(announced) * 1000 - ANNOUNCED_TIMEOUT_MARGIN_MS);
      if (idle <= 0 || typeof socket.setTimeout !== 'function') return idle > 0;
      socket.setTimeout(idle);
      return true;
    }

    override reuseSocket(duplex: Duplex, request: http.ClientRequest): void {
      // Free no more: a request is on it, however long its answer takes.
      (duplex as Socket).setTimeout?.(0);
      super.reuseSocket(duplex, request);
    }
  };
}

/**
 * Has the client's requests use `agents` (per protocol) instead of the HTTP client's own, which keeps
 * unused connections for ever. A request given an agent already (a proxy's), TLS settings of its own
 * or no keep-alive is sent as it was, as is every request of a client whose pipeline differs.
 */
function useAgents(connector: ConnectorClient, agents: ConnectionAgents): void {
  const pipeline = (connector as unknown as CompatClient).client?.pipeline;
  if (typeof pipeline?.addPolicy !== 'function') return;
  // In the default phase, after the proxy policy the client starts with.
  pipeline.addPolicy({
    name: 'connectorAgents',
    sendRequest(request, next) {
      if (request.agent === undefined && request.tlsSettings === undefined && !request.disableKeepAlive && typeof request.url === 'string') {
        const protocol = /^https?:/i.exec(request.url)?.[0].toLowerCase() as keyof ConnectionAgents | undefined;
        if (protocol) request.agent = agents[protocol];
      }
      return next(request);
    },
  });
}

/** Each shared client's endpoint, with its other setups. */
const clientsOf = new WeakMap<ConnectorClient, Clients>();

/** The shared client for the same endpoint as `client` set up as `setup` says; undefined for a client not shared. */
export function sharedClient(client: ConnectorClient, setup: string): ConnectorClient | undefined {
  return clientsOf.get(client)?.[setup];
}

/** What `make` gives for `key`, made once; a failure is not remembered, so the next call tries again. */
function remembered<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  const known = cache.get(key);
  if (known) return known;
  if (cache.size >= MAX_ENDPOINTS) cache.delete(cache.keys().next().value as string);
  const making = make();
  cache.set(key, making);
  making.catch(() => { if (cache.get(key) === making) cache.delete(key); });
  return making;
}
