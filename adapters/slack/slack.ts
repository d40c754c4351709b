/**
 * The Slack adapter: "/isms" slash commands, button clicks, form modals, evidence sent as a reply
 * in a request's thread, and the App Home to-do. Everything runs through the core's router as the
 * person Slack says is acting; this file only translates between Slack and the neutral reply model.
 *
 * HTTP mode serves POST /slack/events on the bot's own HttpServer (signatures verified by Bolt);
 * Socket Mode is used when SLACK_APP_TOKEN is set.
 */
import {
  App, HTTPReceiver, SocketModeReceiver, webApi,
  type types as Slack, type BlockAction, type ButtonAction, type RespondArguments, type RespondFn, type ViewResponseAction, type ViewSubmitAction,
} from '@slack/bolt';
import { and, eq } from 'drizzle-orm';
import type { Core } from '../../src/app.js';
import type { HttpServer } from '../../src/http.js';
import { messageLinks, processedEvents } from '../../src/db/schema/index.js';
import { tokenize, type Attachment, type Inbound } from '../../src/core/router.js';
import { toActor, type Person } from '../../src/core/actor.js';
import type { ReceiptChatPort } from '../../src/core/delivery.js';
import { findForm, replyText, toPlainText, type Reply } from '../../src/core/reply.js';
import { SlackApi, SlackInputError, boltLogger, type RequestInfo } from './api.js';
import { fetchAttachments } from './files.js';
import { identify, notInRegisterReply } from './people.js';
import { slackPort } from './port.js';
import {
  decodeMeta, fallbackText, formModal, homeView, loadingModal, readFormValues, renderBlocks, renderMessage, resultModal,
  type OpenFormValue,
} from './render.js';
import {
  EVENTS_PATH, FORM_VIEW, FIELD_BLOCK_PREFIX, OPEN_FORM_ACTION_PATTERN, RUN_ACTION_PATTERN, SLASH_COMMAND, fieldBlockId,
} from './ids.js';
import { LIMITS } from './limits.js';

type ModalView = Slack.ModalView;
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

const FAULT = replyText('Something went wrong on our side and nothing was recorded. Try again in a minute; if it keeps failing, tell the ISMS lead.', 'error');
const HOME_HEADING = 'Your ISMS to-do';

