import { z } from 'zod';
import { and, eq } from 'drizzle-orm';
import { aiTools, scopeChanges } from '../../db/schema/index.js';
import { commandLine, defineCommand, type CommandContext } from '../../core/router.js';
import { findPersonById, hasRole, isLead } from '../../core/actor.js';
import { refuseOwnWork } from '../../core/duties.js';
import { conflict, forbidden, invalid, notFound } from '../../core/errors.js';
import { registerRef } from '../../core/validate.js';
import { reply, text, fields } from '../../core/reply.js';
import { readersDay } from '../../core/time.js';
import { AI_STATUS_LABELS, aiStatusInWords, needsManagementApproval } from './ai-status.js';
import { aiToolApproval, settleAiApproval } from './ai-approval.js';
import { latestApproval } from '../approvals/request.js';

type AiTool = typeof aiTools.$inferSelect;
type Verdict = 'approve' | 'restrict' | 'prohibit' | 'duplicate';

const note = (what: string) => z.string().trim().max(2000, 'must be at most 2000 characters').optional().describe(what);
const aiRef = (what: string) => registerRef('AI').describe(what);

const approveInput = z.object({ ref: aiRef('The AI tool, e.g. AI-0001'), conditions: note('Any limits on its use, e.g. "no customer data"') });
const restrictInput = z.object({ ref: aiRef('The AI tool, e.g. AI-0001'), conditions: note('The only conditions under which it may be used (required)') });
const prohibitInput = z.object({ ref: aiRef('The AI tool, e.g. AI-0001'), reason: note('Why it may not be used (required); the declarer is told') });
const duplicateInput = z.object({
  ref: aiRef('The entry to close, e.g. AI-0002'),
  of: aiRef('The entry it duplicates, which stays, e.g. AI-0001').optional(),
});

/** The tool to decide, locked; refuses whoever may not decide it now. */
async function toolToDecide(ctx: CommandContext, ref: string, verdict: Verdict): Promise<AiTool> {
  const [tool] = await ctx.db.select().from(aiTools).where(eq(aiTools.ref, ref)).for('update');
  if (!tool) throw notFound(`${ref} does not exist; "/isms register ai" lists the AI register.`);
  if (tool.status === 'duplicate') {
    throw conflict(`${ref} was closed as a duplicate of ${tool.duplicateOf}; decide ${tool.duplicateOf} instead.`, 'Nothing was recorded.');
  }
  if (tool.status === 'declared') {
    const [change] = await ctx.db.select().from(scopeChanges)
      .where(and(eq(scopeChanges.subjectRef, ref), eq(scopeChanges.status, 'proposed')));
    const accept = change ? `"/isms triage accept ${change.ref}"` : '"/isms triage"';
    throw conflict(`${ref} (${tool.name}) is still waiting for triage: accept it first with ${accept}, then decide it.`, 'Nothing was recorded.');
  }
  if (tool.managementApprovedAt && !isLead(ctx.actor) && hasRole(ctx.actor, 'management_body') && verdict === 'approve') {
    const approver = tool.managementApprovedBy ? await findPersonById(ctx.db, tool.managementApprovedBy) : undefined;
    throw conflict(`${ref} (${tool.name}) was already approved by the management body${approver ? ` (${approver.name})` : ''} on ${readersDay(tool.managementApprovedAt, ctx.actor.timezone)}: ${aiStatusInWords(tool)}.`,
      'Nothing was recorded.');
  }
  const deeds = [{ by: tool.declaredBy, did: `declared ${ref} (${tool.name}) yourself` }];
  const confirming = hasRole(ctx.actor, 'management_body') && (verdict === 'approve' || verdict === 'restrict')
    && tool.status === 'awaiting_management_approval';
  if (confirming && tool.declaredBy === ctx.actor.id) {
    throw forbidden(`You declared ${ref} (${tool.name}) yourself, so another member of the management body confirms its approval.`);
  }
  // An ISMS lead decides, or the management body where every lead had a part (see core/duties.ts).
  if (!confirming) await refuseOwnWork(ctx, { what: `${ref} (${tool.name})`, deeds });
  return tool;
}

