import type { TeamsAdapter } from '@microsoft/teams-ai';
import { type Activity, type ConversationParameters, type ConversationReference, MessageFactory, type TurnContext } from 'botbuilder';
import type { ConnectorClient } from 'botframework-connector';
import type { Logger } from 'pino';
import { type ClientSetups, sharedClient } from './connectors.js';
import type { Db } from '../../src/db/client.js';
import type { Person } from '../../src/core/actor.js';
import { type ChatPort, DeliveryError, NEVER_SENT, type ReachCheck } from '../../src/core/port.js';
import { AnswerNotShown } from '../../src/core/inbound.js';
import { type FileOut, type Reply, text } from '../../src/core/reply.js';
import { cardActivity, fileOnlyInPersonalChat, imageActivity, plainWords } from './cards.js';
import { loadReference, recordLink, saveReference } from './addresses.js';
import { type RosterAddress, loadRosterAddress, loadTeamsAddresses } from './roster.js';
import { type FileOffer, FileOffers, consentAttachment, removeExportFolder } from './offers.js';

/** How the bot reaches people in Teams on its own: the outbox's port, and a private answer to a turn in a channel. */
export interface TeamsOutbound {
  port: ChatPort;
  /**
   * Sends a reply to the person behind a channel or group-chat turn in their personal chat, opening
   * that chat when the bot has none stored. False when Teams will not let the bot reach them there;
   * 'here' when their personal chat is the turn's own conversation (one that did not say what it is).
   */
  sendPrivately(context: TurnContext, answer: Reply, person?: Person): Promise<boolean | 'here'>;
  /** Sends a reply into the turn's conversation; a reply about a register item is linked to the message it became. */
  sendHere(context: TurnContext, answer: Reply, recipient?: Person): Promise<void>;
  /** Remembers that a message (e.g. a card replaced in place) is about a register item. */
  linkMessage(conversationId: string, messageId: string, subjectRef: string, recipientId?: number): Promise<void>;
  /** The files offered in personal chats and not yet taken. */
  offers: FileOffers;
  /** Removes the files of a reply that no open offer holds: nobody will ever take them. */
  discardUnoffered(answer: Reply): Promise<void>;
}

/** The token audience for calls to the Bot Connector (botframework-connector's ToChannelFromBotOAuthScope). */
const BOT_CONNECTOR_AUDIENCE = 'https://api.botframework.com';

/** The part of the Bot Connector client used to open a personal chat. */
interface ConversationsClient {
  conversations: { createConversation(parameters: ConversationParameters): Promise<{ id?: string }> };
}

