/**
 * Register at scale (PostgreSQL only): a register of 1,000,000 evidence requests, 200,000 POA&M items
 * with three milestones each, 100,000 people, an outbox of 200,000 messages and an audit trail of
 * 1,000,000 chained events, all generated in SQL (times BENCH_SCALE). Times each scheduler sweep on a
 * heavy day (a backlog: every open item one ladder step behind, a new evidence period for every
 * control, every overdue milestone to remind) and on the quiet day after it, with the plan of every
 * query the sweep ran; `/isms status`, `register` first and last pages and `nudges` through the router;
 * and the audit chain's verification at two trail sizes with its peak memory.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { openDatabase, type Database } from '../src/db/client.js';
import { migrate, rows } from '../src/db/migrate.js';
import type { Db } from '../src/db/client.js';
import { auditEvents, people } from '../src/db/schema/index.js';
import { buildRouter } from '../src/commands.js';
import { toActor } from '../src/core/actor.js';
import { toPlainText, type Reply } from '../src/core/reply.js';
import { verifyAuditChain } from '../src/core/audit.js';
import { defaultNudgeSettings, type NudgeSettings } from '../src/scheduler/settings.js';
import { jobOf, type Job } from '../src/scheduler/jobs/run.js';
import { climbEvidenceLadders, createDueEvidenceRequests } from '../src/scheduler/jobs/evidence.js';
import { climbPoamLadders, remindOverdueMilestones } from '../src/scheduler/jobs/poam.js';
import { remindPolicyAcknowledgements } from '../src/scheduler/jobs/policies.js';
import { remindTrainingObligations } from '../src/scheduler/jobs/training.js';
import { courseCompletion } from '../src/domain/training/obligations.js';
import { remindSupplierReviews } from '../src/scheduler/jobs/suppliers.js';
import { reopenExpiredRiskAcceptances } from '../src/scheduler/jobs/risks.js';
import { weeklyDigest } from '../src/scheduler/jobs/digest.js';
import { witnessAuditTrail } from '../src/scheduler/jobs/witness.js';
import { dailyNudges, runScheduledJob } from '../src/scheduler/jobs/index.js';
import { RSS_METHOD, measured, percentile } from './measure.js';

/** Full-size figures; BENCH_SCALE multiplies them. */
const FULL = { evidenceRequests: 1_000_000, poamItems: 200_000, people: 100_000, auditEvents: 1_000_000, outbox: 200_000 };
/** Evidence periods per control: monthly requests from 2018-08 to 2026-11. */
const CYCLES = 100;
/** The heavy day (a new period opens for every control) and the quiet day after it. */
const HEAVY = new Date('2026-12-20T11:00:00Z');
const QUIET = new Date('2026-12-21T11:00:00Z');
/** A sequential scan over a table with more rows than this is flagged. */
const LARGE = 50_000;
const TARGET_MS = 50;

/**
 * The generated tables a sweep reads or rewrites. Vacuumed by name, not the whole database: a shared
 * database's other schemas are not this bench's to vacuum.
 */
const LARGE_TABLES = 'evidence_requests, poam_items, poam_milestones, people, controls, outbox, nudge_log, audit_events, scheduler_nudges, training_attestations, training_reminders, training_standing';
/** People join on one of this many days from 2018-01-01: the last a week before the heavy day. */
const JOINING_DAYS = 3270;

/** vacuumFirst: what autovacuum does before the sweep (see its comment). */
const SWEEPS: { name: string; run: Job; vacuumFirst?: string }[] = [
  { name: 'createDueEvidenceRequests', run: jobOf(createDueEvidenceRequests) },
  { name: 'climbEvidenceLadders', run: jobOf(climbEvidenceLadders) },
  { name: 'climbPoamLadders', run: jobOf(climbPoamLadders) },
  { name: 'remindOverdueMilestones', run: jobOf(remindOverdueMilestones) },
  { name: 'remindPolicyAcknowledgements', run: jobOf(remindPolicyAcknowledgements) },
  { name: 'remindTrainingObligations', run: jobOf(remindTrainingObligations) },
  { name: 'remindSupplierReviews', run: jobOf(remindSupplierReviews) },
  { name: 'reopenExpiredRiskAcceptances', run: jobOf(reopenExpiredRiskAcceptances) },
  // The digest runs at 07:00, an hour after the daily run; with 0023's thresholds autovacuum has by then
  // renewed the visibility map of the pages that run rewrote (here: the sweeps above, rolled back).
  { name: 'weeklyDigest', run: weeklyDigest, vacuumFirst: 'evidence_requests, poam_items, poam_milestones' },
  { name: 'auditWitness', run: witnessAuditTrail },
];

