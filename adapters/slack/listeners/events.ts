/**
 * Direct messages to the bot. A reply in the thread of a bot message goes to the pipeline with
 * what that message was about (an evidence request's reply is evidence); anything else gets a
 * hint. Slack may deliver one event several times, even at once: the first delivery claims the
 * event id, and every other one is dropped without a word, so the thread gets one answer.
 */
import { and, eq } from 'drizzle-orm';
import type { Db } from '../../../src/db/client.js';
import { messageLinks } from '../../../src/db/schema/index.js';
import { claimOnce, releaseClaim } from '../../../src/core/claims.js';
import { fetchAttachments } from '../files.js';
import { fromSlackText } from '../text.js';
import { inConversation } from '../answers.js';
import { deliverFiles } from '../send-file.js';
import { ask, progressVia, safely, type SlackApp, type SlackDeps } from './shared.js';

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
}

/**
 * Subtypes of a message someone wrote: files shared with it, a thread reply also sent to the
 * conversation ("Also send to direct message"), which arrives as thread_broadcast only, or a
 * "/me waves" (me_message, its text without the name: "waves").
 */
const PERSON_WROTE = new Set(['file_share', 'thread_broadcast', 'me_message']);

export function register(app: SlackApp, deps: SlackDeps): void {
  app.event('message', async ({ event, body, context }) => {
    const message = event as unknown as DirectMessage;
    if (message.channel_type !== 'im' || message.bot_id) return;
    if (message.subtype && !PERSON_WROTE.has(message.subtype)) return; // edits, deletions, joins...
    const db = deps.core.database.db;
    const threadTs = message.thread_ts && message.thread_ts !== message.ts ? message.thread_ts : undefined;
    const inThread = inConversation(deps.api, message.channel, context.request, message.thread_ts);
    await safely(deps, context, inThread, async () => {
      const eventId = (body as { event_id?: string }).event_id;
      const about = threadTs ? await subjectOf(db, message.channel, threadTs) : undefined;
      const files = (message.files ?? []).map((f) => f.id);
      // The evidence is recorded under the event id in its own transaction, so a delivery that
      // crashed before answering is recorded once when Slack retries, and answered then.
      const { reply } = await ask(deps, context, { threadReply: { about, text: fromSlackText(message.text ?? '') } }, {
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
        // Recorded but not answered: no apology saying nothing was recorded; a later delivery of
        // the event may answer (the evidence itself stays recorded once).
        deps.core.logger.error({ platform: 'slack', request: context.request, err: e, outcome: reply.outcome }, 'could not post the answer in the thread');
        if (eventId) await releaseClaim(db, `slack:answered:${eventId}`);
      }
    });
  });
}

/** The register item the bot's message in this conversation is about (e.g. "EVR-0003"), if any. */
async function subjectOf(db: Db, channel: string, messageTs: string): Promise<string | undefined> {
  const [link] = await db.select({ subjectRef: messageLinks.subjectRef }).from(messageLinks)
    .where(and(eq(messageLinks.platform, 'slack'), eq(messageLinks.conversationId, channel), eq(messageLinks.messageId, messageTs)));
  return link?.subjectRef;
}