/** `tenantId`: the configured tenant (MICROSOFT_APP_TENANT_ID), for a personal chat opened from an activity that names none. */
export function teamsOutbound(adapter: TeamsAdapter, appId: string | undefined, db: Db, logger: Logger, offers = new FileOffers(), tenantId?: string): TeamsOutbound {
  async function linkMessage(conversationId: string, messageId: string, subjectRef: string, recipientId?: number): Promise<void> {
    // The message is already out: a failure here must not make it look unsent (and be sent twice).
    try {
      await recordLink(db, { conversationId, messageId, subjectRef, recipientId });
    } catch (e) {
      logger.warn({ err: safeError(e), subjectRef }, 'could not record which item a Teams message is about');
    }
  }

  /** Sends a message into a stored conversation, outside any turn; throws the outbox's DeliveryError. */
  async function sendTo(reference: Partial<ConversationReference>, message: Reply, recipientId?: number, forOutbox = false): Promise<void> {
    // A failure inside the proactive turn would go to the turn error handler (and an apology to the
    // person): it is caught here instead, so the outbox hears of it and retries.
    let failure: unknown;
    try {
      await adapter.continueConversationAsync(appId ?? '', reference, async (context) => {
        try {
          if (forOutbox) retryOnlyThrottling(context);
          else retryOnlyWhatDidNotArrive(context);
          await deliver(context, message, reference.conversation?.id, recipientId, reference.user?.aadObjectId);
        } catch (e) {
          failure = e;
        }
      });
    } catch (e) {
      failure = e;
    }
    if (failure) throw deliveryError(failure);
  }

  /**
   * Sends a reply as one card; each of its files follows as a consent card when the conversation is
   * a personal chat with the person it is offered to (Teams takes files from bots nowhere else).
   * An offer whose card did not go out is withdrawn. Each image follows the card as a message of its own.
   */
  async function deliver(context: TurnContext, message: Reply, conversationId: string | undefined, recipientId?: number, offeredTo?: string): Promise<void> {
    const made: FileOffer[] = [];
    try {
      const { card, consents } = await withOffers(message, offeredTo, made);
      const sent = await context.sendActivity(card);
      if (message.about && sent?.id && conversationId) await linkMessage(conversationId, sent.id, message.about, recipientId);
      for (const block of message.blocks) if (block.type === 'image') await context.sendActivity(imageActivity(block));
      for (const consent of consents) await context.sendActivity(consent);
    } catch (e) {
      for (const offer of made) await offers.withdraw(offer.id);
      throw e;
    }
  }

  /** The reply's card, each file in it said in words, and the consent cards for the files offered. */
  async function withOffers(message: Reply, offeredTo: string | undefined, made: FileOffer[]): Promise<{ card: Partial<Activity>; consents: Partial<Activity>[] }> {
    const consents: Partial<Activity>[] = [];
    const blocks = [];
    for (const block of message.blocks) {
      if (block.type !== 'file') {
        blocks.push(block);
        continue;
      }
      const offer = offeredTo ? await offers.offer(block.file, offeredTo) : undefined;
      if (offer) {
        made.push(offer);
        consents.push({ ...MessageFactory.attachment(consentAttachment(offer)), summary: `${offer.title}: ${offer.name}` });
      }
      blocks.push(text(offer ? `📎 ${block.file.title}: accept below to save it to your OneDrive.` : !offeredTo ? fileOnlyInPersonalChat(block.file) : fileGone(block.file), offer ? undefined : 'warning'));
    }
    return { card: cardActivity({ ...message, blocks }), consents };
  }

  /**
   * Opens the personal chat with a team member who never wrote to the bot, stores it as their
   * conversation reference and sends the first message in it; throws the outbox's DeliveryError.
   */
  async function openAndSend(roster: RosterAddress, message: Reply, personId: number): Promise<void> {
    const tenant = tenantOf(roster);
    if (!tenant) throw new DeliveryError(NO_TENANT, undefined, true);
    let failure: unknown;
    try {
      const parameters = {
        isGroup: false, bot: roster.bot, members: [{ id: roster.user.id, name: roster.user.name ?? '' }], tenantId: tenant, channelData: { tenant: { id: tenant } },
      } as ConversationParameters;
      await adapter.createConversationAsync(appId ?? '', roster.channelId, roster.serviceUrl, BOT_CONNECTOR_AUDIENCE, parameters, async (context) => {
        const conversationId = context.activity.conversation.id;
        const reference: Partial<ConversationReference> = {
          channelId: roster.channelId, serviceUrl: roster.serviceUrl, bot: roster.bot, user: { ...roster.user, name: roster.user.name ?? '' },
          conversation: { id: conversationId, conversationType: 'personal', isGroup: false, tenantId: tenant, name: '' },
        };
        try {
          retryOnlyThrottling(context);
          await saveReference(db, personId, reference);
          await deliver(context, message, conversationId, personId, roster.user.aadObjectId);
        } catch (e) {
          failure = e;
        }
      });
    } catch (e) {
      failure = e;
    }
    if (failure) throw deliveryError(failure);
  }

  /** The tenant to open a member's personal chat in: the team's, else the configured one. Teams refuses to open one without (400). */
  const tenantOf = (roster: RosterAddress) => roster.tenantId ?? tenantId;

  /** Someone with no personal chat with the bot is reached through their roster place, if its tenant is known. */
  const reachesThrough = (roster: RosterAddress | undefined) => Boolean(roster && tenantOf(roster));
  const reasonFor = (roster: RosterAddress | undefined) => (roster ? NO_TENANT
    : 'Microsoft Teams: not in any team where the app is installed, and never wrote to the bot in Teams');

  const port: ChatPort = {
    platform: 'teams',
    async canReach(person) {
      if (await loadReference(db, person.id)) return true;
      return reachesThrough(await loadRosterAddress(db, person.id));
    },
    unreachableReason: async (person) => reasonFor(await loadRosterAddress(db, person.id)),
    async lookUp(persons): Promise<ReachCheck> {
      const ids = new Set(persons.map((p) => p.id));
      const { personal, rosters } = await loadTeamsAddresses(db, [...ids]);
      return {
        canReach: (person) => (ids.has(person.id) ? personal.has(person.id) || reachesThrough(rosters.get(person.id)) : port.canReach(person)),
        unreachableReason: (person) => (ids.has(person.id) ? reasonFor(rosters.get(person.id)) : port.unreachableReason!(person)),
      };
    },
    async send(person, message) {
      const reference = await loadReference(db, person.id);
      if (reference) return sendTo(reference, message, person.id, true);
      const roster = await loadRosterAddress(db, person.id);
      if (!roster) throw new DeliveryError(`${person.name} has not talked to the bot in Teams yet and is in no team where the app is installed`, undefined, true);
      await openAndSend(roster, message, person.id);
    },
  };

  /**
   * Asks Teams for the personal chat between the bot and the person behind this turn. Teams allows
   * it for members of a team or chat the bot is installed in.
   */
  async function openPersonalChat(context: TurnContext): Promise<Partial<ConversationReference> | undefined> {
    const { activity } = context;
    const client = context.turnState.get<ConversationsClient | undefined>(context.adapter.ConnectorClientKey);
    // Teams leaves the tenant out now and then; a personal chat cannot be opened without one (Teams answers 400).
    const tenant = activity.conversation.tenantId ?? (activity.channelData as { tenant?: { id?: string } } | undefined)?.tenant?.id ?? tenantId;
    if (!client || !activity.recipient) return undefined;
    if (!tenant) {
      logger.info('Teams named no tenant and MICROSOFT_APP_TENANT_ID is not set: cannot open a personal chat with the person');
      return undefined;
    }
    try {
      const { id } = await client.conversations.createConversation({
        isGroup: false, bot: activity.recipient, members: [activity.from], tenantId: tenant, channelData: { tenant: { id: tenant } },
      });
      if (!id) return undefined;
      return {
        channelId: activity.channelId, serviceUrl: activity.serviceUrl, bot: activity.recipient, user: activity.from,
        conversation: { id, conversationType: 'personal', isGroup: false, tenantId: tenant, name: '' },
      };
    } catch (e) {
      logger.info({ err: safeError(e) }, 'Teams did not open a personal chat with the person');
      return undefined;
    }
  }

  return {
    port,
    linkMessage,
    async sendPrivately(context, answer, person) {
      let reference = person && await loadReference(db, person.id);
      if (!reference) {
        reference = await openPersonalChat(context);
        if (!reference) return false;
        if (person) await saveReference(db, person.id, reference);
      }
      try {
        await sendTo(reference, answer, person?.id);
        // Teams gives the same personal chat each time it is asked: it may be where the person wrote.
        return reference.conversation?.id === context.activity.conversation?.id ? 'here' : true;
      } catch (e) {
        logger.info({ err: safeError(e), personId: person?.id }, 'could not answer the person in their Teams personal chat');
        return false;
      }
    },
    async sendHere(context, answer, recipient) {
      // Teams may leave the Entra id out of the activity: the person's own, linked in the register, is theirs.
      const offeredTo = isPersonalChat(context.activity) ? context.activity.from?.aadObjectId ?? recipient?.teamsAadObjectId ?? undefined : undefined;
      await deliver(context, answer, context.activity.conversation?.id, recipient?.id, offeredTo);
    },
    offers,
    async discardUnoffered(answer) {
      for (const block of answer.blocks) {
        if (block.type === 'file' && !offers.holds(block.file.path)) await removeExportFolder(block.file.path);
      }
    },
  };
}

