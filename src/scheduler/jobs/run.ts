import { inArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { people } from '../../db/schema/index.js';
import { appendAuditMany, type AuditInput } from '../../core/audit.js';
import type { Person } from '../../core/actor.js';
import { NudgeBatch } from '../batch.js';
import type { NudgeSettings } from '../settings.js';
import { localDate } from '../../core/time.js';

/** How the scheduler signs the audit trail. */
export const SCHEDULER_ACTOR = { id: null, label: 'ISMS scheduler' };

export type JobSummary = Record<string, number>;

/** A scheduled job: a plain function of the register, the clock and the settings; node-cron only calls it. */
export type Job = (db: Db, now: Date, settings: NudgeSettings) => Promise<JobSummary>;

/** What one part of a run works with: its transaction, the run's clock, and the batch of nudges. */
export class JobRun {
  readonly today: string;
  readonly batch: NudgeBatch;
  readonly summary: JobSummary = {};
  private readonly people = new Map<number, Person>();
  private readonly events: AuditInput[] = [];
  private leadList?: Person[];

  constructor(readonly tx: Db, readonly now: Date, readonly settings: NudgeSettings) {
    this.today = localDate(now, settings.timezone);
    this.batch = new NudgeBatch(now, settings, this.today);
  }

  count(what: string, n = 1): void {
    this.summary[what] = (this.summary[what] ?? 0) + n;
  }

  /** Records an audit event of this run; they are appended, in order, when the run ends (see jobOf). */
  audit(input: AuditInput): Promise<void> {
    this.events.push(input);
    return Promise.resolve();
  }

  /**
   * Appends the run's audit events just before it commits: the audit lock, which every write of the
   * bot waits for, is held for that append alone, never while the run looks for work.
   */
  async appendAudits(): Promise<void> {
    await appendAuditMany(this.tx, SCHEDULER_ACTOR, this.events.splice(0), this.now);
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
    for (const p of await this.tx.select().from(people).where(inArray(people.id, missing))) this.people.set(p.id, p);
  }

  async leads(): Promise<Person[]> {
    this.leadList ??= await this.tx.select().from(people).where(sql`${people.roles} @> array['isms_lead']::text[]`).orderBy(people.id);
    for (const p of this.leadList) this.people.set(p.id, p);
    return this.leadList;
  }

  /** On leave right now: repeating reminders skip them, and their items' ladders wait. */
  isPaused(person: Person): boolean {
    return person.pausedUntil !== null && person.pausedUntil > this.now;
  }
}

export type JobPart = (run: JobRun) => Promise<void>;

/**
 * Runs parts in one transaction and sends each person one message for all they were nudged about:
 * every change (a new request, an escalation) commits together with the messages it causes.
 */
export function jobOf(...parts: JobPart[]): Job {
  return (db, now, settings) => db.transaction(async (tx) => {
    const run = new JobRun(tx, now, settings);
    for (const part of parts) await part(run);
    const { messages, nudges } = await run.batch.flush(tx);
    await run.appendAudits();
    return { ...run.summary, messages, nudges };
  });
}
