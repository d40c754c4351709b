import { and, desc, eq, like, sql } from 'drizzle-orm';
import { chatAddresses, messageLinks } from '../../src/db/schema/index.js';
export const PLATFORM = 'teams';
/** The stored personal conversation with a person, through which the bot reaches them on its own. */
export async function loadReference(db, personId) {
    const [row] = await db.select({ address: chatAddresses.address }).from(chatAddresses)
        .where(and(eq(chatAddresses.personId, personId), eq(chatAddresses.platform, PLATFORM)));
    return row ? JSON.parse(row.address) : undefined;
}
/** Stores (or refreshes) a person's personal conversation; writes only when it changed. */
export async function saveReference(db, personId, reference) {
    // The activity id belongs to one message, not to the conversation.
    const { activityId: _activityId, ...conversation } = reference;
    const address = JSON.stringify(conversation);
    const [current] = await db.select({ address: chatAddresses.address }).from(chatAddresses)
        .where(and(eq(chatAddresses.personId, personId), eq(chatAddresses.platform, PLATFORM)));
    if (current?.address === address)
        return;
    await db.insert(chatAddresses).values({ personId, platform: PLATFORM, address })
        .onConflictDoUpdate({ target: [chatAddresses.personId, chatAddresses.platform], set: { address, updatedAt: sql `now()` } });
}
/** Remembers which register item a message the bot sent is about, so a reply to it lands there. */
export async function recordLink(db, link) {
    await db.insert(messageLinks).values({ platform: PLATFORM, ...link }).onConflictDoNothing();
}
/** The evidence request the replied-to message in this conversation is about, if it is about one. */
export async function evidenceRequestRepliedTo(db, conversationId, replyToId) {
    if (!replyToId)
        return undefined;
    const [linked] = await db.select({ ref: messageLinks.subjectRef }).from(messageLinks).where(and(eq(messageLinks.platform, PLATFORM), eq(messageLinks.conversationId, conversationId), eq(messageLinks.messageId, replyToId)));
    return linked && isEvidenceRequest(linked.ref) ? linked.ref : undefined;
}
/** The latest evidence request the bot sent into this conversation (in a personal chat: to this person). */
export async function latestEvidenceRequest(db, conversationId) {
    const [latest] = await db.select({ ref: messageLinks.subjectRef }).from(messageLinks).where(and(eq(messageLinks.platform, PLATFORM), eq(messageLinks.conversationId, conversationId), like(messageLinks.subjectRef, 'EVR-%')))
        .orderBy(desc(messageLinks.createdAt), desc(messageLinks.id)).limit(1);
    return latest?.ref;
}
const isEvidenceRequest = (ref) => /^EVR-\d+$/.test(ref);
//# sourceMappingURL=addresses.js.map