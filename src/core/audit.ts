import { createHash } from 'node:crypto';
import { asc, count, desc, gt, sql, type SQLWrapper } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { auditEvents } from '../db/schema/index.js';
import { LOCK_KEYS, lockRegister } from '../db/locks.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditActor { id: number | null; label: string }

export interface AuditInput {
  action: string;
  entity: string;
  entityRef: string;
  before?: unknown;
  after?: unknown;
}

/** JSON with sorted keys, so a row hashes the same after a jsonb round trip. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalise(value));
}

function normalise(value: unknown): unknown {
  if (value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
    return { sha256: createHash('sha256').update(value).digest('hex'), bytes: value.length };
  }
  if (Array.isArray(value)) return value.map(normalise);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = normalise(v);
    }
    return out;
  }
  return value;
}

interface HashedFields {
  seq: number; at: string; actorId: number | null; actorLabel: string; action: string;
  entity: string; entityRef: string; before: unknown; after: unknown; rowHash?: string | null; prevHash: string;
}

export function hashEvent(e: HashedFields): string {
  return createHash('sha256').update(canonicalJson({
    seq: e.seq, at: new Date(e.at).toISOString(), actorId: e.actorId, actorLabel: e.actorLabel, action: e.action,
    entity: e.entity, entityRef: e.entityRef, before: e.before ?? null, after: e.after ?? null, prevHash: e.prevHash,
    // Events written before rows were hashed have none; leaving the key out keeps their hashes as they were.
    rowHash: e.rowHash ?? undefined,
  })).digest('hex');
}

/** SHA-256 of a value's canonical JSON: what an audit event records of the register row it wrote. */
export function sha256Json(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** Appends one audit event; call it inside the transaction that makes the change. */
export async function appendAudit(tx: Db, actor: AuditActor, input: AuditInput, now = new Date()): Promise<void> {
  await appendAuditMany(tx, actor, [input], now);
}

/** Rows per insert statement: well under the 65,535 bind parameters a statement may carry. */
const APPEND_CHUNK = 2000;

/**
 * Appends events in the given order, chained one to the next, in the caller's transaction: the lock
 * is taken once and the rows go in a few multi-row inserts, so a run that writes thousands of events
 * holds the lock for the append alone. `alongside`, a data-modifying statement of the same
 * transaction (e.g. keeping a command's answer for its delivery), runs within the first insert,
 * saving the database a round trip.
 */
export async function appendAuditMany(tx: Db, actor: AuditActor, inputs: AuditInput[], now = new Date(), alongside?: SQLWrapper): Promise<void> {
  if (inputs.length === 0) return;
  await lockRegister(tx, LOCK_KEYS.audit);
  const [last] = await tx.select({ seq: auditEvents.seq, hash: auditEvents.hash }).from(auditEvents)
    .orderBy(desc(auditEvents.seq)).limit(1);
  let seq = last?.seq ?? 0;
  let prevHash = last?.hash ?? GENESIS_HASH;
  const at = now.toISOString();
  const rows = inputs.map((input) => {
    const before = input.before === undefined ? null : normalise(input.before);
    const after = input.after === undefined ? null : normalise(input.after);
    const fields: HashedFields = {
      seq: ++seq, at, actorId: actor.id, actorLabel: actor.label, action: input.action,
      entity: input.entity, entityRef: input.entityRef, before, after, rowHash: after === null ? null : sha256Json(after),
      prevHash,
    };
    prevHash = hashEvent(fields);
    return { ...fields, hash: prevHash };
  });
  // One jsonb parameter per chunk rather than twelve per row: building and encoding those was most of a
  // scheduler batch's CPU.
  for (let i = 0; i < rows.length; i += APPEND_CHUNK) {
    await tx.execute(sql`${i === 0 && alongside ? sql`with alongside as (${alongside.getSQL()}) ` : sql``}
      insert into ${auditEvents} (seq, at, actor_id, actor_label, action, entity, entity_ref, before, after, row_hash, prev_hash, hash)
      select r.seq, r.at, r.actor_id, r.actor_label, r.action, r.entity, r.entity_ref, r.before, r.after, r.row_hash, r.prev_hash, r.hash
      from jsonb_to_recordset(${JSON.stringify(rows.slice(i, i + APPEND_CHUNK).map((r) => ({
        seq: r.seq, at: r.at, actor_id: r.actorId, actor_label: r.actorLabel, action: r.action, entity: r.entity, entity_ref: r.entityRef,
        before: r.before, after: r.after, row_hash: r.rowHash, prev_hash: r.prevHash, hash: r.hash,
      })))}::jsonb)
        as r(seq bigint, at timestamptz, actor_id int, actor_label text, action text, entity text, entity_ref text, before jsonb, after jsonb, row_hash text, prev_hash text, hash text)`);
  }
}

export type ChainVerdict =
  | { ok: true; rows: number }
  | { ok: false; rows: number; firstBadSeq: number; reason: string };

/** Events read per page: memory stays at one page however long the trail grows. */
const VERIFY_PAGE = 5000;

/**
 * Walks the whole trail in order, a page at a time (keyset on seq), and names the first row whose
 * content or link does not match. A trail that fails counts every row, as a full read would.
 */
export async function verifyAuditChain(db: Db, pageSize = VERIFY_PAGE): Promise<ChainVerdict> {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let after = 0;
  let bad: { firstBadSeq: number; reason: string } | undefined;
  for (;;) {
    const page = await db.select().from(auditEvents).where(gt(auditEvents.seq, after)).orderBy(asc(auditEvents.seq)).limit(pageSize);
    for (const row of page) {
      if (row.seq !== expectedSeq) bad = { firstBadSeq: row.seq, reason: `row ${expectedSeq} is missing` };
      else if (row.prevHash !== prev) bad = { firstBadSeq: row.seq, reason: 'it does not link to the row before it' };
      else if (hashEvent({ ...row, before: row.before, after: row.after }) !== row.hash) bad = { firstBadSeq: row.seq, reason: 'its content does not match its hash' };
      if (bad) break;
      prev = row.hash;
      expectedSeq++;
    }
    if (bad || page.length < pageSize) break;
    after = page[page.length - 1].seq;
  }
  if (!bad) return { ok: true, rows: expectedSeq - 1 };
  const [{ n }] = await db.select({ n: count() }).from(auditEvents);
  return { ok: false, rows: n, ...bad };
}
