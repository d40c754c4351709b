import { z } from 'zod';
import { and, asc, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { policies, policyVersions } from '../../db/schema/index.js';
import { notFound, invalid } from '../../core/errors.js';
import { registerRef } from '../../core/validate.js';
import { MAX_CHOICES, type Choice } from '../../core/args.js';

export type Policy = typeof policies.$inferSelect;
export type PolicyVersion = typeof policyVersions.$inferSelect;

export const policyRef = z.string({ required_error: 'name the policy, e.g. POL-0001' }).pipe(registerRef('POL'));

/** "2", "2.1", "v2.1" -> { major: 2, minor: 1, version: "2.1" }. */
export const versionNumber = z.string().trim().transform((v, ctx) => {
  const m = /^v?(\d{1,4})(?:\.(\d{1,4}))?$/i.exec(v);
  if (!m) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a version like 2.0 or 1.3, not "${v}"` });
    return z.NEVER;
  }
  const major = Number(m[1]);
  const minor = Number(m[2] ?? 0);
  return { major, minor, version: `${major}.${minor}` };
});

export async function findPolicy(db: Db, ref: string): Promise<Policy> {
  const [policy] = await db.select().from(policies).where(eq(policies.ref, ref));
  if (!policy) throw notFound(`There is no policy ${ref}.`, 'Check the reference: "/isms policies" lists the policies waiting for your acknowledgement.');
  return policy;
}

/** The version in force: the highest major.minor. */
export async function currentVersion(db: Db, policyId: number): Promise<PolicyVersion | undefined> {
  const [version] = await db.select().from(policyVersions).where(eq(policyVersions.policyId, policyId))
    .orderBy(desc(policyVersions.major), desc(policyVersions.minor)).limit(1);
  return version;
}

export async function requireCurrentVersion(db: Db, policy: Policy): Promise<PolicyVersion> {
  const version = await currentVersion(db, policy.id);
  if (!version) {
    throw invalid(`${policy.ref} ${policy.title} has no published version yet.`,
      `The ISMS lead publishes one with "/isms policy publish ${policy.ref} 1.0 <text>".`);
  }
  return version;
}

/** The policies of `ids` with their version in force, in reference order; policies never published are left out. */
export async function policiesInForce(db: Db, ids: number[]): Promise<{ policy: Policy; version: PolicyVersion }[]> {
  if (ids.length === 0) return [];
  const versions = await db.selectDistinctOn([policyVersions.policyId]).from(policyVersions)
    .where(inArray(policyVersions.policyId, ids))
    .orderBy(policyVersions.policyId, desc(policyVersions.major), desc(policyVersions.minor));
  const byPolicy = new Map(versions.map((v) => [v.policyId, v]));
  const all = await db.select().from(policies).where(inArray(policies.id, ids)).orderBy(asc(policies.ref));
  return all.filter((p) => byPolicy.has(p.id)).map((policy) => ({ policy, version: byPolicy.get(policy.id)! }));
}

/** The id of a policy's version in force (its highest version), as a subquery on the policy's row: null before the first is published. */
export const versionInForce = sql`(select ${policyVersions.id} from ${policyVersions} where ${policyVersions.policyId} = ${policies.id}
  order by ${policyVersions.major} desc, ${policyVersions.minor} desc limit 1)`;

/** A policy with a version in force. */
const hasVersionInForce = sql`exists (select 1 from ${policyVersions} where ${policyVersions.policyId} = ${policies.id})`;

/**
 * The policies `where` chooses as a form's choices, in reference order, with the version in force
 * (`inForce`: only policies that have one). As many as a form lists and one more, which says the
 * reference is typed instead: a large register is not read to show a text field.
 */
export async function policyChoices(db: Db, where: SQL | undefined, inForce: boolean): Promise<Choice[]> {
  const shown = await db.select().from(policies).where(inForce ? and(hasVersionInForce, where) : where)
    .orderBy(asc(policies.ref)).limit(MAX_CHOICES + 1);
  const withVersion = inForce ? await policiesInForce(db, shown.map((p) => p.id)) : shown.map((policy) => ({ policy, version: undefined }));
  return withVersion.map(({ policy, version }) => ({
    value: policy.ref,
    label: `${policy.ref} ${policy.title}${version ? ` (version ${version.version})` : ''}`.slice(0, 75),
  }));
}