const NO_TENANT = 'Microsoft Teams: the team the app is installed in did not name its tenant, and MICROSOFT_APP_TENANT_ID is not set';

/** An interim message during a turn ("your export is on its way"), as plain text in the same conversation. */
export async function sendProgress(context: TurnContext, message: string): Promise<void> {
  // Answers are private: in a channel or group chat the interim note would tell everyone, so it is left out there.
  if (!isPersonalChat(context.activity)) return;
  await context.sendActivity(MessageFactory.text(plainWords(message)));
}

/**
 * Teams' id of a channel ("19:…@thread.tacv2", formerly "19:…@thread.skype", with ";messageid=…" in a
 * thread) or a group or meeting chat ("19:…@thread.v2"); a personal chat's starts with "a:".
 */
const SHARED_CONVERSATION_ID = /^19:[^;]*@thread\./i;

/**
 * A personal chat with the bot, as opposed to a team channel or a group chat, which others read. Only
 * a conversation that says so is one: conversationType "personal", or, without a conversationType,
 * isGroup false and neither its id nor channelData (a team, a channel) saying it is shared. When
 * unsure it is not: a private answer then goes to the personal chat instead of where others read it.
 * A conversation on another Bot Framework channel than Teams is one-to-one.
 */
export function isPersonalChat(activity: Partial<Activity>): boolean {
  // Only Teams has channels and group chats: Web Chat ("Test in Web Chat") and the Emulator are one-to-one.
  if (activity.channelId && activity.channelId !== 'msteams') return true;
  const conversation = activity.conversation;
  if (conversation?.conversationType) return conversation.conversationType === 'personal';
  const channelData = activity.channelData as { channel?: unknown; team?: unknown } | undefined;
  return conversation?.isGroup === false && !SHARED_CONVERSATION_ID.test(conversation.id ?? '') && !channelData?.channel && !channelData?.team;
}

