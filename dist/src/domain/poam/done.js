import { z } from 'zod';
import { eq } from 'drizzle-orm';
import { poamItems, poamMilestones } from '../../db/schema/index.js';
import { defineCommand } from '../../core/router.js';
import { isLead } from '../../core/actor.js';
import { conflict, invalid, notFound } from '../../core/errors.js';
import { registerRef } from '../../core/validate.js';
import { actions, reply, text } from '../../core/reply.js';
import { assertOwnerOrLead, isOpen, loadItem, milestonesOf, openItems, personName } from './items.js';
import { isoDay } from '../../core/time.js';
export const poamDoneInput = z.object({
    item: registerRef('POAM').describe('The POA&M item, e.g. POAM-0001'),
    milestone: z.coerce.number({ invalid_type_error: 'must be the milestone number, e.g. 2' })
        .int('must be the milestone number, e.g. 2').min(1, 'must be the milestone number, e.g. 2').optional()
        .describe('The milestone done; empty marks the whole item completed (all milestones must be done)'),
});
/** Marks one milestone done, or the whole item completed once every milestone is done. */
export async function markDone(ctx, input) {
    const item = await loadItem(ctx.db, input.item);
    await assertOwnerOrLead(ctx.db, ctx.actor, item, input.milestone ? 'mark its milestones done' : 'complete it');
    if (item.status === 'completed') {
        throw conflict(`${item.ref} was already completed on ${item.completedAt ? isoDay(item.completedAt) : 'an earlier day'}; nothing changed.`);
    }
    if (!isOpen(item))
        throw conflict(`${item.ref} is closed (${item.status.replace('_', ' ')}); there is nothing left to mark done.`);
    const milestones = await milestonesOf(ctx.db, item.id);
    if (input.milestone !== undefined) {
        const milestone = milestones.find((m) => m.seq === input.milestone);
        if (!milestone) {
            throw notFound(`${item.ref} has no milestone ${input.milestone}; ${milestones.length ? `its milestones are ${milestones.map((m) => m.seq).join(', ')}` : 'it has no milestones'}.`, `"/isms poam" shows ${item.ref} with its milestones.`).on('milestone');
        }
        if (milestone.doneAt) {
            throw conflict(`Milestone ${milestone.seq} of ${item.ref} was already marked done on ${isoDay(milestone.doneAt)} by ${await personName(ctx.db, milestone.doneBy)}; nothing changed.`);
        }
        const [updated] = await ctx.db.update(poamMilestones).set({ doneAt: ctx.now, doneBy: ctx.actor.id })
            .where(eq(poamMilestones.id, milestone.id)).returning();
        await ctx.audit({ action: 'complete_milestone', entity: 'poam_milestone', entityRef: `${item.ref}/${milestone.seq}`, before: milestone, after: updated });
        const stillOpen = milestones.filter((m) => !m.doneAt && m.id !== milestone.id);
        return { item, milestone: updated, stillOpen };
    }
    const open = milestones.filter((m) => !m.doneAt);
    if (open.length) {
        throw invalid(`${item.ref} still has open milestones: ${open.map((m) => `${m.seq} (${m.description}, due ${m.dueOn})`).join('; ')}.`, `Mark each one done first with "/isms poam done ${item.ref} <milestone>", then complete the item.`);
    }
    const [completed] = await ctx.db.update(poamItems).set({ status: 'completed', completedAt: ctx.now })
        .where(eq(poamItems.id, item.id)).returning();
    await ctx.audit({ action: 'complete', entity: 'poam_item', entityRef: item.ref, before: item, after: completed });
    return { item: completed, milestone: undefined, stillOpen: [] };
}
export const poamDoneCommand = defineCommand({
    name: 'poam done',
    summary: 'Mark a POA&M milestone done, or the whole item completed',
    examples: ['poam done POAM-0001 2', 'poam done POAM-0001'],
    schema: poamDoneInput,
    args: {
        item: {
            positional: true, label: 'POA&M item', value: 'POAM-ref',
            options: async (ctx) => (await openItems(ctx.db, isLead(ctx.actor) ? undefined : ctx.actor.id))
                .map((v) => ({ value: v.item.ref, label: `${v.item.ref} — ${v.item.weakness}` })),
        },
        milestone: { positional: true, label: 'Milestone number', value: 'milestone number' },
    },
    form: { title: 'Mark POA&M progress', submitLabel: 'Mark done' },
    async run(ctx, input) {
        const { item, milestone, stillOpen } = await markDone(ctx, input);
        if (!milestone) {
            return reply(text(`Marked ${item.ref} (${item.weakness}) completed.`, 'success'));
        }
        const blocks = [text(`Marked milestone ${milestone.seq} of ${item.ref} done: ${milestone.description}.`, 'success')];
        if (stillOpen.length) {
            blocks.push(text(`Still open: ${stillOpen.map((m) => `${m.seq} (${m.description}, due ${m.dueOn})`).join('; ')}.`));
        }
        else {
            blocks.push(text(`All milestones of ${item.ref} are done. Mark the item completed when the weakness is resolved.`));
            blocks.push(actions({ label: 'Mark item completed', command: `poam done ${item.ref}`, style: 'primary' }));
        }
        return reply(...blocks);
    },
});
//# sourceMappingURL=done.js.map