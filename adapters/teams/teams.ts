import type http from 'node:http';
import { Application, TeamsAdapter } from '@microsoft/teams-ai';
import {
  ActivityTypes, CardFactory, MessageFactory, TurnContext,
  type Activity,
} from 'botbuilder';
import type { Core } from '../../src/app.js';
import type { HttpServer } from '../../src/http.js';
import { type Person, adoptTimezone, toActor } from '../../src/core/actor.js';
import type { Attachment, Inbound } from '../../src/core/router.js';
import { type ChatPort, DeliveryError } from '../../src/core/port.js';
import { type Reply, reply, text, findForm, toPlainText } from '../../src/core/reply.js';
import { replyCard, formValues, SUBMIT_VERB, type SubmitData } from './cards.js';
import { identify, notInRegisterReply } from './identity.js';
import { loadReference, saveReference, recordLink, evidenceRequestFor } from './addresses.js';
import { filesIn, downloadFile, FileDownloadError } from './files.js';
import { BadRequest, readJsonBody, toBotRequest, toBotResponse } from './http-shim.js';

export const MESSAGES_PATH = '/api/messages';

export interface TeamsBot {
  app: Application;
  adapter: TeamsAdapter;
  port: ChatPort;
  /** The turn error handler; a test adapter driving `app.run` uses it too. */
  onTurnError: (context: TurnContext, error: Error) => Promise<void>;
}

/** Serves the Teams bot on POST /api/messages of the bot's HTTP server and gives the port that reaches people in Teams. */
export async function attachTeams(core: Core, http: HttpServer): Promise<{ port: ChatPort; stop(): Promise<void> }> {
  const bot = createTeamsBot(core);
  const inFlight = new Set<Promise<void>>();
  let stopping = false;
  if (!core.config.teams?.appId) {
    core.logger.warn('Teams: MICROSOFT_APP_ID is not set, so requests to /api/messages are NOT authenticated. Use this only for local testing.');
  }
  http.route('POST', MESSAGES_PATH, async (req, res) => {
    if (stopping) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('shutting down');
      return;
    }
    const turn = serve(bot, req, res);
    inFlight.add(turn);
    try {
      await turn;
    } finally {
      inFlight.delete(turn);
    }
  });
  core.logger.info({ path: MESSAGES_PATH, authenticated: Boolean(core.config.teams?.appId) }, 'Teams bot listening');
  return {
    port: bot.port,
    async stop() {
      stopping = true;
      await Promise.allSettled([...inFlight]);
    },
  };
}

async function serve(bot: TeamsBot, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  let body: Record<string, unknown>;
  try {
    body = await readJsonBody(req);
  } catch (e) {
    if (!(e instanceof BadRequest)) throw e;
    res.writeHead(e.status, { 'content-type': 'text/plain' }).end(e.message);
    return;
  }
  await bot.adapter.process(toBotRequest(req, body), toBotResponse(res), async (context) => {
    await bot.app.run(context);
  });
}

