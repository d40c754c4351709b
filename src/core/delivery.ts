import { and, asc, count, eq, gt, inArray, isNull, lte, notInArray, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { deliveryPace, outbox, people, unreachablePeople } from '../db/schema/index.js';
import { nextWorkingMoment, zoneOr, type WorkingTime } from './time.js';
import { scrubSecrets } from '../log.js';
import type { Person } from './actor.js';
import { DeliveryError, type ChatPort, type ReachCheck } from './port.js';
import { clearUnreachable, noteUnreachable } from './reach.js';
import { text, type Reply } from './reply.js';
import { appendAudit } from './audit.js';
import { sharedPacer, type Pacer } from './pacing.js';
import { LOCK_KEYS, lockRegister } from '../db/locks.js';

/**
 * A port that stamps each message with a delivery key and can look the key up afterwards. With it,
 * a message whose worker died between sending and recording is not sent twice: before sending a
 * row again, the next worker asks the platform whether the first attempt arrived.
 */
export interface ReceiptChatPort extends ChatPort {
  sendWithKey(person: Person, message: Reply, deliveryKey: string): Promise<void>;
  wasDelivered(person: Person, deliveryKey: string, since: Date): Promise<boolean>;
}

export function keepsReceipts(port: ChatPort): port is ReceiptChatPort {
  const p = port as Partial<ReceiptChatPort>;
  return typeof p.sendWithKey === 'function' && typeof p.wasDelivered === 'function';
}

export interface DeliveryOptions {
  /** The clock while a batch is sent; defaults to the `now` given to deliverDue, else the real clock. */
  clock?: () => Date;
  /** True once the worker is stopping: the send in hand finishes and the rest of the batch is released at once. */
  stopping?: () => boolean;
  /** How long a claimed row belongs to its worker; a row still 'sending' after that is claimed again. */
  leaseMs?: number;
  /** Failed attempts before a row is marked failed. */
  maxAttempts?: number;
  /** First retry delay; each further failure doubles it, up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Messages per minute each platform may take; absent means no limit. Sends are spread evenly over
   * the minute (see pacing.ts), and across every worker on the database no more than this many are
   * taken, or in flight, within any minute. Messages the platform refused (429) do not count.
   */
  perMinute?: Record<string, number>;
  /** The burst a platform's bucket holds after a quiet spell, in milliseconds of its rate. */
  burstMs?: number;
  /**
   * Claims rows that can start within this long and waits for each one's turn; 0 (the default)
   * claims only what may go at once, for callers that do not wait (the terminal, tests on a fixed clock).
   */
  aheadMs?: number;
  /** Sends in flight at once (to different people); a platform's answer takes longer than its rate's gap. */
  concurrency?: number;
  /** The rate state to use; by default the one this process shares for the database. */
  pacer?: Pacer;
  /** Least time between two messages to one person's conversation; 0 sends back to back. */
  conversationGapMs?: number;
  /** Look again this much later for a person no port can reach; 0 looks at every call (the terminal). */
  unreachableRetryMs?: number;
  /**
   * A person no port could reach for this long has their due messages marked failed, with the
   * ports' reasons, instead of waiting for ever; 0 keeps them waiting (the terminal).
   */
  unreachableGiveUpMs?: number;
  /** Working hours, so a person back from leave is nudged in the morning, not at midnight. */
  workingTime?: WorkingTime & { timezone: string };
}

export interface DeliveryResult {
  /** Rows this call took to send. */
  claimed: number;
  /** Due rows another worker took first: more work may be waiting. */
  takenByOthers: number;
  sent: number;
  /** Rows no port can reach right now; they stay queued (their recipients are listed in unreachable_people). */
  waiting: number;
  /** Rows that failed this time and will be tried again later. */
  retrying: number;
  /** Rows given up on (permanent error, too many attempts, or a recipient unreachable for longer than unreachableGiveUpMs). */
  failed: number;
  /** Sends the platform answered with 429 (they are queued again and did not count against its rate). */
  rateLimited: number;
  /** Campaigns that had a row sent in this call, for progress reports. */
  campaigns: number[];
  /**
   * Rows sent again, marked, after an interrupted attempt that may have reached the person, on a
   * platform that cannot be asked whether it did (Teams): the person may have two copies.
   */
  possibleRepeats: { outboxId: number; recipientId: number; platform: string }[];
}

/** What a person reads above a message that may have reached them once already. */
export const POSSIBLE_REPEAT_NOTE = 'You may have received this message already: it is sent again after an interruption.';

/** Who the audit trail names for a message sent again after an interruption. */
const DELIVERY_ACTOR = { id: null, label: 'ISMS delivery' };

type OutboxRow = typeof outbox.$inferSelect;
/** A claimed row and the moment its platform's pace lets it start. */
interface Claim { row: OutboxRow; person: Person; port: ChatPort; startAt: number }

const MINUTE = 60_000;

const DEFAULTS = { leaseMs: 120_000, maxAttempts: 6, backoffMs: 30_000, maxBackoffMs: 3_600_000, conversationGapMs: 0, unreachableRetryMs: 0, unreachableGiveUpMs: 0, aheadMs: 0, concurrency: 1 };
type Settled = typeof DEFAULTS & DeliveryOptions & { pacer: Pacer };

/**
 * Sends queued outbox rows that are due, through the first port that can reach each recipient.
 * Rows are claimed (queued -> sending, with a lease) with SELECT ... FOR UPDATE SKIP LOCKED, so
 * several workers on one database never take the same row; a row whose worker died is claimed
 * again when its lease runs out. A row nobody can reach yet stays queued (e.g. a terminal user who
 * is not acting right now); a person on leave gets theirs when the leave ends.
 */
export async function deliverDue(db: Db, ports: ChatPort[], now?: Date, limit = 50, options: DeliveryOptions = {}): Promise<DeliveryResult> {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const pacer = options.pacer ?? sharedPacer(db, { perMinute: options.perMinute, burstMs: options.burstMs });
  const opts: Settled = { ...DEFAULTS, ...given, pacer };
  // A claim waiting for its turn must still be well inside its lease when it is sent.
  opts.aheadMs = Math.min(opts.aheadMs, opts.leaseMs / 4);
  const clock = options.clock ?? (now ? () => now : () => new Date());
  const claimTime = now ?? clock();
  const result: DeliveryResult = { claimed: 0, takenByOthers: 0, sent: 0, waiting: 0, retrying: 0, failed: 0, rateLimited: 0, campaigns: [], possibleRepeats: [] };

  const candidates = await reachableCandidates(db, ports, claimTime, limit, opts, result);
  if (candidates.length === 0) return result;
  const { claims, takenByOthers } = await claim(db, candidates, claimTime, limit, opts);
  result.claimed = claims.length;
  result.takenByOthers = takenByOthers;

  const campaigns = new Set<number>();
  const inFlight = new Set<Promise<void>>();
  const lastTo = new Map<number, Promise<void>>();
  let failure: { error: unknown } | undefined;
  const handBack = async (c: Claim) => {
    await giveBackSlot(db, opts.pacer, c.port.platform);
    await release(db, c.row);
    result.claimed--;
  };
  for (let i = 0; i < claims.length; i++) {
    const c = claims[i];
    // A slow batch must not outlive its lease, or another worker would take the rest as abandoned;
    // a stopping worker hands the rest back now rather than leave it to wait out the lease.
    if (options.stopping?.() || clock().getTime() - claimTime.getTime() > opts.leaseMs / 2) {
      await Promise.all(inFlight);
      for (const rest of claims.slice(i)) await handBack(rest);
      break;
    }
    // Messages to one person go in order; the rest share the platform's pace.
    await lastTo.get(c.row.recipientId);
    while (inFlight.size >= opts.concurrency) await Promise.race(inFlight);
    const handBackAt = claimTime.getTime() + opts.leaseMs / 2;
    if (!(await awaitTurn(c, clock, opts, () => Boolean(options.stopping?.()) || clock().getTime() > handBackAt))) {
      await handBack(c);
      continue;
    }
    const sending = sendOne(db, c, clock, opts, result).then((outcome) => {
      if (outcome === 'rateLimited') {
        result.rateLimited++;
        result.retrying++;
      } else result[outcome]++;
      if (outcome === 'sent' && c.row.campaignId !== null) campaigns.add(c.row.campaignId);
    }, (e: unknown) => { failure ??= { error: e }; });
    const tracked = sending.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    lastTo.set(c.row.recipientId, tracked);
  }
  await Promise.all(inFlight);
  // A send whose outcome could not be recorded (the database went away): its row stays claimed
  // until the lease runs out, and the next worker asks the platform whether it arrived.
  if (failure) throw failure.error;
  result.campaigns = [...campaigns];
  return result;
}

/**
 * Waits until the claim's turn at its platform (its slot, or a new one after a workspace-wide pause
 * that began since it was claimed). False when that is further off than the caller looks ahead, or
 * `giveUp` says so (the worker is stopping, or half the lease is gone, after which another worker
 * could take the row as abandoned): the row goes back to the queue rather than be held.
 */
async function awaitTurn(c: Claim, clock: () => Date, opts: Settled, giveUp: () => boolean): Promise<boolean> {
  for (;;) {
    // Checked again after every wait: the worker may have been told to stop, or the lease be half gone.
    if (giveUp()) return false;
    if (opts.pacer.pausedUntil(c.port.platform) > c.startAt) {
      // The platform paused after this slot was handed out: a new slot after the pause, so the
      // claims held across it go out at the pace again instead of all at once when it ends.
      const slot = opts.pacer.reserve(c.port.platform, clock().getTime(), opts.aheadMs);
      if (slot === undefined) return false;
      c.startAt = slot;
    }
    const wait = c.startAt - clock().getTime();
    if (wait <= 0) return true;
    if (wait > opts.aheadMs) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 250)));
  }
}

