import { z } from 'zod';
import { asc, desc, eq } from 'drizzle-orm';
import { managementReviews, reviewDecisions } from '../../db/schema/index.js';
import { commandLine, defineCommand, type CommandContext } from '../../core/router.js';
import { findPersonById, peopleWithRole } from '../../core/actor.js';
import { invalid, notFound } from '../../core/errors.js';
import { nextRef } from '../../core/refs.js';
import { isoDate, registerRef } from '../../core/validate.js';
import { actions, fields, formBlock, reply, text } from '../../core/reply.js';
import { assertFutureDue, ownerEmail, personByEmail, roleList } from './shared.js';
import { isoDay } from '../../core/time.js';

export type ManagementReview = typeof managementReviews.$inferSelect;
export type Attendee = ManagementReview['attendees'][number];

export const reviewRecordInput = z.object({
  date: isoDate.describe('The day the review was held'),
  inputs: z.string({ required_error: 'list what the review looked at (ISO 27001 9.3.2), e.g. "audit results, risk status, objectives"' })
    .trim().min(1, 'list what the review looked at').max(8000, 'must be at most 8000 characters')
    .describe('What the review looked at, e.g. audit results, risk status, objectives, feedback (ISO 27001 9.3.2)'),
});

/**
 * Records a management review held on a date. The attendees are the management body and the ISMS lead
 * recording it, copied as they are today so that later changes to people do not rewrite the record.
 */
export async function recordReview(ctx: CommandContext, input: z.infer<typeof reviewRecordInput>) {
  const today = isoDay(ctx.now);
  if (input.date > today) {
    throw invalid(`date: ${input.date} is in the future (today is ${today}); record a management review once it has been held.`).on('date');
  }
  const board = await peopleWithRole(ctx.db, 'management_body');
  if (board.length === 0) {
    throw invalid('No one in the register has the management body role, and a management review is held by top management (ISO 27001 9.3).',
      'Give the management body its role in the register (import), then record the review.');
  }
  const lead = (await findPersonById(ctx.db, ctx.actor.id))!;
  const present = [...board.sort((a, b) => a.id - b.id), ...(board.some((p) => p.id === lead.id) ? [] : [lead])];
  const attendees: Attendee[] = present.map((p) => ({ personId: p.id, name: p.name, roles: [...(p.roles ?? [])] }));

  const ref = await nextRef(ctx.db, 'MR');
  const [review] = await ctx.db.insert(managementReviews).values({
    ref, heldOn: input.date, attendees, inputs: input.inputs, createdAt: ctx.now,
  }).returning();
  await ctx.audit({ action: 'record', entity: 'management_review', entityRef: ref, after: review });
  return review;
}

export const attendeeLine = (a: Attendee) => `${a.name} (${roleList(a.roles)})`;

export const reviewRecordCommand = defineCommand({
  name: 'review record',
  summary: 'Record a management review with its inputs; the management body and you are recorded as attendees',
  examples: ['review record 2026-09-15 "internal audit results, risk register status, ISMS objectives, supplier incidents"'],
  roles: ['isms_lead'],
  schema: reviewRecordInput,
  args: {
    date: { positional: true, label: 'Held on', value: 'held on' },
    inputs: { positional: 'rest', label: 'Inputs reviewed' },
  },
  form: { title: 'Record a management review', submitLabel: 'Record review' },
  async run(ctx, input) {
    const review = await recordReview(ctx, input);
    return {
      ...reply(
        text(`Recorded the management review held on ${review.heldOn} as ${review.ref}.`, 'success'),
        fields([
          { label: 'Reference', value: review.ref },
          { label: 'Held on', value: review.heldOn },
          { label: 'Attendees', value: review.attendees.map(attendeeLine).join('; ') },
          { label: 'Inputs', value: review.inputs },
        ]),
        text(`Add its decisions with "${commandLine(ctx.channel, `review decide ${review.ref} <owner email> <due YYYY-MM-DD> <decision>`)}".`),
        actions({ label: 'Add a decision', command: `review decide ${review.ref}` }),
      ),
      about: review.ref,
    };
  },
});