/** The teams-ai Application with the bot's routes, on a TeamsAdapter configured from config.teams. */
export function createTeamsBot(core: Core): TeamsBot {
  const { config, logger, router } = core;
  const db = core.database.db;
  const appId = config.teams?.appId;
  const adapter = new TeamsAdapter({
    MicrosoftAppId: appId ?? '',
    MicrosoftAppPassword: config.teams?.appPassword ?? '',
    MicrosoftAppTenantId: config.teams?.tenantId ?? '',
    MicrosoftAppType: config.teams?.appType ?? 'MultiTenant',
  });
  // Typing indicators would interleave with replies of concurrent turns; commands answer quickly anyway.
  const app = new Application({ adapter, botAppId: appId, removeRecipientMention: true, startTypingTimer: false });

  const timezoneOf = (person: Person) => person.timezone ?? config.defaultTimezone;
  const inbound = (context: TurnContext, person: Person, attachments?: Attachment[]): Inbound => ({
    actor: toActor(person),
    channel: 'teams',
    attachments,
    // Teams retries a turn it thinks timed out with the same activity id: it must record once.
    idempotencyKey: `teams:${context.activity.conversation?.id}:${context.activity.id}`,
  });

  /** Sends a reply as a card; a reply about a register item is linked to the message it became. */
  async function send(context: TurnContext, answer: Reply, recipient?: Person): Promise<string | undefined> {
    const sent = await context.sendActivity(cardActivity(answer));
    if (answer.about && sent?.id && context.activity.conversation?.id) {
      await recordLinkSafely(context.activity.conversation.id, sent.id, answer.about, recipient?.id);
    }
    return sent?.id;
  }

  async function recordLinkSafely(conversationId: string, messageId: string, subjectRef: string, recipientId?: number) {
    // The message is already out: a failure here must not make it look unsent (and be sent twice).
    try {
      await recordLink(db, { conversationId, messageId, subjectRef, recipientId });
    } catch (e) {
      logger.warn({ err: safeError(e), subjectRef }, 'could not record which item a Teams message is about');
    }
  }

  /** The person behind this turn, with their personal conversation remembered; unknown people are told who can add them. */
  async function personOf(context: TurnContext): Promise<Person | undefined> {
    const identified = await identify(db, context, logger);
    if (!identified) {
      await send(context, await notInRegisterReply(db));
      return undefined;
    }
    // Teams sends the sender's timezone with each message: the register takes it if it has none.
    const person = await adoptTimezone(db, identified, context.activity.localTimezone, 'teams');
    if (context.activity.conversation?.conversationType === 'personal') {
      await saveReference(db, person.id, TurnContext.getConversationReference(context.activity));
    }
    return person;
  }

  /** Only the person who asked may see a private answer: in a channel it goes to their personal chat. */
  async function answer(context: TurnContext, person: Person, result: Reply): Promise<void> {
    const personal = context.activity.conversation?.conversationType === 'personal';
    if (result.visibility !== 'private' || personal) {
      await send(context, result, person);
      return;
    }
    if (await port.canReach(person)) {
      await port.send(person, result);
      await send(context, reply(text(`${person.name}, I have sent you the answer in our personal chat.`)));
    } else {
      await send(context, reply(text('That answer is only for you: open a personal chat with me and ask there.', 'warning')));
    }
  }

  app.conversationUpdate('membersAdded', async (context) => {
    const botId = context.activity.recipient?.id;
    const botAdded = context.activity.membersAdded?.some((m) => m.id === botId);
    if (!botAdded || context.activity.conversation?.conversationType !== 'personal') return;
    const person = await personOf(context);
    if (!person) return;
    await send(context, reply(
      text(`Hello ${person.name}, I'm the ISMS bot. I keep the register of our information security management system.`),
      text('Type "help" to see what you can do, or "declare ai ChatGPT" to declare an AI tool you use.'),
    ), person);
  });

  app.adaptiveCards.actionSubmit(SUBMIT_VERB, async (context, _state, data: SubmitData & Record<string, unknown>) => {
    const person = await personOf(context);
    if (!person) return;
    const ask = inbound(context, person);
    let result: Reply;
    if (typeof data.command === 'string') result = await router.handle(data.command, ask);
    else if (typeof data.form === 'string') result = await router.submit(data.form, formValues(data), ask);
    else result = reply(text('That button is from an older version of this bot; type the command instead ("help" lists them).', 'error'));
    await answerClick(context, person, result);
  });

  /**
   * After a click that recorded something, the card is replaced by one saying what was recorded,
   * by whom and when. A refusal, a form or any other answer comes as a new message and the card stays.
   */
  async function answerClick(context: TurnContext, person: Person, result: Reply): Promise<void> {
    const cardId = context.activity.replyToId;
    if (!recorded(result) || !cardId || findForm(result)) {
      await answer(context, person, result);
      return;
    }
    const when = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: timezoneOf(person) }).format(new Date());
    const outcome = replyCard(result, `Recorded by ${person.name}, ${when} (${timezoneOf(person)})`);
    await context.updateActivity({ ...MessageFactory.attachment(CardFactory.adaptiveCard(outcome)), id: cardId });
    if (result.about && context.activity.conversation?.id) {
      await recordLinkSafely(context.activity.conversation.id, cardId, result.about, person.id);
    }
  }

  app.activity(ActivityTypes.Message, async (context) => {
    const activity = context.activity;
    const typed = (activity.text ?? '').trim();
    const files = filesIn(activity);
    if (!typed && files.length === 0) return;
    const person = await personOf(context);
    if (!person) return;
    let command = typed;
    if (!command) {
      const request = await evidenceRequestFor(db, activity.conversation.id, activity.replyToId, person.id);
      if (!request) {
        await send(context, reply(
          text(`I received ${files.map((f) => `"${f.name}"`).join(', ')}, but I don't know which evidence request it is for. Nothing was recorded.`, 'warning'),
          text('Send the file again as a reply to the evidence request message, or type "evidence submit EVR-0001" (with the request\'s reference) and attach the file to that message.'),
        ), person);
        return;
      }
      command = `evidence submit ${request}`;
    }
    let attachments: Attachment[] = [];
    try {
      attachments = await Promise.all(files.map((f) => downloadFile(f)));
    } catch (e) {
      if (!(e instanceof FileDownloadError)) throw e;
      await send(context, reply(text(`${e.message} Nothing was recorded; please send the file again.`, 'error')), person);
      return;
    }
    await answer(context, person, await router.handle(command, inbound(context, person, attachments)));
  });

  const onTurnError = async (context: TurnContext, error: Error) => {
    logger.error({ err: safeError(error), activityType: context.activity?.type, activityId: context.activity?.id }, 'Teams turn failed');
    try {
      await context.sendActivity(cardActivity(reply(
        text('Sorry, something went wrong on our side while answering you.', 'error'),
        text('Please try again in a minute. If it keeps happening, tell your ISMS lead.'),
      )));
    } catch (e) {
      logger.warn({ err: safeError(e) }, 'could not tell the Teams user about the failure');
    }
  };
  app.error(onTurnError);

  const port: ChatPort = {
    platform: 'teams',
    canReach: async (person) => Boolean(await loadReference(db, person.id)),
    async send(person, message) {
      const reference = await loadReference(db, person.id);
      if (!reference) throw new DeliveryError(`${person.name} has not talked to the bot in Teams yet`, undefined, true);
      // A failure inside the proactive turn would go to onTurnError (and an apology to the person):
      // it is caught here instead, so the outbox hears of it and retries.
      let failure: unknown;
      try {
        await adapter.continueConversationAsync(appId ?? '', reference, async (context) => {
          try {
            const sent = await context.sendActivity(cardActivity(message));
            if (message.about && sent?.id && reference.conversation?.id) {
              await recordLinkSafely(reference.conversation.id, sent.id, message.about, person.id);
            }
          } catch (e) {
            failure = e;
          }
        });
      } catch (e) {
        failure = e;
      }
      if (failure) throw deliveryError(failure);
    },
  };

  return { app, adapter, port, onTurnError };
}

