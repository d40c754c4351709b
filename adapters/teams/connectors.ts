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

  constructor(private readonly setups: ClientSetups) {}

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
      for (const client of created) clientsOf.set(client, clients);
      return clients;
    });
  }
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
