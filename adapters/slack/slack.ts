/**
 * The Slack adapter: "/isms" slash commands, button clicks, form modals, evidence sent as a reply
 * in a request's thread, and the App Home to-do (listeners/, one module per kind). Everything runs
 * through the core's inbound pipeline as the person Slack says is acting; the adapter only
 * translates between Slack and the neutral reply model. This file starts the app.
 *
 * HTTP mode serves POST /slack/events on the bot's own HttpServer (signatures verified by Bolt);
 * Socket Mode is used when SLACK_APP_TOKEN is set.
 */
import { App, HTTPModuleFunctions, HTTPReceiver, SocketModeReceiver, webApi, type ReceiverEvent } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Core } from '../../src/app.js';
import type { HttpServer, LaneRoute } from '../../src/http.js';
import type { ReceiptChatPort } from '../../src/core/delivery.js';
import { SlackApi, boltLogger, retryingOnlyUnposted } from './api.js';
import { slackPort } from './port.js';
import type { Home } from './people.js';
import { EVENTS_PATH } from './ids.js';
import { registerListeners } from './listeners/index.js';
import { boundInFlight, busyAcknowledgement, busyWarning, type SlackContext } from './listeners/shared.js';
import type { SlackForward, SlackLaneOptions } from './front-lane.js';

type RetryOptions = NonNullable<ConstructorParameters<typeof webApi.WebClient>[1]>['retryConfig'];

export interface SlackOptions {
  /** How the Web API client retries (default: DEFAULT_RETRY, four tries within about ten seconds). */
  retryConfig?: RetryOptions;
}

export interface AttachedSlack {
  port: ReceiptChatPort;
  stop(): Promise<void>;
}

/**
 * A few tries within seconds: interactive answers stay timely, and a delivery ends well inside the
 * outbox's lease (the outbox tries again later, with its own backoff, after a DeliveryError).
 */
const DEFAULT_RETRY: RetryOptions = { retries: 3, factor: 2, minTimeout: 1_000, maxTimeout: 10_000, randomize: true };

/**
 * No Web API call may hang: on a retried outbox row up to four calls run one after another
 * (conversations.open, auth.test once, conversations.history, chat.postMessage), and together they
 * should end well inside the delivery lease (120 s by default).
 */
const REQUEST_TIMEOUT_MS = 15_000;