function cardActivity(answer: Reply): Partial<Activity> {
  return { ...MessageFactory.attachment(CardFactory.adaptiveCard(replyCard(answer))), summary: toPlainText(answer).split('\n')[0].slice(0, 200) };
}

/** A reply that says something was recorded: the router's convention is a success-toned text. */
function recorded(result: Reply): boolean {
  return result.blocks.some((b) => b.type === 'text' && b.tone === 'success')
    && !result.blocks.some((b) => b.type === 'text' && b.tone === 'error');
}

interface ConnectorError { name?: string; message?: string; statusCode?: number; code?: string; response?: { headers?: { get(name: string): string | undefined } } }

/** Only what helps diagnose: connector errors also carry the request, with its bearer token. */
function safeError(e: unknown): Record<string, unknown> {
  const err = e as ConnectorError;
  return { name: err?.name, message: err?.message, statusCode: err?.statusCode, code: err?.code };
}

/** Bot Connector failures as the outbox understands them: throttling and outages pass, the rest will not. */
export function deliveryError(e: unknown): DeliveryError {
  const err = e as ConnectorError;
  const status = err?.statusCode;
  const why = `Teams did not take the message${status ? ` (HTTP ${status})` : ''}: ${err?.message ?? String(e)}`;
  if (status === 429) return new DeliveryError(why, retryAfterMs(err.response?.headers?.get('retry-after')));
  if (status === undefined || status >= 500) return new DeliveryError(why);
  // 401/403: the bot was removed or blocked; 404: the conversation is gone. Retrying will not help.
  return new DeliveryError(why, undefined, true);
}

function retryAfterMs(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

