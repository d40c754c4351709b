import { z } from 'zod';
import { eq } from 'drizzle-orm';
import { aiTools, assets, scopeChanges, suppliers } from '../../db/schema/index.js';
import { commandLine, defineCommand, type CommandContext } from '../../core/router.js';
import { findPersonById } from '../../core/actor.js';
import { refuseOwnWork } from '../../core/duties.js';
import { conflict, notFound } from '../../core/errors.js';
import { nextRef } from '../../core/refs.js';
import { registerRef } from '../../core/validate.js';
import { reply, text, fields, formBlock } from '../../core/reply.js';
import { findAssetByName } from '../declarations/scope.js';
import { KIND_LABELS } from './labels.js';
import { readersDay } from '../../core/time.js';
import { AI_STATUS_LABELS } from '../declarations/ai-status.js';
import { askRatification } from '../declarations/scope-approval.js';
import { settleSupplierApproval } from '../suppliers/approval.js';

type ScopeChange = typeof scopeChanges.$inferSelect;
export type Decision = 'accepted' | 'rejected';

/** What a decision did to the register entry it is about. */
interface SubjectOutcome {
  /** Sentence for the ISMS lead and the declarer, e.g. "AI-0001 is now under review." */
  effect: string;
  /** Set when the decision created the register entry (a new asset). */
  subjectRef?: string;
}

export const decideInput = z.object({
  ref: registerRef('SC').describe('The scope change (declaration) to decide, e.g. SC-0003'),
  rationale: z.string().trim().max(2000).optional().describe('Why; the person who declared it is told (required to reject)'),
});
export type DecideInput = z.infer<typeof decideInput>;

async function changeToDecide(ctx: CommandContext, ref: string): Promise<ScopeChange> {
  // Locked, so two leads deciding the same item at once are served one after the other.
  const [change] = await ctx.db.select().from(scopeChanges).where(eq(scopeChanges.ref, ref)).for('update');
  if (!change) throw notFound(`${ref} does not exist; "/isms triage" lists what is waiting.`);
  if (change.status !== 'proposed') {
    const decider = change.decidedBy ? await findPersonById(ctx.db, change.decidedBy) : undefined;
    const by = decider ? ` by ${decider.name}` : '';
    const on = change.decidedAt ? ` on ${readersDay(change.decidedAt, ctx.actor.timezone)}` : '';
    throw conflict(`${ref} was already ${change.status}${by}${on}.`, 'Nothing was recorded. "/isms triage" lists what is still waiting.');
  }
  const declared = change.kind === 'new_ai_usage' || change.kind === 'new_supplier';
  const what = (declared && change.subjectRef) || ref;
  await refuseOwnWork(ctx, { what, deeds: [{ by: change.declaredBy, did: `${declared ? 'declared' : 'proposed'} ${what} yourself` }] });
  return change;
}

async function decideAiTool(ctx: CommandContext, ref: string, decision: Decision): Promise<SubjectOutcome> {
  const [before] = await ctx.db.select().from(aiTools).where(eq(aiTools.ref, ref)).for('update');
  if (!before) return { effect: `${ref} is not in the AI register; no tool changed.` };
  // Acceptance starts the assessment of a declared tool; it never undoes a later verdict.
  const status = decision === 'accepted' ? (before.status === 'declared' ? 'under_review' : before.status) : 'prohibited';
  if (status === before.status) return { effect: `${ref} stays ${AI_STATUS_LABELS[status]}.` };
  const [after] = await ctx.db.update(aiTools).set({ status }).where(eq(aiTools.id, before.id)).returning();
  await ctx.audit({ action: 'triage', entity: 'ai_tool', entityRef: ref, before, after });
  return { effect: `${ref} is now ${AI_STATUS_LABELS[status]}.` };
}