/** A reply that refuses (wrong role, someone else's item, bad input) leads with an error-toned text. */
const isRefusal = (r: Reply) => r.blocks[0]?.type === 'text' && r.blocks[0].tone === 'error';

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
  const app = new App({ token: settings.botToken, receiver, logger, clientOptions, deferInitialization: true });
  const api = new SlackApi(app.client, log, settings.botToken);
  // The outbox gets its own client: it neither retries nor waits out a 429 (the delivery worker
  // does both, per conversation), and a 429 on it does not pause interactive answers, as a shared
  // client's request queue would.
  const outboxClient = new webApi.WebClient(settings.botToken, { ...clientOptions, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
  const outboxApi = new SlackApi(outboxClient, log, settings.botToken);
  const bot = new SlackBot(core, api);
  bot.listen(app);
  app.error(async (e) => { log.error({ err: e }, 'Slack listener failed'); });

  await checkToken(app, settings.apiUrl);
  if (socketMode) {
    await app.start();
  } else {
    const listener = (receiver as HTTPReceiver).requestListener;
    http.route('POST', EVENTS_PATH, (req, res) => listener(req, res));
  }
  log.info({ mode: socketMode ? 'socket' : 'http' }, 'Slack attached');
  return {
    port: slackPort(core.database.db, api, outboxApi),
    stop: async () => { if (socketMode) await app.stop(); },
  };
}

/** auth.test, before anything is served: a wrong token stops the start with Slack's reason. */
async function checkToken(app: App, apiUrl: string | undefined): Promise<void> {
  try {
    await app.init();
  } catch (e) {
    const refusal = (e as { data?: { error?: string } }).data?.error;
    if (refusal) throw new Error(`Slack refused SLACK_BOT_TOKEN (${refusal}). Copy the app's "Bot User OAuth Token" (xoxb-...) again.`);
    throw new Error(`Slack could not be reached at ${apiUrl ?? 'https://slack.com/api/'} to check SLACK_BOT_TOKEN: ${(e as Error).message}`);
  }
}

/** Where a private answer goes: the response_url of a command or message click, else a DM. */
type Answer = (reply: Reply) => Promise<void>;

class SlackBot {
  constructor(private readonly core: Core, private readonly api: SlackApi) {}

  private get db() {
    return this.core.database.db;
  }

  listen(app: App): void {
    app.command(SLASH_COMMAND, async ({ command, ack, respond }) => {
      await ack();
      const request: RequestInfo = { kind: 'slash_command', user: command.user_id, channel: command.channel_id, command: commandName(command.text) };
      const answer = this.viaResponseUrl(respond, request, false);
      await this.guard(answer, request, () => this.onCommand(command, answer, request));
    });
    app.action<BlockAction<ButtonAction>>(RUN_ACTION_PATTERN, async ({ ack, body, action, respond }) => {
      await ack();
      const request = actionRequest(body, action);
      const answer = this.privately(body, respond, request);
      await this.guard(answer, request, () => this.onClick(body, action, respond, answer, request));
    });
    app.action<BlockAction<ButtonAction>>(OPEN_FORM_ACTION_PATTERN, async ({ ack, body, action, respond }) => {
      await ack();
      const request = actionRequest(body, action);
      const answer = this.privately(body, respond, request);
      await this.guard(answer, request, () => this.onOpenForm(body, action, answer, request));
    });
    app.view<ViewSubmitAction>(FORM_VIEW, async ({ ack, body, view }) => {
      const request: RequestInfo = { kind: 'view_submission', user: body.user.id, view: view.id, command: decodeMeta(view.private_metadata)?.command };
      try {
        await ack(await this.onSubmit(body, request));
      } catch (e) {
        this.faultLogged(e, request);
        await ack({ response_action: 'update', view: resultModal(e instanceof SlackInputError ? replyText(e.message, 'error') : FAULT) });
      }
    });
    app.event('message', async ({ event, body, context }) => {
      const message = event as unknown as ThreadMessage;
      const eventId = (body as { event_id?: string }).event_id;
      const request: RequestInfo = { kind: 'message', event_id: eventId, user: message.user, channel: message.channel, retry: context.retryNum };
      const inThread = (reply: Reply) => this.post(message.channel, reply, request, message.thread_ts);
      await this.guard(inThread, request, () => this.onMessage(message, eventId, request, inThread));
    });
    app.event('app_home_opened', async ({ event, body }) => {
      if (event.tab !== 'home') return;
      const request: RequestInfo = { kind: 'app_home_opened', user: event.user, event_id: (body as { event_id?: string }).event_id };
      try {
        await this.publishHome(event.user, request);
      } catch (e) {
        this.faultLogged(e, request);
      }
    });
  }

  /** Runs a handler; a fault is logged and the person told that nothing was recorded. */
  private async guard(answer: Answer, request: RequestInfo, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (e) {
      this.faultLogged(e, request);
      await answer(e instanceof SlackInputError ? replyText(e.message, 'error') : FAULT).catch(() => undefined);
    }
  }

  private faultLogged(e: unknown, request: RequestInfo): void {
    if (!(e instanceof SlackInputError)) this.core.logger.error({ platform: 'slack', request, err: e }, 'Slack request failed');
  }

  private inbound(person: Person, idempotencyKey?: string, attachments?: Attachment[]): Inbound {
    return { actor: toActor(person), channel: 'slack', idempotencyKey, attachments };
  }

  /** Runs a command line through the router; a fault becomes an apology, never a half answer. */
  private async run(line: string, inbound: Inbound, request: RequestInfo): Promise<Reply> {
    try {
      return await this.core.router.handle(line, inbound);
    } catch (e) {
      this.faultLogged(e, request);
      return FAULT;
    }
  }

  /** True when the line names a command without arguments that answers with its form. */
  private asksForForm(line: string): boolean {
    const words = tokenize(line.trim().replace(/^\/?isms\b/i, ''));
    if (words.length === 0) return false;
    const matched = this.core.router.match(words);
    return Boolean(matched && matched.rest.length === 0 && matched.spec.form);
  }

  // --- slash command ------------------------------------------------------------------------

  private async onCommand(command: { text: string; user_id: string; trigger_id: string }, answer: Answer, request: RequestInfo): Promise<void> {
    const person = await this.person(command.user_id, request, answer);
    if (!person) return;
    const inbound = this.inbound(person, `slack:command:${command.trigger_id}`);
    await this.runAndShow(command.text, inbound, { triggerId: command.trigger_id }, request, answer);
  }

  /**
   * A command that asks for its form gets a modal at once (the trigger_id lives 3 seconds), filled
   * once the form is known; any other answer goes to `answer`, or into a modal if it holds a form.
   */
  private async runAndShow(line: string, inbound: Inbound, modal: ModalTarget, request: RequestInfo, answer: Answer): Promise<void> {
    if (this.asksForForm(line)) {
      const opened = await this.openLoadingModal(modal, request);
      if (opened) {
        const reply = await this.run(line, inbound, request);
        const form = findForm(reply);
        await this.api.call('views.update', { view_id: opened.id, hash: opened.hash, view: form ? formModal(form) : resultModal(reply) }, request);
        return;
      }
    }
    const reply = await this.run(line, inbound, request);
    const form = findForm(reply);
    if (form && await this.openModal(modal, formModal(form), request)) return;
    await answer(reply);
  }

  private async openLoadingModal(modal: ModalTarget, request: RequestInfo): Promise<{ id: string; hash: string } | undefined> {
    try {
      const opened = await this.openView(modal, loadingModal(), request);
      return opened.view;
    } catch {
      return undefined; // logged; the answer goes back as a message instead
    }
  }

  private async openModal(modal: ModalTarget, view: ModalView, request: RequestInfo): Promise<boolean> {
    try {
      await this.openView(modal, view, request);
      return true;
    } catch {
      return false; // e.g. the trigger expired: the form goes back as a message with an "Open" button
    }
  }

  /** From inside a modal a new view is pushed onto it; anywhere else a modal is opened. */
  private openView(modal: ModalTarget, view: ModalView, request: RequestInfo) {
    return this.api.call<{ view: { id: string; hash: string } }>(modal.fromModal ? 'views.push' : 'views.open', { trigger_id: modal.triggerId, view }, request);
  }

  // --- buttons ------------------------------------------------------------------------------

  private async onClick(body: BlockAction<ButtonAction>, action: ButtonAction, respond: RespondFn, answer: Answer, request: RequestInfo): Promise<void> {
    const person = await this.person(body.user.id, request, answer);
    if (!person) return;
    const line = action.value ?? '';
    const inbound = this.inbound(person, clickKey(body, action));
    // Refusals (someone else's item, wrong role) stay private and leave the message as it was.
    let outcome: Reply | undefined;
    await this.runAndShow(line, inbound, modalTarget(body), request, async (reply) => { outcome = reply; });
    if (!outcome) return;
    if (isRefusal(outcome)) {
      await answer(outcome);
      return;
    }
    await this.recordOnMessage(body, action, outcome, person, respond, request);
  }

  /** Shows on the clicked message what was recorded, by whom and when; the clicked buttons go. */
  private async recordOnMessage(body: BlockAction<ButtonAction>, action: ButtonAction, outcome: Reply, person: Person, respond: RespondFn, request: RequestInfo): Promise<void> {
    const stamp = {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `${action.text?.text ? `“${action.text.text}” — ` : ''}by <@${body.user.id}> (${person.name}) on ${slackDate(new Date())}` }],
    };
    const result = [...renderBlocks(outcome, LIMITS.messageBlocks), stamp];
    const container = body.container as { type?: string; is_ephemeral?: boolean };
    if (container.type === 'message' && body.message && body.channel && !container.is_ephemeral) {
      const kept = withoutClicked((body.message.blocks ?? []) as SlackBlock[], action);
      const blocks = [...kept, ...result].slice(-LIMITS.messageBlocks);
      await this.api.call('chat.update', { channel: body.channel.id, ts: body.message.ts, blocks, text: fallbackText(outcome) }, request);
    } else if (container.type === 'message' && body.response_url) {
      // An ephemeral message cannot be updated through the API, only replaced through its response_url.
      await this.viaRespond(respond, { replace_original: true, blocks: result, text: fallbackText(outcome) } as RespondArguments, request);
    } else {
      // A button on the App Home or in a modal: the answer comes as a direct message, the home is refreshed.
      await this.post(body.user.id, outcome, request);
      if (body.view?.type === 'home') await this.publishHome(body.user.id, request);
    }
  }

  /** "Open: <form>" on a message: the form's command gives the form, its hidden values are kept. */
  private async onOpenForm(body: BlockAction<ButtonAction>, action: ButtonAction, answer: Answer, request: RequestInfo): Promise<void> {
    const person = await this.person(body.user.id, request, answer);
    if (!person) return;
    let wanted: OpenFormValue;
    try {
      wanted = JSON.parse(action.value ?? '') as OpenFormValue;
    } catch {
      wanted = { command: action.value ?? '' };
    }
    const opened = await this.openLoadingModal(modalTarget(body), request);
    const reply = await this.run(wanted.command, this.inbound(person), request);
    const form = findForm(reply);
    const hidden = wanted.hidden ?? {};
    const view = form
      ? formModal({ ...form, hidden: { ...form.hidden, ...hidden }, fields: form.fields.filter((f) => !(f.name in hidden)) })
      : resultModal(reply);
    if (opened) await this.api.call('views.update', { view_id: opened.id, hash: opened.hash, view }, request);
    else await answer(reply);
  }

  // --- modal submission ---------------------------------------------------------------------

  private async onSubmit(body: ViewSubmitAction, request: RequestInfo): Promise<ViewResponseAction> {
    const view = body.view;
    const meta = decodeMeta(view.private_metadata);
    if (!meta) return { response_action: 'update', view: resultModal(replyText('This form is out of date. Close it and run the command again.', 'error')) };
    const identity = await identify(this.db, this.api, body.user.id, request);
    if (!identity.person) return { response_action: 'update', view: resultModal(await notInRegisterReply(this.db, identity.email)) };
    const { values, files } = readFormValues(view.state.values as Parameters<typeof readFormValues>[0]);
    const submitted = { ...meta.hidden, ...values };
    const fieldBlocks = Object.keys(view.state.values).filter((id) => id.startsWith(FIELD_BLOCK_PREFIX));

    const fieldErrors = this.fieldErrors(meta.command, submitted, fieldBlocks);
    if (fieldErrors) return { response_action: 'errors', errors: fieldErrors };

    const attachments = await fetchAttachments(this.api, files.map((f) => f.id), request);
    const reply = await this.core.router.submit(meta.command, submitted, this.inbound(identity.person, `slack:view:${view.id}`, attachments));
    if (isRefusal(reply) && fieldBlocks.length) {
      // Refused by the service (not found, not yours...): keep the form open with the reason on it.
      return { response_action: 'errors', errors: { [fieldBlocks[0]]: cutError(toPlainText(reply)) } };
    }
    return { response_action: 'update', view: resultModal(reply) };
  }

  /** The command's own schema, applied to the submitted values, with each problem on its field. */
  private fieldErrors(command: string, submitted: Record<string, unknown>, fieldBlocks: string[]): Record<string, string> | undefined {
    const spec = this.core.router.find(command);
    if (!spec) return undefined;
    const present = Object.fromEntries(Object.entries(submitted).filter(([, v]) => v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0)));
    const parsed = spec.schema.safeParse(present);
    if (parsed.success || fieldBlocks.length === 0) return undefined;
    const errors: Record<string, string> = {};
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0] ?? '');
      const block = fieldBlocks.includes(fieldBlockId(field)) ? fieldBlockId(field) : fieldBlocks[0];
      const message = block === fieldBlockId(field) ? issue.message : `${field || 'input'}: ${issue.message}`;
      errors[block] = cutError(errors[block] ? `${errors[block]}; ${message}` : message);
    }
    return errors;
  }

  // --- evidence by reply in a thread --------------------------------------------------------

  private async onMessage(message: ThreadMessage, eventId: string | undefined, request: RequestInfo, inThread: Answer): Promise<void> {
    if (message.channel_type !== 'im' || message.bot_id) return;
    if (message.subtype && message.subtype !== 'file_share') return; // edits, deletions, joins...
    const key = eventId ? `slack:event:${eventId}` : undefined;
    // A retried delivery (X-Slack-Retry-Num) of an event already handled: the answer is in the thread already.
    if (key && await this.alreadyHandled(key)) {
      this.core.logger.info({ platform: 'slack', request }, 'Slack delivered an event again that was handled already; ignored');
      return;
    }
    const threadTs = message.thread_ts && message.thread_ts !== message.ts ? message.thread_ts : undefined;
    const [link] = threadTs
      ? await this.db.select().from(messageLinks).where(and(eq(messageLinks.platform, 'slack'), eq(messageLinks.conversationId, message.channel), eq(messageLinks.messageId, threadTs)))
      : [];
    // Only an evidence request takes replies as evidence; a thread on a policy or a triage message does not.
    if (!link || !link.subjectRef.startsWith('EVR-')) {
      await inThread(replyText(`I answer "${SLASH_COMMAND}" commands: type "${SLASH_COMMAND} help" to see them. To hand in evidence, reply with the file or text in the thread of my request.`));
      return;
    }
    const person = await this.person(message.user, request, inThread);
    if (!person) return;
    const attachments = await fetchAttachments(this.api, (message.files ?? []).map((f) => f.id), request);
    const reply = await this.submitEvidence(link.subjectRef, message.text?.trim() ?? '', this.inbound(person, key, attachments), request);
    await inThread(reply);
  }

  /** "evidence submit <ref>" with the thread's files as attachments and the text as the evidence text. */
  private async submitEvidence(ref: string, text: string, inbound: Inbound, request: RequestInfo): Promise<Reply> {
    const spec = this.core.router.find('evidence submit');
    if (!spec || !text) return this.run(`evidence submit ${ref}`, inbound, request);
    // Named values, not a typed line: the person's text may hold quotes or "--" that a line would parse.
    const values: Record<string, unknown> = { target: ref, text };
    try {
      return await this.core.router.submit(spec.name, values, inbound);
    } catch (e) {
      this.faultLogged(e, request);
      return FAULT;
    }
  }

  private async alreadyHandled(key: string): Promise<boolean> {
    const [seen] = await this.db.select({ key: processedEvents.key }).from(processedEvents).where(eq(processedEvents.key, key));
    return Boolean(seen);
  }

  // --- App Home -----------------------------------------------------------------------------

  private async publishHome(slackUserId: string, request: RequestInfo): Promise<void> {
    let shown: Reply | undefined;
    const person = await this.person(slackUserId, request, async (r) => { shown = r; });
    if (person) {
      // The to-do comes from "/isms status"; until that command exists, the home shows "/isms help".
      const command = this.core.router.find('status') ? 'status' : 'help';
      shown = await this.run(command, this.inbound(person), request);
    }
    await this.api.call('views.publish', { user_id: slackUserId, view: homeView(shown ?? FAULT, HOME_HEADING) }, request);
  }

  // --- people and answers -------------------------------------------------------------------

  /** The acting person, or undefined after telling the Slack user they are not in the register. */
  private async person(slackUserId: string, request: RequestInfo, answer: Answer): Promise<Person | undefined> {
    const identity = await identify(this.db, this.api, slackUserId, request);
    if (identity.person) return identity.person;
    await answer(await notInRegisterReply(this.db, identity.email));
    return undefined;
  }

  private viaResponseUrl(respond: RespondFn, request: RequestInfo, isClick: boolean): Answer {
    return async (reply) => {
      const payload: RespondArguments = {
        response_type: reply.visibility === 'public' && !isClick ? 'in_channel' : 'ephemeral',
        ...(isClick ? { replace_original: false } : {}),
        ...renderMessage(reply),
      };
      await this.viaRespond(respond, payload, request);
    };
  }

  private async viaRespond(respond: RespondFn, payload: RespondArguments, request: RequestInfo): Promise<void> {
    try {
      await respond(payload);
    } catch (e) {
      this.api.logRespondFailure(e, request);
      throw e;
    }
  }

  /** A private answer to a click: ephemeral under a message, a direct message for a view. */
  private privately(body: BlockAction<ButtonAction>, respond: RespondFn, request: RequestInfo): Answer {
    if (body.response_url && (body.container as { type?: string }).type === 'message') return this.viaResponseUrl(respond, request, true);
    return (reply) => this.post(body.user.id, reply, request);
  }

  private async post(channel: string, reply: Reply, request: RequestInfo, threadTs?: string): Promise<void> {
    await this.api.call('chat.postMessage', { channel, ...(threadTs ? { thread_ts: threadTs } : {}), ...renderMessage(reply) }, request);
  }
}