/** The row after a verdict: status, its conditions or reason, who decided and when. */
async function applyVerdict(ctx: CommandContext, tool: AiTool, verdict: Verdict, text: string | undefined): Promise<Partial<AiTool>> {
  const decided = { decidedBy: ctx.actor.id, decidedAt: ctx.now };
  const cleared = { conditions: null, reason: null, duplicateOf: null, managementApprovedBy: null, managementApprovedAt: null };
  switch (verdict) {
    case 'prohibit':
      return { ...cleared, ...decided, status: 'prohibited', reason: text };
    case 'duplicate':
      return { ...cleared, ...decided, status: 'duplicate', duplicateOf: await duplicateTarget(ctx, tool, text) };
    default: {
      const allowed = verdict === 'approve' ? 'approved' : 'restricted';
      // A management-body member confirming keeps the lead's conditions unless they set their own.
      const conditions = text ?? (tool.status === 'awaiting_management_approval' ? tool.conditions : null);
      if (hasRole(ctx.actor, 'management_body')) {
        return { ...cleared, ...decided, status: allowed, conditions, managementApprovedBy: ctx.actor.id, managementApprovedAt: ctx.now };
      }
      return { ...cleared, ...decided, conditions, status: needsManagementApproval(tool) ? 'awaiting_management_approval' : allowed };
    }
  }
}

/** The entry a duplicate is closed in favour of: it exists, is another entry, and is no duplicate itself. */
async function duplicateTarget(ctx: CommandContext, tool: AiTool, of: string | undefined): Promise<string> {
  if (!of) throw invalid(`Name the entry ${tool.ref} duplicates, e.g. "/isms ai duplicate ${tool.ref} AI-0001".`).on('of');
  if (of === tool.ref) throw invalid(`${tool.ref} cannot be a duplicate of itself; name the entry it duplicates.`).on('of');
  const [target] = await ctx.db.select().from(aiTools).where(eq(aiTools.ref, of));
  if (!target) throw notFound(`${of} does not exist; "/isms register ai" lists the AI register.`).on('of');
  if (target.status === 'duplicate') {
    throw invalid(`${of} is itself a duplicate of ${target.duplicateOf}; name ${target.duplicateOf} instead.`).on('of');
  }
  const [pointing] = await ctx.db.select({ ref: aiTools.ref }).from(aiTools).where(eq(aiTools.duplicateOf, tool.ref)).limit(1);
  if (pointing) throw conflict(`${pointing.ref} was closed as a duplicate of ${tool.ref}, so ${tool.ref} stays in the register.`, 'Nothing was recorded.');
  return of;
}

const NEEDS: Partial<Record<Verdict, { field: 'conditions' | 'reason'; say: (ref: string) => string }>> = {
  restrict: { field: 'conditions', say: (ref) => `A restriction needs its conditions: say under which conditions ${ref} may be used, e.g. "/isms ai restrict ${ref} public data only".` },
  prohibit: { field: 'reason', say: (ref) => `A prohibition needs a reason: say why ${ref} may not be used, e.g. "/isms ai prohibit ${ref} stores prompts outside the EU".` },
};

/** Records a verdict on an AI tool with its audit event, and tells the declarer and, when their approval is needed, the management body. */
export async function decideAiTool(ctx: CommandContext, ref: string, verdict: Verdict, note: string | undefined) {
  const needed = NEEDS[verdict];
  if (needed && !note) throw invalid(needed.say(ref)).on(needed.field);
  const before = await toolToDecide(ctx, ref, verdict);
  const [after] = await ctx.db.update(aiTools).set(await applyVerdict(ctx, before, verdict, note)).where(eq(aiTools.id, before.id)).returning();
  await ctx.audit({ action: verdict === 'duplicate' ? 'close_duplicate' : verdict, entity: 'ai_tool', entityRef: ref, before, after });
  const status = aiStatusInWords(after);
  const stamp = `${ref}:${after.status}:${ctx.now.getTime()}`;
  await ctx.notify({
    recipientId: before.declaredBy,
    kind: 'ai_decision',
    idempotencyKey: `ai-decision:${stamp}:${before.declaredBy}`,
    reply: { about: ref, blocks: [text(`${ctx.actor.name} decided your AI declaration ${ref} (${before.name}): ${status}.`, after.status === 'prohibited' ? 'warning' : 'info')] },
  });
  await settleAiApproval(ctx, after, `${ctx.actor.name} decided ${ref}: ${status}`);
  return after;
}