interface Candidate { id: number; person: Person; port: ChatPort }

/**
 * Who reaches a person: a port, or the reasons none does (or how long a platform asked to wait
 * before asking again); `refused` when every reason is a platform refusing for good.
 */
type Reach = { port: ChatPort } | { port?: undefined; reasons: string[]; retryAfterMs?: number; refused?: boolean };

/** Due rows whose recipient some port can reach, oldest first; asks the ports outside any transaction. */
async function reachableCandidates(db: Db, ports: ChatPort[], now: Date, limit: number, opts: Settled,
  result: DeliveryResult): Promise<Candidate[]> {
  const found: Candidate[] = [];
  const seen: number[] = [];
  const reachOf = new Map<number, Reach>();
  const unreachableSince = new Map<number, Date>();
  /** People the register lists as unreachable (as this call read it): only they have a listing to clear. */
  const listed = new Set<number>();
  const pageSize = Math.max(limit * 2, 20);
  while (found.length < limit * 2 && seen.length < limit * 20) {
    const page = await db.select({ row: outbox, person: people, listed: unreachablePeople.personId }).from(outbox)
      .innerJoin(people, eq(people.id, outbox.recipientId))
      .leftJoin(unreachablePeople, eq(unreachablePeople.personId, outbox.recipientId))
      .where(and(dueCondition(now), seen.length ? notInArray(outbox.id, seen) : undefined))
      .orderBy(asc(outbox.notBefore), asc(outbox.id)).limit(pageSize);
    const lookedUp = lookUpOnce(page.map((r) => r.person).filter((p) => !reachOf.has(p.id) && !(p.pausedUntil && p.pausedUntil > now)));
    for (const { row, person, listed: isListed } of page) {
      seen.push(row.id);
      if (isListed !== null) listed.add(person.id);
      if (person.pausedUntil && person.pausedUntil > now) {
        await reschedule(db, row, resumeTime(person, opts));
        continue;
      }
      if (!reachOf.has(person.id)) reachOf.set(person.id, await firstReaching(ports, person, lookedUp));
      const reach = reachOf.get(person.id)!;
      if (reach.port) {
        found.push({ id: row.id, person, port: reach.port });
        continue;
      }
      if (reach.retryAfterMs !== undefined) {
        // The platform asked to wait before it is asked again: that says nothing about the person.
        result.waiting++;
        await reschedule(db, row, new Date(now.getTime() + reach.retryAfterMs));
        continue;
      }
      // Only a platform that says why counts someone as unreachable; the terminal reaches whoever acts next.
      if (reach.reasons.length && !unreachableSince.has(person.id)) {
        unreachableSince.set(person.id, await noteUnreachable(db, person.id, reach.reasons.join('; '), now));
      }
      if (reach.refused) {
        // Asking again will not change it (a revoked token): failed now, with the platform's words, as a send would be.
        await failRow(db, row, reach.reasons.join('; '));
        result.failed++;
        continue;
      }
      const since = unreachableSince.get(person.id);
      if (since && opts.unreachableGiveUpMs > 0 && now.getTime() - since.getTime() >= opts.unreachableGiveUpMs) {
        await giveUpUnreachable(db, row, person, reach.reasons);
        result.failed++;
        continue;
      }
      result.waiting++;
      if (opts.unreachableRetryMs > 0 || row.status === 'sending') {
        await reschedule(db, row, new Date(now.getTime() + opts.unreachableRetryMs));
      }
    }
    if (page.length < pageSize) break;
  }
  // Reached now: listed no longer. Someone not listed has nothing to clear (no statement for them).
  const reached = [...reachOf].filter(([id, r]) => r.port && listed.has(id)).map(([id]) => id);
  await clearUnreachable(db, reached);
  return found;
}

