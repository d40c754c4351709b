import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { rows } from '../db/migrate.js';
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


/** One message to many recipients: the same reply, a key per recipient. */
export interface OutboxFanOut {
  kind: string;
  /** The idempotency key is this followed by the recipient's id. */
  keyPrefix: string;
  reply: Reply;
  notBefore?: Date;
  campaignId?: number;
}

/**
 * Queues the same message to every recipient a query selects, in one INSERT ... SELECT: the database
 * writes the rows, so a campaign to 10,000 people holds neither its audience nor a row per person in
 * the process. `recipients` selects a column `recipient_id`, in the order the messages are to go out.
 * Each key is queued at most once, as with enqueue. Returns how many were new.
 */
export async function enqueueSelected(tx: Db, recipients: SQL, msg: OutboxFanOut): Promise<number> {
  const [{ n }] = rows<{ n: number }>(await tx.execute(sql`
    with queued as (
      insert into ${outbox} (idempotency_key, recipient_id, kind, reply, not_before, campaign_id)
      select ${msg.keyPrefix} || r.recipient_id, r.recipient_id, ${msg.kind}, ${JSON.stringify(msg.reply)}::jsonb,
        ${msg.notBefore ? sql`${msg.notBefore.toISOString()}::timestamptz` : sql`now()`}, ${msg.campaignId ?? null}::int
      from (${recipients}) r
      on conflict (idempotency_key) do nothing
      returning 1)
    select count(*)::int as n from queued`));
  return n;
}
