/**
 * The core's way to reach someone on Slack on its own initiative: a direct message from the bot.
 * A message about a register item is remembered (message_links) so a reply in its thread lands
 * on that item.
 *
 * Outbox messages carry their delivery key as message metadata, so after a worker died between
 * posting and recording, the next worker finds the key in the direct message's history and does
 * not post again. The bot reads that history with im:history; metadata.message:read is only for
 * subscribing to metadata events, which the bot does not do.
 *
 * Images in a message (charts) are uploaded into the same direct message before the message is
 * posted, because the message is the receipt: once it is found, the row counts as delivered. Each
 * image of an outbox row is recorded as uploaded (processed_events) as soon as Slack completed it,
 * so a send that failed part way and is retried uploads only what is still missing.
 */
import type { Db } from '../../src/db/client.js';
import { eq } from 'drizzle-orm';
import { messageLinks, processedEvents } from '../../src/db/schema/index.js';
import { DeliveryError } from '../../src/core/port.js';
import type { ReceiptChatPort } from '../../src/core/delivery.js';
import type { Person } from '../../src/core/actor.js';
import { linkChatAccount } from '../../src/core/reach.js';
import type { Reply } from '../../src/core/reply.js';
import { isPermanentSlackError, retryAfterMs, tokenRefusal, tokenRefusedMessage, type SlackApi } from './api.js';
import { renderMessage } from './render.js';
import { imageUpload, uploadToChannel } from './send-file.js';
import { shownMaybe } from './answers.js';

/** event_type of the metadata on every outbox message. */
export const OUTBOX_EVENT_TYPE = 'isms_outbox';

/** A person Slack found no account for is looked up again after this long, not on every outbox poll. */
export const LOOKUP_RETRY_MS = 6 * 3600_000;

/**
 * After Slack refused the bot token during a look-up, the people still to look up fail with the same
 * reason without asking Slack, for this long (a new token means a restart anyway).
 */
export const TOKEN_REFUSAL_HOLD_MS = 10 * 60_000;

/** Slack's clock and the database's may differ a little: history is read from this much earlier. */
const CLOCK_SKEW_MS = 5 * 60_000;

interface LookupAnswer { user?: { id?: string; deleted?: boolean; is_bot?: boolean } }

interface HistoryPage {
  messages?: { bot_id?: string; metadata?: { event_type?: string; event_payload?: { key?: unknown } } }[];
}

/**
 * `api` is the client interactive answers use: it retries and waits out a 429, which suits a
 * one-off `send`. The delivery worker calls sendWithKey and wasDelivered, which go through
 * `outbox`: a client that neither retries nor waits, because the worker does both itself. It
 * honours Retry-After for the whole conversation while other people's messages go on, and before
 * it sends a row again it asks wasDelivered; a client repeating chat.postMessage after a timeout
 * could post the same message twice.
 *
 * Someone in the register with an email but no Slack user id is looked up with users.lookupByEmail
 * the first time the bot needs to reach them; the id found is stored on the person, audited. A
 * miss is remembered for LOOKUP_RETRY_MS (and said by unreachableReason), and a 429 pauses every
 * look-up until its Retry-After has passed. Once Slack refuses the bot token, the look-ups after it
 * fail with the same reason without asking Slack (see TOKEN_REFUSAL_HOLD_MS).
 */
