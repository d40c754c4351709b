import { desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { people, trainingAttestations, trainingCourses, type Role } from '../../db/schema/index.js';
import { ROLE_LABELS } from '../../core/actor.js';
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

/** A course with an audience role binds holders of that role; one without binds everyone in ISMS scope. */
export function courseAppliesTo(course: Course, person: Person): boolean {
  if (course.audienceRole === null) return person.inScope;
  return (person.roles ?? []).includes(course.audienceRole as Role);
}

export function audienceLabel(course: Course): string {
  if (course.audienceRole === null) return 'everyone in ISMS scope';
  const label = ROLE_LABELS[course.audienceRole as Role] ?? course.audienceRole;
  return course.audienceRole === 'management_body' ? 'members of the management body' : `the ${label} role`;
}

export function trainingState(latest: Attestation | undefined, today: string): TrainingState {
  if (!latest) return 'due';
  if (latest.expiresOn < today) return 'expired';
  if (latest.expiresOn <= addDays(today, EXPIRY_WARNING_DAYS)) return 'expiring';
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

/** Every course that applies to the person, with their latest attestation and where they stand. */
export async function obligationsOf(db: Db, personId: number, today: string): Promise<Obligation[]> {
  const [person] = await db.select().from(people).where(eq(people.id, personId));
  if (!person) return [];
  const courses = await db.select().from(trainingCourses).orderBy(trainingCourses.code);
  const latestByCourse = new Map<number, Attestation>();
  const attestations = await db.select().from(trainingAttestations)
    .where(eq(trainingAttestations.personId, personId))
    .orderBy(desc(trainingAttestations.completedOn), desc(trainingAttestations.id));
  for (const a of attestations) if (!latestByCourse.has(a.courseId)) latestByCourse.set(a.courseId, a);
  return courses.filter((c) => courseAppliesTo(c, person)).map((course) => {
    const latest = latestByCourse.get(course.id);
    return { course, latest, state: trainingState(latest, today) };
  });
}

export async function findCourse(db: Db, code: string): Promise<Course | undefined> {
  const [course] = await db.select().from(trainingCourses).where(sql`lower(${trainingCourses.code}) = lower(${code.trim()})`);
  return course;
}
