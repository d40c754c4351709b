import { and, eq, inArray, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import { people, poamItems, poamMilestones, POAM_STATUSES } from '../../db/schema/index.js';
import { daysBetween } from '../../core/time.js';
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

/**
 * (3) Overdue milestones of open items: the item's owner hears once a week until it is done. Each open
 * milestone holds the day it is next reminded (next_reminder_on, the day after its due date at first),
 * so only the due ones are read, by an index range, a batch at a time; each batch's nudges are staged
 * and its milestones moved to their next reminder, a week on, in one transaction. An owner on leave is
 * skipped and hears once back, then weekly from that day. The key names the cycle, so a reminder already
 * sent is never sent again.
 */
export const remindOverdueMilestones: JobPart = async (run) => {
  const repeat = run.settings.repeatEveryDays;
  const notOnLeave = or(isNull(people.pausedUntil), lte(people.pausedUntil, run.now));
  // In the index's order, from where the last batch ended: a milestone skipped (owner on leave) is passed once.
  let after: SQL | undefined;
  // Many milestones share a due date: each date's cycle is worked out once.
  const cycles = new Map<string, string>();
  for (let more = true; more;) {
    more = (await run.step(async (tx) => {
      // The range alone selects, in index order: next_reminder_on is always after the due date.
      const due = await tx.select({ milestone: poamMilestones, item: poamItems }).from(poamMilestones)
        .innerJoin(poamItems, eq(poamItems.id, poamMilestones.itemId)).innerJoin(people, eq(people.id, poamItems.ownerId))
        .where(and(isNull(poamMilestones.doneAt), lte(poamMilestones.nextReminderOn, run.today), after, inArray(poamItems.status, OPEN), notOnLeave))
        .orderBy(poamMilestones.nextReminderOn, poamMilestones.id).limit(RUN_BATCH)
        .for('update', { of: poamMilestones });
      if (due.length === 0) return false;
      const last = due.at(-1)!.milestone;
      after = sql`(${poamMilestones.nextReminderOn}, ${poamMilestones.id}) > (${last.nextReminderOn}::date, ${last.id}::int)`;
      // A due date written past the reminder day by hand is not late yet: left for its trigger-set day.
      const late = due.filter((d) => d.milestone.dueOn < run.today);
      for (const { milestone, item } of late) {
        const cycle = cycles.get(milestone.dueOn) ?? cycles.set(milestone.dueOn, reminderCycle(daysBetween(run.today, milestone.dueOn), [], repeat)!).get(milestone.dueOn)!;
        run.count('milestone reminders');
        run.batch.add({
          recipientId: item.ownerId, itemRef: item.ref, kind: 'poam_milestone',
          key: `poam_milestone:${item.ref}:${milestone.seq}:${item.ownerId}:${milestone.dueOn}:${cycle}`,
          title: `${item.ref} milestone ${milestone.seq}: ${milestone.description}`,
          detail: dueText(milestone.dueOn, run.today),
          button: { label: `Milestone ${milestone.seq} done`, command: `poam done ${item.ref} ${milestone.seq}` },
        });
      }
      // A week after this reminder, not the due date's next weekly day: after a catch-up day (an import, an
      // outage, leave) that day may be only a few days off. On time, the two are the same day.
      await tx.execute(sql`
        update ${poamMilestones} set next_reminder_on = ${run.today}::date + ${repeat}::int
        where id = any(${intArray(late.map((d) => d.milestone.id))})`);
      return due.length === RUN_BATCH;
    })) ?? false;
  }
};

export const remindPoam = jobOf(climbPoamLadders, remindOverdueMilestones);
