import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { policies, policyVersions } from '../../db/schema/index.js';
import type { CommandContext } from '../../core/router.js';
import { findPersonById, peopleWithRole, type Person } from '../../core/actor.js';
import { readersDay } from '../../core/time.js';
import { conflict } from '../../core/errors.js';
import type { Field } from '../../core/reply.js';
import type { ApprovalSubject, Approval } from '../approvals/subject.js';
import { approvalInForce, approvalInWords, approversOf, latestApproval, refreshApprovals, requestApproval } from '../approvals/request.js';
import type { Policy, PolicyVersion } from './lookup.js';

/*
 * The management body approves each major version of a policy (1.0, 2.0, …) as published: its exact
 * text (content hash) and link. Minor versions (2.1, 2.2) rest on the approval of their major version.
 */

/** "POL-0001 v2.0": how an approval request names the version it is about. */
export const versionSubjectRef = (policy: Policy, version: PolicyVersion) => `${policy.ref} v${version.version}`;

function parseSubjectRef(subjectRef: string): { policyRef: string; version: string } | undefined {
  const m = /^(POL-\d+) v(\d+\.\d+)$/.exec(subjectRef);
  return m ? { policyRef: m[1], version: m[2] } : undefined;
}

async function findVersion(db: Db, subjectRef: string) {
  const parsed = parseSubjectRef(subjectRef);
  if (!parsed) return undefined;
  const [row] = await db.select({ policy: policies, version: policyVersions }).from(policyVersions)
    .innerJoin(policies, eq(policies.id, policyVersions.policyId))
    .where(and(eq(policies.ref, parsed.policyRef), eq(policyVersions.version, parsed.version)));
  return row;
}

/** The first lines of a policy's text, cut at a word, for cards. */
export function excerpt(content: string, max: number): { shown: string; left: number } {
  if (content.length <= max) return { shown: content, left: 0 };
  const cut = content.slice(0, max);
  const atWord = cut.replace(/\s+\S*$/, '');
  const shown = (atWord.length > max / 2 ? atWord : cut).trimEnd();
  return { shown: `${shown}…`, left: content.length - shown.length };
}

export const policyVersionSubject: ApprovalSubject = {
  kind: 'policy_version',
  label: 'a major version of a policy',
  async current(db, subjectRef) {
    const found = await findVersion(db, subjectRef);
    if (!found) return undefined;
    const { policy, version } = found;
    const facts: Field[] = [
      { label: 'Policy', value: `${policy.ref} ${policy.title}` },
      { label: 'Version', value: version.version },
      { label: 'Content SHA-256', value: version.contentSha256 },
      version.url ? { label: 'Full text', value: version.url } : { label: 'Text', value: excerpt(version.content, 600).shown },
    ];
    return {
      title: `${policy.title} ${policy.ref} version ${version.version}`,
      state: { policy: policy.ref, version: version.version, contentSha256: version.contentSha256, url: version.url ?? null },
      facts,
      authors: [{ by: version.publishedBy, did: `published ${policy.ref} version ${version.version}` }],
    };
  },
  onApproved: recordBoardApproval,
};

/** Keeps the management body's approval on the version itself (approved_by/approved_at), with its audit event. */
async function recordBoardApproval(ctx: CommandContext, approval: Approval) {
  const found = await findVersion(ctx.db, approval.subjectRef);
  if (!found) return;
  const [after] = await ctx.db.update(policyVersions).set({ approvedBy: approval.decidedBy, approvedAt: approval.decidedAt })
    .where(eq(policyVersions.id, found.version.id)).returning();
  await ctx.audit({
    action: 'approve', entity: 'policy_version', entityRef: approval.subjectRef,
    before: { approvedBy: found.version.approvedBy, approvedAt: found.version.approvedAt },
    after: { approvedBy: after.approvedBy, approvedAt: after.approvedAt, approval: approval.ref },
  });
}

