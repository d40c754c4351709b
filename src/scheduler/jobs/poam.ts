import { and, eq, inArray, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import { people, poamItems, poamMilestones, POAM_STATUSES } from '../../db/schema/index.js';
import { daysBetween } from '../../core/time.js';
import { advanceLevels, climbLadders, dueText, intArray, LADDER_COLUMNS, ladderStepsDue, reminderCycle, type LadderItem } from './ladder.js';
import { jobOf, type JobPart } from './run.js';
import type { Claim } from '../batch.js';
import { rows } from '../../db/migrate.js';

const OPEN: (typeof POAM_STATUSES)[number][] = ['open', 'in_progress'];
/** The same, in SQL that the partial indexes' predicate matches. */
const LIVE = sql`status in ('open', 'in_progress')`;

/** (3) Open POA&M items climb the ladder around their due date; marking an item done stops it, reopening it resumes it. */
export const climbPoamLadders: JobPart = async (run) => {
  const due = rows<Pick<LadderItem, 'id' | 'ref' | 'ownerId' | 'dueOn' | 'escalationLevel'> & { weakness: string }>(await run.db.execute(sql`
    ${ladderStepsDue(poamItems, LIVE, run.today, run.settings.ladderDays, sql`${LADDER_COLUMNS}, weakness`)} order by id`));
  if (due.length === 0) return;
  await climbLadders(run, due.map((item) => ({
    kind: 'poam_item', id: item.id, ref: item.ref, ownerId: item.ownerId, dueOn: item.dueOn, escalationLevel: item.escalationLevel,
    what: item.weakness,
    ownerButton: { label: 'Mark completed', command: `poam done ${item.ref}` },
    leadButton: { label: 'POA&M register', command: 'register poam' },
  })), (tx, items) => advanceLevels(tx, poamItems, items, LIVE, run.today));
};

/**
 * (3) Overdue milestones of open items: the item's owner hears once a week until it is done. Each open
 * milestone holds the day it is next reminded (next_reminder_on, the day after its due date at first),
 * so only the due ones are read, by an index range, a page at a time. Their nudges are held to the
 * run's end, where each milestone moves to its next reminder, a week on, in the transaction that queues
 * its owner's message: a run stopped before that leaves it due, and one stopped after has sent it. An
 * owner on leave is skipped and hears once back, then weekly from that day. The key names the cycle, so
 * a reminder already sent is never sent again.
 */
export const remindOverdueMilestones: JobPart = async (run) => {
  const repeat = run.settings.repeatEveryDays;
  const notOnLeave = or(isNull(people.pausedUntil), lte(people.pausedUntil, run.now));
  // In the index's order, from where the last batch ended: a milestone skipped (owner on leave) is passed once.
  let after: SQL | undefined;
  // Many milestones share a due date: each date's cycle is worked out once.
  const cycles = new Map<string, string>();
  /** The milestone and owner of each nudge held, for the claim. */
  const reminded = new Map<string, { id: number; ownerId: number }>();
  const claim: Claim = async (tx, nudges) => {
    const due = nudges.map((n) => reminded.get(n.key)!);
    // Only where it is still open, still due and still theirs: done, reassigned or moved since it was read, it is not sent.
    // A week after this reminder, not the due date's next weekly day: after a catch-up day (an import, an
    // outage, leave) that day may be only a few days off. On time, the two are the same day.
    const moved = new Set(rows<{ id: number }>(await tx.execute(sql`
      update ${poamMilestones} m set next_reminder_on = ${run.today}::date + ${repeat}::int
      from unnest(${intArray(due.map((d) => d.id))}, ${intArray(due.map((d) => d.ownerId))}) as v(id, owner_id), ${poamItems} i
      where m.id = v.id and i.id = m.item_id and i.owner_id = v.owner_id and m.done_at is null
        and m.next_reminder_on <= ${run.today}::date and i.status in ('open', 'in_progress')
      returning m.id`)).map((r) => r.id));
    return nudges.filter((n) => moved.has(reminded.get(n.key)!.id));
  };
  for (let more = true; more;) {
    // The range alone selects, in index order: next_reminder_on is always after the due date.
    const due = await run.db.select({ milestone: poamMilestones, item: poamItems }).from(poamMilestones)
      .innerJoin(poamItems, eq(poamItems.id, poamMilestones.itemId)).innerJoin(people, eq(people.id, poamItems.ownerId))
      .where(and(isNull(poamMilestones.doneAt), lte(poamMilestones.nextReminderOn, run.today), after, inArray(poamItems.status, OPEN), notOnLeave))
      .orderBy(poamMilestones.nextReminderOn, poamMilestones.id).limit(READ_PAGE);
    if (due.length === 0) break;
    const last = due.at(-1)!.milestone;
    after = sql`(${poamMilestones.nextReminderOn}, ${poamMilestones.id}) > (${last.nextReminderOn}::date, ${last.id}::int)`;
    // A due date written past the reminder day by hand is not late yet: left for its trigger-set day.
    for (const { milestone, item } of due.filter((d) => d.milestone.dueOn < run.today)) {
      const cycle = cycles.get(milestone.dueOn) ?? cycles.set(milestone.dueOn, reminderCycle(daysBetween(run.today, milestone.dueOn), [], repeat)!).get(milestone.dueOn)!;
      const key = `poam_milestone:${item.ref}:${milestone.seq}:${item.ownerId}:${milestone.dueOn}:${cycle}`;
      run.count('milestone reminders');
      reminded.set(key, { id: milestone.id, ownerId: item.ownerId });
      run.hold({
        recipientId: item.ownerId, itemRef: item.ref, kind: 'poam_milestone', key,
        title: `${item.ref} milestone ${milestone.seq}: ${milestone.description}`,
        detail: dueText(milestone.dueOn, run.today),
        button: { label: `Milestone ${milestone.seq} done`, command: `poam done ${item.ref} ${milestone.seq}` },
      }, claim);
    }
    more = due.length === READ_PAGE;
  }
};

/** Milestones read per statement: a read holds no lock, so a page can be larger than a batch written. */
const READ_PAGE = 5000;

export const remindPoam = jobOf(climbPoamLadders, remindOverdueMilestones);
