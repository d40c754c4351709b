import { z } from 'zod';
import { and, ne, sql } from 'drizzle-orm';
import { suppliers, scopeChanges, DATA_ACCESS } from '../../db/schema/index.js';
import { defineCommand, type ArgsOf, type CommandContext } from '../../core/router.js';
import { nextRefsOf } from '../../core/refs.js';
import { conflict } from '../../core/errors.js';
import { reply, text, fields, formBlock } from '../../core/reply.js';
import { notifyTriage } from './triage-notify.js';
import { supplierTier, TIER_LABELS } from './supplier-tier.js';

const YES = ['yes', 'y', 'true'];
const NO = ['no', 'n', 'false'];

/** A yes/no answer typed as a flag ("--ict yes", "--ict" alone) or chosen in a form. */
const yesNo = z.preprocess(
  (v) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : typeof v === 'string' ? v.trim().toLowerCase() : v),
  z.string().refine((v) => YES.includes(v) || NO.includes(v), { message: 'answer yes or no' }).transform((v) => YES.includes(v)),
);

export const declareSupplierInput = z.object({
  name: z.string().trim().min(1, 'name the supplier, e.g. Acme Cloud').max(200).describe('The supplier or service provider'),
  service: z.string().trim().max(2000).optional().describe('What they provide'),
  ict: yesNo.optional().describe('Whether they provide an ICT service (DORA Art. 3(21))'),
  critical: yesNo.optional().describe('Whether they support a critical or important function'),
  data: z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(DATA_ACCESS, {
    errorMap: () => ({ message: `must be one of ${DATA_ACCESS.join(', ')}` }),
  })).optional().describe('Which personal or customer data they touch'),
});
export type DeclareSupplierInput = z.infer<typeof declareSupplierInput>;
type Supplier = typeof suppliers.$inferSelect;
type CompleteSupplierInput = DeclareSupplierInput & Required<Pick<DeclareSupplierInput, 'ict' | 'critical' | 'data'>>;

const YES_NO_OPTIONS = [{ value: 'yes', label: 'Yes' }, { value: 'no', label: 'No' }];
const DATA_LABELS: Record<(typeof DATA_ACCESS)[number], string> = {
  none: 'none',
  internal: 'internal data only',
  personal: 'personal data',
  customer: 'customer data',
  personal_and_customer: 'personal and customer data',
};

/** The three questions that set the criticality tier: the form insists on them; a typed line without them gets a form that asks. */
const QUESTIONS = {
  ict: { label: 'Does it provide an ICT service?', options: YES_NO_OPTIONS, required: true },
  critical: { label: 'Does it support a critical or important function?', options: YES_NO_OPTIONS, required: true },
  data: { label: 'Does it touch personal or customer data?', options: DATA_ACCESS.map((d) => ({ value: d, label: DATA_LABELS[d] })), required: true },
} satisfies ArgsOf<typeof declareSupplierInput>;

async function refuseIfDeclared(ctx: CommandContext, name: string) {
  const [existing] = await ctx.db.select().from(suppliers)
    .where(and(sql`lower(${suppliers.name}) = lower(${name})`, ne(suppliers.status, 'rejected')));
  if (existing) {
    throw conflict(`${existing.name} is already in the supplier register as ${existing.ref} (status ${existing.status}).`,
      'Nothing new was recorded. Ask your ISMS lead if its details need to change.');
  }
}

/** Records a new third party with its tier, its scope change, and puts it on the ISMS lead's triage list. */
export async function declareSupplier(ctx: CommandContext, input: CompleteSupplierInput) {
  await refuseIfDeclared(ctx, input.name);
  const tier = supplierTier({ ict: input.ict, critical: input.critical, data: input.data });
  // Both references before the first audit event: the audit lock is then always taken after the counters.
  const [ref, changeRef] = await nextRefsOf(ctx.db, 'SUP', 'SC');
  // The same supplier declared at the same moment meets the unique name index: it waits for the
  // first declaration to commit and then finds it, so nothing of this one is kept.
  const [supplier] = await ctx.db.insert(suppliers).values({
    ref, name: input.name, service: input.service, ictService: input.ict, supportsCriticalFunction: input.critical,
    dataAccess: input.data, criticalityTier: tier, status: 'declared', declaredBy: ctx.actor.id,
  }).onConflictDoNothing().returning();
  if (!supplier) {
    await refuseIfDeclared(ctx, input.name);
    throw new Error(`The supplier register refused ${ref} (${input.name}) but holds no live supplier of that name.`);
  }
  await ctx.audit({ action: 'declare', entity: 'supplier', entityRef: ref, after: supplier });
  const change = await putSupplierOnTriage(ctx, supplier, changeRef, `${ctx.actor.name} declared the supplier ${input.name} (${ref}, ${TIER_LABELS[tier]}).`);
  return { supplier, change };
}

