import { sql, type SQL } from 'drizzle-orm';
import { addDays, daysBetween, localDate } from '../../core/time.js';
import type { Db } from '../../db/client.js';
import { nudgeLog, trainingAttestations, trainingCourses, trainingReminderSettings, trainingReminders } from '../../db/schema/index.js';
import { rows } from '../../db/migrate.js';
import { MANAGEMENT_BODY_BASIS, courseAppliesTo, type Course } from '../../domain/training/obligations.js';
import type { Person } from '../../core/actor.js';
import type { Claim, Nudge } from '../batch.js';
import type { NudgeSettings } from '../settings.js';
import { intArray } from './ladder.js';
import { RUN_BATCH, jobOf, type JobPart, type JobRun } from './run.js';

const legalBasisOf = (course: Course) => course.legalBasis ?? (course.audienceRole === 'management_body' ? MANAGEMENT_BODY_BASIS : null);

/** An obligation whose remembered day has come, with its latest attestation if any. */
interface Looked {
  personId: number; courseId: number;
  /** The remembered day as read ('-infinity' when something changed): a row changed since is left alone. */
  seen: string;
  /** The latest attestation's expiry; null when never attested. */
  expiresOn: string | null;
}

/** What looking at an obligation today decides: the reminder due today, if any, and the next day to look. */
interface Decision { key?: string; next: string }

/** The settings the remembered days depend on: once they change, every obligation is looked at again. */
const settingsKey = (s: NudgeSettings) => JSON.stringify({ timezone: s.timezone, repeatEveryDays: s.repeatEveryDays, trainingReminderDays: s.trainingReminderDays });

/**
 * The reminder an obligation is due today and the next day one can be: someone who never attested is in
 * one round per `repeatEveryDays` from the day the obligation began, the next round starting the next
 * day to look; an attestation is at the nearest of `trainingReminderDays` it has reached before expiry
 * (looked at again when it reaches the next one), or expired (reminded once, then nothing more).
 */
function decide(o: Pick<Looked, 'personId' | 'expiresOn'> & { code: string; began: string }, today: string, settings: NudgeSettings): Decision {
  const prefix = `training:${o.code}:${o.personId}`;
  if (o.expiresOn === null) {
    const round = Math.floor(Math.max(daysBetween(o.began, today), 0) / settings.repeatEveryDays);
    return { key: `${prefix}:never:r${round}`, next: addDays(o.began, (round + 1) * settings.repeatEveryDays) };
  }
  const ahead = [...new Set(settings.trainingReminderDays.filter((d) => d >= 0))];
  const daysLeft = daysBetween(today, o.expiresOn);
  if (daysLeft < 0) return { key: `${prefix}:${o.expiresOn}:late`, next: 'infinity' };
  const reached = ahead.filter((d) => daysLeft <= d);
  // The nearer thresholds still to come, then the day after expiry.
  const coming = ahead.filter((d) => d < daysLeft).map((d) => addDays(o.expiresOn!, -d));
  const next = [...coming, addDays(o.expiresOn, 1)].sort()[0];
  if (reached.length === 0) return { next };
  return { key: `${prefix}:${o.expiresOn}:d${Math.min(...reached)}`, next };
}

/** Obligations read per statement: a read holds no lock, so a page can be larger than a batch written. */
const READ_PAGE = 5000;

/** Writes the next day to look at obligations, where nothing changed them since they were read. */
async function remember(tx: Db, obligations: { personId: number; courseId: number; seen: string; next: string }[]): Promise<void> {
  if (obligations.length === 0) return;
  await tx.execute(sql`
    update ${trainingReminders} t set next_on = v.next from ${looked(obligations, obligations.map((o) => o.next))}
    where t.person_id = v.person_id and t.course_id = v.course_id and t.next_on = v.seen`);
}

const dateArray = (days: string[]) => sql`${`{${days.join(',')}}`}::date[]`;

/** Obligations as read, as a relation v(person_id, course_id, seen[, next]) to join a write with. */
function looked(obligations: Pick<Looked, 'personId' | 'courseId' | 'seen'>[], next?: string[]): SQL {
  const columns = [intArray(obligations.map((o) => o.personId)), intArray(obligations.map((o) => o.courseId)), dateArray(obligations.map((o) => o.seen))];
  return next
    ? sql`unnest(${sql.join([...columns, dateArray(next)], sql`, `)}) as v(person_id, course_id, seen, next)`
    : sql`unnest(${sql.join(columns, sql`, `)}) as v(person_id, course_id, seen)`;
}

/** Looks at every obligation at the next run once the reminder settings change (see settingsKey). */
async function followSettings(run: JobRun): Promise<void> {
  const wanted = settingsKey(run.settings);
  const [stored] = await run.db.select().from(trainingReminderSettings);
  if (stored?.settings === wanted) return;
  await run.step(async (tx) => {
    await tx.execute(sql`update ${trainingReminders} set next_on = '-infinity' where next_on <> '-infinity'`);
    await tx.delete(trainingReminderSettings);
    await tx.insert(trainingReminderSettings).values({ settings: wanted });
  });
}

/**
 * The obligations whose remembered day has come, in the index's order from `after`, each with its latest
 * attestation. Their people are read by primary key afterwards (loadPeople): joined here, a few thousand
 * due obligations were planned as a scan of everyone.
 */
