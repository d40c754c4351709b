import { and, eq, isNotNull, sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { controls, evidenceRequests, EVIDENCE_FREQUENCIES } from '../../db/schema/index.js';
import { nextRefs } from '../../core/refs.js';
import { daysBetween } from '../../core/time.js';
import { advanceLevels, climbLadders, dueText, intArray, LADDER_COLUMNS, ladderStepsDue, type LadderItem } from './ladder.js';
import { rows } from '../../db/migrate.js';
import { jobOf, RUN_BATCH, type JobPart } from './run.js';
import { periodInWords } from '../../domain/evidence/words.js';

type Frequency = Exclude<(typeof EVIDENCE_FREQUENCIES)[number], 'on_demand'>;

/** An evidence period: "2026-05", "2026-Q4", "2026-H2" or "2026"; evidence for it is due on its last day. */
export interface EvidencePeriod { id: string; dueOn: string }

/** The period of the frequency that contains the date. */
export function periodOf(isoDay: string, frequency: Frequency): EvidencePeriod {
  const d = DateTime.fromISO(isoDay, { zone: 'utc' });
  switch (frequency) {
    case 'monthly':
      return { id: d.toFormat('yyyy-MM'), dueOn: d.endOf('month').toISODate()! };
    case 'quarterly':
      return { id: `${d.year}-Q${d.quarter}`, dueOn: d.endOf('quarter').toISODate()! };
    case 'semiannual': {
      const half = d.month <= 6 ? 1 : 2;
      return { id: `${d.year}-H${half}`, dueOn: d.set({ month: half * 6 }).endOf('month').toISODate()! };
    }
    case 'yearly':
      return { id: String(d.year), dueOn: d.endOf('year').toISODate()! };
  }
}

/** This period and the next, so a long lead time still sees the coming due date. */
function periodsAround(isoDay: string, frequency: Frequency): EvidencePeriod[] {
  const current = periodOf(isoDay, frequency);
  const next = periodOf(DateTime.fromISO(current.dueOn, { zone: 'utc' }).plus({ days: 1 }).toISODate()!, frequency);
  return [current, next];
}

/** An open request, in SQL that the partial indexes' predicate matches. */
const OPEN = sql`status = 'open'`;

/**
 * (1) Creates each control's evidence request for its coming period, `evidenceLeadDays` before the
 * period ends, and tells the owner. One request per control and cycle: a re-run creates nothing twice.
 * One query finds every control whose period is in the lead window and has no request yet.
 */
export const createDueEvidenceRequests: JobPart = async (run) => {
  const windows = (['monthly', 'quarterly', 'semiannual', 'yearly'] as Frequency[]).flatMap((frequency) =>
    periodsAround(run.today, frequency).map((period, ord) => ({ frequency, ord, ...period })))
    .filter((p) => {
      const daysLeft = daysBetween(run.today, p.dueOn);
      return daysLeft >= 0 && daysLeft <= run.settings.evidenceLeadDays;
    });
  if (windows.length === 0) return;
  const periods = sql`(values ${sql.join(windows.map((w) => sql`(${w.frequency}, ${w.ord}::int, ${w.id}, ${w.dueOn}::date)`), sql`, `)})`;
  const due = await run.db.select({ control: controls, cycle: sql<string>`p.cycle`, dueOn: sql<string>`p.due_on::text` })
    .from(controls)
    .innerJoin(sql`${periods} as p(frequency, ord, cycle, due_on)`, sql`p.frequency = ${controls.evidenceFrequency}`)
    .where(and(
      eq(controls.applicable, true), isNotNull(controls.ownerId),
      // The cycles named outright let the (cycle, control_id) index answer, rather than a scan of every request.
      sql`not exists (select 1 from ${evidenceRequests} r where r.cycle in (${sql.join(windows.map((w) => sql`${w.id}`), sql`, `)}) and r.cycle = p.cycle and r.control_id = ${controls.id})`,
    ))
    .orderBy(controls.code, sql`p.ord`);
  if (due.length === 0) return;
  // A batch of requests per transaction: created, audited and their owners' nudges staged together.
  for (let i = 0; i < due.length; i += RUN_BATCH) {
    await run.step(async (tx) => {
      const part = due.slice(i, i + RUN_BATCH);
      const refs = await nextRefs(tx, 'EVR', part.length);
      const created = await tx.insert(evidenceRequests).values(part.map(({ control, cycle, dueOn }, j) => ({
        ref: refs[j], controlId: control.id, ownerId: control.ownerId!, dueOn, cycle, createdAt: run.now,
      }))).returning();
      const byRef = new Map(created.map((r) => [r.ref, r]));
      for (const [j, { control }] of part.entries()) {
        const request = byRef.get(refs[j])!;
        const ref = request.ref;
        await run.audit({ action: 'request', entity: 'evidence_request', entityRef: ref, after: request });
        run.count('evidence requests created');
        run.batch.add({
          recipientId: request.ownerId, key: `evidence_request:${ref}:${request.ownerId}:requested`, itemRef: ref, kind: 'evidence_request',
          title: `${ref} New evidence request: show that ${control.code} ${control.title} works for ${request.cycle}`,
          detail: dueText(request.dueOn, run.today),
          button: { label: 'Submit evidence', command: `evidence submit ${ref}`, style: 'primary' },
        });
      }
    });
  }
};

/**
 * (2) Reminds owners of open evidence requests before and after the due date, and escalates. Only
 * the requests whose next step is due today are read.
 */
export const climbEvidenceLadders: JobPart = async (run) => {
  // Not those created today: the owner was told of it today (by this run, by an earlier run of the day
  // re-run since, or by the ISMS lead's request), and hears of it again from tomorrow.
  const startOfToday = DateTime.fromISO(run.today, { zone: run.settings.timezone }).startOf('day').toJSDate();
  const notJustCreated = sql`${OPEN} and created_at < ${startOfToday.toISOString()}::timestamptz`;
  const due = rows<Pick<LadderItem, 'id' | 'ref' | 'ownerId' | 'dueOn' | 'escalationLevel'> & { controlId: number; cycle: string }>(await run.db.execute(sql`
    ${ladderStepsDue(evidenceRequests, notJustCreated, run.today, run.settings.ladderDays, sql`${LADDER_COLUMNS}, control_id as "controlId", cycle`)} order by id`));
  if (due.length === 0) return;
  // Apart, and only when some are due: joined in, the planner hashes every control even on a day with none due.
  const named = new Map((await run.db.select({ id: controls.id, code: controls.code, title: controls.title }).from(controls)
    .where(sql`${controls.id} = any(${intArray([...new Set(due.map((r) => r.controlId))])})`)).map((c) => [c.id, c]));
  await climbLadders(run, due.map(({ controlId, cycle, ...request }) => {
    const control = named.get(controlId)!;
    return {
      ...request, kind: 'evidence_request',
      what: `evidence that ${control.code} ${control.title} works (${periodInWords(cycle)})`,
      ownerButton: { label: 'Submit evidence', command: `evidence submit ${request.ref}`, style: 'primary' },
      leadButton: { label: 'Evidence register', command: 'register evidence' },
    };
  }), (tx, items) => advanceLevels(tx, evidenceRequests, items, OPEN, run.today));
};

export const createEvidenceRequests = jobOf(createDueEvidenceRequests);
export const remindEvidence = jobOf(climbEvidenceLadders);
