import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { nudgeLog, outbox, people, schedulerNudges } from '../db/schema/index.js';
import { rows } from '../db/migrate.js';
import { actions, reply, text, type Button, type ListItem, type Reply } from '../core/reply.js';
import type { Person } from '../core/actor.js';
import type { NudgeSettings } from './settings.js';
import { nextWorkingMoment, zoneOr } from '../core/time.js';
import { appendAuditMany, type AuditInput } from '../core/audit.js';

/** One thing a person is nudged about; the batch turns a person's nudges of one run into one message. */
export interface Nudge {
  recipientId: number;
  /** Unique per item, recipient, cycle and ladder step: a key is nudged once, ever. */
  key: string;
  /** The register item, e.g. "EVR-0003" or "POAM-0002". */
  itemRef: string;
  kind: string;
  step?: number;
  title: string;
  detail?: string;
  /** What the person can do about it; a manager told about someone else's item may have none. */
  button?: Button;
  campaignId?: number;
}

export interface FlushResult { messages: number; nudges: number }

/** When a message to this person may go out: in their working hours, after their leave. */
export function deliveryTime(person: Pick<Person, 'timezone' | 'pausedUntil'>, now: Date, settings: NudgeSettings): Date {
  const from = person.pausedUntil && person.pausedUntil > now ? person.pausedUntil : now;
  return nextWorkingMoment(from, zoneOr(person.timezone, settings.timezone), settings);
}

/** Collects nudges and writes one outbox message per person (flush), or stages them until the run's end (stage). */
export class NudgeBatch {
  private readonly byRecipient = new Map<number, Map<string, Nudge>>();

  /** `cycle` names the run, e.g. its date: part of each grouped message's idempotency key. */
  constructor(private readonly now: Date, private readonly settings: NudgeSettings, private readonly cycle: string) {}

  add(nudge: Nudge): void {
    let mine = this.byRecipient.get(nudge.recipientId);
    if (!mine) this.byRecipient.set(nudge.recipientId, (mine = new Map()));
    mine.set(nudge.key, nudge);
  }

  /**
   * Writes the nudges collected so far to scheduler_nudges, in the caller's transaction (the one that
   * made the change they are about), and forgets them: sendNudges groups them at the run's end.
   */
  async stage(tx: Db): Promise<void> {
    const all = [...this.byRecipient.values()].flatMap((m) => [...m.values()]);
    this.byRecipient.clear();
    for (const part of chunks(all, CHUNK)) {
      await tx.execute(sql`
        insert into ${schedulerNudges} (key, recipient_id, nudge, created_at)
        select r.key, r.recipient_id, r.nudge, ${this.now.toISOString()}::timestamptz
        from ${recordset(part.map((n) => ({ key: n.key, recipient_id: n.recipientId, nudge: n })))} as r(key text, recipient_id int, nudge jsonb)
        on conflict (key) do nothing`);
    }
  }

  clear(): void {
    this.byRecipient.clear();
  }

  get size(): number {
    let n = 0;
    for (const m of this.byRecipient.values()) n += m.size;
    return n;
  }

