import { and, asc, count, eq, gt, inArray, isNull, lte, notInArray, or, sql } from 'drizzle-orm';
import { outbox, people } from '../db/schema/index.js';
import { nextWorkingMoment, zoneOr } from './time.js';
import { scrubSecrets } from '../log.js';
import { DeliveryError } from './port.js';
export function keepsReceipts(port) {
    const p = port;
    return typeof p.sendWithKey === 'function' && typeof p.wasDelivered === 'function';
}
const MINUTE = 60_000;
/** Serialises claims across workers so per-minute budgets are counted exactly. */
const CLAIM_LOCK_KEY = 727_003;
const DEFAULTS = { leaseMs: 120_000, maxAttempts: 6, backoffMs: 30_000, maxBackoffMs: 3_600_000, conversationGapMs: 0, unreachableRetryMs: 0 };
/**
 * Sends queued outbox rows that are due, through the first port that can reach each recipient.
 * Rows are claimed (queued -> sending, with a lease) with SELECT ... FOR UPDATE SKIP LOCKED, so
 * several workers on one database never take the same row; a row whose worker died is claimed
 * again when its lease runs out. A row nobody can reach yet stays queued (e.g. a terminal user who
 * is not acting right now); a person on leave gets theirs when the leave ends.
 */
export async function deliverDue(db, ports, now, limit = 50, options = {}) {
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    const opts = { ...DEFAULTS, ...given };
    const clock = options.clock ?? (now ? () => now : () => new Date());
    const claimTime = now ?? clock();
    const result = { claimed: 0, takenByOthers: 0, sent: 0, waiting: 0, retrying: 0, failed: 0, campaigns: [] };
    const candidates = await reachableCandidates(db, ports, claimTime, limit, opts, result);
    if (candidates.length === 0)
        return result;
    const { claims, takenByOthers } = await claim(db, candidates, claimTime, limit, opts);
    result.claimed = claims.length;
    result.takenByOthers = takenByOthers;
    const campaigns = new Set();
    for (let i = 0; i < claims.length; i++) {
        const c = claims[i];
        // A slow batch must not outlive its lease, or another worker would take the rest as abandoned;
        // a stopping worker hands the rest back now rather than leave it to wait out the lease.
        if (options.stopping?.() || clock().getTime() - claimTime.getTime() > opts.leaseMs / 2) {
            for (const rest of claims.slice(i))
                await release(db, rest.row);
            result.claimed = i;
            break;
        }
        const outcome = await sendOne(db, c, clock, opts);
        result[outcome]++;
        if (outcome === 'sent' && c.row.campaignId !== null)
            campaigns.add(c.row.campaignId);
    }
    result.campaigns = [...campaigns];
    return result;
}
/** Due rows whose recipient some port can reach, oldest first; asks the ports outside any transaction. */
async function reachableCandidates(db, ports, now, limit, opts, result) {
    const found = [];
    const seen = [];
    const portFor = new Map();
    const pageSize = Math.max(limit * 2, 20);
    while (found.length < limit * 2 && seen.length < limit * 20) {
        const page = await db.select({ row: outbox, person: people }).from(outbox)
            .innerJoin(people, eq(people.id, outbox.recipientId))
            .where(and(dueCondition(now), seen.length ? notInArray(outbox.id, seen) : undefined))
            .orderBy(asc(outbox.notBefore), asc(outbox.id)).limit(pageSize);
        for (const { row, person } of page) {
            seen.push(row.id);
            if (person.pausedUntil && person.pausedUntil > now) {
                await reschedule(db, row, resumeTime(person, opts));
                continue;
            }
            if (!portFor.has(person.id))
                portFor.set(person.id, await firstReaching(ports, person));
            const port = portFor.get(person.id);
            if (!port) {
                result.waiting++;
                if (opts.unreachableRetryMs > 0 || row.status === 'sending') {
                    await reschedule(db, row, new Date(now.getTime() + opts.unreachableRetryMs));
                }
                continue;
            }
            found.push({ id: row.id, person, port });
        }
        if (page.length < pageSize)
            break;
    }
    return found;
}
function dueCondition(now) {
    return or(and(eq(outbox.status, 'queued'), lte(outbox.notBefore, now)), and(eq(outbox.status, 'sending'), or(isNull(outbox.leaseUntil), lte(outbox.leaseUntil, now))));
}
async function firstReaching(ports, person) {
    for (const port of ports) {
        try {
            if (await port.canReach(person))
                return port;
        }
        catch {
            // A port that cannot answer cannot reach them now; the next port may.
        }
    }
    return undefined;
}
function resumeTime(person, opts) {
    const until = person.pausedUntil;
    const wt = opts.workingTime;
    return wt ? nextWorkingMoment(until, zoneOr(person.timezone, wt.timezone), wt) : until;
}
/** Puts a row back in the queue for later (leave, unreachable, an abandoned claim). */
async function reschedule(db, row, notBefore) {
    await db.update(outbox).set({ status: 'queued', notBefore, leaseUntil: null })
        .where(and(eq(outbox.id, row.id), eq(outbox.status, row.status), eq(outbox.attempts, row.attempts)));
}
/** Claims up to `limit` candidates within the per-platform budgets and per-conversation gap. */
async function claim(db, candidates, now, limit, opts) {
    return db.transaction(async (tx) => {
        await tx.execute(sql `select pg_advisory_xact_lock(${CLAIM_LOCK_KEY})`);
        const byId = new Map(candidates.map((c) => [c.id, c]));
        const locked = await tx.select().from(outbox)
            .where(and(inArray(outbox.id, [...byId.keys()]), dueCondition(now)))
            .orderBy(asc(outbox.notBefore), asc(outbox.id))
            .for('update', { skipLocked: true });
        const busy = opts.conversationGapMs > 0 ? await busyRecipients(tx, locked.map((r) => r.recipientId), now, opts.conversationGapMs) : new Set();
        const budgets = new Map();
        const claims = [];
        for (const row of locked) {
            if (claims.length >= limit)
                break;
            const { person, port } = byId.get(row.id);
            if (busy.has(row.recipientId))
                continue;
            const left = await budgetLeft(tx, budgets, port.platform, now, opts.perMinute);
            if (left <= 0)
                continue;
            budgets.set(port.platform, left - 1);
            const [claimed] = await tx.update(outbox).set({
                status: 'sending', attempts: sql `${outbox.attempts} + 1`, platform: port.platform,
                claimedAt: now, leaseUntil: new Date(now.getTime() + opts.leaseMs),
            }).where(eq(outbox.id, row.id)).returning();
            claims.push({ row: claimed, person, port });
            if (opts.conversationGapMs > 0)
                busy.add(row.recipientId);
        }
        return { claims, takenByOthers: candidates.length - locked.length };
    });
}
/** People with a message in flight, or one that reached them less than the gap ago. */
async function busyRecipients(tx, recipientIds, now, gapMs) {
    if (recipientIds.length === 0)
        return new Set();
    const rows = await tx.selectDistinct({ id: outbox.recipientId }).from(outbox).where(and(inArray(outbox.recipientId, recipientIds), or(and(eq(outbox.status, 'sending'), gt(outbox.leaseUntil, now)), gt(outbox.sentAt, new Date(now.getTime() - gapMs)))));
    return new Set(rows.map((r) => r.id));
}
async function budgetLeft(tx, budgets, platform, now, perMinute) {
    const cap = perMinute?.[platform];
    if (cap === undefined)
        return Infinity;
    const known = budgets.get(platform);
    if (known !== undefined)
        return known;
    const [{ n }] = await tx.select({ n: count() }).from(outbox)
        .where(and(eq(outbox.platform, platform), gt(outbox.claimedAt, new Date(now.getTime() - MINUTE))));
    return cap - n;
}
/** The claim on a row holds while it is still 'sending' with the attempt count this worker set. */
const stillOurs = (row) => and(eq(outbox.id, row.id), eq(outbox.status, 'sending'), eq(outbox.attempts, row.attempts));
async function release(db, row) {
    await db.update(outbox).set({ status: 'queued', attempts: sql `${outbox.attempts} - 1`, leaseUntil: null }).where(stillOurs(row));
}
async function sendOne(db, { row, person, port }, clock, opts) {
    const message = row.reply;
    try {
        // Tried before: the last attempt may have arrived even though its worker died before recording it.
        const arrived = row.attempts > 1 && keepsReceipts(port) && await port.wasDelivered(person, row.idempotencyKey, row.createdAt);
        if (!arrived) {
            if (row.attempts > opts.maxAttempts) {
                await db.update(outbox).set({ status: 'failed', leaseUntil: null, lastError: row.lastError ?? `gave up after ${opts.maxAttempts} attempts; the last one was interrupted` })
                    .where(stillOurs(row));
                return 'failed';
            }
            if (keepsReceipts(port))
                await port.sendWithKey(person, message, row.idempotencyKey);
            else
                await port.send(person, message);
        }
    }
    catch (e) {
        return recordFailure(db, row, e, clock(), opts);
    }
    await db.update(outbox).set({ status: 'sent', sentAt: clock(), leaseUntil: null }).where(stillOurs(row));
    return 'sent';
}
async function recordFailure(db, row, e, at, opts) {
    const lastError = describeError(e);
    const error = e instanceof DeliveryError ? e : undefined;
    if (error?.permanent || (!error?.retryAfterMs && row.attempts >= opts.maxAttempts)) {
        await db.update(outbox).set({ status: 'failed', lastError, leaseUntil: null }).where(stillOurs(row));
        return 'failed';
    }
    if (error?.retryAfterMs) {
        // The platform asked for a pause in this conversation: not a failed attempt, and nothing else goes to them before it ends.
        const resume = new Date(at.getTime() + error.retryAfterMs);
        await db.update(outbox).set({ status: 'queued', attempts: sql `${outbox.attempts} - 1`, notBefore: resume, lastError, leaseUntil: null })
            .where(stillOurs(row));
        await db.update(outbox).set({ notBefore: sql `greatest(${outbox.notBefore}, ${resume.toISOString()}::timestamptz)` })
            .where(and(eq(outbox.recipientId, row.recipientId), eq(outbox.status, 'queued')));
        return 'retrying';
    }
    const delay = Math.min(opts.maxBackoffMs, opts.backoffMs * 2 ** (row.attempts - 1));
    await db.update(outbox).set({ status: 'queued', notBefore: new Date(at.getTime() + delay), lastError, leaseUntil: null })
        .where(stillOurs(row));
    return 'retrying';
}
/** The error as `/isms nudges` shows it: short, and with anything token-shaped blanked out. */
function describeError(e) {
    const message = e instanceof Error ? e.message : String(e);
    return scrubSecrets(message).slice(0, 500);
}
/** Sent out of total per campaign: how far a broadcast has got. */
export async function campaignProgress(db, campaignIds) {
    const rows = await db.select({
        campaignId: outbox.campaignId,
        total: count(),
        sent: sql `count(*) filter (where ${outbox.status} = 'sent')`.mapWith(Number),
        failed: sql `count(*) filter (where ${outbox.status} = 'failed')`.mapWith(Number),
    }).from(outbox)
        .where(campaignIds ? inArray(outbox.campaignId, campaignIds.length ? campaignIds : [-1]) : sql `${outbox.campaignId} is not null`)
        .groupBy(outbox.campaignId).orderBy(asc(outbox.campaignId));
    return rows.map((r) => ({ campaignId: r.campaignId, total: r.total, sent: r.sent, failed: r.failed, queued: r.total - r.sent - r.failed }));
}
//# sourceMappingURL=delivery.js.map