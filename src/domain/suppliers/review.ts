import { z } from 'zod';
import { eq } from 'drizzle-orm';
import { suppliers } from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { findPersonById, isLead } from '../../core/actor.js';
import { conflict, forbidden, invalid } from '../../core/errors.js';
import { registerRef } from '../../core/validate.js';
import { fields, reply, text } from '../../core/reply.js';
import { addMonths, readersDay } from '../../core/time.js';
import { findSupplier, supplierFacts } from './details.js';
import { REVIEW_OUTCOME_LABELS, reviewOutcomeInput, type ReviewOutcome } from './register-of-information.js';

/** Months to the next review: tier-1 suppliers are looked at twice a year, the others yearly. */
export const reviewIntervalMonths = (tier: string) => (tier === 'tier1_critical' ? 6 : 12);

export const supplierReviewInput = z.object({
  ref: registerRef('SUP').describe('The supplier reviewed, e.g. SUP-0001'),
  outcome: reviewOutcomeInput.describe('continue, continue-with-actions or exit'),
  note: z.string().trim().max(2000, 'must be at most 2000 characters').optional()
    .describe('What was found, and the actions or the exit plan (required unless the outcome is continue)'),
});

/** A review that is no plain "continue" says what follows from it. */
const NEEDS_NOTE: Partial<Record<ReviewOutcome, string>> = {
  continue_with_actions: 'name the actions, e.g. "renew the SOC 2 report by March"',
  exit: 'say why and how, e.g. "SLA missed three months running; move to the exit plan"',
};

async function supplierToReview(ctx: CommandContext, ref: string) {
  const supplier = await findSupplier(ctx.db, ref, true);
  if (!isLead(ctx.actor) && supplier.ownerId !== ctx.actor.id) {
    throw forbidden(`Only the ISMS lead or the owner of ${ref} records its reviews.`, 'Ask your ISMS lead if you should own this supplier relationship.');
  }
  if (supplier.status !== 'accepted') {
    throw conflict(`${ref} (${supplier.name}) is ${supplier.status}, not accepted into the supplier register, so there is nothing to review yet.`,
      supplier.status === 'declared' ? 'It waits for triage: "/isms triage" lists it.' : 'Nothing was recorded.');
  }
  return supplier;
}

export const supplierReviewCommand = defineCommand({
  name: 'supplier review',
  summary: 'Record a supplier review (continue, continue with actions, or exit) and set the next review date',
  examples: ['supplier review SUP-0001 continue', 'supplier review SUP-0001 continue-with-actions "renew the SOC 2 report by March"'],
  schema: supplierReviewInput,
  args: {
    ref: { positional: true, label: 'Supplier', value: 'SUP-ref', placeholder: 'e.g. SUP-0001' },
    outcome: { positional: true, value: 'continue|continue-with-actions|exit', options: Object.entries(REVIEW_OUTCOME_LABELS).map(([value, label]) => ({ value, label })) },
    note: { positional: 'rest', label: 'Findings and actions' },
  },
  form: { title: 'Record a supplier review', submitLabel: 'Record' },
  async run(ctx, { ref, outcome, note }) {
    const needs = NEEDS_NOTE[outcome];
    if (needs && !note) throw invalid(`A review ending in "${REVIEW_OUTCOME_LABELS[outcome]}" needs a note: ${needs}.`).on('note');
    const before = await supplierToReview(ctx, ref);
    const today = readersDay(ctx.now, ctx.actor.timezone);
    const owner = before.ownerId ? (await findPersonById(ctx.db, before.ownerId))?.name : undefined;
    if (before.lastReviewOn === today && before.lastReviewOutcome === outcome && (before.lastReviewNote ?? undefined) === note) {
      return reply(text(`This review of ${ref} was already recorded today; nothing changed.`), fields(await supplierFacts(ctx.db, before, owner, ctx.actor.timezone)));
    }
    const months = reviewIntervalMonths(before.criticalityTier);
    const [after] = await ctx.db.update(suppliers).set({
      lastReviewOn: today, lastReviewOutcome: outcome, lastReviewNote: note ?? null, nextReviewOn: addMonths(today, months),
    }).where(eq(suppliers.id, before.id)).returning();
    await ctx.audit({ action: 'review', entity: 'supplier', entityRef: ref, before, after });
    return reply(
      text(`Recorded the review of ${after.ref} (${after.name}): ${REVIEW_OUTCOME_LABELS[outcome]}. The next review is due on ${after.nextReviewOn} (in ${months} months).`,
        outcome === 'exit' ? 'warning' : 'success'),
      fields(await supplierFacts(ctx.db, after, owner, ctx.actor.timezone)),
    );
  },
});