interface Captured { text: string; values: unknown[] }

/** Records the statements the pg driver sends while `on` is set, to EXPLAIN them afterwards. */
const capture = { on: false, queries: [] as Captured[] };
const originalQuery = pg.Client.prototype.query;
/**
 * While `on` is set, times every transaction (begin to commit or rollback) and how long each held an
 * advisory lock (the audit lock among them): a run must never hold either across the whole run.
 */
const transactions = { on: false, begun: new WeakMap<object, number>(), locked: new WeakMap<object, number>(), count: 0, longestMs: 0, longestLockMs: 0 };
function watchTransaction(client: object, text: string): void {
  const now = performance.now();
  if (/^\s*begin\b/i.test(text)) transactions.begun.set(client, now);
  else if (/pg_advisory_xact_lock/i.test(text) && !transactions.locked.has(client)) transactions.locked.set(client, now);
  else if (/^\s*(commit|rollback)\b/i.test(text)) {
    const begun = transactions.begun.get(client);
    const locked = transactions.locked.get(client);
    if (begun !== undefined) {
      transactions.count++;
      transactions.longestMs = Math.max(transactions.longestMs, now - begun);
    }
    if (locked !== undefined) transactions.longestLockMs = Math.max(transactions.longestLockMs, now - locked);
    transactions.begun.delete(client);
    transactions.locked.delete(client);
  }
}

/** Runs `work` and reports the transactions it made: how many, the longest, the longest advisory-lock hold. */
async function watchingTransactions<T>(work: () => Promise<T>): Promise<{ value: T; transactions: number; longestTransactionMs: number; longestLockMs: number }> {
  Object.assign(transactions, { on: true, begun: new WeakMap(), locked: new WeakMap(), count: 0, longestMs: 0, longestLockMs: 0 });
  try {
    const value = await work();
    return { value, transactions: transactions.count, longestTransactionMs: Math.round(transactions.longestMs), longestLockMs: Math.round(transactions.longestLockMs) };
  } finally {
    transactions.on = false;
  }
}

function startCapturing(): void {
  (pg.Client.prototype as unknown as { query: unknown }).query = function (this: pg.Client, ...args: unknown[]) {
    if (transactions.on) {
      const [first] = args as [string | { text: string }];
      watchTransaction(this, typeof first === 'string' ? first : first.text);
    }
    if (capture.on) {
      const [first, second] = args as [string | { text: string; values?: unknown[] }, unknown[] | undefined];
      const text = typeof first === 'string' ? first : first.text;
      const values = (typeof first === 'string' ? second : first.values ?? second) ?? [];
      if (/^\s*(select|update|insert|with|delete)/i.test(text) && !/pg_advisory/i.test(text)) capture.queries.push({ text, values });
    }
    return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
  };
}

class Rollback extends Error {}

/** Runs a job inside a transaction rolled back afterwards: every sweep sees the same register. */
async function inRolledBack<T>(db: Db, work: (tx: Db) => Promise<T>): Promise<T> {
  let out: T | undefined;
  try {
    await db.transaction(async (tx) => {
      out = await work(tx);
      throw new Rollback();
    });
  } catch (e) {
    if (!(e instanceof Rollback)) throw e;
  }
  return out!;
}

interface PlanNode { 'Node Type': string; 'Relation Name'?: string; 'Actual Rows'?: number; 'Actual Loops'?: number; Plans?: PlanNode[]; 'Index Name'?: string }

function walk(node: PlanNode, visit: (n: PlanNode) => void): void {
  visit(node);
  for (const child of node.Plans ?? []) walk(child, visit);
}

