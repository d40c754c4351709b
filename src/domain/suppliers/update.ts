import { z } from 'zod';
import { eq } from 'drizzle-orm';
import { suppliers, CRITICALITY_TIERS, DATA_ACCESS, SUBSTITUTABILITY } from '../../db/schema/index.js';
import { commandLine, commaList, defineCommand, type ArgsOf, type CommandContext } from '../../core/router.js';
import { personNamed, personRef, findPersonById, hasRole, isLead } from '../../core/actor.js';
import { conflict, forbidden, invalid } from '../../core/errors.js';
import { isoDate, registerRef } from '../../core/validate.js';
import { fields, formBlock, reply, text, type Block } from '../../core/reply.js';
import { addMonths, readersDay } from '../../core/time.js';
import { declareSupplierInput } from '../declarations/supplier.js';
import { TIER_LABELS } from '../declarations/supplier-tier.js';
import { settleSupplierApproval } from './approval.js';
import { findSupplier, supplierFacts, supplierHeading, type Supplier } from './details.js';
import {
  ICT_SERVICE_TYPES, SUBSTITUTABILITY_LABELS, countryInput, leiInput, serviceTypeInput, substitutabilityInput,
} from './register-of-information.js';

const TIER_WORDS: Record<string, (typeof CRITICALITY_TIERS)[number]> = {
  1: 'tier1_critical', tier1: 'tier1_critical', tier1_critical: 'tier1_critical',
  2: 'tier2_important', tier2: 'tier2_important', tier2_important: 'tier2_important',
  3: 'tier3_standard', tier3: 'tier3_standard', tier3_standard: 'tier3_standard',
};
const tierInput = z.preprocess((v) => (typeof v === 'string' ? TIER_WORDS[v.trim().toLowerCase().replace(/[\s-]+/g, '')] ?? v : v),
  z.enum(CRITICALITY_TIERS, { errorMap: () => ({ message: 'must be 1, 2 or 3 (tier 1 supports a critical or important function)' }) }));

const shortText = (what: string, max = 200) => z.string().trim().min(1, `must not be empty: ${what}`).max(max, `must be at most ${max} characters`);

export const supplierInput = z.object({
  ref: registerRef('SUP').describe('The supplier, e.g. SUP-0001'),
  owner: personRef.optional().describe('Who manages the relationship: email, name or @handle (ISMS lead only)'),
  contract: shortText('give the contract reference').optional().describe('The contract reference, e.g. MSA-2026-014'),
  'contract-start': isoDate.optional().describe('When the contract started'),
  'contract-end': isoDate.optional().describe('When the contract ends'),
  'exit-strategy': shortText('say where the exit strategy is documented', 2000).optional()
    .describe('Where the exit strategy is documented, or its summary (DORA Art. 28(8))'),
  'next-review': isoDate.optional().describe('The day of the next supplier review'),
  tier: tierInput.optional().describe('Criticality tier: 1 when it supports a critical or important function, 2 or 3 (ISMS lead only)'),
  data: declareSupplierInput.shape.data,
  lei: leiInput.optional().describe('Legal entity identifier (ISO 17442, 20 characters)'),
  country: countryInput.optional().describe('Where its head office is: the ISO 3166-1 two-letter code, e.g. DE'),
  'service-type': serviceTypeInput.optional()
    .describe(`As classified in the DORA register of information: ${Object.entries(ICT_SERVICE_TYPES).map(([code, name]) => `${code} ${name}`).join('; ')}`),
  substitutability: substitutabilityInput.optional().describe('How hard it is to replace: easy, medium, difficult or impossible'),
  subcontractors: commaList(shortText('name each subcontractor')).optional()
    .describe('The companies that effectively underpin the service, comma-separated'),
});
type SupplierInput = z.infer<typeof supplierInput>;
type Change = Exclude<keyof SupplierInput, 'ref'>;
/** The column each option changes. */
const COLUMN_OF: Record<Change, keyof Supplier> = {
  owner: 'ownerId', contract: 'contractRef', 'contract-start': 'contractStart', 'contract-end': 'contractEnd', 'exit-strategy': 'exitPlan',
  'next-review': 'nextReviewOn', tier: 'criticalityTier', data: 'dataAccess', lei: 'lei', country: 'country',
  'service-type': 'ictServiceType', substitutability: 'substitutability', subcontractors: 'subcontractors',
};
const CHANGES = Object.keys(COLUMN_OF) as Change[];