  /**
   * Writes the run's messages with a handful of statements whatever their number: the recipients and
   * the keys already nudged are read at once, and the messages and their nudge-log rows are inserted
   * in multi-row statements.
   */
  async flush(tx: Db): Promise<FlushResult> {
    const result: FlushResult = { messages: 0, nudges: 0 };
    const ids = [...this.byRecipient.keys()].sort((a, b) => a - b);
    if (ids.length === 0) return result;
    const recipients = new Map<number, typeof people.$inferSelect>();
    for (const part of chunks(ids, CHUNK)) {
      for (const p of await tx.select().from(people).where(sql`${people.id} = any(${`{${part.join(',')}}`}::int[])`)) recipients.set(p.id, p);
    }
    const keys = ids.flatMap((id) => (recipients.has(id) ? [...this.byRecipient.get(id)!.keys()] : []));
    const done = new Set<string>();
    for (const part of chunks(keys, CHUNK)) {
      const found = await tx.select({ key: nudgeLog.key }).from(nudgeLog)
        .where(sql`${nudgeLog.key} in (select jsonb_array_elements_text(${JSON.stringify(part)}::jsonb))`);
      for (const r of found) done.add(r.key);
    }
    const messages: { id: number; fresh: Nudge[]; message: typeof outbox.$inferInsert }[] = [];
    // People share a few time zones: each zone's (and leave's) delivery time is worked out once.
    const times = new Map<string, Date>();
    const timeFor = (person: typeof people.$inferSelect) => {
      const key = `${person.timezone ?? ''}|${person.pausedUntil?.getTime() ?? ''}`;
      return times.get(key) ?? times.set(key, deliveryTime(person, this.now, this.settings)).get(key)!;
    };
    for (const id of ids) {
      const person = recipients.get(id);
      if (!person) continue;
      const fresh = [...this.byRecipient.get(id)!.values()].filter((n) => !done.has(n.key))
        .sort((a, b) => a.itemRef.localeCompare(b.itemRef) || a.key.localeCompare(b.key));
      if (fresh.length === 0) continue;
      const itemsHash = createHash('sha256').update(fresh.map((n) => n.key).join('\n')).digest('hex').slice(0, 16);
      const kinds = new Set(fresh.map((n) => n.kind));
      const campaigns = new Set(fresh.map((n) => n.campaignId));
      messages.push({ id, fresh, message: {
        recipientId: id,
        kind: kinds.size === 1 ? fresh[0].kind : 'nudge',
        idempotencyKey: `nudges:${id}:${this.cycle}:${itemsHash}`,
        reply: groupedReply(fresh),
        notBefore: timeFor(person),
        campaignId: campaigns.size === 1 ? fresh[0].campaignId : undefined,
      } });
    }
    for (const part of chunks(messages, CHUNK)) {
      // A key already queued (a run repeated after a crash) inserts nothing and nudges nobody twice.
      const inserted = await tx.execute(sql`
        insert into ${outbox} (idempotency_key, recipient_id, kind, reply, not_before, campaign_id)
        select r.idempotency_key, r.recipient_id, r.kind, r.reply, r.not_before, r.campaign_id
        from ${recordset(part.map(({ message: m }) => ({
          idempotency_key: m.idempotencyKey, recipient_id: m.recipientId, kind: m.kind, reply: m.reply, not_before: m.notBefore, campaign_id: m.campaignId ?? null,
        })))} as r(idempotency_key text, recipient_id int, kind text, reply jsonb, not_before timestamptz, campaign_id int)
        on conflict (idempotency_key) do nothing
        returning id, idempotency_key as key`);
      const queued = new Map(rows<{ id: number; key: string }>(inserted).map((r) => [r.key, r.id]));
      const logged = part.filter((m) => queued.has(m.message.idempotencyKey)).flatMap((m) => m.fresh.map((n) => ({
        key: n.key, outbox_id: queued.get(m.message.idempotencyKey)!, item_ref: n.itemRef, recipient_id: m.id, step: n.step ?? null,
      })));
      for (const logRows of chunks(logged, CHUNK)) {
        await tx.execute(sql`
          insert into ${nudgeLog} (key, outbox_id, item_ref, recipient_id, step, created_at)
          select r.key, r.outbox_id, r.item_ref, r.recipient_id, r.step, ${this.now.toISOString()}::timestamptz
          from ${recordset(logRows)} as r(key text, outbox_id int, item_ref text, recipient_id int, step int)`);
      }
      result.messages += queued.size;
      result.nudges += part.filter((m) => queued.has(m.message.idempotencyKey)).reduce((n, m) => n + m.fresh.length, 0);
    }
    return result;
  }
}

/** Recipients whose nudges one transaction turns into messages. */
export const SEND_BATCH = 500;

/** Changes (claims) one transaction makes at most, as a run's step: the audit lock is held for their events' append alone. */
const CLAIMS_PER_SEND = 500;

/** How the scheduler signs the audit trail. */
export const SCHEDULER_ACTOR = { id: null, label: 'ISMS scheduler' };

/**
 * The change a nudge is about, made in the transaction that queues its message rather than committed
 * (and the nudge staged) before: e.g. a milestone moved to its next reminder day, an item moved up its
 * ladder. Returns the nudges still due (their item may have been closed since it was read), having made
 * their change, and adds to `events` the audit event of each change made: they are appended last in
 * that transaction.
 */
export type Claim = (tx: Db, nudges: Nudge[], events: AuditInput[]) => Promise<Nudge[]>;

/**
 * Nudges kept in memory until the run's end, with the one change they are about (claim), or none (a
 * reminder that only reads). All of them are queued in one transaction with the change, or none are:
 * an escalation to several people reaches all of them or, the run stopped, none.
 */
export interface HeldNudges { nudges: Nudge[]; claim?: Claim }

/**
 * The held nudges in batches of at most SEND_BATCH recipients and CLAIMS_PER_SEND changes, each person
 * (and everyone sharing a change with them) in one batch only, in recipient order.
 */
function heldBatches(held: HeldNudges[]): { ids: number[]; groups: HeldNudges[] }[] {
  // People one change nudges together are in one batch: joined, as union-find roots.
  const parent = new Map<number, number>();
  const root = (id: number): number => {
    let r = id;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(id, r);
    return r;
  };
  for (const { nudges } of held) {
    const first = root(nudges[0].recipientId);
    for (const n of nudges.slice(1)) {
      const other = root(n.recipientId);
      if (other !== first) parent.set(other, first);
    }
  }
  const together = new Map<number, { ids: Set<number>; groups: HeldNudges[]; claims: number }>();
  for (const group of held) {
    const r = root(group.nudges[0].recipientId);
    const set = together.get(r) ?? together.set(r, { ids: new Set(), groups: [], claims: 0 }).get(r)!;
    for (const n of group.nudges) set.ids.add(n.recipientId);
    set.groups.push(group);
    if (group.claim) set.claims++;
  }
  const sets = [...together.values()].map((s) => ({ ...s, first: [...s.ids].reduce((a, b) => Math.min(a, b)) })).sort((a, b) => a.first - b.first);
  const batches: { ids: number[]; groups: HeldNudges[]; claims: number }[] = [];
  for (const set of sets) {
    const last = batches.at(-1);
    if (last && last.ids.length + set.ids.size <= SEND_BATCH && last.claims + set.claims <= CLAIMS_PER_SEND) {
      last.ids.push(...set.ids);
      last.groups.push(...set.groups);
      last.claims += set.claims;
    } else batches.push({ ids: [...set.ids], groups: [...set.groups], claims: set.claims });
  }
  return batches;
}