/** EXPLAIN (ANALYZE, FORMAT JSON) of each captured statement, each in a savepoint rolled back. */
async function explainAll(database: Database, queries: Captured[], sizes: Map<string, number>) {
  const client = new pg.Client({ connectionString: process.env.BENCH_SCALE_URL });
  await client.connect();
  const plans: { sql: string; ms: number; nodes: string[]; seqScansOverLarge: string[]; plan: unknown }[] = [];
  try {
    await client.query('begin');
    for (const q of queries) {
      await client.query('savepoint s');
      try {
        const result = await client.query(`explain (analyze, format json) ${q.text}`, q.values);
        const [top] = result.rows[0]['QUERY PLAN'] as { Plan: PlanNode; 'Execution Time': number }[];
        const nodes: string[] = [];
        const seqScansOverLarge: string[] = [];
        walk(top.Plan, (n) => {
          nodes.push(`${n['Node Type']}${n['Relation Name'] ? ` on ${n['Relation Name']}` : ''}${n['Index Name'] ? ` using ${n['Index Name']}` : ''}`);
          const size = n['Relation Name'] ? sizes.get(n['Relation Name']) ?? 0 : 0;
          if (n['Node Type'] === 'Seq Scan' && size > LARGE) seqScansOverLarge.push(`${n['Relation Name']} (${size} rows)`);
        });
        plans.push({ sql: q.text.replace(/\s+/g, ' ').slice(0, 300), ms: Math.round(top['Execution Time'] * 10) / 10, nodes, seqScansOverLarge, plan: top.Plan });
      } catch (e) {
        // An insert naming rows an earlier statement of the sweep wrote (nudge_log -> outbox) cannot run on its own.
        const dependent = (e as { code?: string }).code === '23503';
        plans.push({ sql: q.text.replace(/\s+/g, ' ').slice(0, 300), ms: -1, nodes: [dependent ? 'not explained: it names rows an earlier statement of the sweep wrote' : `explain failed: ${(e as Error).message}`], seqScansOverLarge: [], plan: null });
      }
      await client.query('rollback to savepoint s');
    }
    await client.query('rollback');
  } finally {
    await client.end();
  }
  void database;
  return plans;
}

async function tableSizes(db: Db): Promise<Map<string, number>> {
  const result = rows<{ relname: string; n: number }>(await db.execute(sql`
    select relname, greatest(reltuples, 0)::bigint::int as n from pg_class where relkind = 'r' and relnamespace = current_schema()::regnamespace`));
  return new Map(result.map((r) => [r.relname, r.n]));
}

/** Times every sweep at `now` (each in a rolled-back transaction), then explains the statements it sent. */
async function sweepsAt(database: Database, now: Date, settings: NudgeSettings) {
  const db = database.db;
  // What autovacuum does between two daily runs: the rows the previous day's run rewrote leave the indexes.
  await db.execute(sql.raw(`vacuum (analyze) ${LARGE_TABLES}`));
  // And the small tables' statistics (an empty table never analyzed is planned as a big one).
  await db.execute(sql`analyze`);
  const sizes = await tableSizes(db);
  const out: Record<string, unknown> = {};
  for (const sweep of SWEEPS) {
    if (sweep.vacuumFirst) await db.execute(sql.raw(`vacuum ${sweep.vacuumFirst}`));
    capture.queries = [];
    capture.on = true;
    const run = await measured(() => inRolledBack(db, (tx) => sweep.run(tx, now, settings))).finally(() => { capture.on = false; });
    const queries = capture.queries;
    const plans = await explainAll(database, queries, sizes);
    const seqScans = [...new Set(plans.flatMap((p) => p.seqScansOverLarge))];
    const messages = (run.value as { messages?: number } | undefined)?.messages ?? 0;
    out[sweep.name] = {
      ms: run.ms, ...(messages > 0 && { msPerMessage: Math.round((run.ms / messages) * 1000) / 1000 }), cpuMs: run.cpuMs, queries: queries.length, summary: run.value, withinTarget: run.ms < TARGET_MS, ...(sweep.vacuumFirst && { vacuumedFirst: sweep.vacuumFirst }),
      seqScansOverLargeTables: seqScans, peakRssMb: run.peakRssMb, plans,
    };
  }
  return out;
}

/** How long a trivial round trip takes right now: the noise floor every figure stands on. */
async function pingMs(db: Db): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    await db.execute(sql`select 1`);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return Math.round(percentile(times, 50) * 100) / 100;
}

