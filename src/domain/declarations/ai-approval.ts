import { and, eq } from 'drizzle-orm';
import { aiTools, managementApprovals } from '../../db/schema/index.js';
import type { CommandContext } from '../../core/router.js';
import { reply, text } from '../../core/reply.js';
import { requestApproval, refreshApprovals, stateSha256 } from '../approvals/request.js';
import type { ApprovalSubject } from '../approvals/subject.js';
import { aiStatusInWords, type AiStatus } from './ai-status.js';
import { decideAiTool } from './ai-decide.js';

type AiTool = typeof aiTools.$inferSelect;

/** The status the management body decides: a lead's approval awaiting their confirmation is the approval it becomes. */
const statusDecided = (status: AiStatus): AiStatus => (status === 'awaiting_management_approval' ? 'approved' : status);

/** What the management body approves of an AI tool: its data, its conditions of use, and its status. */
const approvedState = (tool: AiTool) => ({
  ref: tool.ref, dataCategories: [...tool.dataCategories].sort(), conditions: tool.conditions, status: statusDecided(tool.status),
});

/**
 * An AI tool that sees personal or customer data, approved by an ISMS lead, needs the management body's
 * approval too. Either "/isms approve APR-…" or "/isms ai approve AI-…" gives it, once.
 */
export const aiToolApproval: ApprovalSubject = {
  kind: 'ai_tool',
  label: 'an AI tool that sees personal or customer data',
  async current(db, ref) {
    const [tool] = await db.select().from(aiTools).where(eq(aiTools.ref, ref));
    if (!tool) return undefined;
    return {
      title: `use of the AI tool ${tool.name} (${tool.ref})`,
      state: approvedState(tool),
      facts: [
        { label: 'AI tool', value: `${tool.ref} ${tool.name}${tool.vendor ? ` by ${tool.vendor}` : ''}` },
        ...(tool.purpose ? [{ label: 'Purpose', value: tool.purpose }] : []),
        { label: 'Data', value: tool.dataCategories.join(', ') || 'unknown' },
        { label: 'Conditions', value: tool.conditions ?? 'none' },
        { label: 'Status', value: aiStatusInWords(tool) },
      ],
      alternatives: [{ label: 'Or', value: `"/isms ai restrict ${tool.ref} <conditions>" to allow it under other conditions` }],
      authors: [{ by: tool.declaredBy, did: `declared ${tool.ref} (${tool.name}) yourself` }],
    };
  },
  async onApproved(ctx, approval) {
    const [tool] = await ctx.db.select().from(aiTools).where(eq(aiTools.ref, approval.subjectRef));
    if (tool?.status === 'awaiting_management_approval') await decideAiTool(ctx, tool.ref, 'approve', undefined);
  },
};

/** A management-body member decided the tool directly ("/isms ai approve"): the request for the same state is approved with it. */
async function closePendingRequest(ctx: CommandContext, tool: AiTool) {
  const [pending] = await ctx.db.select().from(managementApprovals)
    .where(and(eq(managementApprovals.subjectKind, aiToolApproval.kind), eq(managementApprovals.subjectRef, tool.ref), eq(managementApprovals.status, 'pending')))
    .for('update');
  if (!pending || pending.stateSha256 !== stateSha256(approvedState(tool))) return;
  const [after] = await ctx.db.update(managementApprovals)
    .set({ status: 'approved', decidedBy: ctx.actor.id, decidedAt: ctx.now, rationale: `confirmed with "/isms ai approve ${tool.ref}"` })
    .where(eq(managementApprovals.id, pending.id)).returning();
  await ctx.audit({ action: 'approve', entity: 'management_approval', entityRef: pending.ref, before: pending, after });
  if (pending.requestedBy !== ctx.actor.id) {
    // The key "/isms approve" uses too: whichever way it was approved, the requester hears it once.
    await ctx.notify({
      recipientId: pending.requestedBy, kind: 'approval', idempotencyKey: `approval-decided:${pending.ref}:${pending.requestedBy}`,
      reply: reply(text(`${ctx.actor.name} approved ${pending.title} (${pending.ref}) with "/isms ai approve ${tool.ref}".`, 'success')),
    });
  }
}

/**
 * After a decision on an AI tool: a tool awaiting the management body is put to them through the
 * approvals list; one they decided directly closes its request; any other decision leaves earlier
 * requests and approvals stale, as they no longer describe the tool.
 */
export async function settleAiApproval(ctx: CommandContext, tool: AiTool, reason: string) {
  if (tool.managementApprovedBy === ctx.actor.id && tool.managementApprovedAt?.getTime() === ctx.now.getTime()) await closePendingRequest(ctx, tool);
  await refreshApprovals(ctx, aiToolApproval, tool.ref, reason);
  if (tool.status === 'awaiting_management_approval') await requestApproval(ctx, aiToolApproval, tool.ref);
}