async function decideSupplier(ctx: CommandContext, ref: string, decision: Decision): Promise<SubjectOutcome> {
  const [before] = await ctx.db.select().from(suppliers).where(eq(suppliers.ref, ref)).for('update');
  if (!before) return { effect: `${ref} is not in the supplier register; no supplier changed.` };
  const [after] = await ctx.db.update(suppliers).set({ status: decision }).where(eq(suppliers.id, before.id)).returning();
  await ctx.audit({ action: 'triage', entity: 'supplier', entityRef: ref, before, after });
  const asked = await settleSupplierApproval(ctx, after, `${ref} was ${decision} in triage`);
  return { effect: `${ref} is now ${decision} in the supplier register.${asked
    ? ` As a tier-1 supplier it needs the management body's approval: asked as ${asked.approval.ref}.` : ''}` };
}

/** An accepted new system enters the asset register (owned by whoever declared it), or comes back into scope. */
async function bringSystemIntoScope(ctx: CommandContext, change: ScopeChange): Promise<SubjectOutcome> {
  const existing = await findAssetByName(ctx.db, change.subject);
  if (existing?.inScope) return { effect: `${existing.name} is already in the asset register as ${existing.ref}.`, subjectRef: existing.ref };
  if (existing) {
    const [after] = await ctx.db.update(assets).set({ inScope: true }).where(eq(assets.id, existing.id)).returning();
    await ctx.audit({ action: 'bring_into_scope', entity: 'asset', entityRef: existing.ref, before: existing, after });
    return { effect: `${existing.ref} ${existing.name} is back in scope.`, subjectRef: existing.ref };
  }
  const ref = await nextRef(ctx.db, 'AST');
  const [asset] = await ctx.db.insert(assets).values({
    ref, name: change.subject, description: change.description, ownerId: change.declaredBy, inScope: true,
  }).returning();
  await ctx.audit({ action: 'create', entity: 'asset', entityRef: ref, after: asset });
  return { effect: `${change.subject} is now in the asset register as ${ref}.`, subjectRef: ref };
}

async function takeSystemOutOfScope(ctx: CommandContext, change: ScopeChange): Promise<SubjectOutcome> {
  const [byRef] = change.subjectRef ? await ctx.db.select().from(assets).where(eq(assets.ref, change.subjectRef)) : [];
  const asset = byRef ?? await findAssetByName(ctx.db, change.subject);
  if (!asset) return { effect: `${change.subject} is not in the asset register; no asset changed.` };
  if (!asset.inScope) return { effect: `${asset.ref} ${asset.name} was already out of scope.`, subjectRef: asset.ref };
  const [after] = await ctx.db.update(assets).set({ inScope: false }).where(eq(assets.id, asset.id)).returning();
  await ctx.audit({ action: 'take_out_of_scope', entity: 'asset', entityRef: asset.ref, before: asset, after });
  return { effect: `${asset.ref} ${asset.name} is now out of scope.`, subjectRef: asset.ref };
}

async function applyToSubject(ctx: CommandContext, change: ScopeChange, decision: Decision): Promise<SubjectOutcome> {
  switch (change.kind) {
    case 'new_ai_usage':
      return change.subjectRef ? decideAiTool(ctx, change.subjectRef, decision) : { effect: '' };
    case 'new_supplier':
      return change.subjectRef ? decideSupplier(ctx, change.subjectRef, decision) : { effect: '' };
    case 'new_system':
      return decision === 'accepted' ? bringSystemIntoScope(ctx, change) : { effect: `${change.subject} stays out of scope.` };
    case 'retired_system':
      return decision === 'accepted' ? takeSystemOutOfScope(ctx, change) : { effect: `${change.subject} stays in scope.` };
    default:
      return { effect: '' };
  }
}

/**
 * The verdict of an ISMS lead (or, on a lead's own declaration, of the management body) on a declaration
 * or scope change, carried through to the register entry it is about.
 */
export async function decideScopeChange(ctx: CommandContext, change: ScopeChange, decision: Decision, rationale: string | undefined) {
  const outcome = await applyToSubject(ctx, change, decision);
  const [after] = await ctx.db.update(scopeChanges).set({
    status: decision, decidedBy: ctx.actor.id, decidedAt: ctx.now, rationale,
    subjectRef: outcome.subjectRef ?? change.subjectRef,
  }).where(eq(scopeChanges.id, change.id)).returning();
  await ctx.audit({ action: decision === 'accepted' ? 'accept' : 'reject', entity: 'scope_change', entityRef: change.ref, before: change, after });
  outcome.effect += await askRatification(ctx, after);
  const what = `${change.ref} (${KIND_LABELS[change.kind]}: ${change.subject})`;
  let declarerTold = false;
  if (change.declaredBy !== ctx.actor.id) {
    declarerTold = await ctx.notify({
      recipientId: change.declaredBy,
      kind: 'triage_decision',
      idempotencyKey: `triage-decision:${change.ref}:${change.declaredBy}`,
      reply: {
        about: after.subjectRef ?? change.ref,
        blocks: [text(`Your declaration ${what} was ${decision} by ${ctx.actor.name}${rationale ? `: "${rationale}".` : '.'} ${outcome.effect}`.trim(),
          decision === 'accepted' ? 'success' : 'warning')],
      },
    });
  }
  return { change: after, effect: outcome.effect, declarerTold };
}

function decideCommand(decision: Decision) {
  const verb = decision === 'accepted' ? 'accept' : 'reject';
  return defineCommand({
    name: `triage ${verb}`,
    summary: decision === 'accepted' ? 'Accept a declaration or scope change (never your own)' : 'Reject a declaration or scope change, with a rationale (never your own)',
    examples: [decision === 'accepted' ? 'triage accept SC-0003 "low risk, assess in the next review"' : 'triage reject SC-0004 "customer data may not leave the EU"'],
    // The management body decides only what every ISMS lead declared themselves (core/duties.ts).
    roles: ['isms_lead', 'management_body'],
    schema: decideInput,
    args: {
      ref: { positional: true, label: 'Scope change', value: 'SC-ref', placeholder: 'e.g. SC-0003' },
      rationale: decision === 'accepted' ? { positional: 'rest' } : { positional: 'rest', required: true, label: 'Why is it rejected?' },
    },
    form: {
      title: decision === 'accepted' ? 'Accept a scope change' : 'Reject a scope change',
      submitLabel: decision === 'accepted' ? 'Accept' : 'Reject',
    },
    async run(ctx, input) {
      const change = await changeToDecide(ctx, input.ref);
      if (decision === 'rejected' && !input.rationale) {
        // The Reject button carries only the reference: ask for the reason instead of failing.
        return reply(
          text(`A rejection needs a rationale: say why ${change.ref} (${change.subject}) is rejected, `
            + `e.g. "${commandLine(ctx.channel, `triage reject ${change.ref} customer data may not leave the EU`)}". Nothing was recorded.`, 'error'),
          formBlock(await ctx.form({ title: `Reject ${change.ref}`, known: { ref: change.ref } })),
        );
      }
      const result = await decideScopeChange(ctx, change, decision, input.rationale);
      const declarer = await findPersonById(ctx.db, change.declaredBy);
      return reply(
        text(`${decision === 'accepted' ? 'Accepted' : 'Rejected'} ${change.ref} (${KIND_LABELS[change.kind]}: ${change.subject}). ${result.effect}`.trim(), 'success'),
        fields([
          { label: 'Reference', value: change.ref },
          ...(result.change.subjectRef ? [{ label: 'Register entry', value: result.change.subjectRef }] : []),
          { label: 'Status', value: result.change.status },
          ...(input.rationale ? [{ label: 'Rationale', value: input.rationale }] : []),
          ...(result.declarerTold && declarer ? [{ label: 'Told', value: declarer.name }] : []),
        ]),
      );
    },
  });
}

export const triageAcceptCommand = decideCommand('accepted');
export const triageRejectCommand = decideCommand('rejected');
