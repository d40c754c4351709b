import { inArray, sql } from 'drizzle-orm';
import { people } from '../../db/schema/index.js';
import { appendAudit } from '../../core/audit.js';
import { NudgeBatch } from '../batch.js';
import { localDate } from '../../core/time.js';
/** How the scheduler signs the audit trail. */
export const SCHEDULER_ACTOR = { id: null, label: 'ISMS scheduler' };
/** What one part of a run works with: its transaction, the run's clock, and the batch of nudges. */
export class JobRun {
    tx;
    now;
    settings;
    today;
    batch;
    summary = {};
    people = new Map();
    leadList;
    constructor(tx, now, settings) {
        this.tx = tx;
        this.now = now;
        this.settings = settings;
        this.today = localDate(now, settings.timezone);
        this.batch = new NudgeBatch(now, settings, this.today);
    }
    count(what, n = 1) {
        this.summary[what] = (this.summary[what] ?? 0) + n;
    }
    audit(input) {
        return appendAudit(this.tx, SCHEDULER_ACTOR, input, this.now);
    }
    /** People by id, loaded once per run. */
    async person(id) {
        if (!this.people.has(id))
            await this.loadPeople([id]);
        return this.people.get(id);
    }
    async loadPeople(ids) {
        const missing = [...new Set(ids)].filter((id) => !this.people.has(id));
        if (missing.length === 0)
            return;
        for (const p of await this.tx.select().from(people).where(inArray(people.id, missing)))
            this.people.set(p.id, p);
    }
    async leads() {
        this.leadList ??= await this.tx.select().from(people).where(sql `'isms_lead' = any(${people.roles})`).orderBy(people.id);
        for (const p of this.leadList)
            this.people.set(p.id, p);
        return this.leadList;
    }
    /** On leave right now: repeating reminders skip them, and their items' ladders wait. */
    isPaused(person) {
        return person.pausedUntil !== null && person.pausedUntil > this.now;
    }
}
/**
 * Runs parts in one transaction and sends each person one message for all they were nudged about:
 * every change (a new request, an escalation) commits together with the messages it causes.
 */
export function jobOf(...parts) {
    return (db, now, settings) => db.transaction(async (tx) => {
        const run = new JobRun(tx, now, settings);
        for (const part of parts)
            await part(run);
        const { messages, nudges } = await run.batch.flush(tx);
        return { ...run.summary, messages, nudges };
    });
}
//# sourceMappingURL=run.js.map