/** A message to someone no platform could reach within the retry window: failed, saying why. */
async function giveUpUnreachable(db: Db, row: OutboxRow, person: Person, reasons: string[]): Promise<void> {
  await failRow(db, row, `Could not reach ${person.name} on any chat platform: ${reasons.join('; ')}`);
}

/** A row not claimed (still as read) marked failed, saying why. */
async function failRow(db: Db, row: OutboxRow, why: string): Promise<void> {
  await db.update(outbox).set({ status: 'failed', leaseUntil: null, lastError: why.slice(0, 500) })
    .where(and(eq(outbox.id, row.id), eq(outbox.status, row.status), eq(outbox.attempts, row.attempts)));
}

function dueCondition(now: Date) {
  return or(
    and(eq(outbox.status, 'queued'), lte(outbox.notBefore, now)),
    and(eq(outbox.status, 'sending'), or(isNull(outbox.leaseUntil), lte(outbox.leaseUntil, now))),
  );
}

/**
 * Each port's canReach for the people of a page, answered from one look-up for all of them (their
 * chat addresses) rather than once per person: looked up the first time the page asks that port
 * about anyone. A port that cannot look up (or fails to) is asked about each person on their own.
 */
function lookUpOnce(persons: Person[]): (port: ChatPort) => Promise<ReachCheck> {
  const distinct = [...new Map(persons.map((p) => [p.id, p])).values()];
  const asked = new Map<ChatPort, Promise<ReachCheck>>();
  return (port) => {
    if (!port.lookUp || distinct.length === 0) return Promise.resolve(port);
    let check = asked.get(port);
    if (!check) asked.set(port, check = port.lookUp(distinct).catch(() => port));
    return check;
  };
}