const fileGone = (file: FileOut) => `📎 ${file.title}: the file is no longer available. Ask me again and I'll make it anew.`;

/** The parts of @azure/core-rest-pipeline's pipeline, request and response used below. */
interface HttpPipeline {
  removePolicy(options: { name: string }): unknown;
  addPolicy(policy: { name: string; sendRequest(request: unknown, next: (request: unknown) => Promise<HttpAnswer>): Promise<HttpAnswer> }, options: { phase: 'Retry' }): void;
}
interface HttpAnswer { status: number; headers: { get(name: string): string | undefined } }

/** Internal retries of a request, as the client's default policy does them (3). */
const THROTTLED_RETRIES = 3;

/**
 * The connector client's default retry policy sends an activity again, unmarked, after a 5xx or a
 * lost connection, when the first may have arrived (and waits seconds between tries). For the
 * outbox, which retries with a note and a backoff of its own, the turn's client retries only what
 * the connector refused outright and asked to send again later (429, or 503 with Retry-After).
 */
const THROTTLING_ONLY = 'throttlingOnlyRetryPolicy';

/** First wait of a turn's retry after an error that said nothing about when; each further one doubles it. */
const TURN_RETRY_MS = 500;

/**
 * For the answers of a turn, which have no outbox behind them: the connector client tries again what
 * surely did not reach the conversation (throttling, a 500/502/503, a connection refused), and never
 * what may have (a 504, a connection lost after the request went out), which the default policy
 * would send a second time. Such a failure reaches the turn's error handler instead.
 */
const NOT_ARRIVED = 'notArrivedRetryPolicy';

/** How long to wait before trying a request again after this answer (or error), or undefined to give it back as it is. */
type WaitBefore = (answer: HttpAnswer | Error, retry: number) => number | undefined;

const RETRY_POLICIES: Record<string, WaitBefore> = {
  [THROTTLING_ONLY]: (answer) => {
    if (answer instanceof Error) return undefined;
    const throttled = answer.status === 429 || answer.status === 503;
    return throttled ? retryAfterMs(answer.headers.get('retry-after')) : undefined;
  },
  [NOT_ARRIVED]: (answer, retry) => {
    if (answer instanceof Error) return NEVER_SENT.has((answer as ConnectorError).code ?? '') ? TURN_RETRY_MS * 2 ** retry : undefined;
    if (![429, 500, 502, 503].includes(answer.status)) return undefined;
    return retryAfterMs(answer.headers.get('retry-after')) ?? TURN_RETRY_MS * 2 ** retry;
  },
};

/** The connector clients the adapter shares between turns, one per retry policy above (see connectors.ts). */
export const RETRY_SETUPS: ClientSetups = Object.fromEntries(Object.entries(RETRY_POLICIES)
  .map(([name, waitBefore]) => [name, (client: ConnectorClient) => replaceRetryPolicy(client, name, waitBefore)]));

const retryOnlyThrottling = (context: TurnContext) => useRetryPolicy(context, THROTTLING_ONLY);
export const retryOnlyWhatDidNotArrive = (context: TurnContext) => useRetryPolicy(context, NOT_ARRIVED);

/**
 * Gives the turn the Bot Connector client with the named retry policy: the shared one for its
 * endpoint, or else its own client with the policy put in place.
 */
