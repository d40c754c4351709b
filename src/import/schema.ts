import { z, type ZodRawShape, type ZodTypeAny } from 'zod';
import {
  ROLES, EVIDENCE_FREQUENCIES, PROTECTION_LEVELS, CRITICALITY_TIERS, DATA_ACCESS, TREATMENTS, POAM_SOURCES,
} from '../db/schema/index.js';
import { isoDate, registerRef } from '../core/validate.js';
import { FRAMEWORK_IDS } from '../refdata/frameworks.js';
import { catalogueThreat } from '../refdata/threats.js';

/*
 * The import file, section by section. Fields left out are optional; a field left out of an entry
 * that is already in the register keeps its value there.
 */

/** An object that names its own fields when the file has one it does not know (a typo, usually). */
const entry = <S extends ZodRawShape>(shape: S) =>
  z.object(shape).strict({ message: `the fields are: ${Object.keys(shape).join(', ')}` });

/** `key:` with nothing after it reads as null: treat it as left out. */
const optional = <T extends ZodTypeAny>(schema: T) => z.preprocess((v) => (v === null ? undefined : v), schema.optional());

const text = (max: number) => z.string({ required_error: 'is required', invalid_type_error: 'must be text' })
  .trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

const email = z.string({ required_error: 'is required', invalid_type_error: 'must be an email address' })
  .trim().toLowerCase().email('must be an email address');

const oneOf = <T extends [string, ...string[]]>(values: T) =>
  z.enum(values, { errorMap: () => ({ message: `must be one of ${values.join(', ')}` }) });

const yesNo = z.boolean({ invalid_type_error: 'must be true or false', required_error: 'is required (true or false)' });

/** Numbers arrive as written in the file (see source.ts), so "3" is read here. */
const wholeNumber = (min: number, max: number) => z.preprocess(
  (v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v),
  z.number({ invalid_type_error: 'must be a whole number', required_error: 'is required' })
    .int('must be a whole number').min(min, `must be between ${min} and ${max}`).max(max, `must be between ${min} and ${max}`),
);

const date = z.string({ required_error: 'is required', invalid_type_error: 'must be a date written YYYY-MM-DD, e.g. 2026-12-31' })
  .pipe(isoDate);

const timezone = text(64).refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, { message: 'must be an IANA time zone such as Europe/Berlin or America/New_York' });

export const personEntry = entry({
  name: text(200),
  email,
  slack_user_id: optional(z.string().trim()
    .regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack member id such as U024BE7LH (Slack profile, "Copy member ID")')),
  teams_aad_object_id: optional(z.string().trim()
    .uuid('must be the person\'s Microsoft Entra object id, a GUID such as 3f2504e0-4f89-41d3-9a0c-0305e82c3301')),
  roles: z.array(oneOf([...ROLES]), { required_error: `is required: a list of ${ROLES.join(', ')}` })
    .min(1, `must name at least one role: ${ROLES.join(', ')}`),
  manager: optional(email),
  timezone: optional(timezone),
  in_scope: optional(yesNo),
});

export const scopeEntry = entry({
  statement: text(20_000),
  approved_by: optional(email),
});

export const interestedPartyEntry = entry({
  name: text(200),
  kind: optional(text(100)),
  needs: optional(text(5000)),
  reviewed_on: optional(date),
});

export const assetEntry = entry({
  ref: optional(registerRef('AST')),
  name: text(200),
  description: optional(text(5000)),
  owner: optional(email),
  classification: optional(text(50)),
  protection_requirement: optional(oneOf([...PROTECTION_LEVELS])),
  in_scope: optional(yesNo),
});

/** Framework identifiers in any letter case: "nist-csf-2.0" is NIST-CSF-2.0. */
const framework = z.preprocess(
  (v) => (typeof v === 'string' ? FRAMEWORK_IDS.find((f) => f.toLowerCase() === v.trim().toLowerCase()) ?? v : v),
  oneOf(FRAMEWORK_IDS),
);

export const mappingEntry = entry({
  framework,
  reference: text(100),
});

export const controlEntry = entry({
  code: text(50),
  title: text(300),
  description: optional(text(5000)),
  owner: optional(email),
  evidence_frequency: optional(oneOf([...EVIDENCE_FREQUENCIES])),
  applicable: optional(yesNo),
  justification: optional(text(5000)),
  mappings: optional(z.array(mappingEntry, { invalid_type_error: 'must be a list of { framework, reference }' })),
}).superRefine((c, ctx) => {
  if (c.applicable === false && !c.justification) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['justification'], message: 'is required when a control is not applicable: say why it is excluded' });
  }
});

