import { and, count, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { nudgeLog, people, poamItems, poamMilestones, POAM_STATUSES } from '../../db/schema/index.js';
import { daysBetween } from '../../core/time.js';
import { advanceLevels, climbLadders, dueText, intArray, ladderStepsDue, reminderCycle } from './ladder.js';
import { jobOf, type JobPart } from './run.js';

const OPEN: (typeof POAM_STATUSES)[number][] = ['open', 'in_progress'];
/** The same, in SQL that the partial indexes' predicate matches. */
const LIVE = sql`status in ('open', 'in_progress')`;

/** (3) Open POA&M items climb the ladder around their due date; marking an item done stops it, reopening it resumes it. */
export const climbPoamLadders: JobPart = async (run) => {
  const ids = await ladderStepsDue(run.tx, poamItems, LIVE, run.today, run.settings.ladderDays);
  if (ids.length === 0) return;
  const due = await run.tx.select().from(poamItems).where(sql`${poamItems.id} = any(${intArray(ids)})`).orderBy(poamItems.id);
  await climbLadders(run, due.map((item) => ({
    kind: 'poam_item', id: item.id, ref: item.ref, ownerId: item.ownerId, dueOn: item.dueOn, escalationLevel: item.escalationLevel,
    what: item.weakness,
    ownerButton: { label: 'Mark completed', command: `poam done ${item.ref}` },
    leadButton: { label: 'POA&M register', command: 'register poam' },
  })), (items) => advanceLevels(run.tx, poamItems, items, LIVE));
};

/**
 * (3) Overdue milestones of open items: the item's owner hears once a week until it is done. Only the
 * milestones whose reminder of this cycle has not gone out are read (the key is built in SQL as
 * below); the count covers every overdue milestone of an owner not on leave.
 */
export const remindOverdueMilestones: JobPart = async (run) => {
  const repeat = run.settings.repeatEveryDays;
  const late = and(isNull(poamMilestones.doneAt), inArray(poamItems.status, OPEN), lt(poamMilestones.dueOn, run.today));
  const notOnLeave = or(isNull(people.pausedUntil), lte(people.pausedUntil, run.now));
  const [{ n }] = await run.tx.select({ n: count() }).from(poamMilestones)
    .innerJoin(poamItems, eq(poamItems.id, poamMilestones.itemId)).innerJoin(people, eq(people.id, poamItems.ownerId))
    .where(and(late, notOnLeave));
  if (n > 0) run.count('milestones overdue', n);
  if (n === 0) return;
  const key = sql`'poam_milestone:' || ${poamItems.ref} || ':' || ${poamMilestones.seq} || ':' || ${poamItems.ownerId} || ':'
    || to_char(${poamMilestones.dueOn}, 'YYYY-MM-DD') || ':late' || ((${run.today}::date - ${poamMilestones.dueOn} - 1) / ${repeat}::int)`;
  const pending = await run.tx.select({ milestone: poamMilestones, item: poamItems }).from(poamMilestones)
    .innerJoin(poamItems, eq(poamItems.id, poamMilestones.itemId)).innerJoin(people, eq(people.id, poamItems.ownerId))
    .where(and(late, notOnLeave, sql`not exists (select 1 from ${nudgeLog} where ${nudgeLog.key} = ${key})`))
    .orderBy(poamItems.id, poamMilestones.seq);
  for (const { milestone, item } of pending) {
    const cycle = reminderCycle(daysBetween(run.today, milestone.dueOn), [], repeat)!;
    run.batch.add({
      recipientId: item.ownerId, itemRef: item.ref, kind: 'poam_milestone',
      key: `poam_milestone:${item.ref}:${milestone.seq}:${item.ownerId}:${milestone.dueOn}:${cycle}`,
      title: `${item.ref} milestone ${milestone.seq}: ${milestone.description}`,
      detail: dueText(milestone.dueOn, run.today),
      button: { label: `Milestone ${milestone.seq} done`, command: `poam done ${item.ref} ${milestone.seq}` },
    });
  }
};

export const remindPoam = jobOf(climbPoamLadders, remindOverdueMilestones);