function useRetryPolicy(context: TurnContext, name: string): void {
  const key = context.adapter.ConnectorClientKey;
  const client = context.turnState.get<ConnectorClient | undefined>(key);
  if (!client) return;
  const shared = sharedClient(client, name);
  if (shared) context.turnState.set(key, shared);
  else replaceRetryPolicy(client, name, RETRY_POLICIES[name]);
}

/** Puts `waitBefore` in place of the client's default retry policy. */
function replaceRetryPolicy(connector: ConnectorClient, name: string, waitBefore: WaitBefore): void {
  // The compatibility layer keeps the @azure/core-client client, and with it the pipeline, private.
  const pipeline = (connector as unknown as { client?: { pipeline?: HttpPipeline } }).client?.pipeline;
  if (!pipeline) return;
  pipeline.removePolicy({ name: 'defaultRetryPolicy' });
  pipeline.removePolicy({ name });
  pipeline.addPolicy({
    name,
    async sendRequest(request, next) {
      for (let retry = 0; ; retry++) {
        let answer: HttpAnswer | Error;
        try {
          answer = await next(request);
        } catch (e) {
          answer = e instanceof Error ? e : new Error(String(e));
        }
        const wait = retry < THROTTLED_RETRIES ? waitBefore(answer, retry) : undefined;
        if (wait === undefined) {
          if (answer instanceof Error) throw answer;
          return answer;
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    },
  }, { phase: 'Retry' });
}

interface ConnectorError { name?: string; message?: string; statusCode?: number; code?: string; response?: { headers?: { get(name: string): string | undefined } } }

/** Only what helps diagnose: connector errors also carry the request, with its bearer token. */
export function safeError(e: unknown): Record<string, unknown> {
  // The connector's own error says what went wrong; the wrapper only that something had been recorded.
  const err = (e instanceof AnswerNotShown ? e.cause : e) as ConnectorError;
  return { name: err?.name, message: err?.message, statusCode: err?.statusCode, code: err?.code, ...(e instanceof AnswerNotShown ? { requestWasRecorded: true } : {}) };
}

/**
 * Failures after the request went out, as @azure/core-rest-pipeline reports them (RestError with the
 * socket's code, REQUEST_SEND_ERROR when it has none, AbortError for a cancelled request): the
 * connector may have taken the message. ECONNREFUSED, ENOTFOUND and the like mean it never got there.
 */
const LOST_AFTER_SENDING = new Set(['ECONNRESET', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ECONNABORTED', 'EPIPE', 'REQUEST_SEND_ERROR', 'UND_ERR_SOCKET']);

/**
 * True when an answer of a turn may have reached the conversation although sending it failed: a
 * redelivery of the activity must then not answer again. Only what surely did not arrive (refused,
 * throttled or a 500/502/503 after the retries, a 4xx) may be answered again.
 */
export function answerMayHaveArrived(e: unknown): boolean {
  const err = (e instanceof AnswerNotShown ? e.cause : e) as ConnectorError | undefined;
  return mayHaveArrived(err, err?.statusCode);
}

/** True when the Bot Connector may have posted the message although the call failed. */
function mayHaveArrived(err: ConnectorError | undefined, status: number | undefined): boolean {
  // A gateway gave up waiting for the service, which may still have posted it.
  if (status === 504) return true;
  if (status !== undefined) return false;
  if (err?.name === 'AbortError') return true;
  if (err?.code !== undefined) return LOST_AFTER_SENDING.has(err.code);
  return /socket hang up|aborted/i.test(err?.message ?? '');
}

/**
 * Bot Connector failures as the outbox understands them: throttling and outages pass, the rest will
 * not; a failure that may have reached the person says so, and the retry carries a note.
 */
function deliveryError(e: unknown): DeliveryError {
  const err = e as ConnectorError;
  const status = err?.statusCode;
  const uncertain = mayHaveArrived(err, status);
  const why = `Teams ${uncertain ? 'may not have taken' : 'did not take'} the message${status ? ` (HTTP ${status})` : ''}: ${err?.message ?? String(e)}`;
  if (status === 429) return new DeliveryError(why, retryAfterMs(err.response?.headers?.get('retry-after')));
  if (status === undefined || status >= 500) return new DeliveryError(why, undefined, false, uncertain);
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
