import { and, eq, inArray, isNotNull, ne } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { controls, evidenceRequests } from '../../db/schema/index.js';
import { nextRef } from '../../core/refs.js';
import { daysBetween } from '../../core/time.js';
import { climbLadder, dueText } from './ladder.js';
import { jobOf } from './run.js';
/** The period of the frequency that contains the date. */
export function periodOf(isoDay, frequency) {
    const d = DateTime.fromISO(isoDay, { zone: 'utc' });
    switch (frequency) {
        case 'monthly':
            return { id: d.toFormat('yyyy-MM'), dueOn: d.endOf('month').toISODate() };
        case 'quarterly':
            return { id: `${d.year}-Q${d.quarter}`, dueOn: d.endOf('quarter').toISODate() };
        case 'semiannual': {
            const half = d.month <= 6 ? 1 : 2;
            return { id: `${d.year}-H${half}`, dueOn: d.set({ month: half * 6 }).endOf('month').toISODate() };
        }
        case 'yearly':
            return { id: String(d.year), dueOn: d.endOf('year').toISODate() };
    }
}
/** This period and the next, so a long lead time still sees the coming due date. */
function periodsAround(isoDay, frequency) {
    const current = periodOf(isoDay, frequency);
    const next = periodOf(DateTime.fromISO(current.dueOn, { zone: 'utc' }).plus({ days: 1 }).toISODate(), frequency);
    return [current, next];
}
/**
 * (1) Creates each control's evidence request for its coming period, `evidenceLeadDays` before the
 * period ends, and tells the owner. One request per control and cycle: a re-run creates nothing twice.
 */
export const createDueEvidenceRequests = async (run) => {
    const due = await run.tx.select().from(controls).where(and(eq(controls.applicable, true), isNotNull(controls.ownerId), ne(controls.evidenceFrequency, 'on_demand'))).orderBy(controls.code);
    for (const control of due) {
        for (const period of periodsAround(run.today, control.evidenceFrequency)) {
            const daysLeft = daysBetween(run.today, period.dueOn);
            if (daysLeft < 0 || daysLeft > run.settings.evidenceLeadDays)
                continue;
            const [existing] = await run.tx.select({ id: evidenceRequests.id }).from(evidenceRequests)
                .where(and(eq(evidenceRequests.controlId, control.id), eq(evidenceRequests.cycle, period.id)));
            if (existing)
                continue;
            const ref = await nextRef(run.tx, 'EVR');
            const [request] = await run.tx.insert(evidenceRequests).values({
                ref, controlId: control.id, ownerId: control.ownerId, dueOn: period.dueOn, cycle: period.id, createdAt: run.now,
            }).returning();
            await run.audit({ action: 'request', entity: 'evidence_request', entityRef: ref, after: request });
            run.count('evidence requests created');
            run.batch.add({
                recipientId: request.ownerId, key: `evidence_request:${ref}:${request.ownerId}:requested`, itemRef: ref, kind: 'evidence_request',
                title: `${ref} New evidence request: show that ${control.code} ${control.title} works for ${period.id}`,
                detail: dueText(period.dueOn, run.today),
                button: { label: 'Submit evidence', command: `evidence submit ${ref}`, style: 'primary' },
            });
        }
    }
};
/** (2) Reminds owners of open evidence requests before and after the due date, and escalates. */
export const climbEvidenceLadders = async (run) => {
    const open = await run.tx.select({ request: evidenceRequests, control: controls }).from(evidenceRequests)
        .innerJoin(controls, eq(controls.id, evidenceRequests.controlId))
        .where(eq(evidenceRequests.status, 'open')).orderBy(evidenceRequests.id);
    await run.loadPeople(open.map((r) => r.request.ownerId));
    for (const { request, control } of open) {
        // Just created by this run: the owner was told a moment ago.
        if (request.createdAt.getTime() === run.now.getTime())
            continue;
        await climbLadder(run, {
            kind: 'evidence_request', ref: request.ref, ownerId: request.ownerId, dueOn: request.dueOn, escalationLevel: request.escalationLevel,
            what: `evidence that ${control.code} ${control.title} works (${request.cycle})`,
            ownerButton: { label: 'Submit evidence', command: `evidence submit ${request.ref}`, style: 'primary' },
            leadButton: { label: 'Evidence register', command: 'register evidence' },
            advance: async (from) => (await run.tx.update(evidenceRequests).set({ escalationLevel: from + 1 })
                .where(and(eq(evidenceRequests.id, request.id), eq(evidenceRequests.escalationLevel, from), inArray(evidenceRequests.status, ['open'])))
                .returning({ id: evidenceRequests.id })).length > 0,
        });
    }
};
export const createEvidenceRequests = jobOf(createDueEvidenceRequests);
export const remindEvidence = jobOf(climbEvidenceLadders);
//# sourceMappingURL=evidence.js.map