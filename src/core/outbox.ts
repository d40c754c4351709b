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
  return (await enqueueMany(tx, [msg])) > 0;
}

/** Rows per INSERT when queueing many messages: large enough to be quick, small enough for any driver's parameter limit. */
const ENQUEUE_CHUNK = 500;

/**
 * Queues many messages in a few multi-row statements (a campaign to 10,000 people); each is queued at
 * most once, as with enqueue. Returns how many were new.
 */
export async function enqueueMany(tx: Db, msgs: OutboxMessage[]): Promise<number> {
  let queued = 0;
  for (let i = 0; i < msgs.length; i += ENQUEUE_CHUNK) {
    const inserted = await tx.insert(outbox).values(msgs.slice(i, i + ENQUEUE_CHUNK).map((msg) => ({
      idempotencyKey: msg.idempotencyKey,
      recipientId: msg.recipientId,
      kind: msg.kind,
      reply: msg.reply,
      notBefore: msg.notBefore ?? sql`now()` as unknown as Date,
      campaignId: msg.campaignId,
    }))).onConflictDoNothing({ target: outbox.idempotencyKey }).returning({ id: outbox.id });
    queued += inserted.length;
  }
  return queued;
}