async function firstReaching(ports: ChatPort[], person: Person, lookedUp: (port: ChatPort) => Promise<ReachCheck>): Promise<Reach> {
  const reasons: string[] = [];
  let retryAfterMs: number | undefined;
  let refusals = 0;
  for (const port of ports) {
    try {
      const check = await lookedUp(port);
      if (await check.canReach(person)) return { port };
      const reason = await check.unreachableReason?.(person);
      if (reason) reasons.push(reason);
    } catch (e) {
      // A port that cannot answer cannot reach them now; the next port may.
      if (e instanceof DeliveryError && e.permanent) {
        refusals++;
        reasons.push(describeError(e));
      } else if (e instanceof DeliveryError && e.retryAfterMs !== undefined) retryAfterMs = Math.max(retryAfterMs ?? 0, e.retryAfterMs);
      else reasons.push(`${port.platform} could not be asked: ${describeError(e)}`);
    }
  }
  // For good only if every reason is such a refusal: a port with another reason, or a pause, may reach them later.
  return { reasons, retryAfterMs, refused: refusals > 0 && refusals === reasons.length && retryAfterMs === undefined };
}

function resumeTime(person: Person, opts: DeliveryOptions): Date {
  const until = person.pausedUntil!;
  const wt = opts.workingTime;
  return wt ? nextWorkingMoment(until, zoneOr(person.timezone, wt.timezone), wt) : until;
}

