/**
 * Direct messages to the bot. A reply in the thread of a bot message goes to the pipeline with
 * what that message was about (an evidence request's reply is evidence); anything else gets a
 * hint. Slack may deliver one event several times, even at once: the first delivery claims the
 * event id, and every other one is dropped without a word, so the thread gets one answer.
 * An evidence reply edited afterwards changes nothing in the register (evidence stays as first
 * sent); the person is told so in the thread, once per edit. One deleted afterwards, or only its
 * file, stays in the register too; the person is told that, and who can send it back, once per
 * deletion. Only a reply that was recorded gets any of these notes: each is remembered with its
 * request when it is recorded, as Slack may name only the message (its ts) when it is edited or deleted.
 */
import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../../../src/db/client.js';
import { messageLinks } from '../../../src/db/schema/index.js';
import { answerOnce, claimOnce, releaseClaim } from '../../../src/core/claims.js';
import { EVIDENCE_REQUEST, deletedEvidenceReply, editedEvidenceReply } from '../../../src/core/inbound.js';
import type { Reply } from '../../../src/core/reply.js';
import { fetchAttachments } from '../files.js';
import { fromSlackText, withEmoji, withSharedMessages, type SharedMessage } from '../text.js';
import { mentionedNames } from '../people.js';
import { inConversation } from '../answers.js';
import { deliverFiles } from '../send-file.js';
import { mayHavePosted } from '../api.js';
import { ask, progressVia, safely, type SlackApp, type SlackContext, type SlackDeps } from './shared.js';

interface DirectMessage {
  subtype?: string;
  channel: string;
  channel_type?: string;
  user: string;
  bot_id?: string;
  text?: string;
  ts: string;
  thread_ts?: string;
  files?: { id: string }[];
  /** The message as rich text: what Slack's text leaves out (an emoji's character). */
  blocks?: unknown[];
  /** Messages forwarded with it ("Share message"), among other attachments. */
  attachments?: SharedMessage[];
}

/** An edit (subtype message_changed): the message as it is now, and as it was (which Slack may leave out). */
interface ChangedMessage {
  channel: string;
  channel_type?: string;
  /** When the change happened. */
  ts: string;
  message?: { user?: string; bot_id?: string; subtype?: string; text?: string; ts: string; thread_ts?: string; edited?: { user?: string; ts?: string }; files?: SharedFile[] };
  previous_message?: { text?: string; files?: SharedFile[] };
}

/** A file of a message as an event shows it: a file deleted since is a "tombstone" with its id only. */
interface SharedFile { id: string; mode?: string }

/** A deletion (subtype message_deleted): which message went, and what it was (which Slack may leave out). */
interface DeletedMessage {
  channel: string;
  channel_type?: string;
  /** When the deletion happened. */
  ts: string;
  deleted_ts?: string;
  previous_message?: { user?: string; bot_id?: string; subtype?: string; ts?: string; thread_ts?: string };
}

/**
 * Subtypes of a message someone wrote: files shared with it, a thread reply also sent to the
 * conversation ("Also send to direct message"), which arrives as thread_broadcast only, or a
 * "/me waves" (me_message, its text without the name: "waves").
 */
const PERSON_WROTE = new Set(['file_share', 'thread_broadcast', 'me_message']);

/**
 * A person's messages recorded as evidence, kept apart from the bot's own messages (their own
 * platform value), so a thread started on one is not taken for an evidence request's.
 */
const EVIDENCE_MESSAGE = 'slack-evidence';

/**
 * The bot's direct message with someone: Slack says so (channel_type "im"), and its id starts with a D
 * where an event leaves channel_type out (Slack's own examples of an edit or a deletion do).
 */
function directMessage(event: { channel?: string; channel_type?: string }): boolean {
  return event.channel_type ? event.channel_type === 'im' : /^D[A-Z0-9]+$/.test(event.channel ?? '');
}