/**
 * Puts a declared supplier on the triage list as declared by the acting person: its scope change, with its
 * audit event, and word to whoever decides it. An imported declared supplier enters triage this way too.
 */
export async function putSupplierOnTriage(ctx: CommandContext, supplier: Supplier, changeRef: string, summary: string) {
  const [change] = await ctx.db.insert(scopeChanges).values({
    ref: changeRef, kind: 'new_supplier', subject: supplier.name, description: supplier.service,
    subjectRef: supplier.ref, declaredBy: ctx.actor.id, declaredAt: ctx.now,
  }).returning();
  await ctx.audit({ action: 'propose', entity: 'scope_change', entityRef: changeRef, after: change });
  await notifyTriage(ctx, changeRef, summary);
  return change;
}

const hasAllAnswers = (input: DeclareSupplierInput): input is CompleteSupplierInput =>
  input.ict !== undefined && input.critical !== undefined && input.data !== undefined;

export const declareSupplierCommand = defineCommand({
  name: 'declare supplier',
  aliases: ['supplier declare'],
  summary: 'Declare a new third party (supplier, service provider) so it can be assessed',
  examples: ['declare supplier "Acme Cloud" "managed Kubernetes" --ict yes --critical yes --data customer'],
  schema: declareSupplierInput,
  args: {
    name: { positional: true, label: 'Supplier', placeholder: 'e.g. Acme Cloud' },
    service: { positional: 'rest', label: 'What do they provide?' },
    ...QUESTIONS,
  },
  form: { title: 'Declare a supplier', submitLabel: 'Declare' },
  async run(ctx, input) {
    if (!hasAllAnswers(input)) {
      // Ask only what is missing; what was typed travels with the form.
      const missing = (['ict', 'critical', 'data'] as const).filter((k) => input[k] === undefined);
      const hidden: Record<string, string> = { name: input.name };
      if (input.service) hidden.service = input.service;
      if (input.ict !== undefined) hidden.ict = input.ict ? 'yes' : 'no';
      if (input.critical !== undefined) hidden.critical = input.critical ? 'yes' : 'no';
      if (input.data !== undefined) hidden.data = input.data;
      return reply(
        text(`To set the criticality tier of ${input.name} I need ${missing.map((k) => `--${k}`).join(', ')}: `
          + `${missing.map((k) => QUESTIONS[k].label).join(' ')} Nothing was recorded yet.`, 'warning'),
        formBlock(await ctx.form({ title: `Declare ${input.name}`, known: hidden, ask: missing })),
      );
    }
    const { supplier, change } = await declareSupplier(ctx, input);
    return reply(
      text(`Recorded ${supplier.name} in the supplier register as ${supplier.ref}, ${TIER_LABELS[supplier.criticalityTier]}. `
        + `The ISMS lead will review it (${change.ref}).`, 'success'),
      fields([
        { label: 'Reference', value: supplier.ref },
        { label: 'Criticality tier', value: TIER_LABELS[supplier.criticalityTier] },
        ...(supplier.service ? [{ label: 'Service', value: supplier.service }] : []),
        { label: 'ICT service', value: supplier.ictService ? 'yes' : 'no' },
        { label: 'Supports a critical or important function', value: supplier.supportsCriticalFunction ? 'yes' : 'no' },
        { label: 'Data', value: DATA_LABELS[supplier.dataAccess] },
        { label: 'Status', value: supplier.status },
      ]),
    );
  },
});
