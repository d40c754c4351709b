import type http from 'node:http';
import { z } from 'zod';
import { TeamsAdapter } from '@microsoft/teams-ai/lib/TeamsAdapter.js'; // not the index: see teams.ts
import { ActivityTypes, DeliveryModes, type Activity, type TurnContext } from 'botbuilder';
import type { AuthenticateRequestResult } from 'botframework-connector';
import type { Logger } from 'pino';
import { ConnectorClients } from './connectors.js';
import { RETRY_SETUPS, safeError } from './outbound.js';

/** Bot Framework activities are small; anything larger is not one. */
const MAX_BODY_BYTES = 1024 * 1024;

export class BadRequest extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'BadRequest';
  }
}

const account = z.object({ id: z.string().min(1), name: z.string().nullish(), aadObjectId: z.string().nullish() }).passthrough();

/**
 * What the bot relies on in an activity, as the Bot Framework protocol requires a channel to send it
 * (type, channelId, serviceUrl, and from, recipient and conversation with their ids): anything else
 * is refused at the door, so a malformed request never reaches a conversation.
 */
const activitySchema = z.object({
  type: z.string().min(1),
  id: z.string().nullish(),
  serviceUrl: z.string().url(),
  channelId: z.string().min(1),
  from: account,
  recipient: account,
  conversation: z.object({ id: z.string().min(1), conversationType: z.string().nullish(), tenantId: z.string().nullish() }).passthrough(),
  text: z.string().nullish(),
  replyToId: z.string().nullish(),
  localTimezone: z.string().nullish(),
  attachments: z.array(z.object({ contentType: z.string().nullish(), name: z.string().nullish() }).passthrough()).nullish(),
  entities: z.array(z.unknown()).nullish(),
  membersAdded: z.array(account).nullish(),
  channelData: z.object({}).passthrough().nullish(),
}).passthrough();

/** Reads the request body as a Bot Framework activity; a BadRequest says what is wrong with it. */
export async function readActivity(req: http.IncomingMessage): Promise<Activity> {
  const body = await readBody(req);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new BadRequest(400, 'request body is not JSON');
  }
  const activity = activitySchema.safeParse(parsed);
  if (!activity.success) {
    const problems = activity.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    throw new BadRequest(400, `not a Bot Framework activity (${problems})`);
  }
  return { ...present(activity.data), entities: readableEntities(activity.data.entities, activity.data.text) } as unknown as Activity;
}

/**
 * The request body, refused past MAX_BODY_BYTES (the rest is not kept). Read from the stream's
 * events: iterating the stream (for await) costs every message several times the CPU for its one or two chunks.
 */
function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (error?: Error) => {
      req.off('data', take).off('end', settle).off('error', settle).off('close', closed);
      if (error) reject(error);
      else resolve(Buffer.concat(chunks));
    };
    const take = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else settle(new BadRequest(413, 'request body too large'));
    };
    const closed = () => settle(new Error('the request was closed before its body arrived'));
    req.on('data', take).once('end', settle).once('error', settle).once('close', closed);
  });
}

/**
 * The activity without its fields that are JSON null: a null field is one the channel left empty, and
 * the SDK reads only absent ones as such (a message whose value is null would be taken for a card click).
 */
function present(activity: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(activity).filter(([, value]) => value !== null));
}

/**
 * The entities the bot can read. The others are left out, as the protocol asks (A2104, A2105): one
 * without a type, and a mention without the account it names, without its own text, or in an activity
 * without text (the mention removal teams-ai runs on every message fails on those). JSON null is no entities.
 */
function readableEntities(list: unknown[] | null | undefined, text: string | null | undefined): Record<string, unknown>[] | undefined {
  const readable = (list ?? []).filter((e): e is Record<string, unknown> => {
    const entity = e as { type?: unknown; text?: unknown; mentioned?: { id?: unknown } | null } | null;
    if (typeof entity?.type !== 'string') return false;
    if (entity.type.toLowerCase() !== 'mention') return true;
    return typeof text === 'string' && typeof entity.text === 'string' && typeof entity.mentioned?.id === 'string';
  });
  return readable.length ? readable : undefined;
}

/**
 * What the Bot Framework's token check throws for a token it cannot trust: its own 401, or the
 * jsonwebtoken error it passes on as it is (a token signed by a key the channel never published).
 */