async function lookedAtToday(run: JobRun, after: SQL | undefined): Promise<Looked[]> {
  return rows<Looked>(await run.db.execute(sql`
    select t.person_id as "personId", t.course_id as "courseId", t.next_on::text as seen, l.expires_on::text as "expiresOn"
    from ${trainingReminders} t
    left join lateral (
      select a.expires_on from ${trainingAttestations} a where a.person_id = t.person_id and a.course_id = t.course_id
      order by a.completed_on desc, a.id desc limit 1
    ) l on true
    where t.next_on <= ${run.today}::date ${after ?? sql``}
    order by t.next_on, t.person_id, t.course_id limit ${READ_PAGE}`));
}

/**
 * (5) Reminds everyone a course applies to (see courseAppliesTo) about it: people who never attested
 * it once every `repeatEveryDays` from the day the obligation began, and people whose latest attestation
 * is about to expire at each of `trainingReminderDays` before expiry, and once when it has expired. The
 * management body's course is annual (validity 12 months), so its members are reminded every year.
 * People on leave are skipped until their leave ends. Reads only the obligations whose remembered next
 * day (training_reminders) has come, or that changed since: a day with nothing new to remind reads
 * nothing, however many people and courses the register holds; a day missed is caught up the next.
 */
export const remindTrainingObligations: JobPart = async (run) => {
  await followSettings(run);
  const tomorrow = addDays(run.today, 1);
  let courses: Map<number, Course> | undefined;
  let after: SQL | undefined;
  for (let more = true; more;) {
    const page = await lookedAtToday(run, after);
    if (page.length === 0) break;
    const last = page.at(-1)!;
    after = sql`and (t.next_on, t.person_id, t.course_id) > (${last.seen}::date, ${last.personId}::int, ${last.courseId}::int)`;
    more = page.length === READ_PAGE;

    courses ??= new Map((await run.db.select().from(trainingCourses)).map((c) => [c.id, c]));
    await run.loadPeople(page.map((o) => o.personId));
    const { timezone } = run.settings;
    const withPerson = page.map((o) => {
      const course = courses!.get(o.courseId)!;
      const person = run.known(o.personId)!;
      return { ...o, course, person, applies: courseAppliesTo(course, person) };
    });
    const gone = withPerson.filter((o) => !o.applies);
    const decided = withPerson.filter((o) => o.applies).map((o) => {
      if (run.isPaused(o.person)) {
        const back = localDate(o.person.pausedUntil!, timezone);
        return { ...o, decision: { next: back > run.today ? back : tomorrow } as Decision };
      }
      const began = [localDate(o.course.createdAt, timezone), localDate(o.person.createdAt, timezone)].sort()[1];
      return { ...o, decision: decide({ ...o, code: o.course.code, began }, run.today, run.settings) };
    });
    const keys = decided.flatMap((o) => (o.decision.key ? [o.decision.key] : []));
    const logged = new Set(keys.length ? rows<{ key: string }>(await run.db.execute(sql`
      select key from ${nudgeLog} where key = any(${`{${keys.map((k) => `"${k.replace(/["\\]/g, '\\$&')}"`).join(',')}}`}::text[])`)).map((r) => r.key) : []);
    const isDue = (o: (typeof decided)[number]) => o.decision.key !== undefined && !logged.has(o.decision.key);
    const due = decided.filter(isDue);
    const quiet = decided.filter((o) => !isDue(o));

    for (let i = 0; i < Math.max(gone.length, quiet.length); i += RUN_BATCH) {
      await run.step(async (tx) => {
        const ended = gone.slice(i, i + RUN_BATCH);
        if (ended.length) {
          await tx.execute(sql`delete from ${trainingReminders} t using ${looked(ended)}
            where t.person_id = v.person_id and t.course_id = v.course_id and t.next_on = v.seen`);
        }
        await remember(tx, quiet.slice(i, i + RUN_BATCH).map((o) => ({ ...o, next: o.decision.next })));
      });
    }
    holdReminders(run, due);
  }
};

/** Holds each due reminder with its obligation's next day, written in the transaction that queues it. */
function holdReminders(run: JobRun, due: (Looked & { course: Course; person: Person; decision: Decision })[]): void {
  const byKey = new Map(due.map((o) => [o.decision.key!, o]));
  const claim: Claim = async (tx, nudges: Nudge[]) => {
    await remember(tx, nudges.map((n) => ({ ...byKey.get(n.key)!, next: byKey.get(n.key)!.decision.next })));
    return nudges;
  };
  for (const { course, person, expiresOn, decision } of due) {
    const basis = legalBasisOf(course);
    const nudge = { key: decision.key!, recipientId: person.id, itemRef: course.code, kind: 'training', button: { label: 'Attest', command: `attest ${course.code}`, style: 'primary' as const } };
    if (expiresOn === null) {
      run.count('training never attested');
      run.hold({
        ...nudge,
        title: `${course.code} ${course.title}: you have not attested this training yet`,
        detail: basis ? `required by ${basis}; attest once you have completed it` : 'attest once you have completed it',
      }, claim);
      continue;
    }
    const daysLeft = daysBetween(run.today, expiresOn);
    run.count('training reminders');
    run.hold({
      ...nudge,
      title: `${course.code} ${course.title}: ${daysLeft < 0 ? `your training expired on ${expiresOn}` : daysLeft === 0
        ? 'your training expires today' : `your training expires in ${daysLeft} day${daysLeft === 1 ? '' : 's'} (${expiresOn})`}`,
      detail: basis ? `required by ${basis}; attest again once you have renewed it` : 'attest again once you have renewed it',
    }, claim);
  }
}

export const remindTraining = jobOf(remindTrainingObligations);
