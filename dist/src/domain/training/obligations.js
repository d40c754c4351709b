import { desc, eq, sql } from 'drizzle-orm';
import { people, trainingAttestations, trainingCourses } from '../../db/schema/index.js';
import { ROLE_LABELS } from '../../core/actor.js';
import { addDays } from '../../core/time.js';
/** Attestations expiring within this many days show up as "expiring" in lists and the to-do view. */
export const EXPIRY_WARNING_DAYS = 30;
/** The legal basis of the management body's own training. */
export const MANAGEMENT_BODY_BASIS = 'NIS2 Art. 20(2) / DORA Art. 5(4)';
/** A course with an audience role binds holders of that role; one without binds everyone in ISMS scope. */
export function courseAppliesTo(course, person) {
    if (course.audienceRole === null)
        return person.inScope;
    return (person.roles ?? []).includes(course.audienceRole);
}
export function audienceLabel(course) {
    if (course.audienceRole === null)
        return 'everyone in ISMS scope';
    const label = ROLE_LABELS[course.audienceRole] ?? course.audienceRole;
    return course.audienceRole === 'management_body' ? 'members of the management body' : `the ${label} role`;
}
export function trainingState(latest, today, warningDays = EXPIRY_WARNING_DAYS) {
    if (!latest)
        return 'due';
    if (latest.expiresOn < today)
        return 'expired';
    if (latest.expiresOn <= addDays(today, warningDays))
        return 'expiring';
    return 'valid';
}
/** How a person's standing on one course reads in a list. */
export function describeState(o) {
    switch (o.state) {
        case 'due': return 'due — not attested yet';
        case 'expired': return `due — expired on ${o.latest.expiresOn}`;
        case 'expiring': return `expires on ${o.latest.expiresOn} — attest again soon`;
        case 'valid': return `valid until ${o.latest.expiresOn}`;
    }
}
/** Each person's latest attestation of each course, keyed "person:course". */
async function latestAttestations(db, personId) {
    const latest = new Map();
    const attestations = await db.select().from(trainingAttestations)
        .where(personId === undefined ? undefined : eq(trainingAttestations.personId, personId))
        .orderBy(desc(trainingAttestations.completedOn), desc(trainingAttestations.id));
    for (const a of attestations) {
        const key = `${a.personId}:${a.courseId}`;
        if (!latest.has(key))
            latest.set(key, a);
    }
    return latest;
}
/** Every course that applies to the person, with their latest attestation and where they stand. */
export async function obligationsOf(db, personId, today) {
    const [person] = await db.select().from(people).where(eq(people.id, personId));
    if (!person)
        return [];
    const courses = await db.select().from(trainingCourses).orderBy(trainingCourses.code);
    const latest = await latestAttestations(db, personId);
    return courses.filter((c) => courseAppliesTo(c, person)).map((course) => {
        const attestation = latest.get(`${person.id}:${course.id}`);
        return { course, latest: attestation, state: trainingState(attestation, today) };
    });
}
/**
 * Who must attest what: every person with every course that applies to them (courseAppliesTo),
 * attested or not, by person and course code.
 */
export async function everyonesObligations(db, today, warningDays = EXPIRY_WARNING_DAYS) {
    const courses = await db.select().from(trainingCourses).orderBy(trainingCourses.code);
    if (courses.length === 0)
        return [];
    const everyone = await db.select().from(people).orderBy(people.id);
    const latest = await latestAttestations(db);
    return everyone.flatMap((person) => courses.filter((c) => courseAppliesTo(c, person)).map((course) => {
        const attestation = latest.get(`${person.id}:${course.id}`);
        return { person, course, latest: attestation, state: trainingState(attestation, today, warningDays) };
    }));
}
export async function findCourse(db, code) {
    const [course] = await db.select().from(trainingCourses).where(sql `lower(${trainingCourses.code}) = lower(${code.trim()})`);
    return course;
}
//# sourceMappingURL=obligations.js.map