const ARGS = {
  ref: { positional: true, label: 'Supplier', value: 'SUP-ref', placeholder: 'e.g. SUP-0001' },
  owner: { value: 'email or @name', placeholder: 'their email address' },
  contract: { value: 'contract-ref' },
  'exit-strategy': { label: 'Exit strategy', value: 'text', field: 'textarea' },
  tier: { value: '1|2|3', options: CRITICALITY_TIERS.map((t) => ({ value: t, label: TIER_LABELS[t] })) },
  data: { label: 'Data it touches', options: DATA_ACCESS.map((d) => ({ value: d, label: d.replace(/_/g, ' ') })) },
  lei: { label: 'LEI', value: 'LEI', placeholder: 'e.g. 5493001KJTIIGC8Y1R12' },
  country: { value: 'CC', placeholder: 'e.g. DE' },
  'service-type': { label: 'Type of ICT service', value: 'S01…S19', options: Object.entries(ICT_SERVICE_TYPES).map(([value, name]) => ({ value, label: `${value} ${name}` })) },
  substitutability: { options: SUBSTITUTABILITY.map((s) => ({ value: s, label: SUBSTITUTABILITY_LABELS[s] })) },
  subcontractors: { value: 'name,name', field: 'text' },
} satisfies ArgsOf<typeof supplierInput>;

const ownerOf = async (ctx: CommandContext, s: Supplier) => (s.ownerId ? (await findPersonById(ctx.db, s.ownerId))?.name : undefined);

/** The supplier a person may change: the ISMS lead, or its owner for all but the owner and the tier. */
async function supplierToChange(ctx: CommandContext, input: SupplierInput): Promise<Supplier> {
  const supplier = await findSupplier(ctx.db, input.ref, true);
  const lead = isLead(ctx.actor);
  if (!lead && supplier.ownerId !== ctx.actor.id) {
    const owner = await ownerOf(ctx, supplier);
    throw forbidden(`Only the ISMS lead or the owner of ${supplier.ref} (${owner ?? 'none named yet'}) may change its details.`,
      'Ask your ISMS lead if you should own this supplier relationship.');
  }
  if (!lead && (input.owner !== undefined || input.tier !== undefined)) {
    throw forbidden(`Only the ISMS lead changes the owner or the criticality tier of ${supplier.ref}: they decide who answers for it and whether the management body must approve it.`);
  }
  if (supplier.status === 'rejected') {
    throw conflict(`${supplier.ref} (${supplier.name}) was rejected in triage, so it is not in the supplier register.`,
      'Declare it again with "/isms declare supplier" if it is used after all.');
  }
  return supplier;
}

const newOwner = (ctx: CommandContext, name: string) => personNamed(ctx.db, 'owner', name);

/** The columns a command line changes, checked against each other and against today. */
async function changedColumns(ctx: CommandContext, before: Supplier, input: SupplierInput): Promise<Partial<Supplier>> {
  const set: Partial<Supplier> = {};
  if (input.owner !== undefined) set.ownerId = (await newOwner(ctx, input.owner)).id;
  if (input.contract !== undefined) set.contractRef = input.contract;
  if (input['contract-start'] !== undefined) set.contractStart = input['contract-start'];
  if (input['contract-end'] !== undefined) set.contractEnd = input['contract-end'];
  if (input['exit-strategy'] !== undefined) Object.assign(set, { exitPlan: input['exit-strategy'], exitStrategy: true });
  // A form sent back unchanged repeats an overdue date: only a new date must lie ahead.
  if (input['next-review'] !== undefined && input['next-review'] !== before.nextReviewOn) {
    if (input['next-review'] < readersDay(ctx.now, ctx.actor.timezone)) throw invalid(`The next review of ${before.ref} cannot lie in the past (${input['next-review']}); give a day from today on.`).on('next-review');
    set.nextReviewOn = input['next-review'];
  }
  if (input.tier !== undefined) {
    set.criticalityTier = input.tier;
    // Tier 1 means a critical or important function is supported; leaving tier 1 says it no longer is.
    set.supportsCriticalFunction = input.tier === 'tier1_critical' || (before.criticalityTier !== 'tier1_critical' && before.supportsCriticalFunction);
  }
  if (input.data !== undefined) set.dataAccess = input.data;
  if (input.lei !== undefined) set.lei = input.lei;
  if (input.country !== undefined) set.country = input.country;
  if (input['service-type'] !== undefined) set.ictServiceType = input['service-type'];
  if (input.substitutability !== undefined) set.substitutability = input.substitutability;
  if (input.subcontractors !== undefined) set.subcontractors = input.subcontractors;
  const start = set.contractStart ?? before.contractStart;
  const end = set.contractEnd ?? before.contractEnd;
  if (start && end && end < start) {
    throw invalid(`The contract of ${before.ref} cannot end (${end}) before it starts (${start}).`).on(input['contract-end'] ? 'contract-end' : 'contract-start');
  }
  return Object.fromEntries(Object.entries(set).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(before[k as keyof Supplier]))) as Partial<Supplier>;
}