/** Appends `n` events continuing the chain, each hashed in SQL exactly as hashEvent does in JavaScript. */
async function appendChain(db: Db, n: number): Promise<number> {
  const t0 = performance.now();
  await db.execute(sql`
    with recursive head as (
      select coalesce(max(seq), 0)::bigint as seq,
        coalesce((select hash from ${auditEvents} order by seq desc limit 1), repeat('0', 64)) as hash from ${auditEvents}
    ), chain(seq, at, prev, hash) as (
      select seq, null::timestamptz, null::text, hash from head
      union all
      select c.seq + 1, t.at, c.hash,
        encode(sha256(convert_to('{"action":"bench","actorId":null,"actorLabel":"bench generator","after":null,"at":"'
          || to_char(t.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '","before":null,"entity":"bench","entityRef":"B-'
          || (c.seq + 1) || '","prevHash":"' || c.hash || '","seq":' || (c.seq + 1) || '}', 'UTF8')), 'hex')
      from chain c cross join lateral (select timestamptz '2020-01-01T00:00:00Z' + (c.seq + 1) * interval '1 second' as at) t
      where c.seq < (select seq from head) + ${n}::int
    )
    insert into ${auditEvents} (seq, at, actor_id, actor_label, action, entity, entity_ref, before, after, row_hash, prev_hash, hash)
    select seq, at, null, 'bench generator', 'bench', 'bench', 'B-' || seq, null, null, null, prev, hash from chain where prev is not null`);
  return Math.round(performance.now() - t0);
}

