import { z } from 'zod';
import { eq } from 'drizzle-orm';
import { poamMilestones } from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { isLead } from '../../core/actor.js';
import { conflict, invalid, notFound } from '../../core/errors.js';
import { registerRef } from '../../core/validate.js';
import { actions, fields, formBlock, reply, text, type Block } from '../../core/reply.js';
import { assertOwnerOrLead, isOpen, itemChoices, loadItem, milestonesOf, personName, statusInWords, type PoamItem } from './items.js';
import { claimClosure, closureFields } from './closure.js';
import { readersDay } from '../../core/time.js';

export const poamDoneInput = z.object({
  item: registerRef('POAM').describe('The POA&M item, e.g. POAM-0001'),
  done: z.string().trim().max(20_000, 'is too long: put long closure evidence in a file or behind a link').optional()
    .describe('The number of the milestone done, or, to complete the item, what was done (a text or a link; a file may be attached too)'),
  /** The file itself arrives as an attachment; the field only names it. */
  file: z.unknown().optional().describe('Closure evidence as a file attached to the message (in the terminal: --file <path>)'),
  via: z.literal('form').optional(),
});
export type PoamDoneInput = z.infer<typeof poamDoneInput>;

/** "2" names a milestone; anything else says what was done to close the item. */
const milestoneNumber = (done: string | undefined) => (done && /^\d+$/.test(done) ? Number(done) : undefined);

/** The item, checked to be one the actor may work on and still open. */
async function workableItem(ctx: CommandContext, ref: string, doing: string): Promise<PoamItem> {
  const item = await loadItem(ctx.db, ref);
  await assertOwnerOrLead(ctx.db, ctx.actor, item, doing);
  if (item.status === 'completed') {
    throw conflict(`${item.ref} was already completed on ${item.completedAt ? readersDay(item.completedAt, ctx.actor.timezone) : 'an earlier day'}; nothing changed.`);
  }
  if (item.status === 'awaiting_verification') {
    throw conflict(`${item.ref} is already marked done and waits for an ISMS lead to verify it; nothing changed.`,
      'If the lead reopens it, you are told why and can mark it done again.');
  }
  if (!isOpen(item)) throw conflict(`${item.ref} is closed (${statusInWords(item.status)}); there is nothing left to mark done.`);
  return item;
}

/** Marks one milestone done. */
export async function markMilestoneDone(ctx: CommandContext, ref: string, seq: number) {
  const item = await workableItem(ctx, ref, 'mark its milestones done');
  const milestones = await milestonesOf(ctx.db, item.id);
  const milestone = milestones.find((m) => m.seq === seq);
  if (!milestone) {
    throw notFound(`${item.ref} has no milestone ${seq}; ${milestones.length ? `its milestones are ${milestones.map((m) => m.seq).join(', ')}` : 'it has no milestones'}.`,
      `"/isms poam" shows ${item.ref} with its milestones.`).on('done');
  }
  if (milestone.doneAt) {
    throw conflict(`Milestone ${milestone.seq} of ${item.ref} was already marked done on ${readersDay(milestone.doneAt, ctx.actor.timezone)} by ${await personName(ctx.db, milestone.doneBy)}; nothing changed.`);
  }
  const [updated] = await ctx.db.update(poamMilestones).set({ doneAt: ctx.now, doneBy: ctx.actor.id })
    .where(eq(poamMilestones.id, milestone.id)).returning();
  await ctx.audit({ action: 'complete_milestone', entity: 'poam_milestone', entityRef: `${item.ref}/${milestone.seq}`, before: milestone, after: updated });
  const stillOpen = milestones.filter((m) => !m.doneAt && m.id !== milestone.id);
  return { item, milestone: updated, stillOpen };
}

/**
 * Checks that the whole item can be marked done: every milestone done first. The closure itself
 * (with its evidence) is recorded by claimClosure.
 */
async function completableItem(ctx: CommandContext, ref: string): Promise<PoamItem> {
  const item = await workableItem(ctx, ref, 'complete it');
  const open = (await milestonesOf(ctx.db, item.id)).filter((m) => !m.doneAt);
  if (open.length) {
    throw invalid(`${item.ref} still has open milestones: ${open.map((m) => `${m.seq} (${m.description}, due ${m.dueOn})`).join('; ')}.`,
      `Mark each one done first with "/isms poam done ${item.ref} <milestone>", then complete the item.`);
  }
  return item;
}

export const poamDoneCommand = defineCommand({
  name: 'poam done',
  summary: 'Mark a POA&M milestone done, or the whole item done with its closure evidence (an ISMS lead then verifies it)',
  examples: ['poam done POAM-0001 2', 'poam done POAM-0001 "restore tested in isolation, recovery took 3 hours, see https://wiki.example.com/restore-test"'],
  schema: poamDoneInput,
  args: {
    item: {
      positional: true, label: 'POA&M item', value: 'POAM-ref',
      options: (ctx) => itemChoices(ctx.db, isLead(ctx.actor) ? undefined : ctx.actor.id, (item) => `${item.ref} — ${item.weakness}`),
    },
    done: { positional: 'rest', label: 'Milestone number, or what was done', value: 'milestone number or what was done' },
    file: { field: 'file' },
    // Tells an empty form submission (refused) from a bare "poam done POAM-…" button (opens the form).
    via: { hidden: true },
  },
  form: { title: 'Mark POA&M progress', submitLabel: 'Mark done', hidden: { via: 'form' } },
  async run(ctx, input) {
    const seq = milestoneNumber(input.done);
    if (seq !== undefined) {
      if (ctx.attachments.length) {
        throw invalid('A milestone is marked done by its number alone; closure evidence goes with the whole item.',
          `Attach the file when you mark ${input.item} done: "/isms poam done ${input.item} <what was done>".`);
      }
      const { item, milestone, stillOpen } = await markMilestoneDone(ctx, input.item, seq);
      const blocks: Block[] = [text(`Marked milestone ${milestone.seq} of ${item.ref} done: ${milestone.description}.`, 'success')];
      if (stillOpen.length) {
        blocks.push(text(`Still open: ${stillOpen.map((m) => `${m.seq} (${m.description}, due ${m.dueOn})`).join('; ')}.`));
      } else {
        blocks.push(text(`All milestones of ${item.ref} are done. Mark the item done, with what was done, when the weakness is resolved.`));
        blocks.push(actions({ label: 'Mark item completed', command: `poam done ${item.ref}`, style: 'primary' }));
      }
      return reply(...blocks);
    }

    const item = await completableItem(ctx, input.item);
    if (!input.done && ctx.attachments.length === 0) {
      if (input.via) throw invalid('Say what was done, give a link, or attach a file: an ISMS lead verifies the item against it.').on('done');
      // The "Mark item completed" button names only the item: ask for the closure evidence.
      return reply(formBlock(await ctx.form({
        title: `Mark ${item.ref} done`, known: { item: item.ref },
        fields: { done: { label: 'What was done (closure evidence)', hint: 'A text or a link; attach a file as well if you have one' } },
      })));
    }
    const { closure, told } = await claimClosure(ctx, item, input.done);
    return {
      ...reply(
        text(`Marked ${item.ref} (${item.weakness}) done, awaiting verification (${closure.ref}). `
          + `${told.length ? `${told.join(' or ')} will verify it or reopen it.` : 'Nobody else can verify it yet: the ISMS lead adds another ISMS lead or a management-body member by import.'}`, 'success'),
        fields(closureFields(closure)),
      ),
      about: item.ref,
    };
  },
});
