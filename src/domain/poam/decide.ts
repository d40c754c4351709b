import { z } from 'zod';
import { asc, eq } from 'drizzle-orm';
import { poamExtensions, poamItems } from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { MAX_CHOICES } from '../../core/args.js';
import { conflict, notFound } from '../../core/errors.js';
import { refuseOwnWork } from '../../core/duties.js';
import { registerRef } from '../../core/validate.js';
import { fields, formBlock, reply, text } from '../../core/reply.js';
import { personName, type Extension, type PoamItem } from './items.js';
import { readersDay } from '../../core/time.js';

export const decideInput = z.object({
  extension: registerRef('PEX').describe('The extension request, e.g. PEX-0001'),
  note: z.string().trim().min(1).max(2000).optional().describe('A note the owner reads (required to reject: why)'),
});
type DecideInput = z.infer<typeof decideInput>;
type Decision = 'approved' | 'rejected';

/**
 * Loads a request that still waits for a decision, locked for the rest of the transaction, with its item.
 * Whoever asked for it or owns the item does not decide it (core/duties.ts).
 */
async function loadPendingExtension(ctx: CommandContext, ref: string): Promise<{ extension: Extension; item: PoamItem }> {
  const [extension] = await ctx.db.select().from(poamExtensions).where(eq(poamExtensions.ref, ref)).for('update');
  if (!extension) throw notFound(`${ref} does not exist.`, '"/isms poam --all" shows pending extension requests with their references.');
  if (extension.status !== 'requested') {
    throw conflict(`${ref} was already ${extension.status} by ${await personName(ctx.db, extension.decidedBy)} on ${extension.decidedAt ? readersDay(extension.decidedAt, ctx.actor.timezone) : 'an earlier day'}; a decision stands.`,
      'If circumstances changed, the owner can file a new request with "/isms poam extend".');
  }
  const [item] = await ctx.db.select().from(poamItems).where(eq(poamItems.id, extension.itemId)).for('update');
  await refuseOwnWork(ctx, {
    what: ref,
    deeds: [{ by: extension.requestedBy, did: `asked for ${ref} yourself` }, { by: item.ownerId, did: `own ${item.ref}, which ${ref} would extend` }],
  });
  return { extension, item };
}

/**
 * The decision of an ISMS lead (or, on the leads' own requests, of the management body) on an extension
 * request; approval moves the item's due date. The owner hears of it.
 */
export async function decideExtension(ctx: CommandContext, ref: string, decision: Decision, note: string | undefined) {
  const { extension, item } = await loadPendingExtension(ctx, ref);
  const [decided] = await ctx.db.update(poamExtensions)
    .set({ status: decision, decidedBy: ctx.actor.id, decidedAt: ctx.now, decisionNote: note })
    .where(eq(poamExtensions.id, extension.id)).returning();
  await ctx.audit({ action: decision === 'approved' ? 'approve' : 'reject', entity: 'poam_extension', entityRef: ref, before: extension, after: decided });

  let dueOn = item.dueOn;
  if (decision === 'approved') {
    // A new due date starts the overdue escalation afresh: its steps are keyed by the due date (scheduler/jobs/ladder.ts).
    const [moved] = await ctx.db.update(poamItems).set({ dueOn: extension.requestedDueOn, escalationLevel: 0 })
      .where(eq(poamItems.id, item.id)).returning();
    await ctx.audit({ action: 'extend_due_date', entity: 'poam_item', entityRef: item.ref, before: item, after: moved });
    dueOn = moved.dueOn;
  }

  const notifyOwner = item.ownerId !== ctx.actor.id;
  if (notifyOwner) {
    const outcome = decision === 'approved'
      ? `${ctx.actor.name} approved your extension request ${ref}: ${item.ref} (${item.weakness}) is now due on ${dueOn}.`
      : `${ctx.actor.name} rejected your extension request ${ref}: ${item.ref} (${item.weakness}) stays due on ${dueOn}.`;
    await ctx.notify({
      recipientId: item.ownerId,
      kind: 'poam_extension',
      idempotencyKey: `poam-extension:${ref}:decision:${item.ownerId}`,
      reply: { ...reply(text(outcome, decision === 'approved' ? 'success' : 'warning'), ...(note ? [fields([{ label: 'Note', value: note }])] : [])), about: ref },
    });
  }
  return { extension: decided, item, dueOn, ownerNotified: notifyOwner };
}

async function pendingOptions(ctx: CommandContext) {
  const rows = await ctx.db.select({ ref: poamExtensions.ref, item: poamItems.ref, to: poamExtensions.requestedDueOn })
    .from(poamExtensions).innerJoin(poamItems, eq(poamItems.id, poamExtensions.itemId))
    .where(eq(poamExtensions.status, 'requested')).orderBy(asc(poamExtensions.id)).limit(MAX_CHOICES + 1);
  return rows.map((r) => ({ value: r.ref, label: `${r.ref} — ${r.item} to ${r.to}` }));
}

function decisionCommand(decision: Decision) {
  const verb = decision === 'approved' ? 'approve' : 'reject';
  const name = `poam ${verb}`;
  return defineCommand({
    name,
    summary: decision === 'approved' ? 'Approve a POA&M extension request (moves the due date; never your own)' : 'Reject a POA&M extension request, with a note (never your own)',
    examples: decision === 'approved' ? ['poam approve PEX-0001 "agreed in the risk meeting"'] : ['poam reject PEX-0001 "exposure too high; add a compensating control instead"'],
    // The management body decides only what every ISMS lead asked for or owns (core/duties.ts).
    roles: ['isms_lead', 'management_body'],
    schema: decideInput,
    args: {
      extension: { positional: true, label: 'Extension request', value: 'PEX-ref', options: pendingOptions },
      note: decision === 'approved' ? { positional: 'rest' } : { positional: 'rest', required: true, label: 'Why is it rejected? The owner reads this.' },
    },
    form: { title: `${decision === 'approved' ? 'Approve' : 'Reject'} an extension request`, submitLabel: decision === 'approved' ? 'Approve' : 'Reject' },
    async run(ctx, input: DecideInput) {
      if (decision === 'rejected' && !input.note) {
        // The "Reject" button names only the request: ask for the reason the owner will read.
        await loadPendingExtension(ctx, input.extension);
        return reply(formBlock(await ctx.form({ title: `Reject ${input.extension}`, known: { extension: input.extension } })));
      }
      const { extension, item, dueOn, ownerNotified } = await decideExtension(ctx, input.extension, decision, input.note);
      const told = ownerNotified ? ` ${await personName(ctx.db, item.ownerId)} has been told.` : '';
      return {
        ...reply(
          text(decision === 'approved'
            ? `Approved ${extension.ref}: ${item.ref} is now due on ${dueOn} (was ${item.dueOn}).${told}`
            : `Rejected ${extension.ref}: ${item.ref} stays due on ${dueOn}.${told}`, 'success'),
          ...(input.note ? [fields([{ label: 'Note', value: input.note }])] : []),
        ),
        about: extension.ref,
      };
    },
  });
}

export const poamApproveCommand = decisionCommand('approved');
export const poamRejectCommand = decisionCommand('rejected');
