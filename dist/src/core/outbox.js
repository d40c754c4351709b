import { sql } from 'drizzle-orm';
import { outbox } from '../db/schema/index.js';
/** Queues a message in the caller's transaction; returns false when the key was already queued. */
export async function enqueue(tx, msg) {
    const inserted = await tx.insert(outbox).values({
        idempotencyKey: msg.idempotencyKey,
        recipientId: msg.recipientId,
        kind: msg.kind,
        reply: msg.reply,
        notBefore: msg.notBefore ?? sql `now()`,
        campaignId: msg.campaignId,
    }).onConflictDoNothing({ target: outbox.idempotencyKey }).returning({ id: outbox.id });
    return inserted.length > 0;
}
//# sourceMappingURL=outbox.js.map