/** Puts a row back in the queue for later (leave, unreachable, an abandoned claim). */
async function reschedule(db: Db, row: OutboxRow, notBefore: Date): Promise<void> {
  await db.update(outbox).set({ status: 'queued', notBefore, leaseUntil: null })
    .where(and(eq(outbox.id, row.id), eq(outbox.status, row.status), eq(outbox.attempts, row.attempts)));
}

/**
 * Claims up to `limit` candidates that can start within opts.aheadMs at their platform's pace,
 * within the per-minute budgets and the per-conversation gap; each claim carries its start time.
 */
async function claim(db: Db, candidates: Candidate[], now: Date, limit: number, opts: Settled)
  : Promise<{ claims: Claim[]; takenByOthers: number }> {
  const reserved: string[] = [];
  try {
    return await db.transaction(async (tx) => {
      await lockRegister(tx, LOCK_KEYS.deliveryClaim);
      const paced = await adoptSharedPace(tx, opts.pacer, [...new Set(candidates.map((c) => c.port.platform))], now.getTime());
      const byId = new Map(candidates.map((c) => [c.id, c]));
      const locked = await tx.select().from(outbox)
        .where(and(inArray(outbox.id, [...byId.keys()]), dueCondition(now)))
        .orderBy(asc(outbox.notBefore), asc(outbox.id))
        .for('update', { skipLocked: true });
      const busy = opts.conversationGapMs > 0 ? await busyRecipients(tx, locked.map((r) => r.recipientId), now, opts.conversationGapMs) : new Set<number>();
      const budgets = new Map<string, number>();
      /** Platforms whose pace has no slot left within the look-ahead. */
      const full = new Set<string>();
      const claims: Claim[] = [];
      for (const row of locked) {
        if (claims.length >= limit) break;
        const { person, port } = byId.get(row.id)!;
        if (busy.has(row.recipientId) || full.has(port.platform)) continue;
        const left = await budgetLeft(tx, budgets, port.platform, now, opts.perMinute);
        if (left <= 0) continue;
        const startAt = opts.pacer.reserve(port.platform, now.getTime(), opts.aheadMs);
        if (startAt === undefined) {
          full.add(port.platform);
          continue;
        }
        reserved.push(port.platform);
        budgets.set(port.platform, left - 1);
        claims.push({ row, person, port, startAt });
        if (opts.conversationGapMs > 0) busy.add(row.recipientId);
      }
      await markClaimed(tx, claims, now, opts.leaseMs);
      await shareOwnPace(tx, opts.pacer, paced);
      return { claims, takenByOthers: candidates.length - locked.length };
    });
  } catch (e) {
    // Nothing was claimed: the slots go back to the pace.
    for (const platform of reserved) opts.pacer.giveBack(platform);
    throw e;
  }
}

/**
 * Marks the chosen rows (locked by this transaction) as claimed: one UPDATE per platform rather than
 * one per row. Each claim then carries its row as updated (attempt count, lease).
 */