export const frameworkTitleEntry = entry({
  framework,
  reference: text(100),
  title: text(2000),
  parent: optional(text(100)),
});

export const policyEntry = entry({
  ref: optional(registerRef('POL')),
  title: text(300),
  owner: optional(email),
  /** Left out: a registered policy's current version (its text must be unchanged), 1.0 for a new policy. */
  version: optional(z.string({ invalid_type_error: 'must be a version such as 1.0' }).trim()
    .regex(/^\d+\.\d+$/, 'must be a version such as 1.0 or 2.1')),
  content: text(200_000),
  url: optional(z.string().trim().url('must be a web address starting with https://')),
  approved_by: optional(email),
});

export const trainingCourseEntry = entry({
  code: text(50),
  title: text(300),
  audience_role: optional(oneOf([...ROLES])),
  validity_months: optional(wholeNumber(1, 120)),
  legal_basis: optional(text(500)),
});

export const supplierEntry = entry({
  ref: optional(registerRef('SUP')),
  name: text(200),
  service: optional(text(1000)),
  ict_service: optional(yesNo),
  supports_critical_function: optional(yesNo),
  data_access: optional(oneOf([...DATA_ACCESS])),
  criticality_tier: optional(oneOf([...CRITICALITY_TIERS])),
  contract_ref: optional(text(200)),
  exit_strategy: optional(yesNo),
  owner: optional(email),
  next_review_on: optional(date),
  /** A supplier already relied on is imported accepted; declared (the default) is how a new declaration starts. */
  status: optional(oneOf(['declared', 'accepted'])),
});

/** A likelihood or impact, 1 to 5; `risk add` requires both, an import only for a risk new to the register. */
export const riskRating = wholeNumber(1, 5);

/** How a risk is treated; `risk add` requires it, an import only for a risk new to the register. */
export const riskTreatment = oneOf([...TREATMENTS]);

export const riskEntry = entry({
  ref: optional(registerRef('R')),
  title: text(300),
  description: optional(text(5000)),
  asset: optional(text(200)),
  scope_area: optional(text(200)),
  /** Checked against the threat catalogue as `risk add --threat` is. */
  threat_ref: optional(catalogueThreat),
  /** Required for a new risk; a registered risk left without one keeps its own (one given alone is a reassessment). */
  likelihood: optional(riskRating),
  impact: optional(riskRating),
  /** Left out: the inherent score for a new risk; a registered risk keeps its residual score. */
  residual_score: optional(wholeNumber(1, 25)),
  /** Required for a new risk; a registered risk left without it keeps its treatment. */
  treatment: optional(riskTreatment),
  owner: optional(email),
});

export const riskAppetiteEntry = entry({
  max_residual_score: wholeNumber(1, 25),
  statement: text(5000),
  approved_by: optional(email),
});

export const milestoneEntry = entry({
  description: text(1000),
  due_on: date,
});

export const poamEntry = entry({
  ref: optional(registerRef('POAM')),
  weakness: text(2000),
  source: oneOf([...POAM_SOURCES]),
  source_ref: optional(text(100)),
  owner: email,
  due_on: date,
  milestones: optional(z.array(milestoneEntry, { invalid_type_error: 'must be a list of { description, due_on }' })),
}).superRefine((item, ctx) => {
  item.milestones?.forEach((m, i) => {
    if (m.due_on > item.due_on) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['milestones', i, 'due_on'], message: `is after the item's own due date ${item.due_on}` });
    }
  });
});

const list = <T extends ZodTypeAny>(item: T) => optional(z.array(item, { invalid_type_error: 'must be a list (entries starting with "- ")' }));

export const importFileSchema = entry({
  people: list(personEntry),
  scope: optional(scopeEntry),
  interested_parties: list(interestedPartyEntry),
  assets: list(assetEntry),
  framework_titles: list(frameworkTitleEntry),
  controls: list(controlEntry),
  policies: list(policyEntry),
  training_courses: list(trainingCourseEntry),
  suppliers: list(supplierEntry),
  risks: list(riskEntry),
  risk_appetite: optional(riskAppetiteEntry),
  poam: list(poamEntry),
});

export type ImportData = z.infer<typeof importFileSchema>;
export type Section = keyof ImportData;
export const SECTIONS = Object.keys(importFileSchema.shape) as Section[];