/** Where a modal goes: opened with a trigger, or pushed onto the modal the click came from. */
interface ModalTarget { triggerId: string; fromModal?: boolean }

function modalTarget(body: BlockAction<ButtonAction>): ModalTarget {
  return { triggerId: body.trigger_id, fromModal: body.view?.type === 'modal' };
}

interface ThreadMessage {
  type: 'message';
  subtype?: string;
  channel: string;
  channel_type?: string;
  user: string;
  bot_id?: string;
  text?: string;
  ts: string;
  thread_ts?: string;
  files?: { id: string; name?: string }[];
}

type SlackBlock = { type: string; block_id?: string; accessory?: { action_id?: string } } & Record<string, unknown>;

/** The clicked message without the buttons just used: the actions block, or a section's button. */
function withoutClicked(blocks: SlackBlock[], action: ButtonAction): SlackBlock[] {
  return blocks.flatMap((b) => {
    if (b.block_id !== action.block_id) return [b];
    if (b.type === 'actions') return [];
    if (b.accessory?.action_id === action.action_id) {
      const { accessory: _gone, ...rest } = b;
      return [rest as SlackBlock];
    }
    return [b];
  });
}

/**
 * One click, one record: the same person pressing the same button on the same message (or the
 * same version of a view) twice runs its command once.
 */
