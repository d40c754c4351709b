import { and, desc, eq, inArray, like, sql } from 'drizzle-orm';
import type { ConversationReference } from 'botbuilder';
import type { Db } from '../../src/db/client.js';
import { chatAddresses, messageLinks, people } from '../../src/db/schema/index.js';
import { EVIDENCE_REQUEST } from '../../src/core/inbound.js';

export const PLATFORM = 'teams';

/** The stored personal conversation with a person, through which the bot reaches them on its own. */
export async function loadReference(db: Db, personId: number): Promise<Partial<ConversationReference> | undefined> {
  const [row] = await db.select({ address: chatAddresses.address }).from(chatAddresses)
    .where(and(eq(chatAddresses.personId, personId), eq(chatAddresses.platform, PLATFORM)));
  return row ? JSON.parse(row.address) as Partial<ConversationReference> : undefined;
}

/** Stores (or refreshes) a person's personal conversation; writes only when it changed. */
export async function saveReference(db: Db, personId: number, reference: Partial<ConversationReference>): Promise<void> {
  // The activity id belongs to one message, not to the conversation.
  const { activityId: _activityId, ...conversation } = reference;
  // Teams leaves the Entra id out of an activity now and then: the id linked to the person (the member
  // look-up's) goes with the conversation, or files offered there later, outside a reply, are offered to nobody.
  if (conversation.user && !conversation.user.aadObjectId) {
    const [linked] = await db.select({ id: people.teamsAadObjectId }).from(people).where(eq(people.id, personId));
    if (linked?.id) conversation.user = { ...conversation.user, aadObjectId: linked.id };
  }
  const address = JSON.stringify(conversation);
  const [current] = await db.select({ address: chatAddresses.address }).from(chatAddresses)
    .where(and(eq(chatAddresses.personId, personId), eq(chatAddresses.platform, PLATFORM)));
  if (current?.address === address) return;
  await db.insert(chatAddresses).values({ personId, platform: PLATFORM, address })
    .onConflictDoUpdate({ target: [chatAddresses.personId, chatAddresses.platform], set: { address, updatedAt: sql`now()` } });
}

/**
 * Forgets a stored personal conversation (the app was removed from the person's personal scope: Teams
 * refuses the bot's messages there until it is added again). Gives how many were forgotten.
 */
export async function forgetReference(db: Db, conversationId: string): Promise<number> {
  const rows = await db.select({ id: chatAddresses.id, address: chatAddresses.address }).from(chatAddresses).where(eq(chatAddresses.platform, PLATFORM));
  const gone = rows.filter((row) => (JSON.parse(row.address) as Partial<ConversationReference>).conversation?.id === conversationId).map((row) => row.id);
  if (gone.length) await db.delete(chatAddresses).where(inArray(chatAddresses.id, gone));
  return gone.length;
}

/** Remembers which register item a message the bot sent is about, so a reply to it lands there. */
export async function recordLink(db: Db, link: { conversationId: string; messageId: string; recipientId?: number; subjectRef: string }): Promise<void> {
  await db.insert(messageLinks).values({ platform: PLATFORM, ...link }).onConflictDoNothing();
}

/** The evidence request the replied-to message in this conversation is about, if it is about one. */
export async function evidenceRequestRepliedTo(db: Db, conversationId: string, replyToId: string | undefined): Promise<string | undefined> {
  if (!replyToId) return undefined;
  const [linked] = await db.select({ ref: messageLinks.subjectRef }).from(messageLinks).where(and(
    eq(messageLinks.platform, PLATFORM), eq(messageLinks.conversationId, conversationId), eq(messageLinks.messageId, replyToId)));
  return linked && EVIDENCE_REQUEST.test(linked.ref) ? linked.ref : undefined;
}

/** The latest evidence request the bot sent into this conversation (in a personal chat: to this person). */
export async function latestEvidenceRequest(db: Db, conversationId: string): Promise<string | undefined> {
  const [latest] = await db.select({ ref: messageLinks.subjectRef }).from(messageLinks).where(and(
    eq(messageLinks.platform, PLATFORM), eq(messageLinks.conversationId, conversationId), like(messageLinks.subjectRef, 'EVR-%')))
    .orderBy(desc(messageLinks.createdAt), desc(messageLinks.id)).limit(1);
  return latest?.ref;
}

/**
 * A person's messages recorded as evidence are kept apart from the bot's own messages (their own
 * platform value), so a reply to one is not taken as evidence and the latest request stays the one
 * the bot sent last. A typed "evidence submit …" has its own: the note on an edit says how to send it again.
 */
const EVIDENCE_MESSAGE = 'teams-evidence';
const EVIDENCE_COMMAND = 'teams-evidence-command';

/**
 * Remembers what a person's message was recorded as evidence for (an evidence request; for a typed command,
 * else the control): Teams names only the message when it is edited or deleted.
 */
export async function recordEvidenceMessage(db: Db, message: { conversationId: string; messageId: string; personId?: number; request: string; typed?: boolean }): Promise<void> {
  await db.insert(messageLinks).values({ platform: message.typed ? EVIDENCE_COMMAND : EVIDENCE_MESSAGE, conversationId: message.conversationId,
    messageId: message.messageId, recipientId: message.personId, subjectRef: message.request }).onConflictDoNothing();
}

/** What a person's message in this conversation was recorded as evidence for, whose it is, and whether it was a typed command, if any. */
export async function evidenceMessage(db: Db, conversationId: string, messageId: string): Promise<{ request: string; personId?: number; typed: boolean } | undefined> {
  const [linked] = await db.select({ ref: messageLinks.subjectRef, personId: messageLinks.recipientId, platform: messageLinks.platform }).from(messageLinks).where(and(
    inArray(messageLinks.platform, [EVIDENCE_MESSAGE, EVIDENCE_COMMAND]), eq(messageLinks.conversationId, conversationId), eq(messageLinks.messageId, messageId)));
  return linked ? { request: linked.ref, personId: linked.personId ?? undefined, typed: linked.platform === EVIDENCE_COMMAND } : undefined;
}