/**
 * Turns every nudge of the run into one outbox message per person, in bounded batches. First the
 * people with held nudges: each batch takes their staged rows out of scheduler_nudges, makes the held
 * nudges' changes (claims), queues the messages and appends the changes' audit events, all in one
 * transaction, so a run stopped in between has neither queued nor changed the rest, and the next run
 * finds them due again. Then the staged nudges left, likewise: a run stopped in between leaves them
 * staged, and a re-run (or the next run) sends them. Never twice: keys already in nudge_log are dropped.
 */
export async function sendNudges(db: Db, now: Date, settings: NudgeSettings, cycle: string, held: HeldNudges[] = []): Promise<FlushResult> {
  const result: FlushResult = { messages: 0, nudges: 0 };
  const add = (sent: FlushResult) => {
    result.messages += sent.messages;
    result.nudges += sent.nudges;
  };
  for (const { ids, groups } of heldBatches(held)) {
    add(await db.transaction(async (tx) => {
      const batch = new NudgeBatch(now, settings, cycle);
      for (const nudge of await takeStaged(tx, ids)) batch.add(nudge);
      const byClaim = new Map<Claim | undefined, Nudge[]>();
      for (const { nudges, claim } of groups) (byClaim.get(claim) ?? byClaim.set(claim, []).get(claim)!).push(...nudges);
      const events: AuditInput[] = [];
      for (const [claim, nudges] of byClaim) for (const n of claim ? await claim(tx, nudges, events) : nudges) batch.add(n);
      const sent = await batch.flush(tx);
      // Last, so the audit lock every write of the bot waits for is held for this append alone.
      await appendAuditMany(tx, SCHEDULER_ACTOR, events, now);
      return sent;
    }));
  }
  for (;;) {
    const sent = await db.transaction(async (tx) => {
      // The people of the first SEND_BATCH staged rows, read from the recipient index (a few hundred entries).
      const first = rows<{ recipient_id: number }>(await tx.execute(sql`
        select recipient_id from ${schedulerNudges} order by recipient_id limit ${SEND_BATCH}`));
      if (first.length === 0) return undefined;
      const batch = new NudgeBatch(now, settings, cycle);
      for (const nudge of await takeStaged(tx, [...new Set(first.map((r) => r.recipient_id))])) batch.add(nudge);
      return { ...(await batch.flush(tx)), last: first.length < SEND_BATCH };
    });
    if (!sent) return result;
    add(sent);
    // Fewer rows than a batch: none were left staged, and a transaction to find none is saved.
    if (sent.last) return result;
  }
}

/**
 * Takes these people's staged nudges out of scheduler_nudges. Bounded by the range of their ids too:
 * a few hundred ids alone PostgreSQL plans as a Seq Scan of the whole table once per batch (rows that
 * earlier batches deleted included, until vacuumed), while with the range it reads that stretch of the
 * recipient index, the batch's own rows.
 */
async function takeStaged(tx: Db, ids: number[]): Promise<Nudge[]> {
  const lowest = ids.reduce((a, b) => Math.min(a, b));
  const highest = ids.reduce((a, b) => Math.max(a, b));
  return rows<{ nudge: Nudge }>(await tx.execute(sql`
    delete from ${schedulerNudges}
    where recipient_id between ${lowest}::int and ${highest}::int and recipient_id = any(${`{${ids.join(',')}}`}::int[])
    returning nudge`)).map((r) => r.nudge);
}

/**
 * Rows as one jsonb parameter read back as a record set: a batch's rows go in one statement with one
 * bind parameter, without building (and the driver encoding) a parameter per column of every row.
 */
const recordset = (rows: object[]) => sql`jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)`;

/** Rows per statement: well under the 65,535 bind parameters one statement may carry. */
const CHUNK = 1000;

function chunks<T>(all: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < all.length; i += size) out.push(all.slice(i, i + size));
  return out;
}

/** One item: a sentence and its button. Several: one list, a button per item. */
export function groupedReply(nudges: Nudge[]): Reply {
  if (nudges.length === 1) {
    const [n] = nudges;
    const sentence = text(n.detail ? `${n.title} — ${n.detail}` : n.title);
    return { ...(n.button ? reply(sentence, actions(n.button)) : reply(sentence)), about: n.itemRef };
  }
  const items: ListItem[] = nudges.map((n) => ({ title: n.title, detail: n.detail, buttons: n.button ? [n.button] : undefined }));
  return reply(text(`${nudges.length} things need your attention:`), { type: 'list', items });
}