function clickKey(body: BlockAction<ButtonAction>, action: ButtonAction): string {
  const container = body.container as { message_ts?: string; channel_id?: string };
  const where = body.view ? `view:${body.view.id}:${body.view.hash}` : `${container.channel_id ?? body.channel?.id}:${container.message_ts ?? body.message?.ts}`;
  return `slack:action:${where}:${action.block_id}:${action.action_id}:${body.user.id}`;
}

function actionRequest(body: BlockAction<ButtonAction>, action: ButtonAction): RequestInfo {
  return { kind: 'block_action', user: body.user.id, channel: body.channel?.id, action: action.action_id, command: commandName(action.value ?? '') };
}

/** The command's first words, for the log (not its arguments, which may hold personal data). */
function commandName(line: string): string {
  return tokenize(line).slice(0, 2).join(' ') || '(none)';
}

function cutError(message: string): string {
  return message.length > 2000 ? `${message.slice(0, 1999)}…` : message;
}

/** A date Slack shows in each reader's own time zone, with the UTC time as fallback. */
function slackDate(at: Date): string {
  const epoch = Math.floor(at.getTime() / 1000);
  return `<!date^${epoch}^{date_short_pretty} at {time}|${at.toISOString().slice(0, 16).replace('T', ' ')} UTC>`;
}