const SPECS = {
  approve: {
    schema: approveInput, summary: 'Approve an AI tool, optionally with conditions of use',
    example: 'ai approve AI-0001 "no customer data; opt out of training"', note: { positional: 'rest' } as const,
  },
  restrict: {
    schema: restrictInput, summary: 'Allow an AI tool only under the conditions given',
    example: 'ai restrict AI-0001 public and internal data only', note: { positional: 'rest', required: true, label: 'Conditions of use' } as const,
  },
  prohibit: {
    schema: prohibitInput, summary: 'Prohibit an AI tool, with the reason',
    example: 'ai prohibit AI-0002 stores prompts outside the EU', note: { positional: 'rest', required: true, label: 'Why is it prohibited?' } as const,
  },
};

function decisionCommand(verdict: 'approve' | 'restrict' | 'prohibit') {
  const spec = SPECS[verdict];
  const noteField = verdict === 'prohibit' ? 'reason' : 'conditions';
  return defineCommand({
    name: `ai ${verdict}`,
    summary: spec.summary,
    examples: [spec.example],
    roles: ['isms_lead', 'management_body'],
    schema: spec.schema as typeof approveInput,
    args: { ref: { positional: true, label: 'AI tool', value: 'AI-ref', placeholder: 'e.g. AI-0001' }, [noteField]: spec.note },
    form: { title: `${verdict[0].toUpperCase()}${verdict.slice(1)} an AI tool`, submitLabel: `${verdict[0].toUpperCase()}${verdict.slice(1)}` },
    async run(ctx, input) {
      const raw = input as { ref: string; conditions?: string; reason?: string };
      const tool = await decideAiTool(ctx, raw.ref, verdict, raw[noteField]);
      return decidedReply(ctx, tool);
    },
  });
}

async function decidedReply(ctx: CommandContext, tool: AiTool) {
  const declarer = await findPersonById(ctx.db, tool.declaredBy);
  const awaiting = tool.status === 'awaiting_management_approval';
  const request = awaiting ? await latestApproval(ctx.db, aiToolApproval, tool.ref) : undefined;
  return reply(
    text(`${tool.ref} (${tool.name}) is now ${aiStatusInWords(tool)}.`, awaiting ? 'warning' : 'success'),
    ...(awaiting ? [text(`${tool.name} sees ${tool.dataCategories.join(', ')} data, so its use needs the management body's approval; `
      + `they have been asked${request ? ` (${request.ref})` : ''} to confirm with "${commandLine(ctx.channel, `approve ${request?.ref ?? 'APR-…'}`)}" `
      + `or "${commandLine(ctx.channel, `ai approve ${tool.ref}`)}". Until then it may not be used.`)] : []),
    fields([
      { label: 'Reference', value: tool.ref },
      { label: 'Status', value: AI_STATUS_LABELS[tool.status] },
      ...(tool.conditions ? [{ label: 'Conditions', value: tool.conditions }] : []),
      ...(tool.reason ? [{ label: 'Reason', value: tool.reason }] : []),
      ...(tool.duplicateOf ? [{ label: 'Duplicate of', value: tool.duplicateOf }] : []),
      ...(tool.managementApprovedAt ? [{ label: 'Management-body approval', value: `${ctx.actor.name} on ${readersDay(tool.managementApprovedAt, ctx.actor.timezone)}` }] : []),
      ...(declarer ? [{ label: 'Told', value: declarer.name }] : []),
    ]),
  );
}

export const aiApproveCommand = decisionCommand('approve');
export const aiRestrictCommand = decisionCommand('restrict');
export const aiProhibitCommand = decisionCommand('prohibit');

export const aiDuplicateCommand = defineCommand({
  name: 'ai duplicate',
  summary: 'Close an AI entry as a duplicate of another one, which stays',
  examples: ['ai duplicate AI-0002 AI-0001'],
  roles: ['isms_lead', 'management_body'],
  schema: duplicateInput,
  args: {
    ref: { positional: true, label: 'Duplicate entry', value: 'AI-ref', placeholder: 'e.g. AI-0002' },
    of: { positional: true, required: true, label: 'Entry it duplicates', value: 'original AI-ref', placeholder: 'e.g. AI-0001' },
  },
  form: { title: 'Close an AI entry as a duplicate', submitLabel: 'Close as duplicate' },
  async run(ctx, input) {
    return decidedReply(ctx, await decideAiTool(ctx, input.ref, 'duplicate', input.of));
  },
});
