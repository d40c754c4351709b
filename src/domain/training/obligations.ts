import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { people, trainingAttestations, trainingCourses, trainingStanding, type Role } from '../../db/schema/index.js';
import { ROLE_LABELS } from '../../core/actor.js';
import { rows } from '../../db/migrate.js';
import { addDays } from '../../core/time.js';

export type Course = typeof trainingCourses.$inferSelect;
export type Attestation = typeof trainingAttestations.$inferSelect;
type Person = Pick<typeof people.$inferSelect, 'roles' | 'inScope'>;

/** Attestations expiring within this many days show up as "expiring" in lists and the to-do view. */
export const EXPIRY_WARNING_DAYS = 30;

/** The legal basis of the management body's own training. */
export const MANAGEMENT_BODY_BASIS = 'NIS2 Art. 20(2) / DORA Art. 5(4)';

export type TrainingState = 'due' | 'expired' | 'expiring' | 'valid';

export interface Obligation {
  course: Course;
  latest?: Attestation;
  state: TrainingState;
}

/**
 * A course with an audience role binds holders of that role; one without binds everyone in ISMS scope.
 * The same rule is written in SQL in the triggers of migrations 0028 and 0030.
 */
export function courseAppliesTo(course: Course, person: Person): boolean {
  if (course.audienceRole === null) return person.inScope;
  return (person.roles ?? []).includes(course.audienceRole as Role);
}

export function audienceLabel(course: Course): string {
  if (course.audienceRole === null) return 'everyone in ISMS scope';
  const label = ROLE_LABELS[course.audienceRole as Role] ?? course.audienceRole;
  return course.audienceRole === 'management_body' ? 'members of the management body' : `the ${label} role`;
}

export function trainingState(latest: Attestation | undefined, today: string, warningDays = EXPIRY_WARNING_DAYS): TrainingState {
  if (!latest) return 'due';
  if (latest.expiresOn < today) return 'expired';
  if (latest.expiresOn <= addDays(today, warningDays)) return 'expiring';
  return 'valid';
}

/** How a person's standing on one course reads in a list. */
export function describeState(o: Obligation): string {
  switch (o.state) {
    case 'due': return 'due — not attested yet';
    case 'expired': return `due — expired on ${o.latest!.expiresOn}`;
    case 'expiring': return `expires on ${o.latest!.expiresOn} — attest again soon`;
    case 'valid': return `valid until ${o.latest!.expiresOn}`;
  }
}

/**
 * Every course that applies to the person, with their latest attestation and where they stand. One
 * read: each course beside the person (whose roles and scope decide whether it applies) and their
 * latest attestation of it.
 */
export async function obligationsOf(db: Db, personId: number, today: string): Promise<Obligation[]> {
  const a = trainingAttestations;
  const latest = db.select().from(a).where(and(eq(a.personId, personId), eq(a.courseId, trainingCourses.id)))
    .orderBy(desc(a.completedOn), desc(a.id)).limit(1).as('latest');
  const found = await db.select({ course: trainingCourses, roles: people.roles, inScope: people.inScope, latest: latest._.selectedFields })
    .from(trainingCourses).innerJoin(people, eq(people.id, personId)).leftJoinLateral(latest, sql`true`)
    // In code order as both databases compare codes (character by character), whatever the server's locale.
    .orderBy(sql`${trainingCourses.code} collate "C"`);
  return found.filter((row) => courseAppliesTo(row.course, row)).map(({ course, latest: attestation }) => ({
    course, latest: attestation ?? undefined, state: trainingState(attestation ?? undefined, today),
  }));
}

/**
 * Each course's completion, counted in the database: how many people it applies to (courseAppliesTo)
 * and how many of them hold a valid attestation today (their latest one not expired; expiring is still
 * valid), in course code order. Courses nobody is bound to are left out. Counted from where each person
 * stands (training_standing, kept by triggers) through its index, course by course: no attestation and
 * no person is read, however many the register holds.
 */
export async function courseCompletion(db: Db, today: string): Promise<{ code: string; done: number; expected: number }[]> {
  return rows<{ code: string; done: number; expected: number }>(await db.execute(sql`
    select c.code, n.expected, n.done from ${trainingCourses} c
    cross join lateral (
      select count(*)::int as expected, (count(*) filter (where s.expires_on >= ${today}::date))::int as done
      from ${trainingStanding} s where s.course_id = c.id and s.applies
    ) n
    where n.expected > 0 order by c.code collate "C"`));
}

export async function findCourse(db: Db, code: string): Promise<Course | undefined> {
  const [course] = await db.select().from(trainingCourses).where(sql`lower(${trainingCourses.code}) = lower(${code.trim()})`);
  return course;
}