async function seedRegister(db: Db, scale: number) {
  const n = (x: number, min = 10) => Math.max(min, Math.round(x * scale));
  const P = n(FULL.people, 100);
  const C = n(FULL.evidenceRequests / CYCLES, 10);
  const I = n(FULL.poamItems, 100);
  const O = n(FULL.outbox, 100);
  const ref = (prefix: string, col: string) => sql.raw(`'${prefix}-' || lpad((${col})::text, greatest(4, length((${col})::text)), '0')`);
  const t0 = performance.now();
  await db.execute(sql`
    insert into people (id, name, email, roles, manager_id, created_at)
    select g, 'Person ' || g, 'p' || g || '@scale.example',
      case when g = 1 then array['isms_lead', 'staff'] when g in (2, 3) then array['management_body'] else array['control_owner', 'staff'] end,
      case when g > 1000 then 4 + g % 996 end,
      -- Joined on days spread from 2018 to a week before the heavy day: each has rounds of their own.
      timestamptz '2018-01-01T00:00:00Z' + (g * 7919 % ${JOINING_DAYS}::int) * interval '1 day' + (g % 10) * interval '1 hour'
    from generate_series(1, ${P}::int) g`);
  await db.execute(sql`select setval(pg_get_serial_sequence('people', 'id'), ${P}::int)`);
  await db.execute(sql`
    insert into controls (id, code, title, owner_id, evidence_frequency, applicable)
    select g, 'CTL-' || lpad(g::text, 6, '0'), 'Control ' || g, 4 + g % (${P}::int - 4), 'monthly', true from generate_series(1, ${C}::int) g`);
  await db.execute(sql`select setval(pg_get_serial_sequence('controls', 'id'), ${C}::int)`);
  // Cycle k of control c: request (k * C + c); the last cycle (2026-11) is open, 3 % of the older ones are too.
  await db.execute(sql`
    insert into evidence_requests (id, ref, control_id, owner_id, due_on, cycle, status, escalation_level, created_at)
    select k * ${C}::int + c, ${ref('EVR', 'k * ' + C + ' + c')}, c, 4 + c % (${P}::int - 4),
      (date '2018-08-01' + make_interval(months => k + 1) - interval '1 day')::date, to_char(date '2018-08-01' + make_interval(months => k), 'YYYY-MM'),
      case when k = ${CYCLES - 1}::int or (c * 7 + k * 13) % 100 < 3 then 'open' else 'accepted' end, 0,
      date '2018-08-01' + make_interval(months => k) - interval '16 days'
    from generate_series(0, ${CYCLES - 1}::int) k, generate_series(1, ${C}::int) c`);
  await db.execute(sql`select setval(pg_get_serial_sequence('evidence_requests', 'id'), ${C * CYCLES}::int)`);
  // 85 % completed, 10 % open or in progress (due from 400 days before the heavy day to 200 after), 5 % risk accepted.
  await db.execute(sql`
    insert into poam_items (id, ref, weakness, source, owner_id, due_on, status, escalation_level, created_at)
    select g, ${ref('POAM', 'g')}, 'Weakness ' || g, 'risk', 4 + g % (${P}::int - 4),
      case when g % 20 in (0, 1) then date '2026-12-20' - 400 + (g * 37) % 600 else date '2019-01-01' + g % 2500 end,
      case when g % 20 = 0 then 'open' when g % 20 = 1 then 'in_progress' when g % 20 = 2 then 'risk_accepted' else 'completed' end, 0,
      timestamptz '2018-06-01T00:00:00Z'
    from generate_series(1, ${I}::int) g`);
  await db.execute(sql`select setval(pg_get_serial_sequence('poam_items', 'id'), ${I}::int)`);
  await db.execute(sql`
    insert into poam_milestones (item_id, seq, description, due_on, done_at)
    select i.id, s, 'Milestone ' || s || ' of ' || i.ref, i.due_on - (3 - s) * 30,
      case when i.status not in ('open', 'in_progress') or (i.id + s) % 3 = 0 then timestamptz '2019-01-01T00:00:00Z' end
    from poam_items i, generate_series(1, 3) s`);
  await db.execute(sql`
    insert into ref_counters (prefix, last) values ('EVR', ${C * CYCLES}::int), ('POAM', ${I}::int)
    on conflict (prefix) do update set last = excluded.last`);
  await db.execute(sql`
    insert into outbox (idempotency_key, recipient_id, kind, reply, status, not_before, attempts, last_error, campaign_id, created_at, sent_at, platform)
    select 'bench:' || g, 4 + g % (${P}::int - 4), 'nudge', '{"blocks":[]}'::jsonb,
      case when g % 100 < 97 then 'sent' when g % 100 < 99 then 'failed' else 'queued' end,
      timestamptz '2026-01-01T00:00:00Z' + g * interval '1 minute', 1, case when g % 100 in (97, 98) then 'not_in_channel' end,
      case when g % 2 = 0 then 1 + g % 5 end, timestamptz '2026-01-01T00:00:00Z' + g * interval '1 minute',
      case when g % 100 < 97 then timestamptz '2026-01-01T00:00:00Z' + g * interval '1 minute' end, 'slack'
    from generate_series(1, ${O}::int) g`);
  await seedTraining(db);
  // Generated in bulk, the tables have no all-visible pages until vacuumed, as autovacuum does a real
  // register's: without it every index-only scan would visit the table.
  const vacuumed = await measured(() => db.execute(sql.raw(`vacuum (analyze) ${LARGE_TABLES}`)));
  const counts = rows<Record<string, number>>(await db.execute(sql`select
    (select count(*)::int from evidence_requests) as "evidenceRequests", (select count(*)::int from evidence_requests where status = 'open') as "openEvidenceRequests",
    (select count(*)::int from poam_items) as "poamItems", (select count(*)::int from poam_items where status in ('open', 'in_progress')) as "openPoamItems",
    (select count(*)::int from poam_milestones) as "poamMilestones", (select count(*)::int from people) as people,
    (select count(*)::int from controls) as controls, (select count(*)::int from outbox) as outbox,
    (select count(*)::int from training_attestations) as "trainingAttestations"`))[0];
  return { ...counts, seedMs: Math.round(performance.now() - t0), vacuumAnalyzeMs: vacuumed.ms };
}

/**
 * The all-staff course (everyone in scope) and the management body's annual course, both since 2018, and
 * an attestation history for most people: a latest completion somewhere in the past year (so that on any
 * day about 1/365 of them reach each reminder threshold), the ones before it a year apart back to when
 * they joined. One in 50 let theirs expire unrenewed, one in 50 never attested, and recent joiners have
 * not yet. A real register has the reminders of earlier days in its nudge log: the sweep itself runs
 * on the day before the heavy day (committed) to write them, and their messages are marked delivered.
 */
