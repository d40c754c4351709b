import { z } from 'zod';
import { asc, desc, eq, inArray } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import {
  aiTools, controls, evidenceItems, evidenceRequests, people, poamItems, scopeChanges, scopeStatements, suppliers,
} from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { reply, text, type Block, type ListItem, type Page } from '../../core/reply.js';
import { pageCursor, pageNumber, seekPage, type SeekInput } from '../../core/paging.js';
import { TIER_LABELS } from '../declarations/supplier-tier.js';
import { KIND_LABELS } from '../triage/labels.js';
import { aiStatusInWords } from '../declarations/ai-status.js';
import { aiLinkFields } from '../declarations/ai-details.js';
import { supplierFacts } from '../suppliers/details.js';
import { readersDay } from '../../core/time.js';
import { statusInWords } from '../poam/items.js';
import { poamHistories } from '../poam/history.js';
import { periodInWords } from '../evidence/words.js';

export const REGISTER_NAMES = ['ai', 'suppliers', 'scope', 'evidence', 'poam'] as const;
export type RegisterName = (typeof REGISTER_NAMES)[number];

const TITLES: Record<RegisterName, string> = {
  ai: 'AI register',
  suppliers: 'Supplier register',
  scope: 'Scope-change log',
  evidence: 'Evidence requests',
  poam: 'POA&M',
};

interface RegisterPage { items: ListItem[]; page: Page; preface?: Block[] }
type Reader = (ctx: CommandContext, input: SeekInput) => Promise<RegisterPage>;

const command = (name: RegisterName) => `register ${name}`;

const readAi: Reader = async (ctx, input) => {
  const w = await seekPage(ctx.db, aiTools, aiTools.id, input, command('ai'), 'The AI register');
  const decider = alias(people, 'decider');
  const rows = await ctx.db.select({ tool: aiTools, declarer: people.name, decider: decider.name, supplierRef: suppliers.ref, supplierName: suppliers.name })
    .from(aiTools).innerJoin(people, eq(people.id, aiTools.declaredBy)).leftJoin(decider, eq(decider.id, aiTools.decidedBy))
    .leftJoin(suppliers, eq(suppliers.id, aiTools.supplierId))
    .where(inArray(aiTools.id, w.ids)).orderBy(asc(aiTools.id));
  const items = rows.map(({ tool, declarer, decider: deciderName, supplierRef, supplierName }) => ({
    title: `${tool.ref} ${tool.name}`,
    detail: aiStatusInWords(tool),
    fields: [
      { label: 'Vendor', value: tool.vendor ?? 'unknown' },
      ...(tool.purpose ? [{ label: 'Purpose', value: tool.purpose }] : []),
      { label: 'Data', value: tool.dataCategories.length ? tool.dataCategories.join(', ') : 'unknown' },
      { label: 'Users', value: tool.userCount ? String(tool.userCount) : 'unknown' },
      { label: 'Declared', value: `by ${declarer} on ${readersDay(tool.createdAt, ctx.actor.timezone)}` },
      ...(tool.conditions ? [{ label: 'Conditions', value: tool.conditions }] : []),
      ...(tool.duplicateOf ? [{ label: 'Duplicate of', value: tool.duplicateOf }] : []),
      ...(tool.decidedAt ? [{ label: 'Decided', value: `by ${deciderName ?? 'unknown'} on ${readersDay(tool.decidedAt, ctx.actor.timezone)}` }] : []),
      ...aiLinkFields(supplierRef ? { ref: supplierRef, name: supplierName ?? '' } : undefined, tool),
    ],
  }));
  return { items, page: w.page };
};

const readSuppliers: Reader = async (ctx, input) => {
  const w = await seekPage(ctx.db, suppliers, suppliers.id, input, command('suppliers'), 'The supplier register');
  const owner = alias(people, 'owner');
  const rows = await ctx.db.select({ supplier: suppliers, owner: owner.name }).from(suppliers)
    .leftJoin(owner, eq(owner.id, suppliers.ownerId)).where(inArray(suppliers.id, w.ids)).orderBy(asc(suppliers.id));
  const items: ListItem[] = [];
  for (const { supplier: s, owner: ownerName } of rows) {
    items.push({ title: `${s.ref} ${s.name}`, detail: `${TIER_LABELS[s.criticalityTier]} · ${s.status}`, fields: await supplierFacts(ctx.db, s, ownerName, ctx.actor.timezone) });
  }
  return { items, page: w.page };
};

const readScope: Reader = async (ctx, input) => {
  const approver = alias(people, 'approver');
  const [current] = await ctx.db.select({ statement: scopeStatements, approver: approver.name }).from(scopeStatements)
    .leftJoin(approver, eq(approver.id, scopeStatements.approvedBy)).orderBy(desc(scopeStatements.version)).limit(1);
  const preface = current
    ? [text(`Scope statement v${current.statement.version}${current.statement.approvedAt
      ? ` (approved${current.approver ? ` by ${current.approver}` : ''} on ${readersDay(current.statement.approvedAt, ctx.actor.timezone)})` : ' (not approved yet)'}: `
      + current.statement.text)]
    : [text('No scope statement has been recorded yet.', 'warning')];
  const w = await seekPage(ctx.db, scopeChanges, scopeChanges.id, input, command('scope'), 'The scope-change log');
  const declarer = alias(people, 'declarer');
  const decider = alias(people, 'decider');
  const rows = await ctx.db.select({ change: scopeChanges, declarer: declarer.name, decider: decider.name }).from(scopeChanges)
    .innerJoin(declarer, eq(declarer.id, scopeChanges.declaredBy))
    .leftJoin(decider, eq(decider.id, scopeChanges.decidedBy))
    .where(inArray(scopeChanges.id, w.ids)).orderBy(asc(scopeChanges.id));
  const items = rows.map(({ change: c, declarer: by, decider: decidedBy }) => ({
    title: `${c.ref} — ${KIND_LABELS[c.kind]}: ${c.subject}`,
    detail: c.status,
    fields: [
      ...(c.subjectRef ? [{ label: 'Register entry', value: c.subjectRef }] : []),
      ...(c.description ? [{ label: 'Description', value: c.description }] : []),
      { label: 'Declared', value: `by ${by} on ${readersDay(c.declaredAt, ctx.actor.timezone)}` },
      ...(c.decidedAt ? [{ label: 'Decided', value: `by ${decidedBy ?? 'unknown'} on ${readersDay(c.decidedAt, ctx.actor.timezone)}` }] : []),
      ...(c.rationale ? [{ label: 'Rationale', value: c.rationale }] : []),
    ],
  }));
  return { preface, items, page: w.page };
};

