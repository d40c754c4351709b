import { createHash } from 'node:crypto';
import { z } from 'zod';
import { and, eq } from 'drizzle-orm';
import { ackCampaigns, policyAcknowledgements, policyVersions } from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { conflict, invalid } from '../../core/errors.js';
import { reply, text, fields, actions, type Block } from '../../core/reply.js';
import { approvalInForce, requestApproval } from '../approvals/request.js';
import type { Approval } from '../approvals/subject.js';
import { findPolicy, currentVersion, policyChoices, policyRef, versionNumber, type Policy, type PolicyVersion } from './lookup.js';
import { asLink } from '../evidence/submit.js';
import {
  approvalBasis, askBoardIfMajor, policyVersionSubject, reaskAfterChange, recordedApproval, versionApprovalInWords, versionSubjectRef,
} from './approval.js';

const YES = ['true', 'yes', 'y', '1', 'on'];
const NO = ['false', 'no', 'n', '0', 'off'];
const looksLikeVersion = (v: unknown) => typeof v === 'string' && /^v?\d/i.test(v.trim());

/**
 * Typed lines put words where the router cannot know them: the version may be left out (the first
 * word is then text), and "--major Staff must ..." hands "Staff" to --major. Put such words back.
 */
function untangleTypedWords(raw: unknown): unknown {
  if (!raw || typeof raw !== 'object') return raw;
  const r = { ...(raw as Record<string, unknown>) };
  const prepend = (word: unknown) => { r.content = [word, r.content].filter(Boolean).join(' '); };
  if (r.version !== undefined && !looksLikeVersion(r.version)) {
    prepend(r.version);
    delete r.version;
  }
  if (typeof r.major === 'string' && ![...YES, ...NO].includes(r.major.trim().toLowerCase())) {
    if (r.version === undefined && looksLikeVersion(r.major)) r.version = r.major;
    else prepend(r.major);
    r.major = 'true';
  }
  return r;
}

const yesNo = z.preprocess(
  (v) => (typeof v === 'string' ? (YES.includes(v.trim().toLowerCase()) ? true : NO.includes(v.trim().toLowerCase()) ? false : v) : v),
  z.boolean({ invalid_type_error: 'must be yes or no' }),
);

/** A web address people can open, as evidence takes one: one check, so a wrong value gets one reason, not the same one twice. */
export const httpLink = z.string().trim().refine((v) => asLink(v) !== undefined,
  'must be a web link starting with https:// (or http://), e.g. https://intranet.example/policies/isp');

export const publishPolicyInput = z.preprocess(untangleTypedWords, z.object({
  policy: policyRef.describe('The policy, e.g. POL-0001'),
  version: versionNumber.optional().describe('The new version number; empty means the next minor version (or the next major one for a major change)'),
  major: yesNo.optional().describe('A major change: people must acknowledge it again, after the management body approved it'),
  url: httpLink.optional().describe('A link to the full text'),
  content: z.string({ required_error: 'give the text of the policy after the options, or use the form ("/isms policy publish")' })
    .trim().min(1, 'give the text of the policy').max(500_000, 'is too long: publish the full text behind --url and give a summary here')
    .describe('The text of the policy, or a summary when the full text is behind the link'),
}));
export type PublishPolicyInput = z.infer<typeof publishPolicyInput>;

const sameTextAndLink = (v: PolicyVersion, sha: string, url: string | undefined) => v.contentSha256 === sha && (v.url ?? undefined) === url;

/** Refuses a version number taken already; a repeat of the same text and link says so. */
function alreadyPublished(policy: Policy, taken: PolicyVersion, input: PublishPolicyInput, sha: string) {
  const same = sameTextAndLink(taken, sha, input.url);
  return conflict(`Version ${taken.version} of ${policy.ref} ${policy.title} is already published${same ? ' with this text' : ''}. Nothing new was recorded.`,
    same ? `Start a campaign to ask people to acknowledge it: "/isms campaign ${policy.ref}".`
      : `People have been asked to acknowledge it, so its text stays: publish the change under a higher number, e.g. ${taken.major}.${taken.minor + 1}.`);
}

