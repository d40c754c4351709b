import { isLead, toActor } from '../../core/actor.js';
import { LADDER_TOP } from '../settings.js';
import { addDays, daysBetween } from '../../core/time.js';
/** "due in 3 days (2026-12-31)", "due today", "overdue by 8 days (was due 2026-11-30)". */
export function dueText(dueOn, today) {
    const days = daysBetween(today, dueOn);
    if (days > 1)
        return `due in ${days} days (${dueOn})`;
    if (days === 1)
        return `due tomorrow (${dueOn})`;
    if (days === 0)
        return `due today (${dueOn})`;
    return `overdue by ${-days} day${days === -1 ? '' : 's'} (was due ${dueOn})`;
}
/**
 * Which reminder of a dated item is due: "d14" while 14 days or fewer are left (the smallest
 * threshold reached), then one per `repeatEveryDays` once it is late ("late0", "late1", ...).
 * Undefined while no threshold is reached yet, or once late when it does not repeat.
 */
export function reminderCycle(daysLeft, aheadDays, repeatEveryDays) {
    if (daysLeft >= 0) {
        const reached = [...aheadDays].filter((d) => d >= 0).sort((a, b) => a - b).find((d) => daysLeft <= d);
        return reached === undefined ? undefined : `d${reached}`;
    }
    if (!repeatEveryDays)
        return 'late';
    return `late${Math.floor((-daysLeft - 1) / repeatEveryDays)}`;
}
/** The ladder step due for an item at this escalation level, or undefined (not yet, or all taken). */
export function stepDue(level, dueOn, today, ladderDays) {
    if (level >= LADDER_TOP)
        return undefined;
    return today >= addDays(dueOn, ladderDays[level]) ? level : undefined;
}
/**
 * Takes the next due step of the item's ladder, at most one step per run: 0 reminds the owner,
 * 1 reminds them again, 2 tells their manager (or the ISMS lead when they have none), 3 puts
 * the item on the management body's digest. The owner's leave holds the ladder.
 */
export async function climbLadder(run, item) {
    const step = stepDue(item.escalationLevel, item.dueOn, run.today, run.settings.ladderDays);
    if (step === undefined)
        return;
    const owner = await run.person(item.ownerId);
    if (!owner)
        return;
    if (run.isPaused(owner)) {
        run.count('held for leave');
        return;
    }
    if (!(await item.advance(step)))
        return;
    await run.audit({
        action: 'escalate', entity: item.kind, entityRef: item.ref,
        before: { escalationLevel: step }, after: { escalationLevel: step + 1 },
    });
    run.count(`step ${step}`);
    const due = dueText(item.dueOn, run.today);
    const nudge = { itemRef: item.ref, kind: item.kind, step };
    if (step === 0 || step === 1) {
        run.batch.add({
            ...nudge, recipientId: owner.id, key: `${item.kind}:${item.ref}:${owner.id}:step${step}`,
            title: `${step === 0 ? '' : 'Reminder: '}${item.ref} ${item.what}`, detail: due, button: item.ownerButton,
        });
    }
    else if (step === 2) {
        const manager = owner.managerId !== null ? await run.person(owner.managerId) : undefined;
        const told = manager ? [manager] : await run.leads();
        for (const person of told) {
            run.batch.add({
                ...nudge, recipientId: person.id, key: `${item.kind}:${item.ref}:${person.id}:step${step}`,
                title: `${item.ref} ${item.what}, owned by ${owner.name}`,
                detail: `${due}; ${owner.name} was reminded twice. You are told as ${manager ? 'their manager' : 'ISMS lead'}.`,
                button: isLead(toActor(person)) ? item.leadButton : undefined,
            });
        }
    }
    // Step 3 has no message of its own: the item now shows on the management body's weekly digest.
}
export const isOnBoardDigest = (level) => level >= LADDER_TOP;
//# sourceMappingURL=ladder.js.map