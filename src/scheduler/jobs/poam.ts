import { and, eq, inArray, isNull } from 'drizzle-orm';
import { poamItems, poamMilestones, POAM_STATUSES } from '../../db/schema/index.js';
import { daysBetween } from '../../core/time.js';
import { climbLadder, dueText, reminderCycle } from './ladder.js';
import { jobOf, type JobPart } from './run.js';

const OPEN: (typeof POAM_STATUSES)[number][] = ['open', 'in_progress'];

/** (3) Open POA&M items climb the ladder around their due date; marking an item done stops it, reopening it resumes it. */
export const climbPoamLadders: JobPart = async (run) => {
  const open = await run.tx.select().from(poamItems).where(inArray(poamItems.status, OPEN)).orderBy(poamItems.id);
  await run.loadPeople(open.map((i) => i.ownerId));
  for (const item of open) {
    await climbLadder(run, {
      kind: 'poam_item', ref: item.ref, ownerId: item.ownerId, dueOn: item.dueOn, escalationLevel: item.escalationLevel,
      what: item.weakness,
      ownerButton: { label: 'Mark completed', command: `poam done ${item.ref}` },
      leadButton: { label: 'POA&M register', command: 'register poam' },
      advance: async (from) => (await run.tx.update(poamItems).set({ escalationLevel: from + 1 })
        .where(and(eq(poamItems.id, item.id), eq(poamItems.escalationLevel, from), inArray(poamItems.status, OPEN)))
        .returning({ id: poamItems.id })).length > 0,
    });
  }
};

/** (3) Overdue milestones of open items: the item's owner hears once a week until it is done. */
export const remindOverdueMilestones: JobPart = async (run) => {
  const late = await run.tx.select({ milestone: poamMilestones, item: poamItems }).from(poamMilestones)
    .innerJoin(poamItems, eq(poamItems.id, poamMilestones.itemId))
    .where(and(isNull(poamMilestones.doneAt), inArray(poamItems.status, OPEN)))
    .orderBy(poamItems.id, poamMilestones.seq);
  await run.loadPeople(late.map((r) => r.item.ownerId));
  for (const { milestone, item } of late) {
    const daysLeft = daysBetween(run.today, milestone.dueOn);
    if (daysLeft >= 0) continue;
    const owner = await run.person(item.ownerId);
    if (!owner || run.isPaused(owner)) continue;
    const cycle = reminderCycle(daysLeft, [], run.settings.repeatEveryDays)!;
    run.count('milestones overdue');
    run.batch.add({
      recipientId: owner.id, itemRef: item.ref, kind: 'poam_milestone',
      key: `poam_milestone:${item.ref}:${milestone.seq}:${owner.id}:${milestone.dueOn}:${cycle}`,
      title: `${item.ref} milestone ${milestone.seq}: ${milestone.description}`,
      detail: dueText(milestone.dueOn, run.today),
      button: { label: `Milestone ${milestone.seq} done`, command: `poam done ${item.ref} ${milestone.seq}` },
    });
  }
};

export const remindPoam = jobOf(climbPoamLadders, remindOverdueMilestones);
