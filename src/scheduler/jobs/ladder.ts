import type { Button } from '../../core/reply.js';
import { isLead, toActor } from '../../core/actor.js';
import { LADDER_TOP } from '../settings.js';
import { addDays, daysBetween } from '../../core/time.js';
import type { JobRun } from './run.js';

/** "due in 3 days (2026-12-31)", "due today", "overdue by 8 days (was due 2026-11-30)". */
export function dueText(dueOn: string, today: string): string {
  const days = daysBetween(today, dueOn);
  if (days > 1) return `due in ${days} days (${dueOn})`;
  if (days === 1) return `due tomorrow (${dueOn})`;
  if (days === 0) return `due today (${dueOn})`;
  return `overdue by ${-days} day${days === -1 ? '' : 's'} (was due ${dueOn})`;
}

/**
 * Which reminder of a dated item is due: "d14" while 14 days or fewer are left (the smallest
 * threshold reached), then one per `repeatEveryDays` once it is late ("late0", "late1", ...).
 * Undefined while no threshold is reached yet, or once late when it does not repeat.
 */
export function reminderCycle(daysLeft: number, aheadDays: number[], repeatEveryDays?: number): string | undefined {
  if (daysLeft >= 0) {
    const reached = [...aheadDays].filter((d) => d >= 0).sort((a, b) => a - b).find((d) => daysLeft <= d);
    return reached === undefined ? undefined : `d${reached}`;
  }
  if (!repeatEveryDays) return 'late';
  return `late${Math.floor((-daysLeft - 1) / repeatEveryDays)}`;
}

/** The ladder step due for an item at this escalation level, or undefined (not yet, or all taken). */
export function stepDue(level: number, dueOn: string, today: string, ladderDays: readonly number[]): number | undefined {
  if (level >= LADDER_TOP) return undefined;
  return today >= addDays(dueOn, ladderDays[level]) ? level : undefined;
}

/** An item that climbs the escalation ladder (an evidence request, a POA&M item). */
export interface LadderItem {
  kind: 'evidence_request' | 'poam_item';
  ref: string;
  ownerId: number;
  dueOn: string;
  escalationLevel: number;
  /** What it is, for people: "evidence that CTL-AC-01 Access review works (2026-Q4)". */
  what: string;
  /** What the owner can do about it. */
  ownerButton: Button;
  /** What the ISMS lead can do about it (read the register). */
  leadButton: Button;
  /** Moves escalation_level from `from` to `from + 1` if nobody else did; false when it had moved. */
  advance(from: number): Promise<boolean>;
}

/**
 * Takes the next due step of the item's ladder, at most one step per run: 0 reminds the owner,
 * 1 reminds them again, 2 tells their manager (or the ISMS lead when they have none), 3 puts
 * the item on the management body's digest. The owner's leave holds the ladder. Each step's key
 * names the due date, so a moved due date (an approved extension resets escalation_level) climbs
 * a fresh ladder instead of finding its steps already taken.
 */
export async function climbLadder(run: JobRun, item: LadderItem): Promise<void> {
  const step = stepDue(item.escalationLevel, item.dueOn, run.today, run.settings.ladderDays);
  if (step === undefined) return;
  const owner = await run.person(item.ownerId);
  if (!owner) return;
  if (run.isPaused(owner)) {
    run.count('held for leave');
    return;
  }
  if (!(await item.advance(step))) return;
  await run.audit({
    action: 'escalate', entity: item.kind, entityRef: item.ref,
    before: { escalationLevel: step }, after: { escalationLevel: step + 1 },
  });
  run.count(`step ${step}`);
  const due = dueText(item.dueOn, run.today);
  const nudge = { itemRef: item.ref, kind: item.kind, step };
  if (step === 0 || step === 1) {
    run.batch.add({
      ...nudge, recipientId: owner.id, key: `${item.kind}:${item.ref}:${owner.id}:${item.dueOn}:step${step}`,
      title: `${step === 0 ? '' : 'Reminder: '}${item.ref} ${item.what}`, detail: due, button: item.ownerButton,
    });
  } else if (step === 2) {
    const manager = owner.managerId !== null ? await run.person(owner.managerId) : undefined;
    const told = manager ? [manager] : await run.leads();
    for (const person of told) {
      run.batch.add({
        ...nudge, recipientId: person.id, key: `${item.kind}:${item.ref}:${person.id}:${item.dueOn}:step${step}`,
        title: `${item.ref} ${item.what}, owned by ${owner.name}`,
        detail: `${due}; ${owner.name} was reminded twice. You are told as ${manager ? 'their manager' : 'ISMS lead'}.`,
        button: isLead(toActor(person)) ? item.leadButton : undefined,
      });
    }
  }
  // Step 3 has no message of its own: the item now shows on the management body's weekly digest.
}

export const isOnBoardDigest = (level: number) => level >= LADDER_TOP;