export async function attachSlack(core: Core, http: HttpServer, options: SlackOptions = {}): Promise<AttachedSlack> {
  const settings = core.config.slack;
  if (!settings) throw new Error('Slack is not configured: set SLACK_BOT_TOKEN, and SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode).');
  const log = core.logger.child({ platform: 'slack' });
  const logger = boltLogger(log);
  const clientOptions = {
    logger,
    retryConfig: options.retryConfig ?? DEFAULT_RETRY,
    timeout: REQUEST_TIMEOUT_MS,
    ...(settings.apiUrl ? { slackApiUrl: settings.apiUrl } : {}),
  };
  const socketMode = Boolean(settings.appToken);
  let receiver: HTTPReceiver | SocketModeReceiver;
  if (settings.appToken) {
    // apps.connections.open goes through these client options too, so SLACK_API_URL applies to it.
    receiver = new SocketModeReceiver({ appToken: settings.appToken, logger, installerOptions: { clientOptions: { ...clientOptions } } });
  } else {
    if (!settings.signingSecret) throw new Error('SLACK_SIGNING_SECRET is required for Slack over HTTP (or set SLACK_APP_TOKEN for Socket Mode).');
    // Signature verification stays on: a forged or replayed (older than 5 minutes) request gets 401.
    receiver = new HTTPReceiver({ signingSecret: settings.signingSecret, signatureVerification: true, endpoints: EVENTS_PATH, logger });
  }
  // No conversation store: nothing reads context.conversation, and Bolt's in-memory one builds an
  // Error (with its stack) on every request it finds nothing for, before the ack.
  const app = new App<SlackContext>({ token: settings.botToken, receiver, logger, clientOptions, deferInitialization: true, convoStore: false });
  // Answers are posted by a client that never repeats a post that may have arrived.
  const postClient = new webApi.WebClient(settings.botToken, { ...clientOptions, retryConfig: retryingOnlyUnposted((options.retryConfig ?? DEFAULT_RETRY)!) });
  const token = { refusalLogged: false };
  const api = new SlackApi(app.client, log, settings.botToken, postClient, token);
  // The outbox gets its own client: it neither retries nor waits out a 429 (the delivery worker
  // does both, per conversation), and a 429 on it does not pause interactive answers, as a shared
  // client's request queue would.
  const outboxClient = new webApi.WebClient(settings.botToken, { ...clientOptions, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
  const outboxApi = new SlackApi(outboxClient, log, settings.botToken, outboxClient, token);
  // Counted from receipt to answer (past the ack), so a graceful stop lets a command finish and answer,
  // and a command past the limit is answered "busy" instead of waiting its turn.
  const home = await checkToken(app, settings.apiUrl);
  acknowledgeRateLimitNotice(app, log);
  const refused = busyWarning(core);
  app.use(boundInFlight({ core, api, home }, refused));
  registerListeners(app, { core, api, home });
  app.error(async (e) => { log.error({ err: e }, 'Slack listener failed'); });

  if (socketMode) {
    await app.start();
  } else {
    const listener = (receiver as HTTPReceiver).requestListener;
    http.route('POST', EVENTS_PATH, (req, res) => listener(req, res));
    http.lane('POST', EVENTS_PATH, frontLane(app, core, settings.signingSecret!, refused));
  }
  log.info({ mode: socketMode ? 'socket' : 'http' }, 'Slack attached');
  return {
    port: slackPort(core.database.db, api, outboxApi),
    stop: async () => { if (socketMode) await app.stop(); },
  };
}

/**
 * Slash commands and button clicks acknowledged in the front door's thread (./front-lane.ts) come
 * here as Slack sent them, for Bolt to run without acknowledging them again; a command the front door
 * answered "busy" only counts towards the busy warning.
 */
function frontLane(app: App<SlackContext>, core: Core, signingSecret: string, refused: () => void): LaneRoute {
  const options: SlackLaneOptions = { signingSecret, limit: core.inFlight.limit, busyAnswer: JSON.stringify(busyAcknowledgement()) };
  return {
    lane: 'slack',
    options,
    forwarded: async (forward) => {
      const { body, contentType, busy } = forward as SlackForward;
      if (busy) {
        refused();
        return;
      }
      await app.processEvent({
        body: HTTPModuleFunctions.parseHTTPRequestBody({ rawBody: Buffer.from(body), headers: { 'content-type': contentType } } as never),
        ack: async () => undefined,
        retryNum: undefined,
        retryReason: undefined,
        customProperties: { acknowledged: true },
      });
    },
  };
}

/**
 * Slack's app_rate_limited notice (more than 30,000 events in an hour from the workspace) has no
 * inner event, so Bolt finds no type for it and leaves it unacknowledged: a 404 after 3 seconds and
 * an error about a listener, while Slack counts unanswered deliveries towards disabling the app's
 * events. It is acknowledged at once, and logged as what it is: Slack drops the workspace's events
 * (direct messages, mentions) until the hour is over.
 */
function acknowledgeRateLimitNotice(app: App<SlackContext>, log: Logger): void {
  const processEvent = app.processEvent.bind(app);
  app.processEvent = async (event: ReceiverEvent) => {
    const body = event.body as { type?: string; team_id?: string; minute_rate_limited?: number };
    if (body.type !== 'app_rate_limited') return processEvent(event);
    await event.ack();
    const since = typeof body.minute_rate_limited === 'number' ? new Date(body.minute_rate_limited * 1000).toISOString() : undefined;
    log.warn({ team: body.team_id, since }, 'Slack is rate limiting this app\'s events (app_rate_limited): direct messages and mentions are dropped until the hour is over');
  };
}

/**
 * auth.test, before anything is served: a wrong token stops the start with Slack's reason. Gives the
 * workspace (and Enterprise Grid org) the app is installed in: a request's own team is the clicker's
 * or typist's workspace, which for someone in a Slack Connect channel is their organisation's.
 */
async function checkToken(app: App<SlackContext>, apiUrl: string | undefined): Promise<Home> {
  try {
    await app.init();
    const installed = await app.client.auth.test();
    return { teamId: installed.team_id || undefined, enterpriseId: installed.enterprise_id || undefined };
  } catch (e) {
    const refusal = (e as { data?: { error?: string } }).data?.error;
    if (refusal) throw new Error(`Slack refused SLACK_BOT_TOKEN (${refusal}). Copy the app's "Bot User OAuth Token" (xoxb-...) again.`);
    throw new Error(`Slack could not be reached at ${apiUrl ?? 'https://slack.com/api/'} to check SLACK_BOT_TOKEN: ${(e as Error).message}`);
  }
}

