import { z } from 'zod';
import { eq } from 'drizzle-orm';
import { managementApprovals } from '../../db/schema/index.js';
import { commandLine, defineCommand, type CommandContext } from '../../core/router.js';
import { findPersonById } from '../../core/actor.js';
import { conflict, forbidden, invalid, notFound } from '../../core/errors.js';
import { registerRef } from '../../core/validate.js';
import { fields, formBlock, reply, text } from '../../core/reply.js';
import { readersDay } from '../../core/time.js';
import { approversOf, requestApproval, stateSha256 } from './request.js';
import { approvalSubject } from './subjects.js';
import type { Approval } from './subject.js';

type Verdict = 'approve' | 'reject';

const aprRef = registerRef('APR').describe('The approval request, e.g. APR-0001');
const rationale = z.string().trim().max(2000, 'must be at most 2000 characters').optional();

/**
 * Records the management body's decision on a request, in the exact state it was asked for. A thing
 * that changed since is not decided: the old request is withdrawn and the current state asked instead.
 */
async function decide(ctx: CommandContext, ref: string, verdict: Verdict, why: string | undefined, viaForm = false) {
  const [row] = await ctx.db.select().from(managementApprovals).where(eq(managementApprovals.ref, ref)).for('update');
  if (!row) throw notFound(`${ref} does not exist; "/isms approvals" lists what waits for the management body.`);
  if (row.status !== 'pending') {
    const decider = row.decidedBy ? await findPersonById(ctx.db, row.decidedBy) : undefined;
    throw conflict(row.status === 'withdrawn'
      ? `${ref} was withdrawn${row.staleReason ? `: ${row.staleReason}` : ''}; "/isms approvals" lists what waits now.`
      : `${ref} (${row.title}) was already ${row.status}${decider ? ` by ${decider.name}` : ''}${row.decidedAt ? ` on ${readersDay(row.decidedAt, ctx.actor.timezone)}` : ''}.`,
    'Nothing was recorded.');
  }
  if (verdict === 'reject' && !why) {
    if (viaForm) throw invalid('Say why it is rejected: whoever asked is told the rationale.').on('rationale');
    // The Reject button carries only the reference: ask for the rationale instead of failing.
    return reply(
      text(`A rejection needs its rationale: say why, e.g. "${commandLine(ctx.channel, `reject ${ref} the exit strategy is missing`)}". Nothing was recorded.`, 'error'),
      formBlock(await ctx.form({ title: `Reject ${ref}`, known: { ref } })),
    );
  }
  const subject = approvalSubject(row.subjectKind);
  const now = await subject.current(ctx.db, row.subjectRef, ctx.actor.timezone);
  const mayDecide = now ? await approversOf(ctx.db, now, row.requestedBy) : [];
  if (now && !mayDecide.some((p) => p.id === ctx.actor.id)) {
    const own = row.requestedBy === ctx.actor.id ? 'asked for it' : now.authors.find((d) => d.by === ctx.actor.id)?.did ?? 'had a part in it';
    throw forbidden(`You ${own}, so another member of the management body decides ${ref} (nobody approves their own proposal).`,
      mayDecide.length ? `Ask ${mayDecide.map((p) => p.name).join(' or ')}.` : 'No other member of the management body is in the register.');
  }
  if (!now || stateSha256(now.state) !== row.stateSha256) return changedSinceAsked(ctx, row, Boolean(now));
  await subject.checkDecider?.(ctx, row);
  const [after] = await ctx.db.update(managementApprovals)
    .set({ status: verdict === 'approve' ? 'approved' : 'rejected', decidedBy: ctx.actor.id, decidedAt: ctx.now, rationale: why ?? null })
    .where(eq(managementApprovals.id, row.id)).returning();
  await ctx.audit({ action: verdict, entity: 'management_approval', entityRef: ref, before: row, after });
  await (verdict === 'approve' ? subject.onApproved : subject.onRejected)?.(ctx, after);
  // The answer shows the thing as the decision left it (an AI tool approved, no longer awaiting the body).
  const decided = await subject.current(ctx.db, row.subjectRef, ctx.actor.timezone) ?? now;
  if (row.requestedBy !== ctx.actor.id) {
    await ctx.notify({
      recipientId: row.requestedBy, kind: 'approval', idempotencyKey: `approval-decided:${ref}:${row.requestedBy}`,
      reply: reply(text(`${ctx.actor.name} ${after.status} ${row.title} (${ref})${why ? `: ${why}` : '.'}`, verdict === 'approve' ? 'success' : 'warning')),
    });
  }
  return reply(
    text(`${verdict === 'approve' ? 'Approved' : 'Rejected'}: ${row.title} (${ref}).`, verdict === 'approve' ? 'success' : 'warning'),
    fields([
      ...decided.facts,
      { label: 'Decision', value: `${after.status} by ${ctx.actor.name} on ${readersDay(ctx.now, ctx.actor.timezone)}` },
      ...(why ? [{ label: 'Rationale', value: why }] : []),
      { label: 'State decided', value: `SHA-256 ${row.stateSha256.slice(0, 12)}…` },
    ]),
  );
}

