import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { outbox } from '../db/schema/index.js';
import type { Reply } from './reply.js';

export interface OutboxMessage {
  recipientId: number;
  /** What the message is about, for `/isms nudges` and grouping ("triage", "evidence_request", ...). */
  kind: string;
  /** Unique per item, recipient, cycle and step: the same key is never queued twice. */
  idempotencyKey: string;
  reply: Reply;
  notBefore?: Date;
  campaignId?: number;
}

/** Queues a message in the caller's transaction; returns false when the key was already queued. */
export async function enqueue(tx: Db, msg: OutboxMessage): Promise<boolean> {
  const inserted = await tx.insert(outbox).values({
    idempotencyKey: msg.idempotencyKey,
    recipientId: msg.recipientId,
    kind: msg.kind,
    reply: msg.reply,
    notBefore: msg.notBefore ?? sql`now()` as unknown as Date,
    campaignId: msg.campaignId,
  }).onConflictDoNothing({ target: outbox.idempotencyKey }).returning({ id: outbox.id });
  return inserted.length > 0;
}
