import { daysBetween, localDate } from '../../core/time.js';
import { everyonesObligations, MANAGEMENT_BODY_BASIS, type PersonObligation } from '../../domain/training/obligations.js';
import { reminderCycle } from './ladder.js';
import { jobOf, type JobPart, type JobRun } from './run.js';

const legalBasisOf = (o: PersonObligation) => o.course.legalBasis ?? (o.course.audienceRole === 'management_body' ? MANAGEMENT_BODY_BASIS : null);

/**
 * Which round of reminders a person who never attested is in: one per `repeatEveryDays`, counted
 * from the day the obligation began (the later of the course's and the person's creation), so
 * each round nudges them once however often the job runs.
 */
function neverAttestedRound(run: JobRun, o: PersonObligation): number {
  const courseDay = localDate(o.course.createdAt, run.settings.timezone);
  const personDay = localDate(o.person.createdAt, run.settings.timezone);
  const since = daysBetween(courseDay > personDay ? courseDay : personDay, run.today);
  return Math.floor(Math.max(0, since) / run.settings.repeatEveryDays);
}

/**
 * (5) Reminds everyone a course applies to (see courseAppliesTo) about it: people who never attested
 * it once every `repeatEveryDays`, and people whose latest attestation is about to expire at each of
 * `trainingReminderDays` before expiry, and once when it has expired. The management body's course
 * is annual (validity 12 months), so its members are reminded every year. People on leave are skipped.
 */
export const remindTrainingObligations: JobPart = async (run) => {
  for (const o of await everyonesObligations(run.db, run.today)) {
    if (run.isPaused(o.person)) continue;
    const { course, person, latest } = o;
    const basis = legalBasisOf(o);
    const nudge = { recipientId: person.id, itemRef: course.code, kind: 'training', button: { label: 'Attest', command: `attest ${course.code}`, style: 'primary' as const } };
    if (!latest) {
      run.count('training never attested');
      run.hold({
        ...nudge,
        key: `training:${course.code}:${person.id}:never:r${neverAttestedRound(run, o)}`,
        title: `${course.code} ${course.title}: you have not attested this training yet`,
        detail: basis ? `required by ${basis}; attest once you have completed it` : 'attest once you have completed it',
      });
      continue;
    }
    const daysLeft = daysBetween(run.today, latest.expiresOn);
    const cycle = reminderCycle(daysLeft, run.settings.trainingReminderDays);
    if (!cycle) continue;
    run.count('training reminders');
    run.hold({
      ...nudge,
      key: `training:${course.code}:${person.id}:${latest.expiresOn}:${cycle}`,
      title: `${course.code} ${course.title}: ${daysLeft < 0 ? `your training expired on ${latest.expiresOn}` : daysLeft === 0
        ? 'your training expires today' : `your training expires in ${daysLeft} day${daysLeft === 1 ? '' : 's'} (${latest.expiresOn})`}`,
      detail: basis ? `required by ${basis}; attest again once you have renewed it` : 'attest again once you have renewed it',
    });
  }
};

export const remindTraining = jobOf(remindTrainingObligations);