async function markClaimed(tx: Db, claims: Claim[], now: Date, leaseMs: number): Promise<void> {
  const byPlatform = new Map<string, Claim[]>();
  for (const c of claims) byPlatform.set(c.port.platform, [...(byPlatform.get(c.port.platform) ?? []), c]);
  for (const [platform, group] of byPlatform) {
    const updated = await tx.update(outbox).set({
      status: 'sending', attempts: sql`${outbox.attempts} + 1`, platform,
      claimedAt: now, leaseUntil: new Date(now.getTime() + leaseMs),
    }).where(inArray(outbox.id, group.map((c) => c.row.id))).returning();
    const byId = new Map(updated.map((r) => [r.id, r]));
    for (const c of group) c.row = byId.get(c.row.id)!;
  }
}

/**
 * The pace every replica shares, taken under the claim lock: each paced platform's next even slot and
 * workspace-wide pause, from the database. Without it two replicas would each send at the whole rate.
 * Returns the paced platforms, whose state shareOwnPace writes back before the lock is let go.
 */
async function adoptSharedPace(tx: Db, pacer: Pacer, platforms: string[], now: number): Promise<string[]> {
  const paced = platforms.filter((p) => pacer.interval(p) > 0);
  if (paced.length === 0) return paced;
  // FOR UPDATE: a slot given back meanwhile (giveBackSlot) waits and applies to what this claim stores.
  const rows = await tx.select().from(deliveryPace).where(inArray(deliveryPace.platform, paced)).for('update');
  for (const r of rows) pacer.adopt(r.platform, r.tat.getTime(), r.pausedUntil?.getTime() ?? 0, now);
  return paced;
}

async function shareOwnPace(tx: Db, pacer: Pacer, platforms: string[]): Promise<void> {
  for (const platform of platforms) {
    const { tat, pausedUntil } = pacer.state(platform);
    const values = { tat: new Date(tat), pausedUntil: pausedUntil ? new Date(pausedUntil) : null };
    await tx.insert(deliveryPace).values({ platform, ...values }).onConflictDoUpdate({ target: deliveryPace.platform, set: values });
  }
}

/** A slot not used after all (the row went back, or the platform refused it): back to every replica's pace. */
async function giveBackSlot(db: Db, pacer: Pacer, platform: string): Promise<void> {
  pacer.giveBack(platform);
  await giveBackShared(db, platform, pacer.interval(platform));
}

function giveBackShared(db: Db, platform: string, intervalMs: number): Promise<unknown> {
  if (intervalMs === 0) return Promise.resolve();
  return db.update(deliveryPace).set({ tat: sql`${deliveryPace.tat} - ${intervalMs} * interval '1 millisecond'` }).where(eq(deliveryPace.platform, platform));
}

/** A workspace-wide 429: every replica waits for its Retry-After, and then restarts the even flow. */
async function shareRefusal(db: Db, pacer: Pacer, platform: string, workspace: boolean): Promise<void> {
  const t = pacer.interval(platform);
  if (t === 0) return;
  if (!workspace) {
    await giveBackShared(db, platform, t);
    return;
  }
  const until = new Date(pacer.pausedUntil(platform)).toISOString();
  await db.update(deliveryPace).set({
    tat: sql`greatest(${deliveryPace.tat} - ${t} * interval '1 millisecond', ${until}::timestamptz)`,
    pausedUntil: sql`greatest(${deliveryPace.pausedUntil}, ${until}::timestamptz)`,
  }).where(eq(deliveryPace.platform, platform));
}

/** People with a message in flight, or one that reached them less than the gap ago. */
async function busyRecipients(tx: Db, recipientIds: number[], now: Date, gapMs: number): Promise<Set<number>> {
  if (recipientIds.length === 0) return new Set();
  const rows = await tx.selectDistinct({ id: outbox.recipientId }).from(outbox).where(and(
    inArray(outbox.recipientId, recipientIds),
    or(and(eq(outbox.status, 'sending'), gt(outbox.leaseUntil, now)), gt(outbox.sentAt, new Date(now.getTime() - gapMs))),
  ));
  return new Set(rows.map((r) => r.id));
}

