import { z } from 'zod';
import { eq } from 'drizzle-orm';
import { aiTools } from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { isLead } from '../../core/actor.js';
import { forbidden, notFound } from '../../core/errors.js';
import { registerRef } from '../../core/validate.js';
import { reply, text, fields, formBlock } from '../../core/reply.js';
import { AI_DETAIL_ARGS, declareAiInput } from './ai.js';
import { aiStatusInWords } from './ai-status.js';

export const aiDetailsInput = z.object({
  ref: registerRef('AI').describe('The AI declaration to complete, e.g. AI-0001'),
  vendor: declareAiInput.shape.vendor,
  purpose: declareAiInput.shape.purpose,
  data: declareAiInput.shape.data,
  users: declareAiInput.shape.users,
});
export type AiDetailsInput = z.infer<typeof aiDetailsInput>;
type AiTool = typeof aiTools.$inferSelect;

const DETAIL_NAMES = ['vendor', 'purpose', 'data', 'users'] as const;
const ALLOWED: AiTool['status'][] = ['approved', 'restricted', 'awaiting_management_approval'];

/** The AI tool a person may complete: the one who declared it, or the ISMS lead. */
async function toolToComplete(ctx: CommandContext, ref: string): Promise<AiTool> {
  const [tool] = await ctx.db.select().from(aiTools).where(eq(aiTools.ref, ref)).for('update');
  if (!tool) throw notFound(`${ref} does not exist; "/isms register ai" lists the AI register.`);
  if (tool.declaredBy !== ctx.actor.id && !isLead(ctx.actor)) {
    throw forbidden(`Only the person who declared ${ref} or the ISMS lead may change its details.`);
  }
  return tool;
}

/** Completes an AI declaration with what was not known when it was declared. */
export async function completeAiDeclaration(ctx: CommandContext, input: AiDetailsInput) {
  const before = await toolToComplete(ctx, input.ref);
  const dataCategories = input.data ?? before.dataCategories;
  // A decision allowing the tool was taken for the data it saw then: other data means deciding again.
  const reopened = ALLOWED.includes(before.status) && [...dataCategories].sort().join() !== [...before.dataCategories].sort().join();
  const [after] = await ctx.db.update(aiTools).set({
    vendor: input.vendor ?? before.vendor,
    purpose: input.purpose ?? before.purpose,
    dataCategories,
    userCount: input.users ?? before.userCount,
    ...(reopened && { status: 'under_review' as const, managementApprovedBy: null, managementApprovedAt: null }),
  }).where(eq(aiTools.id, before.id)).returning();
  await ctx.audit({ action: 'update', entity: 'ai_tool', entityRef: before.ref, before, after });
  return { tool: after, reopened };
}

export const aiDetailsCommand = defineCommand({
  name: 'ai details',
  summary: 'Add what was not known when an AI tool was declared (vendor, purpose, data, users)',
  examples: ['ai details AI-0001 --vendor OpenAI --data internal,customer --users 12 --purpose "drafting emails"'],
  schema: aiDetailsInput,
  args: {
    ref: { positional: true, label: 'AI reference', value: 'AI-ref', placeholder: 'e.g. AI-0001' },
    ...AI_DETAIL_ARGS,
  },
  form: { title: 'Add details to an AI declaration', submitLabel: 'Save' },
  async run(ctx, input) {
    if (DETAIL_NAMES.every((k) => input[k] === undefined)) {
      // The "Add details" button carries only the reference: ask for the details, showing what is known.
      const tool = await toolToComplete(ctx, input.ref);
      return reply(formBlock(await ctx.form({
        title: `Details of ${tool.name} (${tool.ref})`,
        known: { ref: tool.ref },
        fields: {
          vendor: { initial: tool.vendor ?? undefined },
          purpose: { initial: tool.purpose ?? undefined },
          data: { initial: tool.dataCategories.length ? tool.dataCategories : undefined },
          users: { initial: tool.userCount ? String(tool.userCount) : undefined },
        },
      })));
    }
    const { tool, reopened } = await completeAiDeclaration(ctx, input);
    return reply(
      text(`Updated the details of ${tool.name} (${tool.ref}).`, 'success'),
      ...(reopened
        ? [text(`Its data changed since it was decided, so ${tool.ref} is under review again: the ISMS lead decides it anew.`, 'warning')] : []),
      fields([
        { label: 'Reference', value: tool.ref },
        { label: 'Status', value: aiStatusInWords(tool) },
        { label: 'Vendor', value: tool.vendor ?? 'unknown' },
        { label: 'Purpose', value: tool.purpose ?? 'unknown' },
        { label: 'Data', value: tool.dataCategories.length ? tool.dataCategories.join(', ') : 'unknown' },
        { label: 'Users', value: tool.userCount ? String(tool.userCount) : 'unknown' },
      ]),
    );
  },
});
