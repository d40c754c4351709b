import { z } from 'zod';
import { and, asc, eq } from 'drizzle-orm';
import { auditEvents, auditFindings, poamMilestones } from '../../db/schema/index.js';
import { refuseOwnWork, type Deed } from '../../core/duties.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { MAX_CHOICES } from '../../core/args.js';
import { conflict } from '../../core/errors.js';
import { registerRef } from '../../core/validate.js';
import { fields, formBlock, reply, text } from '../../core/reply.js';
import { personName, statusInWords } from '../poam/items.js';
import { FINDING_LABELS, isNonconformity, loadFinding, poamItemsFor, refuseAuditOfOwnControl, type Finding } from './shared.js';

export const findingCloseInput = z.object({
  finding: registerRef('AF').describe('The finding to close, e.g. AF-0001'),
  // Optional so that the list's "Close" button (the reference alone) can ask for it in a form.
  action: z.string().trim().min(1).max(4000, 'must be at most 4000 characters').optional()
    .describe('The corrective action that was taken; auditors read this'),
});

/**
 * Loads an open finding and refuses while the corrective action of a nonconformity is not completed, and
 * anyone who did that corrective action or, as an auditor, owns the control the finding is against.
 */
async function loadClosable(ctx: CommandContext, ref: string): Promise<Finding> {
  const finding = await loadFinding(ctx.db, ref);
  if (finding.status === 'closed') {
    throw conflict(`${ref} was already closed; its corrective action reads "${finding.correctiveAction ?? ''}". Nothing was recorded.`);
  }
  if (isNonconformity(finding.type)) {
    const item = (await poamItemsFor(ctx.db, [ref])).get(ref);
    if (item && item.status !== 'completed') {
      const owner = await personName(ctx.db, item.ownerId);
      throw conflict(`${ref} is a ${FINDING_LABELS[finding.type]} and its POA&M item ${item.ref} is still ${statusInWords(item.status)} `
        + `(owner ${owner}, due ${item.dueOn}); it can be closed once ${item.ref} is completed. Nothing was recorded.`,
      item.status === 'awaiting_verification'
        ? `An ISMS lead verifies it with "/isms poam verify ${item.ref}".`
        : `${owner} marks it completed with "/isms poam done ${item.ref}".`);
    }
  }
  await refuseOwnWork(ctx, { what: ref, verb: 'closes', deeds: await correctiveActionDeeds(ctx, finding) });
  await refuseAuditOfOwnControl(ctx, finding.clause, 'closes findings on');
  return finding;
}

/** Who did the corrective action of a nonconformity: its POA&M item's owner, who completed it, who did its milestones. */
async function correctiveActionDeeds(ctx: CommandContext, finding: Finding): Promise<Deed[]> {
  const item = (await poamItemsFor(ctx.db, [finding.ref])).get(finding.ref);
  if (!item) return [];
  const completedBy = await ctx.db.select({ by: auditEvents.actorId }).from(auditEvents)
    .where(and(eq(auditEvents.entity, 'poam_item'), eq(auditEvents.entityRef, item.ref), eq(auditEvents.action, 'complete')));
  const milestones = await ctx.db.select({ by: poamMilestones.doneBy }).from(poamMilestones).where(eq(poamMilestones.itemId, item.id));
  return [
    ...completedBy.map(({ by }) => ({ by, did: `completed ${item.ref}, the corrective action of ${finding.ref}, yourself` })),
    { by: item.ownerId, did: `own ${item.ref}, the corrective action of ${finding.ref}` },
    ...milestones.map(({ by }) => ({ by, did: `did milestones of ${item.ref}, the corrective action of ${finding.ref}` })),
  ];
}

/** Closes a finding with the corrective action that was taken. */
export async function closeFinding(ctx: CommandContext, ref: string, correctiveAction: string) {
  const finding = await loadClosable(ctx, ref);
  const [closed] = await ctx.db.update(auditFindings).set({ status: 'closed', correctiveAction })
    .where(eq(auditFindings.id, finding.id)).returning();
  await ctx.audit({ action: 'close', entity: 'audit_finding', entityRef: ref, before: finding, after: closed });
  return closed;
}

export const findingCloseCommand = defineCommand({
  name: 'finding close',
  summary: 'Close an audit finding with its corrective action (a nonconformity once its POA&M item is completed; never your own work)',
  examples: ['finding close AF-0001 "Internal audit programme approved and the first audit held"'],
  // Auditors verify corrective action; the management body closes only what every ISMS lead worked on (core/duties.ts).
  roles: ['isms_lead', 'auditor', 'management_body'],
  schema: findingCloseInput,
  args: {
    finding: {
      positional: true, value: 'AF-ref',
      // As many open findings as a form lists and one more, which says the reference is typed instead: never all of them.
      options: async (ctx) => (await ctx.db.select({ ref: auditFindings.ref, type: auditFindings.type, clause: auditFindings.clause }).from(auditFindings)
        .where(eq(auditFindings.status, 'open')).orderBy(asc(auditFindings.id)).limit(MAX_CHOICES + 1))
        .map((f) => ({ value: f.ref, label: `${f.ref} — ${FINDING_LABELS[f.type]}, ${f.clause ?? ''}` })),
    },
    action: { positional: 'rest', required: true, label: 'Corrective action taken', value: 'corrective action' },
  },
  form: { title: 'Close an audit finding', submitLabel: 'Close finding' },
  async run(ctx, input) {
    if (!input.action) {
      await loadClosable(ctx, input.finding);
      return reply(formBlock(await ctx.form({ title: `Close ${input.finding}`, known: { finding: input.finding } })));
    }
    const closed = await closeFinding(ctx, input.finding, input.action);
    return {
      ...reply(
        text(`Closed ${closed.ref} (${FINDING_LABELS[closed.type]} against ${closed.clause}).`, 'success'),
        fields([
          { label: 'Finding', value: closed.description },
          { label: 'Corrective action', value: closed.correctiveAction ?? '' },
        ]),
      ),
      about: closed.ref,
    };
  },
});