export function slackPort(db: Db, api: SlackApi, outbox: SlackApi = api): ReceiptChatPort {
  const dmChannels = new Map<string, string>();
  let botId: Promise<string | undefined> | undefined;
  /**
   * Slack user ids found by email, for the person as loaded before the id was stored (the same object is
   * asked canReach, then sent to). Kept by that object, not the person's id: once the lead clears the link,
   * the person loaded anew has none, and is looked up again rather than reached at the old account.
   */
  const found = new WeakMap<Person, string>();
  /** Why a look-up found nobody, and when to ask again. */
  const misses = new Map<number, { reason: string; retryAt: number }>();
  let lookupsPausedUntil = 0;
  /** Slack's refusal of the bot token in a look-up, and until when the next look-ups fail with it unasked. */
  let tokenRefused: { error: unknown; until: number } | undefined;

  const slackUserOf = (person: Person): string => {
    const user = person.slackUserId ?? found.get(person);
    if (!user) throw new DeliveryError(`${person.name} has no Slack user id`, undefined, true);
    return user;
  };

  async function canReach(person: Person): Promise<boolean> {
    if (person.slackUserId || found.has(person)) return true;
    const miss = misses.get(person.id);
    if (miss && miss.retryAt > Date.now()) return false;
    if (!person.email.trim()) {
      misses.set(person.id, { reason: 'Slack: the register has no email for them to look them up by', retryAt: Date.now() + LOOKUP_RETRY_MS });
      return false;
    }
    const wait = lookupsPausedUntil - Date.now();
    if (wait > 0) throw new DeliveryError('Slack asked the bot to wait before looking up more people', wait);
    if (tokenRefused && tokenRefused.until > Date.now()) throw failedPost(`Slack could not look up ${person.name}`, tokenRefused.error);
    let answer: LookupAnswer;
    try {
      answer = await outbox.call<LookupAnswer>('users.lookupByEmail', { email: person.email }, { kind: 'reach', recipient: person.id }, ['users_not_found']);
    } catch (e) {
      const pause = retryAfterMs(e);
      if (pause !== undefined) {
        lookupsPausedUntil = Date.now() + pause;
        throw new DeliveryError(`Slack rate limited looking up ${person.name}`, pause);
      }
      const refusal = (e as { data?: { error?: string } }).data?.error;
      if (tokenRefusal(e)) {
        tokenRefused = { error: e, until: Date.now() + TOKEN_REFUSAL_HOLD_MS };
        throw failedPost(`Slack could not look up ${person.name}`, e);
      }
      const reason = refusal === 'users_not_found' ? `Slack: no Slack account has the email ${person.email}`
        : refusal === 'missing_scope' ? 'Slack: the app may not look people up by email (add the users:read.email scope and reinstall it)'
          : refusal ? `Slack: looking up ${person.email} failed (${refusal})` : undefined;
      if (!reason) throw e;
      misses.set(person.id, { reason, retryAt: Date.now() + LOOKUP_RETRY_MS });
      return false;
    }
    const user = answer.user;
    if (!user?.id || user.deleted || user.is_bot) {
      misses.set(person.id, { reason: `Slack: the Slack account with the email ${person.email} is deactivated`, retryAt: Date.now() + LOOKUP_RETRY_MS });
      return false;
    }
    const linked = await linkChatAccount(db, person, 'slack', user.id, { id: null, label: 'ISMS bot via Slack users.lookupByEmail' });
    if (linked.status === 'conflict') {
      misses.set(person.id, { reason: `Slack: ${linked.reason}`, retryAt: Date.now() + LOOKUP_RETRY_MS });
      return false;
    }
    misses.delete(person.id);
    found.set(person, user.id);
    return true;
  }

  async function post(via: SlackApi, person: Person, message: Reply, deliveryKey?: string): Promise<void> {
    if (!person.slackUserId && !found.has(person)) await canReach(person);
    const user = slackUserOf(person);
    await uploadImages(via, person, user, message, deliveryKey);
    let posted: { channel?: string; ts?: string };
    try {
      // Posting to a user id opens (or reuses) the bot's direct message with them.
      posted = await via.call('chat.postMessage', {
        channel: user, ...renderMessage(message),
        ...(deliveryKey ? { metadata: { event_type: OUTBOX_EVENT_TYPE, event_payload: { key: deliveryKey } } } : {}),
      }, { kind: 'delivery', recipient: person.id, about: message.about });
    } catch (e) {
      throw failedPost(`Slack did not take the message for ${person.name}`, e);
    }
    if (posted.channel) dmChannels.set(user, posted.channel);
    if (message.about && posted.channel && posted.ts) {
      await db.insert(messageLinks).values({
        platform: 'slack', conversationId: posted.channel, messageId: posted.ts, recipientId: person.id, subjectRef: message.about,
      }).onConflictDoNothing();
    }
  }

  /** Each image of the message into the direct message, once per outbox row (deliveryKey). */
  async function uploadImages(via: SlackApi, person: Person, user: string, message: Reply, deliveryKey?: string): Promise<void> {
    for (const [i, block] of message.blocks.entries()) {
      if (block.type !== 'image') continue;
      const doneKey = deliveryKey && `slack:outbox-image:${deliveryKey}:${i}`;
      if (doneKey && (await db.select({ key: processedEvents.key }).from(processedEvents).where(eq(processedEvents.key, doneKey))).length > 0) continue;
      const request = { kind: 'delivery', recipient: person.id, file: block.fileName };
      let confirmed = true;
      try {
        await uploadToChannel(via, await dmChannel(user, person.id, via), imageUpload(block), request);
      } catch (e) {
        // Shared, perhaps, though Slack's answer was lost (logged): the message's retry must not share it twice.
        if (!shownMaybe(e)) throw failedPost(`Slack did not take the image ${block.fileName} for ${person.name}`, e);
        confirmed = false;
      }
      if (doneKey) await db.insert(processedEvents).values({ key: doneKey, reply: { uploaded: block.fileName, confirmed } }).onConflictDoNothing();
    }
  }

  async function dmChannel(user: string, recipient: number, via: SlackApi = outbox): Promise<string> {
    let channel = dmChannels.get(user);
    if (!channel) {
      const opened = await via.call<{ channel?: { id?: string } }>('conversations.open', { users: user }, { kind: 'delivery_check', recipient });
      channel = opened.channel?.id;
      if (!channel) throw new Error(`conversations.open gave no channel for ${user}`);
      dmChannels.set(user, channel);
    }
    return channel;
  }

  /** The bot's own id, so only its messages count as receipts. */
  function ownBotId(recipient: number): Promise<string | undefined> {
    botId ??= outbox.call<{ bot_id?: string }>('auth.test', {}, { kind: 'delivery_check', recipient })
      .then((r) => r.bot_id)
      .catch((e) => { botId = undefined; throw e; });
    return botId;
  }

  return {
    platform: 'slack',
    canReach,
    unreachableReason: (person: Person) => misses.get(person.id)?.reason,
    send: (person, message) => post(api, person, message),
    sendWithKey: (person, message, deliveryKey) => post(outbox, person, message, deliveryKey),

    async wasDelivered(person: Person, deliveryKey: string, since: Date): Promise<boolean> {
      const user = slackUserOf(person);
      try {
        const channel = await dmChannel(user, person.id);
        const bot = await ownBotId(person.id);
        const args = { channel, oldest: String((since.getTime() - CLOCK_SKEW_MS) / 1000), include_all_metadata: true, limit: 200 };
        for await (const page of outbox.pages<HistoryPage>('conversations.history', args, { kind: 'delivery_check', recipient: person.id })) {
          const found = (page.messages ?? []).some((m) => m.bot_id === bot
            && m.metadata?.event_type === OUTBOX_EVENT_TYPE && m.metadata.event_payload?.key === deliveryKey);
          if (found) return true;
        }
        return false;
      } catch (e) {
        throw failedPost(`Slack could not tell whether an earlier message reached ${person.name}`, e);
      }
    },
  };
}

/** The outbox's error for a failed call: a refused bot token says so, and fails the message for good. */
function failedPost(what: string, e: unknown): DeliveryError {
  const refused = tokenRefusal(e);
  if (refused) return new DeliveryError(`${what}: ${tokenRefusedMessage(refused)}`, undefined, true);
  return new DeliveryError(`${what}: ${(e as Error).message}`, retryAfterMs(e), isPermanentSlackError(e));
}
