import { z } from 'zod';
import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { auditFindings, controlMappings, controls, FINDING_TYPES, frameworkRequirements, poamItems } from '../../db/schema/index.js';
import { hasRole, ROLE_LABELS, type Actor } from '../../core/actor.js';
import { refuseOwnWork } from '../../core/duties.js';
import { invalid, notFound } from '../../core/errors.js';
import type { Role } from '../../db/schema/index.js';
import { unknownRequirement } from '../../refdata/requirements.js';

export type Finding = typeof auditFindings.$inferSelect;
export type FindingType = (typeof FINDING_TYPES)[number];
export type PoamItem = typeof poamItems.$inferSelect;

export const FINDING_LABELS: Record<FindingType, string> = {
  major_nc: 'major nonconformity',
  minor_nc: 'minor nonconformity',
  observation: 'observation',
  ofi: 'opportunity for improvement',
};

/** Nonconformities need corrective action tracked on the POA&M; observations and OFIs do not. */
export const isNonconformity = (type: FindingType) => type === 'major_nc' || type === 'minor_nc';

export const capitalised = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** "Major-NC" or "MINOR_NC" are typed as often as "major_nc". */
export const findingType = z.preprocess(
  (v) => (typeof v === 'string' ? v.trim().toLowerCase().replace(/-/g, '_') : v),
  z.enum(FINDING_TYPES, {
    errorMap: () => ({ message: 'must be one of major_nc, minor_nc, observation, ofi (major or minor nonconformity, observation, opportunity for improvement)' }),
  }),
);

// A management-system clause (4, 9.2, 10.1, 5.1.2) or an Annex A control (A.5.15, A.8.1, A.12.6.1).
const CLAUSE = /^\d{1,2}(\.\d{1,3}){0,3}$/;
const ANNEX_A = /^A\.?\d{1,2}(\.\d{1,3}){1,3}$/i;

/** Free text, but shaped like an ISO clause or Annex A id; Annex A ids are written "A.5.15". */
export const isoClause = z.string().trim().transform((v, ctx) => {
  if (CLAUSE.test(v)) return v;
  if (ANNEX_A.test(v)) return `A.${v.replace(/^A\.?/i, '')}`;
  ctx.addIssue({
    code: z.ZodIssueCode.custom,
    message: `must be an ISO 27001 clause such as 9.2 or an Annex A control such as A.5.15, not "${v}"`,
  });
  return z.NEVER;
});

/** The framework findings are raised against: clauses and Annex A controls of ISO/IEC 27001:2022. */
const FINDING_FRAMEWORK = 'ISO27001:2022';

/**
 * Refuses a clause or Annex A control the framework does not have, as the import refuses an unknown
 * mapping, with the nearest one. A clause above the register's (9.2 for 9.2.1 and 9.2.2) names them all.
 */
export async function assertKnownClause(db: Db, field: string, clause: string): Promise<void> {
  const known = (await db.select({ reference: frameworkRequirements.reference }).from(frameworkRequirements)
    .where(eq(frameworkRequirements.framework, FINDING_FRAMEWORK))).map((r) => r.reference);
  if (known.some((r) => r === clause || r.startsWith(`${clause}.`))) return;
  throw invalid(`${field}: ${unknownRequirement(FINDING_FRAMEWORK, clause, clause, known)}`,
    'Name a clause such as 9.2 or an Annex A control such as A.5.15.').on(field);
}

/** A due date for corrective work: strictly after today (the day of the person typing it). */
export function assertFutureDue(field: string, due: string, today: string): void {
  if (due <= today) {
    throw invalid(`${field}: ${due} is not in the future (today is ${today}); give a later date.`).on(field);
  }
}

/** Loads a finding by reference, locked for the rest of the transaction. */
export async function loadFinding(db: Db, ref: string): Promise<Finding> {
  const [finding] = await db.select().from(auditFindings).where(eq(auditFindings.ref, ref)).for('update');
  if (!finding) throw notFound(`${ref} does not exist.`, '"/isms findings --all" lists every audit finding with its reference.');
  return finding;
}

/** The POA&M items opened for these findings, by finding reference. */
export async function poamItemsFor(db: Db, findingRefs: string[]): Promise<Map<string, PoamItem>> {
  if (findingRefs.length === 0) return new Map();
  const items = await db.select().from(poamItems)
    .where(and(eq(poamItems.source, 'audit_finding'), inArray(poamItems.sourceRef, findingRefs)));
  return new Map(items.map((i) => [i.sourceRef!, i]));
}

/** "ISMS lead, staff": role names as the register labels them. */
export const roleList = (roles: string[]) =>
  roles.map((r) => ROLE_LABELS[r as Role] ?? r).join(', ') || 'no roles';

/**
 * ISO 27001 cl. 9.2: an auditor does not audit their own work, so an auditor who owns an internal control
 * mapped to the clause raises and closes no finding against it; another auditor does.
 */
export async function refuseAuditOfOwnControl(ctx: { db: Db; actor: Actor }, clause: string | null, verb: string): Promise<void> {
  if (!clause || !hasRole(ctx.actor, 'auditor')) return;
  const owned = await ctx.db.select({ code: controls.code, ownerId: controls.ownerId }).from(controls)
    .innerJoin(controlMappings, eq(controlMappings.controlId, controls.id))
    .innerJoin(frameworkRequirements, eq(frameworkRequirements.id, controlMappings.requirementId))
    .where(and(eq(frameworkRequirements.framework, 'ISO27001:2022'), eq(frameworkRequirements.reference, clause)));
  await refuseOwnWork(ctx, {
    what: clause, decider: 'auditor', verb,
    deeds: owned.map((c) => ({ by: c.ownerId, did: `own ${c.code}, a control for ${clause}` })),
  });
}
