import { z } from 'zod';
import { asc, eq, sql } from 'drizzle-orm';
import { aiTools, scopeChanges, AI_DATA_CATEGORIES } from '../../db/schema/index.js';
import { commandLine, defineCommand, commaList, type ArgsOf, type CommandContext } from '../../core/router.js';
import { nextRefsOf } from '../../core/refs.js';
import { reply, text, fields, actions } from '../../core/reply.js';
import { notifyTriage } from './triage-notify.js';
import { aiStatusInWords, comparableName } from './ai-status.js';

export const declareAiInput = z.object({
  tool: z.string().trim().min(1, 'name the AI tool, e.g. ChatGPT').max(200).describe('The AI tool or service'),
  vendor: z.string().trim().max(200).optional().describe('Who provides it'),
  purpose: z.string().trim().max(2000).optional().describe('What it is used for'),
  data: commaList(z.enum(AI_DATA_CATEGORIES, {
    errorMap: () => ({ message: `each data category must be one of ${AI_DATA_CATEGORIES.join(', ')}` }),
  })).optional().describe('The kinds of data it sees, comma-separated'),
  users: z.coerce.number({ invalid_type_error: 'must be a whole number of people' }).int('must be a whole number of people')
    .min(1, 'must be at least 1').max(1_000_000).optional().describe('How many people use it'),
});
export type DeclareAiInput = z.infer<typeof declareAiInput>;

/** How the AI details read in forms, shared by the declaration and "ai details". */
export const AI_DETAIL_ARGS = {
  vendor: { value: 'name', placeholder: 'e.g. OpenAI' },
  purpose: { label: 'What is it used for?', value: 'text', field: 'textarea' },
  data: {
    label: 'Data it sees', value: AI_DATA_CATEGORIES.join(','),
    options: AI_DATA_CATEGORIES.map((c) => ({ value: c, label: c === 'personal' ? 'personal data' : c === 'customer' ? 'customer data' : c })),
  },
  users: { label: 'How many people use it?' },
} satisfies ArgsOf<typeof declareAiInput>;

/**
 * The register entry a newly declared name stands for: one whose name is the same with case and
 * spacing ignored ("Chat GPT" is "ChatGPT"); a closed duplicate stands for the entry it duplicates.
 */
async function entryNamed(ctx: CommandContext, name: string) {
  const same = await ctx.db.select().from(aiTools)
    .where(sql`regexp_replace(lower(${aiTools.name}), '[[:space:]]', '', 'g') = ${comparableName(name)}`).orderBy(asc(aiTools.id));
  const live = same.find((t) => t.status !== 'duplicate');
  if (live || !same[0]?.duplicateOf) return live;
  const [original] = await ctx.db.select().from(aiTools).where(eq(aiTools.ref, same[0].duplicateOf));
  return original;
}

/** Records a new AI tool (status declared) and its scope change, and puts it on the ISMS lead's triage list. */
export async function declareAi(ctx: CommandContext, input: DeclareAiInput) {
  // Both references before the first audit event: the audit lock is then always taken after the counters.
  const [ref, changeRef] = await nextRefsOf(ctx.db, 'AI', 'SC');
  const [tool] = await ctx.db.insert(aiTools).values({
    ref, name: input.tool, vendor: input.vendor, purpose: input.purpose,
    dataCategories: input.data ?? [], userCount: input.users, declaredBy: ctx.actor.id,
  }).returning();
  await ctx.audit({ action: 'declare', entity: 'ai_tool', entityRef: ref, after: tool });
  const [change] = await ctx.db.insert(scopeChanges).values({
    ref: changeRef, kind: 'new_ai_usage', subject: input.tool, description: input.purpose,
    subjectRef: ref, declaredBy: ctx.actor.id, declaredAt: ctx.now,
  }).returning();
  await ctx.audit({ action: 'propose', entity: 'scope_change', entityRef: changeRef, after: change });
  await notifyTriage(ctx, changeRef, `${ctx.actor.name} declared the AI tool ${input.tool} (${ref}).`);
  return { tool, change };
}

export const declareAiCommand = defineCommand({
  name: 'declare ai',
  aliases: ['ai declare'],
  summary: 'Declare an AI tool or AI use (shadow AI) so it can be assessed',
  examples: ['declare ai ChatGPT "drafting customer emails" --vendor OpenAI --data internal,customer --users 12'],
  schema: declareAiInput,
  args: {
    tool: { positional: true, label: 'AI tool', placeholder: 'e.g. ChatGPT' },
    ...AI_DETAIL_ARGS,
    purpose: { ...AI_DETAIL_ARGS.purpose, positional: 'rest', value: 'purpose' },
  },
  form: { title: 'Declare an AI tool', submitLabel: 'Declare' },
  async run(ctx, input) {
    const known = await entryNamed(ctx, input.tool);
    if (known) {
      return reply(
        text(`${known.name} is already in the AI register as ${known.ref} (${aiStatusInWords(known)}). Nothing new was recorded.`, 'warning'),
        text('Tell the ISMS lead if your use differs from what was assessed (purpose, data, number of users).'),
      );
    }
    const { tool, change } = await declareAi(ctx, input);
    const unknown: [string, string][] = [
      [input.vendor ? '' : 'vendor', '--vendor …'],
      [input.purpose ? '' : 'purpose', '--purpose …'],
      [input.data ? '' : 'data categories', '--data …'],
      [input.users ? '' : 'number of users', '--users …'],
    ];
    const missing = unknown.filter(([label]) => label);
    const blocks = [
      text(`Recorded ${tool.name} in the AI register as ${tool.ref}. The ISMS lead will review it (${change.ref}).`, 'success'),
      fields([
        { label: 'Reference', value: tool.ref },
        { label: 'Status', value: 'declared' },
        ...(tool.vendor ? [{ label: 'Vendor', value: tool.vendor }] : []),
        ...(tool.purpose ? [{ label: 'Purpose', value: tool.purpose }] : []),
        ...(tool.dataCategories.length ? [{ label: 'Data', value: tool.dataCategories.join(', ') }] : []),
        ...(tool.userCount ? [{ label: 'Users', value: String(tool.userCount) }] : []),
      ]),
    ];
    if (missing.length) {
      const labels = missing.map(([label]) => label).join(', ');
      const flags = missing.map(([, flag]) => flag).join(' ');
      blocks.push(text(`Still unknown: ${labels}. Add them with "${commandLine(ctx.channel, `ai details ${tool.ref} ${flags}`)}".`));
      blocks.push(actions({ label: 'Add details', command: `ai details ${tool.ref}` }));
    }
    return reply(...blocks);
  },
});