export function register(app: SlackApp, deps: SlackDeps): void {
  // The operator's only sign that the bot lost the workspace: said once, naming no token and no person.
  const log = deps.core.logger.child({ platform: 'slack' });
  app.event('app_uninstalled', async ({ body }) => {
    const { team_id: team, enterprise_id: enterprise } = body as { team_id?: string; enterprise_id?: string };
    log.warn({ team, enterprise }, 'Slack: the app was removed from the workspace (app_uninstalled) and its tokens revoked, so the bot can no longer post there: '
      + 'nudges and answers to Slack fail until the app is reinstalled and SLACK_BOT_TOKEN is set to its new token.');
  });
  app.event('tokens_revoked', async ({ event, body }) => {
    const { team_id: team, enterprise_id: enterprise } = body as { team_id?: string; enterprise_id?: string };
    const tokens = (event as { tokens?: { bot?: unknown[]; oauth?: unknown[] } }).tokens ?? {};
    if (!tokens.bot?.length) {
      log.info({ team, enterprise, userTokens: tokens.oauth?.length ?? 0 }, 'Slack: user tokens of the app were revoked (tokens_revoked); the bot does not use them');
      return;
    }
    log.warn({ team, enterprise }, 'Slack: the bot token was revoked (tokens_revoked), so the bot can no longer post to the workspace: '
      + 'nudges and answers to Slack fail until the app is reinstalled and SLACK_BOT_TOKEN is set to its new token.');
  });
  app.event('message', async ({ event, body, context }) => {
    const message = event as unknown as DirectMessage;
    // Slackbot (USLACKBOT) posts notices and reminders without a bot_id: nobody to answer.
    if (!directMessage(message) || message.bot_id || message.user === 'USLACKBOT') return;
    if (message.subtype === 'message_changed') return answerEdit(deps, context, event as unknown as ChangedMessage);
    if (message.subtype === 'message_deleted') return answerDeletion(deps, context, event as unknown as DeletedMessage);
    if (message.subtype && !PERSON_WROTE.has(message.subtype)) return; // joins, topic changes...
    const db = deps.core.database.db;
    const threadTs = message.thread_ts && message.thread_ts !== message.ts ? message.thread_ts : undefined;
    const inThread = inConversation(deps.api, message.channel, context.request, message.thread_ts);
    await safely(deps, context, inThread, async () => {
      const eventId = (body as { event_id?: string }).event_id;
      const about = threadTs ? await subjectOf(db, message.channel, threadTs) : undefined;
      // Files count only as evidence: shared anywhere else they are not read (nor downloaded).
      const files = about && EVIDENCE_REQUEST.test(about) ? (message.files ?? []).map((f) => f.id) : [];
      // The evidence is recorded under the event id in its own transaction, so a delivery that
      // crashed before answering is recorded once when Slack retries, and answered then.
      // A reply about a register item is stored as written: mentions by name, as the person saw them.
      // Anything else may go to the assistant, which sees no names: its mentions stay ids.
      const said = withSharedMessages(withEmoji(message.text ?? '', message.blocks), message.attachments);
      const names = about ? await mentionedNames(db, deps.api, said, context.request) : undefined;
      const { reply, person } = await ask(deps, context, { threadReply: { about, text: fromSlackText(said, names) } }, {
        ...(eventId ? { idempotencyKey: `slack:event:${eventId}` } : {}),
        ...(files.length ? { attachments: () => fetchAttachments(deps.api, files, context.request) } : {}),
        progress: progressVia(inThread),
      });
      if (reply.outcome === 'recorded' && about && EVIDENCE_REQUEST.test(about)) {
        await rememberEvidenceMessage(deps, context, { channel: message.channel, ts: message.ts, request: about, personId: person?.id });
      }
      // Deliveries of one event that overlap all get the answer: only the first to claim it posts.
      if (eventId && !await claimOnce(db, `slack:answered:${eventId}`)) {
        deps.core.logger.info({ platform: 'slack', request: context.request }, 'Slack delivered an event again that was answered already; not answered twice');
        return;
      }
      try {
        await inThread(await deliverFiles(deps, context, reply, eventId && `slack:event:${eventId}`));
      } catch (e) {
        // Recorded but not answered: no apology saying nothing was recorded. A later delivery of the
        // event answers (the evidence itself stays recorded once), unless the post may have arrived.
        const arrived = mayHavePosted(e);
        deps.core.logger.error({ platform: 'slack', request: context.request, err: e, outcome: reply.outcome },
          arrived ? 'the answer in the thread may not have been posted; not posted again, as Slack may have shown it' : 'could not post the answer in the thread');
        if (eventId && !arrived) await releaseClaim(db, `slack:answered:${eventId}`);
      }
    });
  });
}

/**
 * A person edited their reply that was recorded as evidence: the register keeps the reply as first
 * sent, so they are told that, and how to hand in the changed text. A file deleted from it, its text
 * left (the file a tombstone, nothing "edited"), is told like a deleted reply. Answered once per edit, however
 * often Slack delivers it; nothing else is written. Changes Slack makes itself (a link preview or an
 * attachment added: the same text, no "edited"), edits of replies that were not recorded (refused,
 * or not in an evidence request's thread), and edits by bots get no answer.
 */
async function answerEdit(deps: SlackDeps, context: SlackContext, changed: ChangedMessage): Promise<void> {
  const now = changed.message;
  if (!now?.user || now.bot_id || now.subtype === 'bot_message') return;
  const gone = deletedFiles(changed);
  if (gone.length) {
    await answerAboutEvidence(deps, context, { channel: changed.channel, ts: now.ts, threadTs: now.thread_ts, what: 'a file deletion' },
      `slack:file-deleted:${changed.channel}:${now.ts}:${gone.join(',')}`, (request) => deletedEvidenceReply(request, 'slack', 'file'));
  }
  // Slack's own example of an edit names the message as it is now only: its "edited" tells a person's edit.
  const edited = changed.previous_message ? (now.text ?? '') !== (changed.previous_message.text ?? '') : Boolean(now.edited);
  if (!edited) return;
  await answerAboutEvidence(deps, context, { channel: changed.channel, ts: now.ts, threadTs: now.thread_ts, what: 'an edit' },
    `slack:edited:${changed.channel}:${now.ts}:${now.edited?.ts ?? changed.ts}`, editedEvidenceReply);
}