/**
 * What is left of a platform's per-minute budget across every worker: messages it took, or that are
 * in flight, claimed within the last minute. A message it refused went back to the queue and does not count.
 */
async function budgetLeft(tx: Db, budgets: Map<string, number>, platform: string, now: Date, perMinute: Record<string, number> | undefined): Promise<number> {
  const cap = perMinute?.[platform];
  if (cap === undefined) return Infinity;
  const known = budgets.get(platform);
  if (known !== undefined) return known;
  const [{ n }] = await tx.select({ n: count() }).from(outbox)
    .where(and(eq(outbox.platform, platform), gt(outbox.claimedAt, new Date(now.getTime() - MINUTE)), inArray(outbox.status, ['sent', 'sending'])));
  return cap - n;
}

/** The claim on a row holds while it is still 'sending' with the attempt count this worker set. */
const stillOurs = (row: OutboxRow) => and(eq(outbox.id, row.id), eq(outbox.status, 'sending'), eq(outbox.attempts, row.attempts));

async function release(db: Db, row: OutboxRow): Promise<void> {
  await db.update(outbox).set({ status: 'queued', attempts: sql`${outbox.attempts} - 1`, leaseUntil: null }).where(stillOurs(row));
}

async function sendOne(db: Db, { row, person, port }: Claim, clock: () => Date, opts: Settled, result: DeliveryResult)
  : Promise<'sent' | 'retrying' | 'rateLimited' | 'failed'> {
  const message = row.reply as Reply;
  // A platform that keeps no receipts cannot be asked afterwards whether an interrupted attempt
  // arrived: an attempt that got as far as the call is sent again once, saying so, and recorded.
  const repeat = !keepsReceipts(port) && row.sendStartedAt !== null;
  let attemptStartedAt: Date | undefined;
  try {
    // Tried before: the last attempt may have arrived even though its worker died before recording it.
    const arrived = row.attempts > 1 && keepsReceipts(port) && await port.wasDelivered(person, row.idempotencyKey, row.createdAt);
    if (!arrived) {
      if (row.attempts > opts.maxAttempts) {
        await db.update(outbox).set({ status: 'failed', leaseUntil: null, lastError: row.lastError ?? `gave up after ${opts.maxAttempts} attempts; the last one was interrupted` })
          .where(stillOurs(row));
        return 'failed';
      }
      if (keepsReceipts(port)) await port.sendWithKey(person, message, row.idempotencyKey);
      else {
        // Stamped right before the call: a row claimed but never started is not a possible repeat.
        attemptStartedAt = clock();
        const started = await db.update(outbox).set({ sendStartedAt: attemptStartedAt, possibleRepeat: repeat || row.possibleRepeat })
          .where(stillOurs(row)).returning({ id: outbox.id });
        // The claim ran out and another worker has the row: it is theirs to send.
        if (started.length === 0) return 'retrying';
        await port.send(person, repeat ? markedAsRepeat(message) : message);
      }
    }
  } catch (e) {
    const at = clock();
    if (e instanceof DeliveryError && e.retryAfterMs && !e.permanent) {
      const workspace = opts.pacer.refused(port.platform, String(row.recipientId), e.retryAfterMs, at.getTime());
      await shareRefusal(db, opts.pacer, port.platform, workspace);
      await recordFailure(db, row, e, at, opts);
      return 'rateLimited';
    }
    return recordFailure(db, row, e, at, opts, attemptStartedAt);
  }
  if (!repeat) {
    await db.update(outbox).set({ status: 'sent', sentAt: clock(), leaseUntil: null }).where(stillOurs(row));
    return 'sent';
  }
  await db.transaction(async (tx) => {
    const [sent] = await tx.update(outbox).set({ status: 'sent', sentAt: clock(), leaseUntil: null }).where(stillOurs(row)).returning({ id: outbox.id });
    if (!sent) return;
    await appendAudit(tx, DELIVERY_ACTOR, {
      action: 'resend_after_interruption', entity: 'outbox', entityRef: `outbox:${row.id}`,
      after: { recipientId: row.recipientId, platform: port.platform, kind: row.kind, interruptedAttemptStartedAt: row.sendStartedAt },
    }, clock());
  });
  result.possibleRepeats.push({ outboxId: row.id, recipientId: row.recipientId, platform: port.platform });
  return 'sent';
}

