import { z } from 'zod';
import { asc, eq, inArray } from 'drizzle-orm';
import { aiTools, people, scopeChanges, suppliers } from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { reply, text, type ListItem, type Field } from '../../core/reply.js';
import { seekArgs, seekFields, seekPage, type SeekInput } from '../../core/paging.js';
import { TIER_LABELS } from '../declarations/supplier-tier.js';
import { KIND_LABELS, triageButtons } from './labels.js';
import { readersDay } from '../../core/time.js';
import { decidersRule } from '../../core/duties.js';

/** What the ISMS lead needs to decide an item: the register entry's key facts. */
async function subjectFacts(ctx: CommandContext, refs: string[]): Promise<Map<string, Field[]>> {
  const facts = new Map<string, Field[]>();
  if (refs.length === 0) return facts;
  for (const tool of await ctx.db.select().from(aiTools).where(inArray(aiTools.ref, refs))) {
    facts.set(tool.ref, [
      ...(tool.vendor ? [{ label: 'Vendor', value: tool.vendor }] : []),
      ...(tool.purpose ? [{ label: 'Purpose', value: tool.purpose }] : []),
      { label: 'Data', value: tool.dataCategories.length ? tool.dataCategories.join(', ') : 'unknown' },
      ...(tool.userCount ? [{ label: 'Users', value: String(tool.userCount) }] : []),
    ]);
  }
  for (const s of await ctx.db.select().from(suppliers).where(inArray(suppliers.ref, refs))) {
    facts.set(s.ref, [
      { label: 'Tier', value: TIER_LABELS[s.criticalityTier] },
      { label: 'Data', value: s.dataAccess },
    ]);
  }
  return facts;
}

/**
 * The declarers whose items the viewer may decide: decidersOf, the rule "triage accept" enforces (core/duties.ts),
 * the holders of its roles read once. An ISMS lead decides anyone else's; a management-body member those every lead had a part in.
 */
async function decidableBy(ctx: CommandContext, declarers: number[]): Promise<Set<number>> {
  if (declarers.length === 0) return new Set();
  const deciders = await decidersRule(ctx.db);
  return new Set([...new Set(declarers)].filter((id) => deciders([id]).people.some((p) => p.id === ctx.actor.id)));
}

/** Declarations and scope changes waiting for a decision, oldest first, each with the decision buttons the viewer may use. */
export async function waitingForTriage(ctx: CommandContext, position: SeekInput) {
  const window = await seekPage(ctx.db, scopeChanges, scopeChanges.id, position, 'triage', 'The triage list', eq(scopeChanges.status, 'proposed'));
  const n = window.count;
  const rows = window.ids.length === 0 ? [] : await ctx.db.select({ change: scopeChanges, declarer: people.name }).from(scopeChanges)
    .innerJoin(people, eq(people.id, scopeChanges.declaredBy))
    .where(inArray(scopeChanges.id, window.ids)).orderBy(asc(scopeChanges.id));
  const facts = await subjectFacts(ctx, rows.flatMap((r) => (r.change.subjectRef ? [r.change.subjectRef] : [])));
  const mayDecide = await decidableBy(ctx, rows.map((r) => r.change.declaredBy));
  const items: ListItem[] = rows.map(({ change, declarer }) => ({
    title: `${change.ref} — ${KIND_LABELS[change.kind]}: ${change.subject}`,
    fields: [
      ...(change.subjectRef ? [{ label: 'Register entry', value: change.subjectRef }] : []),
      ...(change.description ? [{ label: 'Description', value: change.description }] : []),
      ...(change.subjectRef ? facts.get(change.subjectRef) ?? [] : []),
    ],
    // Someone else decides what the lead declared: the list says so instead of offering buttons that refuse.
    ...(change.declaredBy === ctx.actor.id ? {
      detail: `declared by you on ${readersDay(change.declaredAt, ctx.actor.timezone)}; another ISMS lead or the management body decides it`,
    } : !mayDecide.has(change.declaredBy) ? {
      detail: `declared by ${declarer} on ${readersDay(change.declaredAt, ctx.actor.timezone)}; for an ISMS lead to decide`,
    } : {
      detail: `declared by ${declarer} on ${readersDay(change.declaredAt, ctx.actor.timezone)}`,
      buttons: triageButtons(change.ref),
    }),
  }));
  return { total: n, items, page: window.page };
}

export const triageListCommand = defineCommand({
  name: 'triage',
  readOnly: true,
  summary: 'Declarations and scope changes waiting for a decision (the management body sees them too, deciding those every ISMS lead had a part in)',
  examples: ['triage', 'triage --page 2'],
  roles: ['isms_lead', 'management_body'],
  schema: z.object(seekFields),
  args: seekArgs,
  async run(ctx, position) {
    const list = await waitingForTriage(ctx, position);
    return reply(
      text(list.total === 0 ? 'Nothing is waiting for triage.' : `${list.total} item${list.total === 1 ? '' : 's'} waiting for triage.`),
      { type: 'list', title: 'Waiting for triage', items: list.items, empty: 'Nothing is waiting.', page: list.page },
    );
  },
});
