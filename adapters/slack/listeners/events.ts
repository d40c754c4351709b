/**
 * Direct messages to the bot. A reply in the thread of a bot message goes to the pipeline with
 * what that message was about (an evidence request's reply is evidence); anything else gets a
 * hint. Slack may deliver one event several times, even at once: the first delivery claims the
 * event id, and every other one is dropped without a word, so the thread gets one answer.
 * An evidence reply edited afterwards changes nothing in the register (evidence stays as first
 * sent); the person is told so in the thread, once per edit. One deleted afterwards stays in the
 * register too; the person is told that, and who can send it back, once per deletion.
 */
import { and, eq } from 'drizzle-orm';
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

/** An edit (subtype message_changed): the message as it is now, and as it was. */
interface ChangedMessage {
  channel: string;
  /** When the change happened. */
  ts: string;
  message?: { user?: string; bot_id?: string; subtype?: string; text?: string; ts: string; thread_ts?: string; edited?: { user?: string; ts?: string } };
  previous_message?: { text?: string };
}

/** A deletion (subtype message_deleted): which message went, and what it was. */
interface DeletedMessage {
  channel: string;
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
    if (message.channel_type !== 'im' || message.bot_id || message.user === 'USLACKBOT') return;
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
      const { reply } = await ask(deps, context, { threadReply: { about, text: fromSlackText(said, names) } }, {
        ...(eventId ? { idempotencyKey: `slack:event:${eventId}` } : {}),
        ...(files.length ? { attachments: () => fetchAttachments(deps.api, files, context.request) } : {}),
        progress: progressVia(inThread),
      });
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
 * A person edited their reply in the thread of an evidence request: the register keeps the reply
 * as first sent, so they are told that, and how to hand in the changed text. Answered once per
 * edit, however often Slack delivers it; nothing else is written. Changes Slack makes itself
 * (a link preview or an attachment added: the same text), edits of other messages, and edits by
 * bots get no answer.
 */
async function answerEdit(deps: SlackDeps, context: SlackContext, changed: ChangedMessage): Promise<void> {
  const now = changed.message;
  if (!now?.user || now.bot_id || now.subtype === 'bot_message' || !changed.previous_message) return;
  if ((now.text ?? '') === (changed.previous_message.text ?? '')) return;
  const threadTs = now.thread_ts && now.thread_ts !== now.ts ? now.thread_ts : undefined;
  if (!threadTs) return;
  await answerInEvidenceThread(deps, context, { channel: changed.channel, threadTs, what: 'an edit' },
    `slack:edited:${changed.channel}:${now.ts}:${now.edited?.ts ?? changed.ts}`, editedEvidenceReply);
}

/**
 * A person deleted their reply in the thread of an evidence request: it is gone from their view
 * but stays in the register, so they are told that, and who can send it back if it was a mistake.
 * Answered once per deletion, however often Slack delivers it; nothing else is written. Deletions
 * of other messages, and of bots' messages, get no answer.
 */
async function answerDeletion(deps: SlackDeps, context: SlackContext, deleted: DeletedMessage): Promise<void> {
  const was = deleted.previous_message;
  if (!was?.user || was.bot_id || was.subtype === 'bot_message' || !deleted.deleted_ts) return;
  const threadTs = was.thread_ts && was.thread_ts !== deleted.deleted_ts ? was.thread_ts : undefined;
  if (!threadTs) return;
  await answerInEvidenceThread(deps, context, { channel: deleted.channel, threadTs, what: 'a deletion' },
    `slack:deleted:${deleted.channel}:${deleted.deleted_ts}`, (request) => deletedEvidenceReply(request, 'slack'));
}

/**
 * Answers in the thread of a bot message, once per `key`, when that message is an evidence request;
 * nothing otherwise. A failure here is only logged: an apology saying nothing was recorded would
 * confuse more than help.
 */
async function answerInEvidenceThread(deps: SlackDeps, context: SlackContext, thread: { channel: string; threadTs: string; what: string },
  key: string, answer: (request: string) => Reply): Promise<void> {
  const db = deps.core.database.db;
  await safely(deps, context, undefined, async () => {
    const about = await subjectOf(db, thread.channel, thread.threadTs);
    if (!about || !EVIDENCE_REQUEST.test(about)) return;
    const answered = await answerOnce(db, key, () => inConversation(deps.api, thread.channel, context.request, thread.threadTs)(answer(about)), mayHavePosted);
    if (!answered) deps.core.logger.info({ platform: 'slack', request: context.request }, `Slack delivered ${thread.what} again that was answered already; not answered twice`);
  });
}

/** The register item the bot's message in this conversation is about (e.g. "EVR-0003"), if any. */
async function subjectOf(db: Db, channel: string, messageTs: string): Promise<string | undefined> {
  const [link] = await db.select({ subjectRef: messageLinks.subjectRef }).from(messageLinks)
    .where(and(eq(messageLinks.platform, 'slack'), eq(messageLinks.conversationId, channel), eq(messageLinks.messageId, messageTs)));
  return link?.subjectRef;
}