const readEvidence: Reader = async (ctx, input) => {
  const w = await seekPage(ctx.db, evidenceRequests, evidenceRequests.id, input, command('evidence'), 'The evidence register');
  const rows = await ctx.db.select({ request: evidenceRequests, control: controls, owner: people.name }).from(evidenceRequests)
    .innerJoin(controls, eq(controls.id, evidenceRequests.controlId))
    .innerJoin(people, eq(people.id, evidenceRequests.ownerId))
    .where(inArray(evidenceRequests.id, w.ids)).orderBy(asc(evidenceRequests.id));
  const ids = rows.map((r) => r.request.id);
  const revisions = ids.length
    // Named columns: a listing never loads the files' bytes.
    ? await ctx.db.select({ requestId: evidenceItems.requestId, ref: evidenceItems.ref, revision: evidenceItems.revision, submittedAt: evidenceItems.submittedAt })
      .from(evidenceItems).where(inArray(evidenceItems.requestId, ids)).orderBy(asc(evidenceItems.revision))
    : [];
  const latest = new Map(revisions.map((item) => [item.requestId, item]));
  const items = rows.map(({ request: r, control, owner }) => {
    const last = latest.get(r.id);
    return {
      title: `${r.ref} ${control.code} ${control.title}`,
      detail: r.status,
      fields: [
        { label: 'Period', value: periodInWords(r.cycle) },
        { label: 'Owner', value: owner },
        { label: 'Due', value: r.dueOn },
        { label: 'Latest revision', value: last ? `${last.ref} revision ${last.revision}, submitted ${readersDay(last.submittedAt, ctx.actor.timezone)}` : 'none yet' },
      ],
      buttons: last ? [{ label: 'Show evidence', command: `evidence show ${r.ref}` }] : [],
    };
  });
  return { items, page: w.page };
};

const readPoam: Reader = async (ctx, input) => {
  const w = await seekPage(ctx.db, poamItems, poamItems.id, input, command('poam'), 'The POA&M');
  const rows = await ctx.db.select({ item: poamItems, owner: people.name }).from(poamItems)
    .innerJoin(people, eq(people.id, poamItems.ownerId)).where(inArray(poamItems.id, w.ids)).orderBy(asc(poamItems.id));
  const histories = await poamHistories(ctx.db, rows.map((r) => r.item.id), ctx.actor.timezone);
  const items = rows.map(({ item, owner }) => ({
    title: `${item.ref} ${item.weakness}`,
    detail: statusInWords(item.status),
    fields: [
      { label: 'Owner', value: owner },
      { label: 'Due', value: item.dueOn },
      { label: 'Original due date', value: item.originalDueOn },
      { label: 'Source', value: item.sourceRef ? `${item.source.replace('_', ' ')} ${item.sourceRef}` : item.source.replace('_', ' ') },
      ...(histories.get(item.id) ?? []).map((line) => ({ label: 'History', value: line })),
    ],
  }));
  return { items, page: w.page };
};

const READERS: Record<RegisterName, Reader> = { ai: readAi, suppliers: readSuppliers, scope: readScope, evidence: readEvidence, poam: readPoam };

export const registerInput = z.object({
  register: z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(REGISTER_NAMES, {
    errorMap: (issue, ctx) => ({
      message: issue.code === 'invalid_enum_value'
        ? `there is no register "${String(ctx.data)}"; the registers are ${REGISTER_NAMES.join(', ')}`
        : `name a register: ${REGISTER_NAMES.join(', ')}`,
    }),
  })).describe('Which register to read'),
  // Left out with --after/--before: the page the button's position starts.
  page: pageNumber.optional(),
  after: pageCursor.describe('The position a Next page button carries'),
  before: pageCursor.describe('The position a Previous page button carries'),
});

export const registerCommand = defineCommand({
  name: 'register',
  readOnly: true,
  summary: 'Read a register: AI tools, suppliers, scope changes, evidence requests or POA&M items',
  examples: ['register suppliers', 'register ai --page 2'],
  roles: ['isms_lead', 'auditor', 'management_body'],
  schema: registerInput,
  args: {
    register: { positional: true, options: REGISTER_NAMES.map((r) => ({ value: r, label: TITLES[r] })) },
    page: { asked: false },
    after: { asked: false },
    before: { asked: false },
  },
  form: { title: 'Read a register', submitLabel: 'Show' },
  async run(ctx, { register, ...position }) {
    const { preface = [], items, page: pageInfo } = await READERS[register](ctx, position);
    return reply(...preface, {
      type: 'list', title: `${TITLES[register]}${pageInfo.total > 1 ? ` (page ${pageInfo.number} of ${pageInfo.total})` : ''}`,
      items, empty: 'Nothing recorded yet.', page: pageInfo,
    });
  },
});