async function seedTraining(db: Db) {
  await db.execute(sql`
    insert into training_courses (id, code, title, audience_role, validity_months, legal_basis, created_at) values
      (1, 'SEC-AWARE', 'Security awareness', null, 12, null, timestamptz '2018-01-01T00:00:00Z'),
      (2, 'MB-CYBER', 'Cybersecurity risk for the management body', 'management_body', 12, null, timestamptz '2018-01-01T00:00:00Z')`);
  await db.execute(sql`select setval(pg_get_serial_sequence('training_courses', 'id'), 2)`);
  await db.execute(sql`
    insert into training_attestations (person_id, course_id, completed_on, expires_on, attested_at, channel)
    select o.person_id, o.course_id, d.completed, (d.completed + make_interval(months => o.validity_months))::date, d.completed::timestamptz, 'import'
    from (
      select p.id as person_id, c.id as course_id, c.validity_months, p.created_at::date as joined,
        greatest(date '2026-12-19' - (p.id * 7919 + c.id * 31) % 365, p.created_at::date + 7 + p.id % 30)
          - case when p.id % 50 = 0 then 365 + p.id % 200 else 0 end as latest
      from people p join training_courses c on (c.audience_role is null and p.in_scope) or c.audience_role = any(p.roles)
      where p.id % 50 <> 1
    ) o
    cross join lateral (select (o.latest - make_interval(years => k))::date as completed from generate_series(0, 8) k) d
    where d.completed >= o.joined and d.completed <= date '2026-12-19'`);
  await db.execute(sql.raw('vacuum (analyze) people, training_courses, training_attestations, training_reminders, training_standing'));
  await jobOf(remindTrainingObligations)(db, new Date(HEAVY.getTime() - 86_400_000), defaultNudgeSettings());
  await db.execute(sql`update outbox set status = 'sent', sent_at = not_before where status = 'queued' and idempotency_key not like 'bench:%'`);
}

/**
 * Sets each open item's ladder where daily runs up to `day` would have left it (one rung per due threshold
 * passed), and each overdue milestone's next reminder on its weekly day after `day`: the heavy day's
 * catch-up moved them all a week on, while on a register reminded every day a seventh of them fall due daily.
 */
async function ladderAsOf(db: Db, day: string, settings: NudgeSettings): Promise<void> {
  const level = sql.join(settings.ladderDays.slice(0, 4).map((d) => sql`(due_on + ${d}::int <= ${day}::date)::int`), sql` + `);
  await db.execute(sql`update evidence_requests set escalation_level = ${level} where status = 'open'`);
  await db.execute(sql`update poam_items set escalation_level = ${level} where status in ('open', 'in_progress')`);
  const repeat = settings.repeatEveryDays;
  await db.execute(sql`
    update poam_milestones set next_reminder_on = due_on + 1 + ${repeat}::int * ((${day}::date - due_on - 1) / ${repeat}::int + 1)
    where done_at is null and due_on < ${day}::date`);
}

const nextOf = ({ reply }: { reply: Reply }) => reply.blocks.flatMap((b) => (b.type === 'list' && b.page?.next ? [b.page.next] : []))[0] ?? 'register evidence';

/**
 * The lead's `/isms status` with the plans of the statements it sent (training counted among them), and
 * each course's completion on its own: the figure `status` and the management-review pack share.
 */