/** The message with a note on top saying it may be a second copy. */
function markedAsRepeat(message: Reply): Reply {
  return { ...message, blocks: [text(POSSIBLE_REPEAT_NOTE, 'warning'), ...message.blocks] };
}

/**
 * The platform answered with an error. Mostly this attempt did not reach the person, but an earlier
 * interrupted one still may have (the claimed row's sendStartedAt), so the next attempt is marked as
 * before. An error saying the message may have arrived (a gateway timeout, a connection lost after
 * the request went out) keeps this attempt's stamp instead, so the next one is marked as after a crash.
 */
async function recordFailure(db: Db, row: OutboxRow, e: unknown, at: Date, opts: Settled, attemptStartedAt?: Date)
  : Promise<'retrying' | 'failed'> {
  const error = e instanceof DeliveryError ? e : undefined;
  const uncertain = Boolean(error?.mayHaveArrived && attemptStartedAt);
  const sendStartedAt = uncertain ? attemptStartedAt! : row.sendStartedAt;
  const lastError = describeError(e) + (uncertain ? '; it may have reached the person' : '');
  if (error?.permanent || (!error?.retryAfterMs && row.attempts >= opts.maxAttempts)) {
    await db.update(outbox).set({ status: 'failed', lastError, leaseUntil: null, sendStartedAt }).where(stillOurs(row));
    return 'failed';
  }
  if (error?.retryAfterMs) {
    // The platform asked for a pause in this conversation: not a failed attempt, and nothing else goes to them before it ends.
    const resume = new Date(at.getTime() + error.retryAfterMs);
    await db.update(outbox).set({ status: 'queued', attempts: sql`${outbox.attempts} - 1`, notBefore: resume, lastError, leaseUntil: null, sendStartedAt })
      .where(stillOurs(row));
    await db.update(outbox).set({ notBefore: sql`greatest(${outbox.notBefore}, ${resume.toISOString()}::timestamptz)` })
      .where(and(eq(outbox.recipientId, row.recipientId), eq(outbox.status, 'queued')));
    return 'retrying';
  }
  const delay = Math.min(opts.maxBackoffMs, opts.backoffMs * 2 ** (row.attempts - 1));
  await db.update(outbox).set({ status: 'queued', notBefore: new Date(at.getTime() + delay), lastError, leaseUntil: null, sendStartedAt })
    .where(stillOurs(row));
  return 'retrying';
}

/** The error as `/isms nudges` shows it: short, and with anything token-shaped blanked out. */
function describeError(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return scrubSecrets(message).slice(0, 500);
}

export interface CampaignProgress { campaignId: number; total: number; sent: number; failed: number; queued: number }

/** Sent out of total per campaign: how far a broadcast has got. */
export async function campaignProgress(db: Db, campaignIds?: number[]): Promise<CampaignProgress[]> {
  const rows = await db.select({
    campaignId: outbox.campaignId,
    total: count(),
    sent: sql<number>`count(*) filter (where ${outbox.status} = 'sent')`.mapWith(Number),
    failed: sql<number>`count(*) filter (where ${outbox.status} = 'failed')`.mapWith(Number),
  }).from(outbox)
    .where(campaignIds ? inArray(outbox.campaignId, campaignIds.length ? campaignIds : [-1]) : sql`${outbox.campaignId} is not null`)
    .groupBy(outbox.campaignId).orderBy(asc(outbox.campaignId));
  return rows.map((r) => ({ campaignId: r.campaignId!, total: r.total, sent: r.sent, failed: r.failed, queued: r.total - r.sent - r.failed }));
}