/** Publishes a new version; earlier versions and their acknowledgements stay as they are. */
export async function publishPolicy(ctx: CommandContext, input: PublishPolicyInput): Promise<Published> {
  const policy = await findPolicy(ctx.db, input.policy);
  const current = await currentVersion(ctx.db, policy.id);
  const contentSha256 = createHash('sha256').update(input.content, 'utf8').digest('hex');
  let next: { major: number; minor: number; version: string };
  if (input.version) {
    next = input.version;
    if (current?.version === next.version) return publishAgain(ctx, policy, current, input, contentSha256);
    if (current && (next.major < current.major || (next.major === current.major && next.minor <= current.minor))) {
      throw invalid(`Version ${next.version} is not newer than ${current.version}, the version in force of ${policy.ref}.`,
        `Give a higher number: ${current.major}.${current.minor + 1} for a minor change, ${current.major + 1}.0 with --major for a major one.`);
    }
    if (input.major && current && next.major <= current.major) {
      throw invalid(`--major needs a higher major number than ${current.version}: ${next.version} is a minor change.`,
        `Publish it as ${current.major + 1}.0, or leave --major out.`);
    }
  } else if (!current) {
    next = { major: 1, minor: 0, version: '1.0' };
  } else if (sameTextAndLink(current, contentSha256, input.url)) {
    // Without a version number, the same text again is a repeat, not a new version.
    return publishAgain(ctx, policy, current, input, contentSha256);
  } else if (input.major) {
    next = { major: current.major + 1, minor: 0, version: `${current.major + 1}.0` };
  } else {
    next = { major: current.major, minor: current.minor + 1, version: `${current.major}.${current.minor + 1}` };
  }
  // Publishing at the same moment meets the unique index on policy and version: this insert waits
  // for the first one to commit and then finds its version taken. The publisher never approves it:
  // the management body does (approved_by is filled by its decision).
  const [version] = await ctx.db.insert(policyVersions).values({
    policyId: policy.id,
    version: next.version,
    major: next.major,
    minor: next.minor,
    content: input.content,
    contentSha256,
    url: input.url,
    publishedAt: ctx.now,
    publishedBy: ctx.actor.id,
  }).onConflictDoNothing({ target: [policyVersions.policyId, policyVersions.version] }).returning();
  if (!version) {
    const [taken] = await ctx.db.select().from(policyVersions)
      .where(and(eq(policyVersions.policyId, policy.id), eq(policyVersions.version, next.version)));
    throw alreadyPublished(policy, taken, input, contentSha256);
  }
  await ctx.audit({ action: 'publish', entity: 'policy_version', entityRef: `${policy.ref} v${version.version}`, before: current ? { version: current.version } : undefined, after: version });
  const approval = await askBoardIfMajor(ctx, policy, version);
  return { policy, version, previous: current, approval: approval?.approval, outcome: 'published' };
}

export interface Published {
  policy: Policy;
  version: PolicyVersion;
  previous: PolicyVersion | undefined;
  /** The management body's request for a major version; none for a minor one. */
  approval: Approval | undefined;
  /** published: a new version; revised: the text of a version nobody was asked about yet, replaced; asked: the same text sent to the management body. */
  outcome: 'published' | 'revised' | 'asked';
}

/**
 * A version number published already. Its text may still be corrected while nobody has been asked
 * to acknowledge it (any approval of the old text goes stale); the same text of a major version the
 * management body has not approved is sent to it (e.g. a version published before approvals in chat).
 */