const untrustedToken = (e: unknown): boolean => (e as { statusCode?: number }).statusCode === 401
  || ['JsonWebTokenError', 'TokenExpiredError', 'NotBeforeError'].includes((e as Error | undefined)?.name ?? '');

/**
 * Activities whose HTTP answer carries what the turn produced: an invoke (a card's Action.Execute, a
 * task module, a file consent) waits for its invoke response; an expectReplies delivery gets its replies in the body.
 */
export const answersInResponse = (activity: Activity): boolean =>
  activity.type === ActivityTypes.Invoke || activity.deliveryMode === DeliveryModes.ExpectReplies;

/** The TeamsAdapter, taking an activity already read and checked instead of an Express request. */
export class ActivityAdapter extends TeamsAdapter {
  private readonly connectors = new ConnectorClients(RETRY_SETUPS);

  constructor(config: ConstructorParameters<typeof TeamsAdapter>[0]) {
    super(config);
    // Proactive messages and opened chats (continueConversationAsync, createConversationAsync) share the clients too.
    const auth = this.botFrameworkAuthentication;
    const createConnectorFactory = auth.createConnectorFactory.bind(auth);
    const createUserTokenClient = auth.createUserTokenClient.bind(auth);
    auth.createConnectorFactory = (identity) => this.connectors.factory(createConnectorFactory(identity));
    auth.createUserTokenClient = (identity) => this.connectors.userTokenClient(identity, () => createUserTokenClient(identity));
  }

  /** Checks the request's Bot Framework token as processActivity would; an untrusted one throws (statusCode 401). */
  async authenticate(authHeader: string, activity: Activity): Promise<AuthenticateRequestResult> {
    const auth = await this.botFrameworkAuthentication.authenticateRequest(activity, authHeader);
    return auth.connectorFactory ? { ...auth, connectorFactory: this.connectors.factory(auth.connectorFactory) } : auth;
  }

  /** Runs the turn of an authenticated request; replies go through the Bot Connector unless the activity answers in its response. */
  serve(auth: AuthenticateRequestResult, activity: Activity, logic: (context: TurnContext) => Promise<void>) {
    return this.processActivity(auth, activity, logic);
  }
}

/**
 * Answers POST /api/messages: 400 for what is not an activity, 401 for a request the Bot Framework
 * did not sign (when an app id is configured). An activity answered in its response (see
 * answersInResponse) gets the turn's own status once the turn ran; any other gets 200 at once, as the
 * Bot Framework expects, and its turn runs afterwards, handed to `later` so a stop can wait for it. Its
 * replies go through the Bot Connector; a failure inside the turn reaches the adapter's onTurnError.
 */
export async function serveActivity(adapter: ActivityAdapter, req: http.IncomingMessage, res: http.ServerResponse,
  logic: (context: TurnContext) => Promise<void>, logger: Logger, later: (turn: Promise<void>) => void): Promise<void> {
  let activity: Activity;
  try {
    activity = await readActivity(req);
  } catch (e) {
    if (!(e instanceof BadRequest)) throw e;
    logger.warn({ status: e.status, reason: e.message }, 'Teams: refused a request to /api/messages that is not a Bot Framework activity');
    res.writeHead(e.status, { 'content-type': 'text/plain' }).end(e.message);
    return;
  }
  let auth: AuthenticateRequestResult;
  try {
    auth = await adapter.authenticate(req.headers.authorization ?? '', activity);
  } catch (e) {
    if (!untrustedToken(e)) throw e;
    logger.warn({ reason: (e as Error).message }, 'Teams: refused a request to /api/messages without a valid Bot Framework token');
    res.writeHead(401, { 'content-type': 'text/plain' }).end('unauthorized');
    return;
  }
  if (!answersInResponse(activity)) {
    res.writeHead(200).end();
    // The turn starts after the event loop's pending I/O, so the answers to requests already read go out first.
    const turn = new Promise<void>((resolve) => setImmediate(resolve)).then(() => adapter.serve(auth, activity, logic));
    // Only what fails before the turn has a context (the Bot Connector client) lands here: nobody can be told.
    later(turn.then(() => undefined, (e: unknown) => {
      logger.error({ err: safeError(e), activityType: activity.type, activityId: activity.id }, 'Teams turn failed before it could answer');
    }));
    return;
  }
  const result = await adapter.serve(auth, activity, logic);
  const status = result?.status ?? 200;
  if (result?.body === undefined) res.writeHead(status).end();
  else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(result.body));
}