/** The thing changed (or went) since it was asked: withdraw the request and, if it still exists, ask again as it is now. */
async function changedSinceAsked(ctx: CommandContext, row: Approval, exists: boolean) {
  const subject = approvalSubject(row.subjectKind);
  if (!exists) {
    const [after] = await ctx.db.update(managementApprovals)
      .set({ status: 'withdrawn', staleAt: ctx.now, staleReason: 'it no longer exists' }).where(eq(managementApprovals.id, row.id)).returning();
    await ctx.audit({ action: 'mark_stale', entity: 'management_approval', entityRef: row.ref, before: row, after });
    return reply(text(`${row.ref} (${row.title}) was withdrawn: it no longer exists. Nothing was decided.`, 'warning'));
  }
  const requester = await findPersonById(ctx.db, row.requestedBy);
  const renewed = await requestApproval(ctx, subject, row.subjectRef, requester ?? ctx.actor);
  return reply(text(`${row.title} changed after ${row.ref} was asked, so ${row.ref} no longer describes it and nothing was decided. `
    + `It is asked again as it is now: ${renewed.approval.ref}; decide that one.`, 'warning'));
}

export const approveCommand = defineCommand({
  name: 'approve',
  summary: 'Approve, as the management body, what waits for its approval',
  examples: ['approve APR-0001', 'approve APR-0002 in line with the board minutes'],
  roles: ['management_body'],
  schema: z.object({ ref: aprRef, rationale: rationale.describe('Why, if you wish to say (optional)') }),
  args: { ref: { positional: true, label: 'Approval request', value: 'APR-ref', placeholder: 'e.g. APR-0001' }, rationale: { positional: 'rest', label: 'Rationale (optional)' } },
  form: { title: 'Approve', submitLabel: 'Approve' },
  run: (ctx, { ref, rationale: why }) => decide(ctx, ref, 'approve', why),
});

export const rejectCommand = defineCommand({
  name: 'reject',
  summary: 'Reject, as the management body, what waits for its approval, with the rationale',
  examples: ['reject APR-0003 the exit strategy is missing'],
  roles: ['management_body'],
  schema: z.object({ ref: aprRef, rationale: rationale.describe('Why it is rejected (required); whoever asked is told'), via: z.literal('form').optional() }),
  args: {
    ref: { positional: true, label: 'Approval request', value: 'APR-ref', placeholder: 'e.g. APR-0001' },
    rationale: { positional: 'rest', required: true, label: 'Why is it rejected?' },
    // Tells a submitted form without a rationale (refused) from the bare Reject button (which opens the form).
    via: { hidden: true },
  },
  form: { title: 'Reject', submitLabel: 'Reject', hidden: { via: 'form' } },
  run: (ctx, { ref, rationale: why, via }) => decide(ctx, ref, 'reject', why, via === 'form'),
});
