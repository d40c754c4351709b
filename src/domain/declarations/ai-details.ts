import { z } from 'zod';
import { eq } from 'drizzle-orm';
import { aiTools, AI_DATA_CATEGORIES } from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { isLead } from '../../core/actor.js';
import { forbidden, notFound } from '../../core/errors.js';
import { registerRef } from '../../core/validate.js';
import { reply, text, fields, formBlock, type Form } from '../../core/reply.js';
import { declareAiInput } from './ai.js';

export const aiDetailsInput = z.object({
  ref: registerRef('AI'),
  vendor: declareAiInput.shape.vendor,
  purpose: declareAiInput.shape.purpose,
  data: declareAiInput.shape.data,
  users: declareAiInput.shape.users,
});
export type AiDetailsInput = z.infer<typeof aiDetailsInput>;
type AiTool = typeof aiTools.$inferSelect;

const DETAIL_NAMES = ['vendor', 'purpose', 'data', 'users'] as const;

/** The AI tool a person may complete: the one who declared it, or the ISMS lead. */
async function toolToComplete(ctx: CommandContext, ref: string): Promise<AiTool> {
  const [tool] = await ctx.db.select().from(aiTools).where(eq(aiTools.ref, ref)).for('update');
  if (!tool) throw notFound(`${ref} does not exist; "/isms register ai" lists the AI register.`);
  if (tool.declaredBy !== ctx.actor.id && !isLead(ctx.actor)) {
    throw forbidden(`Only the person who declared ${ref} or the ISMS lead may change its details.`);
  }
  return tool;
}

function detailsForm(tool?: AiTool): Form {
  const known = [
    { name: 'vendor', label: 'Vendor', type: 'text' as const, initial: tool?.vendor ?? undefined },
    { name: 'purpose', label: 'What is it used for?', type: 'textarea' as const, initial: tool?.purpose ?? undefined },
    {
      name: 'data', label: 'Data it sees', type: 'multiselect' as const, initial: tool?.dataCategories.length ? tool.dataCategories : undefined,
      options: AI_DATA_CATEGORIES.map((c) => ({ value: c, label: c === 'personal' ? 'personal data' : c === 'customer' ? 'customer data' : c })),
    },
    { name: 'users', label: 'How many people use it?', type: 'number' as const, initial: tool?.userCount ? String(tool.userCount) : undefined },
  ];
  return tool
    ? { title: `Details of ${tool.name} (${tool.ref})`, command: 'ai details', submitLabel: 'Save', hidden: { ref: tool.ref }, fields: known }
    : { title: 'Add details to an AI declaration', command: 'ai details', submitLabel: 'Save',
        fields: [{ name: 'ref', label: 'AI reference', type: 'text', required: true, placeholder: 'e.g. AI-0001' }, ...known] };
}

/** Completes an AI declaration with what was not known when it was declared. */
export async function completeAiDeclaration(ctx: CommandContext, input: AiDetailsInput) {
  const before = await toolToComplete(ctx, input.ref);
  const [after] = await ctx.db.update(aiTools).set({
    vendor: input.vendor ?? before.vendor,
    purpose: input.purpose ?? before.purpose,
    dataCategories: input.data ?? before.dataCategories,
    userCount: input.users ?? before.userCount,
  }).where(eq(aiTools.id, before.id)).returning();
  await ctx.audit({ action: 'update', entity: 'ai_tool', entityRef: before.ref, before, after });
  return after;
}

export const aiDetailsCommand = defineCommand({
  name: 'ai details',
  summary: 'Add what was not known when an AI tool was declared (vendor, purpose, data, users)',
  usage: 'ai details <AI-ref> [--vendor <name>] [--purpose <text>] [--data public,internal,confidential,personal,customer] [--users <n>]',
  examples: ['ai details AI-0001 --vendor OpenAI --data internal,customer --users 12 --purpose "drafting emails"'],
  positional: ['ref'],
  flags: ['vendor', 'purpose', 'data', 'users'],
  schema: aiDetailsInput,
  form: () => detailsForm(),
  async run(ctx, input) {
    if (DETAIL_NAMES.every((k) => input[k] === undefined)) {
      // The "Add details" button carries only the reference: ask for the details.
      return reply(formBlock(detailsForm(await toolToComplete(ctx, input.ref))));
    }
    const tool = await completeAiDeclaration(ctx, input);
    return reply(
      text(`Updated the details of ${tool.name} (${tool.ref}).`, 'success'),
      fields([
        { label: 'Reference', value: tool.ref },
        { label: 'Status', value: tool.status },
        { label: 'Vendor', value: tool.vendor ?? 'unknown' },
        { label: 'Purpose', value: tool.purpose ?? 'unknown' },
        { label: 'Data', value: tool.dataCategories.length ? tool.dataCategories.join(', ') : 'unknown' },
        { label: 'Users', value: tool.userCount ? String(tool.userCount) : 'unknown' },
      ]),
    );
  },
});