async function publishAgain(ctx: CommandContext, policy: Policy, taken: PolicyVersion, input: PublishPolicyInput, sha: string): Promise<Published> {
  if (sameTextAndLink(taken, sha, input.url)) {
    const basis = await approvalBasis(ctx.db, taken);
    const ref = versionSubjectRef(policy, taken);
    if (basis.id !== taken.id || await approvalInForce(ctx.db, policyVersionSubject, ref) || await recordedApproval(ctx.db, taken)) {
      throw alreadyPublished(policy, taken, input, sha);
    }
    const asked = await requestApproval(ctx, policyVersionSubject, ref);
    if (!asked.created) {
      throw conflict(`Version ${taken.version} of ${policy.ref} ${policy.title} is already published with this text and waits for the management body's approval (${asked.approval.ref}). Nothing new was recorded.`,
        '"/isms approvals" shows what waits for the management body.');
    }
    return { policy, version: taken, previous: undefined, approval: asked.approval, outcome: 'asked' };
  }
  const [campaign] = await ctx.db.select({ ref: ackCampaigns.ref }).from(ackCampaigns).where(eq(ackCampaigns.policyVersionId, taken.id)).limit(1);
  const [ack] = await ctx.db.select({ id: policyAcknowledgements.id }).from(policyAcknowledgements).where(eq(policyAcknowledgements.policyVersionId, taken.id)).limit(1);
  if (campaign || ack) throw alreadyPublished(policy, taken, input, sha);
  const [revised] = await ctx.db.update(policyVersions).set({
    content: input.content, contentSha256: sha, url: input.url ?? null, approvedBy: null, approvedAt: null, publishedAt: ctx.now, publishedBy: ctx.actor.id,
  }).where(eq(policyVersions.id, taken.id)).returning();
  await ctx.audit({ action: 'revise', entity: 'policy_version', entityRef: `${policy.ref} v${taken.version}`, before: taken, after: revised });
  const approval = await reaskAfterChange(ctx, policy, revised, `the text of ${policy.ref} version ${taken.version} was replaced`);
  return { policy, version: revised, previous: undefined, approval: approval?.approval, outcome: 'revised' };
}

const HEADLINE: Record<Published['outcome'], (what: string) => string> = {
  published: (what) => `Published ${what}.`,
  revised: (what) => `Replaced the text of ${what}; nobody had been asked to acknowledge it yet.`,
  asked: (what) => `Asked the management body to approve ${what} as published.`,
};

/** What the publisher reads: the version, its hash, where its approval stands, and what comes next. */
export async function publishedBlocks(ctx: CommandContext, { policy, version, previous, approval, outcome }: Published): Promise<Block[]> {
  const approvalWords = await versionApprovalInWords(ctx.db, policy, version, ctx.actor.timezone);
  const next = approval
    ? `The management body is asked to approve it (${approval.ref}); the campaign asking people to acknowledge it can start once it is approved.`
    : previous
      ? `Acknowledgements of version ${previous.version} stay on record. People now need to acknowledge ${version.version}; start a campaign to ask them.`
      : 'Start a campaign to ask people to acknowledge it.';
  return [
    text(HEADLINE[outcome](`${policy.ref} ${policy.title} version ${version.version}`), 'success'),
    fields([
      { label: 'Policy', value: `${policy.ref} ${policy.title}` },
      { label: 'Version', value: `${version.version}${previous ? ` (was ${previous.version})` : ''}` },
      { label: 'Content SHA-256', value: version.contentSha256 },
      ...(version.url ? [{ label: 'Link', value: version.url }] : []),
      { label: 'Management-body approval', value: approvalWords },
    ]),
    text(approval && previous ? `Acknowledgements of version ${previous.version} stay on record. ${next}` : next),
    ...(approval ? [] : [actions({ label: 'Start acknowledgement campaign', command: `campaign ${policy.ref}` })]),
  ];
}

export const publishPolicyCommand = defineCommand({
  name: 'policy publish',
  aliases: ['publish policy'],
  summary: 'Publish a new version of a policy; a major version (1.0, 2.0, …) goes to the management body for approval, a minor one needs none',
  examples: [
    'policy publish POL-0001 2.0 --major --url https://intranet.example.com/policies/acceptable-use "Acceptable use policy: ..."',
    'policy publish POL-0001 "Clarified the section on personal devices."',
  ],
  roles: ['isms_lead'],
  schema: publishPolicyInput,
  args: {
    policy: {
      positional: true, value: 'policy id', placeholder: 'e.g. POL-0001',
      options: (ctx) => policyChoices(ctx.db, undefined, false),
    },
    version: { positional: true, placeholder: 'e.g. 2.0' },
    major: { switch: true, label: 'Major change?', options: [{ value: 'no', label: 'No' }, { value: 'yes', label: 'Yes' }] },
    url: { label: 'Link to the full text', value: 'link', placeholder: 'https://…' },
    content: { positional: 'rest', label: 'Text of the policy', value: 'text of the policy' },
  },
  form: { title: 'Publish a policy version', submitLabel: 'Publish' },
  async run(ctx, input) {
    return reply(...await publishedBlocks(ctx, await publishPolicy(ctx, input)));
  },
});
