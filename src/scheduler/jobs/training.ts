import { sql } from 'drizzle-orm';
import { daysBetween } from '../../core/time.js';
import { nudgeLog, trainingAttestations, trainingCourses } from '../../db/schema/index.js';
import { rows } from '../../db/migrate.js';
import { MANAGEMENT_BODY_BASIS, obligationsFrom, type Course } from '../../domain/training/obligations.js';
import { jobOf, type JobPart, type JobRun } from './run.js';

const legalBasisOf = (course: Course) => course.legalBasis ?? (course.audienceRole === 'management_body' ? MANAGEMENT_BODY_BASIS : null);

/** A course's obligation someone has, due a reminder today: who, which course, their latest attestation, the reminder's key. */
interface DueObligation { personId: number; courseId: number; attestationId: number | null; key: string }

/**
 * The obligations due a reminder today, found in the database: the people a course applies to (as
 * courseAppliesTo says) who are not on leave, each with their latest attestation, whose reminder of
 * today's round or threshold is not in the nudge log yet. Someone who never attested is in one round
 * per `repeatEveryDays`, counted from the day the obligation began (the later of the course's and the
 * person's creation, on the organisation's calendar); an attestation is at the nearest of
 * `trainingReminderDays` it has reached before expiry, or expired. A day with nothing new to remind
 * reads no obligation, however many people and courses the register holds.
 */
async function obligationsDue(run: JobRun): Promise<DueObligation[]> {
  const { today, now, settings } = run;
  const ahead = [...new Set(settings.trainingReminderDays.filter((d) => d >= 0))];
  const farthest = ahead.length ? Math.max(...ahead) : -1;
  return rows<DueObligation>(await run.db.execute(sql`
    with obligation as (
      select p.id as person_id, c.id as course_id, c.code, l.id as attestation_id, l.expires_on,
        ${today}::date - greatest((c.created_at at time zone ${settings.timezone})::date, (p.created_at at time zone ${settings.timezone})::date) as days_since,
        l.expires_on - ${today}::date as days_left
      from ${obligationsFrom}
      where p.paused_until is null or p.paused_until <= ${now.toISOString()}::timestamptz
    ), keyed as (
      select person_id, course_id, code, attestation_id, case
        when attestation_id is null then 'training:' || code || ':' || person_id || ':never:r' || (greatest(days_since, 0) / ${settings.repeatEveryDays})
        when days_left < 0 then 'training:' || code || ':' || person_id || ':' || expires_on::text || ':late'
        else 'training:' || code || ':' || person_id || ':' || expires_on::text || ':d'
          || (select min(d) from unnest(${`{${ahead.join(',')}}`}::int[]) d where days_left <= d)
      end as key
      from obligation
      where attestation_id is null or days_left <= ${farthest}
    )
    select person_id as "personId", course_id as "courseId", attestation_id as "attestationId", key from keyed
    where not exists (select 1 from ${nudgeLog} n where n.key = keyed.key)
    order by person_id, code`));
}

/**
 * (5) Reminds everyone a course applies to (see courseAppliesTo) about it: people who never attested
 * it once every `repeatEveryDays`, and people whose latest attestation is about to expire at each of
 * `trainingReminderDays` before expiry, and once when it has expired. The management body's course
 * is annual (validity 12 months), so its members are reminded every year. People on leave are skipped.
 */
export const remindTrainingObligations: JobPart = async (run) => {
  const due = await obligationsDue(run);
  if (due.length === 0) return;
  const courses = new Map((await run.db.select().from(trainingCourses)).map((c) => [c.id, c]));
  await run.loadPeople(due.map((o) => o.personId));
  const attestationIds = due.map((o) => o.attestationId).filter((id): id is number => id !== null);
  const attestations = new Map((attestationIds.length
    ? await run.db.select().from(trainingAttestations).where(sql`${trainingAttestations.id} = any(${`{${attestationIds.join(',')}}`}::int[])`)
    : []).map((a) => [a.id, a]));
  for (const { personId, courseId, attestationId, key } of due) {
    const course = courses.get(courseId)!;
    const person = run.known(personId)!;
    const latest = attestationId === null ? undefined : attestations.get(attestationId)!;
    const basis = legalBasisOf(course);
    const nudge = { key, recipientId: person.id, itemRef: course.code, kind: 'training', button: { label: 'Attest', command: `attest ${course.code}`, style: 'primary' as const } };
    if (!latest) {
      run.count('training never attested');
      run.hold({
        ...nudge,
        title: `${course.code} ${course.title}: you have not attested this training yet`,
        detail: basis ? `required by ${basis}; attest once you have completed it` : 'attest once you have completed it',
      });
      continue;
    }
    const daysLeft = daysBetween(run.today, latest.expiresOn);
    run.count('training reminders');
    run.hold({
      ...nudge,
      title: `${course.code} ${course.title}: ${daysLeft < 0 ? `your training expired on ${latest.expiresOn}` : daysLeft === 0
        ? 'your training expires today' : `your training expires in ${daysLeft} day${daysLeft === 1 ? '' : 's'} (${latest.expiresOn})`}`,
      detail: basis ? `required by ${basis}; attest again once you have renewed it` : 'attest again once you have renewed it',
    });
  }
};

export const remindTraining = jobOf(remindTrainingObligations);