async function throughRouter(database: Database) {
  const db = database.db;
  const sizes = await tableSizes(db);
  const router = buildRouter(db);
  const [lead] = await db.select().from(people).where(sql`'isms_lead' = any(${people.roles})`).limit(1);
  const actor = toActor(lead);
  const counts = rows<{ evidence: number; poam: number }>(await db.execute(sql`
    select (select count(*)::int from evidence_requests) as evidence, (select count(*)::int from poam_items) as poam`))[0];
  const commands: [string, string][] = [
    ['status', 'status'],
    ['registerEvidenceFirst', 'register evidence'],
    ['registerEvidenceLast', `register evidence --page ${Math.ceil(counts.evidence / 10)}`],
    // Typed far from both ends: the worst case of seeking from the nearer end.
    ['registerEvidenceMiddle', `register evidence --page ${Math.ceil(counts.evidence / 20)}`],
    ['registerPoamFirst', 'register poam'],
    ['registerPoamLast', `register poam --page ${Math.ceil(counts.poam / 10)}`],
    ['nudges', 'nudges'],
  ];
  const out: Record<string, unknown> = {};
  const timed: [string, string | (() => string)][] = [...commands,
    // The Next button of that middle page, as a person clicking it sends it (a cursor past the middle).
    ['registerEvidenceMiddleNext', () => nextOf(out.registerEvidenceMiddle as { reply: Reply })]];
  for (const [name, line] of timed) {
    const command = typeof line === 'string' ? line : line();
    capture.queries = [];
    capture.on = true;
    const run = await measured(() => router.handle(`/isms ${command}`, { actor, channel: 'test' })).finally(() => { capture.on = false; });
    const answer = toPlainText(run.value);
    const queries = capture.queries;
    const plans = name === 'status' ? await explainAll(database, queries, sizes) : undefined;
    out[name] = {
      command, ms: run.ms, cpuMs: run.cpuMs, queries: queries.length, peakRssMb: run.peakRssMb, answer: answer.slice(0, 160),
      ...(plans && { seqScansOverLargeTables: [...new Set(plans.flatMap((p) => p.seqScansOverLarge))], plans }),
    };
    Object.defineProperty(out[name], 'reply', { value: run.value, enumerable: false });
  }
  const today = HEAVY.toISOString().slice(0, 10);
  capture.queries = [];
  capture.on = true;
  const completion = await measured(() => courseCompletion(db, today)).finally(() => { capture.on = false; });
  const plans = await explainAll(database, capture.queries, sizes);
  out.courseCompletion = { ms: completion.ms, cpuMs: completion.cpuMs, courses: completion.value, seqScansOverLargeTables: [...new Set(plans.flatMap((p) => p.seqScansOverLarge))], plans };
  return out;
}

async function verifyAt(db: Db) {
  const run = await measured(() => verifyAuditChain(db));
  return { events: run.value.rows, ok: run.value.ok, ms: run.ms, cpuMs: run.cpuMs, rssBeforeMb: run.rssBeforeMb, peakRssMb: run.peakRssMb,
    rssGrowthMb: Math.round((run.peakRssMb - run.rssBeforeMb) * 10) / 10 };
}

/** What the old verify did: every event in memory at once. Run last, since it raises the process's RSS. */
async function loadAllBaseline(db: Db) {
  const run = await measured(async () => (await db.select().from(auditEvents)).length);
  return { events: run.value, ms: run.ms, rssBeforeMb: run.rssBeforeMb, peakRssMb: run.peakRssMb, rssGrowthMb: Math.round((run.peakRssMb - run.rssBeforeMb) * 10) / 10 };
}

