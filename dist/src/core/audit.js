import { createHash } from 'node:crypto';
import { asc, desc, sql } from 'drizzle-orm';
import { auditEvents } from '../db/schema/index.js';
export const GENESIS_HASH = '0'.repeat(64);
/** Serialises appends so each row chains to the one committed before it. */
const AUDIT_LOCK_KEY = 727_002;
/** JSON with sorted keys, so a row hashes the same after a jsonb round trip. */
export function canonicalJson(value) {
    return JSON.stringify(normalise(value));
}
function normalise(value) {
    if (value === undefined)
        return null;
    if (value instanceof Date)
        return value.toISOString();
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
        return { sha256: createHash('sha256').update(value).digest('hex'), bytes: value.length };
    }
    if (Array.isArray(value))
        return value.map(normalise);
    if (value && typeof value === 'object') {
        const out = {};
        for (const key of Object.keys(value).sort()) {
            const v = value[key];
            if (v !== undefined)
                out[key] = normalise(v);
        }
        return out;
    }
    return value;
}
export function hashEvent(e) {
    return createHash('sha256').update(canonicalJson({
        seq: e.seq, at: new Date(e.at).toISOString(), actorId: e.actorId, actorLabel: e.actorLabel, action: e.action,
        entity: e.entity, entityRef: e.entityRef, before: e.before ?? null, after: e.after ?? null, prevHash: e.prevHash,
        // Events written before rows were hashed have none; leaving the key out keeps their hashes as they were.
        rowHash: e.rowHash ?? undefined,
    })).digest('hex');
}
/** SHA-256 of a value's canonical JSON: what an audit event records of the register row it wrote. */
export function sha256Json(value) {
    return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
/** Appends one audit event; call it inside the transaction that makes the change. */
export async function appendAudit(tx, actor, input, now = new Date()) {
    await tx.execute(sql `select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`);
    const [last] = await tx.select({ seq: auditEvents.seq, hash: auditEvents.hash }).from(auditEvents)
        .orderBy(desc(auditEvents.seq)).limit(1);
    const seq = (last?.seq ?? 0) + 1;
    const before = input.before === undefined ? null : normalise(input.before);
    const after = input.after === undefined ? null : normalise(input.after);
    const fields = {
        seq, at: now.toISOString(), actorId: actor.id, actorLabel: actor.label, action: input.action,
        entity: input.entity, entityRef: input.entityRef, before, after, rowHash: after === null ? null : sha256Json(after),
        prevHash: last?.hash ?? GENESIS_HASH,
    };
    await tx.insert(auditEvents).values({ ...fields, hash: hashEvent(fields) });
}
/** Walks the whole trail in order and names the first row whose content or link does not match. */
export async function verifyAuditChain(db) {
    const all = await db.select().from(auditEvents).orderBy(asc(auditEvents.seq));
    let prev = GENESIS_HASH;
    let expectedSeq = 1;
    for (const row of all) {
        if (row.seq !== expectedSeq)
            return { ok: false, rows: all.length, firstBadSeq: row.seq, reason: `row ${expectedSeq} is missing` };
        if (row.prevHash !== prev)
            return { ok: false, rows: all.length, firstBadSeq: row.seq, reason: 'it does not link to the row before it' };
        const recomputed = hashEvent({ ...row, before: row.before, after: row.after });
        if (recomputed !== row.hash)
            return { ok: false, rows: all.length, firstBadSeq: row.seq, reason: 'its content does not match its hash' };
        prev = row.hash;
        expectedSeq++;
    }
    return { ok: true, rows: all.length };
}
//# sourceMappingURL=audit.js.map