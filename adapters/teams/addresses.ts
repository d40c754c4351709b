import { and, desc, eq, like, sql } from 'drizzle-orm';
import type { ConversationReference } from 'botbuilder';
import type { Db } from '../../src/db/client.js';
import { chatAddresses, messageLinks } from '../../src/db/schema/index.js';

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
  const address = JSON.stringify(conversation);
  const [current] = await db.select({ address: chatAddresses.address }).from(chatAddresses)
    .where(and(eq(chatAddresses.personId, personId), eq(chatAddresses.platform, PLATFORM)));
  if (current?.address === address) return;
  await db.insert(chatAddresses).values({ personId, platform: PLATFORM, address })
    .onConflictDoUpdate({ target: [chatAddresses.personId, chatAddresses.platform], set: { address, updatedAt: sql`now()` } });
}

/** Remembers which register item a message the bot sent is about, so a reply to it lands there. */
export async function recordLink(db: Db, link: { conversationId: string; messageId: string; recipientId?: number; subjectRef: string }): Promise<void> {
  await db.insert(messageLinks).values({ platform: PLATFORM, ...link }).onConflictDoNothing();
}

/**
 * The evidence request a file is for: the one the replied-to message is about, else the latest
 * evidence request the bot sent this person.
 */
export async function evidenceRequestFor(db: Db, conversationId: string, replyToId: string | undefined, personId: number): Promise<string | undefined> {
  if (replyToId) {
    const [linked] = await db.select({ ref: messageLinks.subjectRef }).from(messageLinks).where(and(
      eq(messageLinks.platform, PLATFORM), eq(messageLinks.conversationId, conversationId), eq(messageLinks.messageId, replyToId)));
    if (linked && isEvidenceRequest(linked.ref)) return linked.ref;
  }
  const [latest] = await db.select({ ref: messageLinks.subjectRef }).from(messageLinks).where(and(
    eq(messageLinks.platform, PLATFORM), eq(messageLinks.recipientId, personId), like(messageLinks.subjectRef, 'EVR-%')))
    .orderBy(desc(messageLinks.createdAt), desc(messageLinks.id)).limit(1);
  return latest?.ref;
}

const isEvidenceRequest = (ref: string) => ref.startsWith('EVR-');