export async function registerScaleSection(url: string | undefined, scale: number) {
  if (!url) return { skipped: 'PostgreSQL only: set DATABASE_URL' };
  const schema = `scale_${randomBytes(4).toString('hex')}`;
  const admin = await openDatabase({ kind: 'postgres', url, poolSize: 1 });
  await admin.db.execute(sql.raw(`create schema ${schema}`));
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  process.env.BENCH_SCALE_URL = u.toString();
  // Generating a million rows takes longer than a request's query timeout on a loaded machine.
  const database = await openDatabase({ kind: 'postgres', url: u.toString(), poolSize: 2, timeoutMs: 30 * 60_000 });
  const db = database.db;
  startCapturing();
  try {
    await migrate(db);
    const settings = defaultNudgeSettings();
    const events = Math.max(100, Math.round(FULL.auditEvents * scale));
    const firstHalfMs = await appendChain(db, Math.floor(events / 2));
    const verifyHalf = await verifyAt(db);
    const secondHalfMs = await appendChain(db, events - Math.floor(events / 2));
    const verifyFull = await verifyAt(db);
    const seeded = await seedRegister(db, scale);
    const baselinePingMs = await pingMs(db);

    // Heavy day: the backlog as imported (every ladder at its first rung), a new period for every control.
    const heavySweeps = await sweepsAt(database, HEAVY, settings);
    const heavyRun = await measured(() => watchingTransactions(() => runScheduledJob(db, { name: 'daily-nudges', run: dailyNudges }, HEAVY, settings)));
    // Then every open item's ladder where daily runs would have left it, and the day after: a quiet day.
    await ladderAsOf(db, '2026-12-20', settings);
    const quietSweeps = await sweepsAt(database, QUIET, settings);
    const quietRun = await measured(() => watchingTransactions(() => runScheduledJob(db, { name: 'daily-nudges', run: dailyNudges }, QUIET, settings)));
    // The same day once its work is committed: what each sweep costs to find that nothing (more) is due.
    const nothingDueSweeps = await sweepsAt(database, QUIET, settings);
    const commands = await throughRouter(database);
    const baselineLoadAll = await loadAllBaseline(db);

    const runTransactions = ({ value, ...watched }: Awaited<ReturnType<typeof watchingTransactions<unknown>>>) => ({ summary: value, ...watched });
    const slowest = (sweeps: Record<string, unknown>) => Object.entries(sweeps)
      .map(([name, s]) => ({ name, ms: (s as { ms: number }).ms })).sort((a, b) => b.ms - a.ms)[0];
    const seqScans = (sweeps: Record<string, unknown>) => Object.fromEntries(Object.entries(sweeps)
      .map(([name, s]) => [name, (s as { seqScansOverLargeTables: string[] }).seqScansOverLargeTables]).filter(([, v]) => v.length));
    return {
      scale,
      meaning: 'Sweep times are wall ms of one scheduler part (its queries, its nudges flushed, its audit events appended) in a transaction rolled back, so each sees the same register; '
        + 'dailyRun is the whole daily job committed (runScheduledJob), with the transactions it made, the longest of them and the longest advisory-lock (audit lock) hold. plans: EXPLAIN (ANALYZE, FORMAT JSON) of every statement the sweep sent, run afterwards in a rolled-back transaction; '
        + `seqScansOverLargeTables names a Seq Scan over a table of more than ${LARGE} rows. Heavy day ${HEAVY.toISOString()}: every open item one rung behind, `
        + `every control's new period, every overdue milestone due a reminder. Quiet day ${QUIET.toISOString()}: the day after, ladders where daily runs leave them. `
        + 'nothingDue: the quiet day\'s sweeps again once its daily run is committed, so each finds nothing left to send: the cost of looking, apart from the cost of each message. msPerMessage: a sweep\'s ms divided by the messages it queued. '
        + `The generated tables are vacuumed (VACUUM (ANALYZE), as autovacuum does a real register) after generation and before each day's sweeps; a sweep with vacuumedFirst has the tables named vacuumed just before it (the digest, an hour after the daily run). `
        + `verify: verifyAuditChain at half and all of the generated trail, with the peak RSS while it runs; baselineLoadAll reads the whole trail at once as verify did before.`,
      targetMs: TARGET_MS,
      baselinePingMs,
      seeded: { ...seeded, auditEvents: events, auditSeedMs: firstHalfMs + secondHalfMs },
      heavyDay: { dailyRun: { ms: heavyRun.ms, cpuMs: heavyRun.cpuMs, peakRssMb: heavyRun.peakRssMb, ...runTransactions(heavyRun.value) }, slowestSweep: slowest(heavySweeps), seqScans: seqScans(heavySweeps), sweeps: heavySweeps },
      quietDay: {
        dailyRun: { ms: quietRun.ms, cpuMs: quietRun.cpuMs, ...runTransactions(quietRun.value) }, slowestSweep: slowest(quietSweeps),
        allWithinTarget: Object.values(quietSweeps).every((s) => (s as { withinTarget: boolean }).withinTarget), seqScans: seqScans(quietSweeps), sweeps: quietSweeps,
      },
      nothingDue: {
        allWithinTarget: Object.values(nothingDueSweeps).every((s) => (s as { withinTarget: boolean }).withinTarget),
        slowestSweep: slowest(nothingDueSweeps), seqScans: seqScans(nothingDueSweeps), sweeps: nothingDueSweeps,
      },
      commands,
      verify: { rssMethod: RSS_METHOD, half: verifyHalf, full: verifyFull, baselineLoadAll },
    };
  } finally {
    capture.on = false;
    pg.Client.prototype.query = originalQuery;
    await database.close();
    // BENCH_SCALE_KEEP=1 leaves the generated register in place, to study plans on it with psql.
    if (process.env.BENCH_SCALE_KEEP === '1') console.error(`register kept in schema ${schema}`);
    else await admin.db.execute(sql.raw(`drop schema ${schema} cascade`));
    await admin.close();
  }
}
