import { and, eq, inArray, isNull, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import { people, poamItems, poamMilestones, POAM_STATUSES } from '../../db/schema/index.js';
import { addDays, daysBetween } from '../../core/time.js';
import { advanceLevels, climbLadders, dueText, intArray, ladderStepsDue, reminderCycle } from './ladder.js';
import { jobOf, RUN_BATCH, type JobPart } from './run.js';

const OPEN: (typeof POAM_STATUSES)[number][] = ['open', 'in_progress'];
/** The same, in SQL that the partial indexes' predicate matches. */
const LIVE = sql`status in ('open', 'in_progress')`;

/** (3) Open POA&M items climb the ladder around their due date; marking an item done stops it, reopening it resumes it. */
export const climbPoamLadders: JobPart = async (run) => {
  const ids = await ladderStepsDue(run.db, poamItems, LIVE, run.today, run.settings.ladderDays);
  if (ids.length === 0) return;
  const due = await run.db.select().from(poamItems).where(sql`${poamItems.id} = any(${intArray(ids)})`).orderBy(poamItems.id);
  await climbLadders(run, due.map((item) => ({
    kind: 'poam_item', id: item.id, ref: item.ref, ownerId: item.ownerId, dueOn: item.dueOn, escalationLevel: item.escalationLevel,
    what: item.weakness,
    ownerButton: { label: 'Mark completed', command: `poam done ${item.ref}` },
    leadButton: { label: 'POA&M register', command: 'register poam' },
  })), (tx, items) => advanceLevels(tx, poamItems, items, LIVE));
};

/** The day a late milestone's next reminder falls once this cycle's is sent: the first day of the next cycle. */
export function nextMilestoneReminder(dueOn: string, today: string, repeatEveryDays: number): string {
  const late = daysBetween(dueOn, today) - 1;
  return addDays(dueOn, 1 + repeatEveryDays * (Math.floor(late / repeatEveryDays) + 1));
}

/**
 * (3) Overdue milestones of open items: the item's owner hears once a week until it is done. Each open
 * milestone holds the day it is next reminded (next_reminder_on, the day after its due date at first),
 * so only the due ones are read, by an index range, a batch at a time; each batch's nudges are staged
 * and its milestones moved to their next reminder in one transaction. An owner on leave is skipped and
 * hears once back. The key names the cycle, so a reminder already sent is never sent again.
 */
export const remindOverdueMilestones: JobPart = async (run) => {
  const repeat = run.settings.repeatEveryDays;
  const notOnLeave = or(isNull(people.pausedUntil), lte(people.pausedUntil, run.now));
  // In the index's order, from where the last batch ended: a milestone skipped (owner on leave) is passed once.
  let after: SQL | undefined;
  for (;;) {
    const due = await run.db.select({ milestone: poamMilestones, item: poamItems }).from(poamMilestones)
      .innerJoin(poamItems, eq(poamItems.id, poamMilestones.itemId)).innerJoin(people, eq(people.id, poamItems.ownerId))
      .where(and(
        isNull(poamMilestones.doneAt), lte(poamMilestones.nextReminderOn, run.today), after,
        lt(poamMilestones.dueOn, run.today), inArray(poamItems.status, OPEN), notOnLeave,
      ))
      .orderBy(poamMilestones.nextReminderOn, poamMilestones.id).limit(RUN_BATCH);
    if (due.length === 0) return;
    const last = due.at(-1)!.milestone;
    after = sql`(${poamMilestones.nextReminderOn}, ${poamMilestones.id}) > (${last.nextReminderOn}::date, ${last.id}::int)`;
    await run.step(async (tx) => {
      for (const { milestone, item } of due) {
        const cycle = reminderCycle(daysBetween(run.today, milestone.dueOn), [], repeat)!;
        run.count('milestone reminders');
        run.batch.add({
          recipientId: item.ownerId, itemRef: item.ref, kind: 'poam_milestone',
          key: `poam_milestone:${item.ref}:${milestone.seq}:${item.ownerId}:${milestone.dueOn}:${cycle}`,
          title: `${item.ref} milestone ${milestone.seq}: ${milestone.description}`,
          detail: dueText(milestone.dueOn, run.today),
          button: { label: `Milestone ${milestone.seq} done`, command: `poam done ${item.ref} ${milestone.seq}` },
        });
      }
      // Only where the due date is still the one read: a milestone moved meanwhile keeps the day its trigger set.
      await tx.execute(sql`
        update ${poamMilestones} set next_reminder_on = v.next
        from unnest(${intArray(due.map((d) => d.milestone.id))}, ${`{${due.map((d) => d.milestone.dueOn).join(',')}}`}::date[],
          ${`{${due.map((d) => nextMilestoneReminder(d.milestone.dueOn, run.today, repeat)).join(',')}}`}::date[]) as v(id, due_on, next)
        where ${poamMilestones.id} = v.id and ${poamMilestones.dueOn} = v.due_on`);
    });
    if (due.length < RUN_BATCH) return;
  }
};

export const remindPoam = jobOf(climbPoamLadders, remindOverdueMilestones);