/**
 * The files deleted from a message, leaving its text: Slack shows each as a tombstone in the message
 * as it is now. One that was a tombstone before already was (the message changed again for another reason).
 */
function deletedFiles(changed: ChangedMessage): string[] {
  const before = new Set(changed.previous_message?.files?.filter((f) => f.mode === 'tombstone').map((f) => f.id));
  return (changed.message?.files ?? []).filter((f) => f.mode === 'tombstone' && !before.has(f.id)).map((f) => f.id);
}

/**
 * A person deleted their reply that was recorded as evidence: it is gone from their view but stays in
 * the register, so they are told that, and who can send it back if it was a mistake. Answered once per
 * deletion, however often Slack delivers it; nothing else is written. Deletions of other messages, and
 * of bots' messages, get no answer.
 */
async function answerDeletion(deps: SlackDeps, context: SlackContext, deleted: DeletedMessage): Promise<void> {
  const was = deleted.previous_message;
  if (!deleted.deleted_ts || was?.bot_id || was?.subtype === 'bot_message') return;
  await answerAboutEvidence(deps, context, { channel: deleted.channel, ts: deleted.deleted_ts, threadTs: was?.thread_ts, what: 'a deletion' },
    `slack:deleted:${deleted.channel}:${deleted.deleted_ts}`, (request) => deletedEvidenceReply(request, 'slack'));
}

/**
 * Answers, once per `key`, about a person's message that was recorded as evidence: in the thread of its
 * request (the one the event names, else the request's own message). Nothing for any other message.
 * A failure here is only logged: an apology saying nothing was recorded would confuse more than help.
 */
async function answerAboutEvidence(deps: SlackDeps, context: SlackContext, message: { channel: string; ts: string; threadTs?: string; what: string },
  key: string, answer: (request: string) => Reply): Promise<void> {
  const db = deps.core.database.db;
  await safely(deps, context, undefined, async () => {
    const request = await evidenceMessage(db, message.channel, message.ts);
    if (!request) return;
    const threadTs = message.threadTs && message.threadTs !== message.ts ? message.threadTs : await requestMessage(db, message.channel, request);
    const answered = await answerOnce(db, key, () => inConversation(deps.api, message.channel, context.request, threadTs)(answer(request)), mayHavePosted);
    if (!answered) deps.core.logger.info({ platform: 'slack', request: context.request }, `Slack delivered ${message.what} again that was answered already; not answered twice`);
  });
}

/** The evidence is recorded already: a failure to remember its message only costs the note on a later edit or deletion. */
async function rememberEvidenceMessage(deps: SlackDeps, context: SlackContext, message: { channel: string; ts: string; request: string; personId?: number }): Promise<void> {
  try {
    await deps.core.database.db.insert(messageLinks).values({ platform: EVIDENCE_MESSAGE, conversationId: message.channel, messageId: message.ts,
      recipientId: message.personId, subjectRef: message.request }).onConflictDoNothing();
  } catch (e) {
    deps.core.logger.warn({ platform: 'slack', request: context.request, err: e }, 'could not remember which request a Slack message was recorded as evidence for');
  }
}

/** The evidence request a person's message in this conversation was recorded as evidence for, if any. */
async function evidenceMessage(db: Db, channel: string, ts: string): Promise<string | undefined> {
  const [link] = await db.select({ subjectRef: messageLinks.subjectRef }).from(messageLinks)
    .where(and(eq(messageLinks.platform, EVIDENCE_MESSAGE), eq(messageLinks.conversationId, channel), eq(messageLinks.messageId, ts)));
  return link?.subjectRef;
}

/** The bot's latest message about `subject` in this conversation (an evidence request's own message), if any. */
async function requestMessage(db: Db, channel: string, subject: string): Promise<string | undefined> {
  const [link] = await db.select({ ts: messageLinks.messageId }).from(messageLinks)
    .where(and(eq(messageLinks.platform, 'slack'), eq(messageLinks.conversationId, channel), eq(messageLinks.subjectRef, subject)))
    .orderBy(desc(messageLinks.createdAt), desc(messageLinks.id)).limit(1);
  return link?.ts;
}

/** The register item the bot's message in this conversation is about (e.g. "EVR-0003"), if any. */
async function subjectOf(db: Db, channel: string, messageTs: string): Promise<string | undefined> {
  const [link] = await db.select({ subjectRef: messageLinks.subjectRef }).from(messageLinks)
    .where(and(eq(messageLinks.platform, 'slack'), eq(messageLinks.conversationId, channel), eq(messageLinks.messageId, messageTs)));
  return link?.subjectRef;
}
