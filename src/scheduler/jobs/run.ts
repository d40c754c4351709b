import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { people } from '../../db/schema/index.js';
import { appendAuditMany, type AuditInput } from '../../core/audit.js';
import type { Person } from '../../core/actor.js';
import { NudgeBatch, SCHEDULER_ACTOR, sendNudges, type Claim, type HeldNudges, type Nudge } from '../batch.js';
import type { NudgeSettings } from '../settings.js';
import { localDate } from '../../core/time.js';

export { SCHEDULER_ACTOR };

export type JobSummary = Record<string, number>;

/** A scheduled job: a plain function of the register, the clock and the settings; node-cron only calls it. */
export type Job = (db: Db, now: Date, settings: NudgeSettings) => Promise<JobSummary>;

/** Rows one transaction of a run changes at most: the run commits in batches, so commands interleave. */
export const RUN_BATCH = 500;

/**
 * What one part of a run works with: the database, the run's clock, and the nudges. A part reads
 * outside transactions and makes its changes in steps (see step), each a bounded batch.
 */
export class JobRun {
  readonly today: string;
  readonly batch: NudgeBatch;
  readonly summary: JobSummary = {};
  private readonly people = new Map<number, Person>();
  private readonly events: AuditInput[] = [];
  /** Nudges sent at the run's end, each person's with their staged ones (see hold). */
  readonly held: HeldNudges[] = [];
  private leadList?: Person[];
  /** The transaction of the step running now: reads made during it go through it (PGlite has one connection). */
  private current?: Db;

  constructor(readonly db: Db, readonly now: Date, readonly settings: NudgeSettings) {
    this.today = localDate(now, settings.timezone);
    this.batch = new NudgeBatch(now, settings, this.today);
  }

  count(what: string, n = 1): void {
    this.summary[what] = (this.summary[what] ?? 0) + n;
  }

  /** Records an audit event of this run; they are appended, in order, when the current step commits. */
  audit(input: AuditInput): Promise<void> {
    this.events.push(input);
    return Promise.resolve();
  }

  /**
   * One batch of a part in a transaction of its own: its changes, the nudges they cause (staged) and
   * their audit events commit together, or none of them. The audit lock, which every write of the bot
   * waits for, is taken last and held for that append alone. Without `work`, stages the nudges added.
   */
  async step<T>(work?: (tx: Db) => Promise<T>): Promise<T | undefined> {
    if (!work && this.batch.size === 0 && this.events.length === 0) return undefined;
    return this.db.transaction(async (tx) => {
      this.current = tx;
      try {
        const out = await work?.(tx);
        await this.batch.stage(tx);
        await appendAuditMany(tx, SCHEDULER_ACTOR, this.events.splice(0), this.now);
        return out;
      } finally {
        // A failed step rolls back: what it collected goes with it.
        this.events.length = 0;
        this.batch.clear();
        this.current = undefined;
      }
    });
  }

  /**
   * Nudges sent at the run's end without being staged first: a reminder that changes nothing (a re-run
   * decides it again, and its key keeps it from going twice), or the nudges of one change, `claim`, made
   * in the transaction that queues all their messages, so a run stopped before that leaves it due.
   */
  hold(nudges: Nudge | Nudge[], claim?: Claim): void {
    const all = Array.isArray(nudges) ? nudges : [nudges];
    if (all.length > 0) this.held.push({ nudges: all, claim });
  }

  /** People by id, loaded once per run. */
  async person(id: number): Promise<Person | undefined> {
    if (!this.people.has(id)) await this.loadPeople([id]);
    return this.people.get(id);
  }

  /** A person already loaded by this run. */
  known(id: number): Person | undefined {
    return this.people.get(id);
  }

  async loadPeople(ids: number[]): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.people.has(id));
    if (missing.length === 0) return;
    // One array parameter per chunk: a few thousand ids at once (a heavy day's owners) the planner reads
    // by scanning the whole table, while a chunk's are read by the primary key.
    for (let i = 0; i < missing.length; i += PEOPLE_CHUNK) {
      const part = missing.slice(i, i + PEOPLE_CHUNK);
      const found = await (this.current ?? this.db).select().from(people).where(sql`${people.id} = any(${`{${part.join(',')}}`}::int[])`);
      for (const p of found) this.people.set(p.id, p);
    }
  }

  async leads(): Promise<Person[]> {
    this.leadList ??= await (this.current ?? this.db).select().from(people).where(sql`${people.roles} @> array['isms_lead']::text[]`).orderBy(people.id);
    for (const p of this.leadList) this.people.set(p.id, p);
    return this.leadList;
  }

  /** On leave right now: repeating reminders skip them, and their items' ladders wait. */
  isPaused(person: Person): boolean {
    return person.pausedUntil !== null && person.pausedUntil > this.now;
  }
}

/** People read per statement (see loadPeople). */
const PEOPLE_CHUNK = 1000;

export type JobPart = (run: JobRun) => Promise<void>;

/**
 * Runs parts one after another, each committing in bounded batches (every change, such as a new request,
 * with the nudges it causes, staged) or holding its nudges with the change they are about, such as an
 * escalation (see hold), then sends each person one message for all they were nudged about. Stopped at any point, a re-run does what is left and
 * sends each nudge once.
 */
export function jobOf(...parts: JobPart[]): Job {
  return async (db, now, settings) => {
    const run = new JobRun(db, now, settings);
    for (const part of parts) {
      await part(run);
      await run.step();
    }
    const { messages, nudges } = await sendNudges(db, now, settings, run.today, run.held);
    return { ...run.summary, messages, nudges };
  };
}