/** Records the details of a supplier with its audit event and, for a tier-1 supplier, the management body's approval as it now stands. */
export async function changeSupplier(ctx: CommandContext, input: SupplierInput) {
  const before = await supplierToChange(ctx, input);
  const set = await changedColumns(ctx, before, input);
  if (Object.keys(set).length === 0) return { before, after: before, changed: [] as string[], asked: undefined };
  const [after] = await ctx.db.update(suppliers).set(set).where(eq(suppliers.id, before.id)).returning();
  await ctx.audit({ action: 'update', entity: 'supplier', entityRef: after.ref, before, after });
  const changed = CHANGES.filter((k) => COLUMN_OF[k] in set).map((k) => k.replace('-', ' '));
  const asked = await settleSupplierApproval(ctx, after, `${ctx.actor.name} changed ${after.ref} (${changed.join(', ')})`);
  if (set.ownerId && set.ownerId !== ctx.actor.id) {
    await ctx.notify({
      recipientId: set.ownerId, kind: 'supplier_owner', idempotencyKey: `supplier-owner:${after.ref}:${set.ownerId}:${ctx.now.getTime()}`,
      reply: reply(text(`${ctx.actor.name} named you the owner of the supplier ${after.name} (${after.ref}): you keep its details and reviews up to date `
        + `("/isms supplier ${after.ref}").`)),
    });
  }
  return { before, after, changed, asked };
}

/** The supplier's details and, for whoever may change them, the form to do so, filled in with what is known. */
async function showSupplier(ctx: CommandContext, ref: string) {
  const supplier = await findSupplier(ctx.db, ref);
  const mayChange = isLead(ctx.actor) || supplier.ownerId === ctx.actor.id;
  const mayRead = mayChange || supplier.declaredBy === ctx.actor.id || hasRole(ctx.actor, 'auditor', 'management_body');
  if (!mayRead) throw forbidden(`Only the ISMS lead, the owner or the declarer of ${ref}, auditors and the management body see its details.`);
  const owner = await ownerOf(ctx, supplier);
  const blocks: Block[] = [text(supplierHeading(supplier)), fields(await supplierFacts(ctx.db, supplier, owner, ctx.actor.timezone))];
  if (mayChange && supplier.status !== 'rejected') {
    const ownerEmail = supplier.ownerId ? (await findPersonById(ctx.db, supplier.ownerId))?.email : undefined;
    const initial: Record<string, string | undefined> = {
      owner: ownerEmail, contract: supplier.contractRef ?? undefined, 'contract-start': supplier.contractStart ?? undefined,
      'contract-end': supplier.contractEnd ?? undefined, 'exit-strategy': supplier.exitPlan ?? undefined, 'next-review': supplier.nextReviewOn ?? undefined,
      tier: supplier.criticalityTier, data: supplier.dataAccess, lei: supplier.lei ?? undefined, country: supplier.country ?? undefined,
      'service-type': supplier.ictServiceType ?? undefined, substitutability: supplier.substitutability ?? undefined,
      subcontractors: supplier.subcontractors.length ? supplier.subcontractors.join(', ') : undefined,
    };
    const ask = isLead(ctx.actor) ? CHANGES : CHANGES.filter((k) => k !== 'owner' && k !== 'tier');
    blocks.push(formBlock(await ctx.form({
      title: `Details of ${supplier.name} (${supplier.ref})`, known: { ref: supplier.ref }, ask,
      fields: Object.fromEntries(Object.entries(initial).map(([k, v]) => [k, { initial: v }])),
    })));
  }
  return reply(...blocks);
}

export const supplierCommand = defineCommand({
  name: 'supplier',
  summary: 'Show a supplier, or keep its contract, exit strategy, review date and register-of-information details up to date',
  examples: (today) => [
    'supplier SUP-0001',
    `supplier SUP-0001 --contract MSA-2024-017 --contract-start ${addMonths(today, -12)} --contract-end ${addMonths(today, 24)} --exit-strategy "exit plan EP-3 in the wiki"`,
    'supplier SUP-0001 --lei 5493001KJTIIGC8Y1R12 --country DE --service-type S19 --substitutability difficult --subcontractors "AWS,Stripe"',
  ],
  schema: supplierInput,
  args: ARGS,
  form: { title: 'Supplier details', submitLabel: 'Save' },
  async run(ctx, input) {
    if (CHANGES.every((k) => input[k] === undefined)) return showSupplier(ctx, input.ref);
    const { after, changed, asked } = await changeSupplier(ctx, input);
    const owner = await ownerOf(ctx, after);
    if (changed.length === 0) {
      return reply(text(`${after.ref} (${after.name}) already has these details; nothing changed.`), fields(await supplierFacts(ctx.db, after, owner, ctx.actor.timezone)));
    }
    return reply(
      text(`Updated ${after.ref} (${after.name}): ${changed.join(', ')}.`, 'success'),
      ...(asked?.created ? [text(`As a tier-1 supplier, ${after.ref} needs the management body's approval of what changed: asked as ${asked.approval.ref}`
        + `${asked.asked.length ? ` (${asked.asked.map((p) => p.name).join(', ')})` : ', but no management-body member free to decide it is in the register'}.`, 'warning')] : []),
      fields(await supplierFacts(ctx.db, after, owner, ctx.actor.timezone)),
      text(`Record a review with "${commandLine(ctx.channel, `supplier review ${after.ref} continue`)}".`),
    );
  },
});