export const reviewDecideInput = z.object({
  review: registerRef('MR').describe('The management review, e.g. MR-0001'),
  // Optional so that "Add a decision" (the reference alone) can ask for the rest in a form.
  owner: ownerEmail.optional().describe('The email of who owns the decision; they are told'),
  due: isoDate.optional().describe('When it is due, a future date'),
  decision: z.string().trim().min(1).max(4000, 'must be at most 4000 characters').optional().describe('What was decided'),
});

async function loadReview(ctx: CommandContext, ref: string): Promise<ManagementReview> {
  const [review] = await ctx.db.select().from(managementReviews).where(eq(managementReviews.ref, ref)).for('update');
  if (!review) throw notFound(`${ref} does not exist.`, '"/isms reviews" lists the management reviews with their references.');
  return review;
}

/** Adds a decision (numbered within its review) with an owner and due date; the owner is told. */
export async function decide(ctx: CommandContext, input: { review: string; owner: string; due: string; decision: string }) {
  const review = await loadReview(ctx, input.review);
  assertFutureDue('due', input.due, ctx.now);
  const owner = await personByEmail(ctx.db, 'owner', input.owner);
  const earlier = await ctx.db.select({ id: reviewDecisions.id }).from(reviewDecisions).where(eq(reviewDecisions.reviewId, review.id));
  const number = earlier.length + 1;
  const [decision] = await ctx.db.insert(reviewDecisions).values({
    reviewId: review.id, decision: input.decision, ownerId: owner.id, dueOn: input.due, status: 'open',
  }).returning();
  const entityRef = `${review.ref}/${number}`;
  await ctx.audit({ action: 'decide', entity: 'review_decision', entityRef, after: decision });
  if (owner.id !== ctx.actor.id) {
    await ctx.notify({
      recipientId: owner.id,
      kind: 'review_decision',
      idempotencyKey: `review-decision:${entityRef}:owner:${owner.id}`,
      reply: {
        ...reply(
          text(`The management review ${review.ref} of ${review.heldOn} decided something you own, due ${input.due}:`),
          fields([{ label: `Decision ${number}`, value: input.decision }, { label: 'Recorded by', value: ctx.actor.name }]),
        ),
        about: review.ref,
      },
    });
  }
  return { review, decision, number, owner };
}

export const reviewDecideCommand = defineCommand({
  name: 'review decide',
  summary: 'Add a decision to a management review, with an owner and due date (the owner is told)',
  examples: ['review decide MR-0001 olga@example.org 2026-12-31 "Fund MFA for all remote access"'],
  roles: ['isms_lead'],
  schema: reviewDecideInput,
  args: {
    review: {
      positional: true, label: 'Management review', value: 'MR-ref',
      options: async (ctx) => (await ctx.db.select().from(managementReviews).orderBy(desc(managementReviews.heldOn), asc(managementReviews.id)))
        .map((r) => ({ value: r.ref, label: `${r.ref} — held ${r.heldOn}` })),
    },
    owner: { positional: true, required: true, label: 'Owner (email)', value: 'owner email' },
    due: { positional: true, required: true },
    decision: { positional: 'rest', required: true },
  },
  form: { title: 'Add a management review decision', submitLabel: 'Add decision' },
  async run(ctx, input) {
    if (!input.owner && !input.due && !input.decision) {
      const review = await loadReview(ctx, input.review);
      return reply(formBlock(await ctx.form({ title: `Add a decision to ${review.ref}`, known: { review: review.ref } })));
    }
    if (!input.owner) throw invalid('owner: give the email of the person who owns the decision after the review reference.').on('owner');
    if (!input.due) throw invalid('due: give the due date (YYYY-MM-DD) after the owner.').on('due');
    if (!input.decision) throw invalid('decision: say what was decided after the due date.').on('decision');
    const { review, decision, number, owner } = await decide(ctx, { review: input.review, owner: input.owner, due: input.due, decision: input.decision });
    const told = owner.id === ctx.actor.id ? '' : ` ${owner.name} has been told.`;
    return {
      ...reply(
        text(`Added decision ${number} to ${review.ref}: owned by ${owner.name}, due ${decision.dueOn}.${told}`, 'success'),
        fields([{ label: 'Decision', value: decision.decision }]),
      ),
      about: review.ref,
    };
  },
});
