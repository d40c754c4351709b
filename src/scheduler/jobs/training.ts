import { desc, eq } from 'drizzle-orm';
import { people, trainingAttestations, trainingCourses, type Role } from '../../db/schema/index.js';
import { daysBetween } from '../../core/time.js';
import { reminderCycle } from './ladder.js';
import { jobOf, type JobPart } from './run.js';

/**
 * (5) Reminds people whose latest attestation of a course that applies to them is about to expire
 * (at each of `trainingReminderDays` before expiry, and once when it has expired). The management
 * body's course is annual (validity 12 months), so its members are reminded every year.
 */
export const remindExpiringTraining: JobPart = async (run) => {
  const courses = await run.tx.select().from(trainingCourses).orderBy(trainingCourses.code);
  if (courses.length === 0) return;
  const latest = new Map<string, typeof trainingAttestations.$inferSelect>();
  const attestations = await run.tx.select().from(trainingAttestations)
    .orderBy(desc(trainingAttestations.expiresOn), desc(trainingAttestations.id));
  for (const a of attestations) if (!latest.has(`${a.personId}:${a.courseId}`)) latest.set(`${a.personId}:${a.courseId}`, a);
  const everyone = await run.tx.select().from(people).where(eq(people.inScope, true)).orderBy(people.id);
  for (const person of everyone) {
    if (run.isPaused(person)) continue;
    for (const course of courses) {
      if (course.audienceRole !== null && !person.roles.includes(course.audienceRole as Role)) continue;
      const attestation = latest.get(`${person.id}:${course.id}`);
      if (!attestation) continue;
      const daysLeft = daysBetween(run.today, attestation.expiresOn);
      const cycle = reminderCycle(daysLeft, run.settings.trainingReminderDays);
      if (!cycle) continue;
      run.count('training reminders');
      run.batch.add({
        recipientId: person.id, itemRef: course.code, kind: 'training',
        key: `training:${course.code}:${person.id}:${attestation.expiresOn}:${cycle}`,
        title: `${course.code} ${course.title}: ${daysLeft < 0 ? `your training expired on ${attestation.expiresOn}` : daysLeft === 0
          ? 'your training expires today' : `your training expires in ${daysLeft} day${daysLeft === 1 ? '' : 's'} (${attestation.expiresOn})`}`,
        detail: course.legalBasis ? `required by ${course.legalBasis}; attest again once you have renewed it` : 'attest again once you have renewed it',
        button: { label: 'Attest', command: `attest ${course.code}`, style: 'primary' },
      });
    }
  }
};

export const remindTraining = jobOf(remindExpiringTraining);