/** The version whose approval covers `version`: the first of its major line (normally x.0). */
export async function approvalBasis(db: Db, version: PolicyVersion): Promise<PolicyVersion> {
  const [first] = await db.select().from(policyVersions)
    .where(and(eq(policyVersions.policyId, version.policyId), eq(policyVersions.major, version.major)))
    .orderBy(asc(policyVersions.minor)).limit(1);
  return first ?? version;
}

/** Asks the management body to approve a major version just published (or changed); minor versions need nothing. */
export async function askBoardIfMajor(ctx: CommandContext, policy: Policy, version: PolicyVersion) {
  const basis = await approvalBasis(ctx.db, version);
  if (basis.id !== version.id) return undefined;
  return requestApproval(ctx, policyVersionSubject, versionSubjectRef(policy, version));
}

/** After the text of a version changed: decisions and requests about the old text are stale, and the new text is asked for. */
export async function reaskAfterChange(ctx: CommandContext, policy: Policy, version: PolicyVersion, reason: string) {
  await refreshApprovals(ctx, policyVersionSubject, versionSubjectRef(policy, version), reason);
  return askBoardIfMajor(ctx, policy, version);
}

/**
 * The approval kept on the version itself by a management-body member who did not publish it: the
 * body's decision in chat, or one recorded before (imported). Replacing the text clears it.
 */
export async function recordedApproval(db: Db, version: PolicyVersion): Promise<Person | undefined> {
  if (!version.approvedBy || version.approvedBy === version.publishedBy) return undefined;
  const approver = await findPersonById(db, version.approvedBy);
  return approver?.roles.includes('management_body') ? approver : undefined;
}

/** "approved by Bruno Board on 2026-06-15 (APR-0001)" for the major version a version rests on, the day on the reader's clock. */
export async function versionApprovalInWords(db: Db, policy: Policy, version: PolicyVersion, timezone: string | null | undefined): Promise<string> {
  const basis = await approvalBasis(db, version);
  const latest = await latestApproval(db, policyVersionSubject, versionSubjectRef(policy, basis));
  const recorded = latest ? undefined : await recordedApproval(db, basis);
  const words = recorded ? `approved by ${recorded.name}${basis.approvedAt ? ` on ${readersDay(basis.approvedAt, timezone)}` : ''} (recorded on the version)` : approvalInWords(latest, timezone);
  return basis.id === version.id ? words : `minor version of ${basis.version}, which is ${words}`;
}

/** Refuses a campaign for a version whose major version the management body has not approved as it is now. */
export async function requireBoardApproval(ctx: CommandContext, policy: Policy, version: PolicyVersion) {
  const basis = await approvalBasis(ctx.db, version);
  const ref = versionSubjectRef(policy, basis);
  if (await approvalInForce(ctx.db, policyVersionSubject, ref) || await recordedApproval(ctx.db, basis)) return;
  const latest = await latestApproval(ctx.db, policyVersionSubject, ref);
  const now = await policyVersionSubject.current(ctx.db, ref);
  const deciders = latest && now ? await approversOf(ctx.db, now, latest.requestedBy) : await peopleWithRole(ctx.db, 'management_body');
  const who = deciders.length ? deciders.map((p) => p.name).join(' or ') : 'a member of the management body';
  const about = basis.id === version.id ? `version ${version.version}` : `version ${basis.version}, on which ${version.version} rests,`;
  if (latest?.status === 'pending' && !latest.staleAt) {
    throw conflict(`${policy.ref} ${policy.title} ${about} waits for the management body's approval (${latest.ref}), so no campaign starts yet.`,
      `${who} can approve it with "/isms approve ${latest.ref}"; start the campaign after that.`);
  }
  throw conflict(`${policy.ref} ${policy.title} ${about} is not approved by the management body: ${approvalInWords(latest, ctx.actor.timezone)}. No campaign starts.`,
    latest?.status === 'rejected' && !latest.staleAt
      ? `Publish a revised text as a new version; the management body (${who}) is asked to approve it.`
      : `Publish ${basis.version} again with the same text ("/isms policy publish ${policy.ref} ${basis.version} …") to ask ${who} to approve it.`);
}
