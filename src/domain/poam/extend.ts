import { z } from 'zod';
import { and, eq } from 'drizzle-orm';
import { poamExtensions } from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { isLead } from '../../core/actor.js';
import { decidersOf } from '../../core/duties.js';
import { conflict, invalid } from '../../core/errors.js';
import { nextRef } from '../../core/refs.js';
import { isoDate, registerRef } from '../../core/validate.js';
import { actions, fields, formBlock, reply, text, type Button } from '../../core/reply.js';
import { assertOwnerOrLead, isOpen, itemChoices, loadItem } from './items.js';
import { addMonths, readersDay } from '../../core/time.js';

/** The decision buttons of an extension request, wherever it is shown to someone who may decide it. */
export const extensionButtons = (ref: string): Button[] => [
  { label: 'Approve', command: `poam approve ${ref}`, style: 'primary' },
  { label: 'Reject', command: `poam reject ${ref}`, style: 'danger' },
];

export const poamExtendInput = z.object({
  item: registerRef('POAM').describe('The POA&M item, e.g. POAM-0001'),
  date: isoDate.optional().describe('The new due date, after the current one'),
  reason: z.string().trim().min(1).max(2000).optional().describe('Why more time is needed; the ISMS lead reads this'),
});
export type PoamExtendInput = z.infer<typeof poamExtendInput>;

/** Records an extension request (status requested) and asks those who may decide it (core/duties.ts). */
export async function requestExtension(ctx: CommandContext, input: { item: string; date: string; reason: string }) {
  const item = await loadItem(ctx.db, input.item);
  await assertOwnerOrLead(ctx.db, ctx.actor, item, 'request an extension of it');
  if (!isOpen(item)) throw conflict(`${item.ref} is ${item.status.replace('_', ' ')}; only open items can be extended.`);
  const [pending] = await ctx.db.select().from(poamExtensions)
    .where(and(eq(poamExtensions.itemId, item.id), eq(poamExtensions.status, 'requested')));
  if (pending) {
    throw conflict(`${pending.ref} already asks to extend ${item.ref} to ${pending.requestedDueOn} and waits for a decision; one request at a time.`,
      'Ask your ISMS lead to decide it first.');
  }
  if (input.date <= item.dueOn) {
    throw invalid(`The new due date ${input.date} must be after the current due date of ${item.ref}, ${item.dueOn}.`).on('date');
  }
  const today = readersDay(ctx.now, ctx.actor.timezone);
  if (input.date < today) throw invalid(`The new due date ${input.date} is in the past (today is ${today}).`).on('date');

  const ref = await nextRef(ctx.db, 'PEX');
  const [extension] = await ctx.db.insert(poamExtensions).values({
    ref, itemId: item.id, previousDueOn: item.dueOn, requestedDueOn: input.date, reason: input.reason,
    requestedBy: ctx.actor.id, requestedAt: ctx.now,
  }).returning();
  await ctx.audit({ action: 'request', entity: 'poam_extension', entityRef: ref, after: extension });

  // Asked of those free to decide it: the leads who neither asked nor own the item, else the management body.
  const { people: deciders } = await decidersOf(ctx.db, [ctx.actor.id, item.ownerId]);
  for (const decider of deciders) {
    await ctx.notify({
      recipientId: decider.id,
      kind: 'poam_extension',
      idempotencyKey: `poam-extension:${ref}:request:${decider.id}`,
      reply: {
        ...reply(
          text(`${ctx.actor.name} asks to extend ${item.ref} (${item.weakness}) from ${item.dueOn} to ${input.date}.`),
          fields([{ label: 'Request', value: ref }, { label: 'Reason', value: input.reason }]),
          actions(...extensionButtons(ref)),
        ),
        about: ref,
      },
    });
  }
  return { item, extension };
}

export const poamExtendCommand = defineCommand({
  name: 'poam extend',
  summary: 'Ask the ISMS lead to move the due date of a POA&M item',
  examples: (today) => [`poam extend POAM-0001 ${addMonths(today, 6)} "the isolated restore environment arrives later"`],
  schema: poamExtendInput,
  args: {
    item: {
      positional: true, label: 'POA&M item', value: 'POAM-ref',
      options: (ctx) => itemChoices(ctx.db, isLead(ctx.actor) ? undefined : ctx.actor.id, (item) => `${item.ref} — ${item.weakness} (due ${item.dueOn})`),
    },
    date: { positional: true, required: true, label: 'New due date', value: 'new due date' },
    reason: { positional: 'rest', required: true, label: 'Why is more time needed?' },
  },
  form: { title: 'Request a POA&M extension', submitLabel: 'Request' },
  async run(ctx, input) {
    if (!input.date && !input.reason) {
      // The "Request extension" button names only the item: ask for the rest.
      const item = await loadItem(ctx.db, input.item);
      await assertOwnerOrLead(ctx.db, ctx.actor, item, 'request an extension of it');
      return reply(formBlock(await ctx.form({
        title: `Request an extension of ${item.ref}`, known: { item: item.ref }, fields: { date: { hint: `After the current due date, ${item.dueOn}` } },
      })));
    }
    if (!input.date) throw invalid('Give the new due date (YYYY-MM-DD) after the item reference.').on('date');
    if (!input.reason) throw invalid('Give the reason for the extension after the new due date.').on('reason');
    const { item, extension } = await requestExtension(ctx, { item: input.item, date: input.date, reason: input.reason });
    // Who decides, by the rule "poam approve" enforces: the management body when every ISMS lead had a part in it.
    const { role } = await decidersOf(ctx.db, [extension.requestedBy, item.ownerId]);
    const decider = role === 'management_body' ? 'The management body (every ISMS lead had a part in it)' : 'The ISMS lead';
    return {
      ...reply(
        text(`Requested an extension of ${item.ref} to ${extension.requestedDueOn} (${extension.ref}). ${decider} will approve or reject it; until then the due date stays ${item.dueOn}.`, 'success'),
        fields([
          { label: 'Request', value: extension.ref },
          { label: 'Item', value: `${item.ref} — ${item.weakness}` },
          { label: 'Current due date', value: extension.previousDueOn },
          { label: 'Requested due date', value: extension.requestedDueOn },
          { label: 'Reason', value: extension.reason },
        ]),
      ),
      about: extension.ref,
    };
  },
});
