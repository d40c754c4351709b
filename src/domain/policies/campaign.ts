import { z } from 'zod';
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import { ackCampaignAudience, ackCampaigns, people, policies, policyAcknowledgements, policyVersions, ROLES, type Role } from '../../db/schema/index.js';
import { commandLine, defineCommand, type CommandContext } from '../../core/router.js';
import { nextRef } from '../../core/refs.js';
import { findPersonById, ROLE_LABELS, type Person } from '../../core/actor.js';
import { invalid, notFound } from '../../core/errors.js';
import { reply, text, fields, actions, type Block } from '../../core/reply.js';
import { pageNumber, pageWindow } from '../../core/paging.js';
import { serializeAdds } from '../registers/entries.js';
import { acknowledgementCard } from './ack.js';
import { requireBoardApproval } from './approval.js';
import { enqueueMany } from '../../core/outbox.js';
import { findPolicy, requireCurrentVersion, policiesInForce, policyOptions, policyRef, type Policy, type PolicyVersion } from './lookup.js';
import { isoDay } from '../../core/time.js';

const AUDIENCE_HELP = 'The audience is "all", "role:<role>" (roles: ' + ROLES.join(', ') + ') or email addresses separated by commas.';

interface Audience { label: string; members: Person[] }
type Campaign = typeof ackCampaigns.$inferSelect;

/** "all", "role:staff" or "a@x.com, b@x.com" into the people asked; only people in ISMS scope. */
async function resolveAudience(ctx: CommandContext, typed: string | undefined): Promise<Audience> {
  const spec = (typed ?? '').trim();
  const inScope = await ctx.db.select().from(people).where(eq(people.inScope, true)).orderBy(asc(people.name));
  if (spec === '' || spec.toLowerCase() === 'all') return { label: 'all', members: inScope };
  const role = /^role:\s*(\S+)$/i.exec(spec);
  if (role) {
    const wanted = role[1].toLowerCase() as Role;
    if (!ROLES.includes(wanted)) throw invalid(`There is no role "${role[1]}".`, AUDIENCE_HELP).on('audience');
    const members = inScope.filter((p) => p.roles.includes(wanted));
    if (members.length === 0) throw invalid(`Nobody in scope has the role ${ROLE_LABELS[wanted]}, so there is nobody to ask.`, AUDIENCE_HELP).on('audience');
    return { label: `role:${wanted}`, members };
  }
  const emails = [...new Set(spec.split(/[\s,;]+/).filter(Boolean).map((e) => e.toLowerCase()))];
  const notEmails = emails.filter((e) => !/^[^@\s]+@[^@\s]+$/.test(e));
  if (notEmails.length) throw invalid(`"${notEmails.join('", "')}" ${notEmails.length === 1 ? 'is not an email address' : 'are not email addresses'}.`, AUDIENCE_HELP).on('audience');
  const known = await ctx.db.select().from(people).where(inArray(sql<string>`lower(${people.email})`, emails));
  const byEmail = new Map(known.map((p) => [p.email.toLowerCase(), p]));
  const unknown = emails.filter((e) => !byEmail.has(e));
  if (unknown.length) throw notFound(`Nobody in the register has the email ${unknown.join(', ')}.`, 'Check the spelling, or add the person to the register first.').on('audience');
  const outOfScope = emails.map((e) => byEmail.get(e)!).filter((p) => !p.inScope);
  if (outOfScope.length) {
    throw invalid(`${outOfScope.map((p) => `${p.name} <${p.email}>`).join(', ')} ${outOfScope.length === 1 ? 'is' : 'are'} outside the ISMS scope.`,
      'Leave them out of the list, or bring them into scope first.').on('audience');
  }
  return { label: 'people', members: emails.map((e) => byEmail.get(e)!) };
}

async function acknowledgedBy(ctx: CommandContext, versionId: number, personIds: number[]) {
  if (personIds.length === 0) return new Map<number, Date>();
  const acks = await ctx.db.select().from(policyAcknowledgements)
    .where(and(eq(policyAcknowledgements.policyVersionId, versionId), inArray(policyAcknowledgements.personId, personIds)));
  return new Map(acks.map((a) => [a.personId, a.acknowledgedAt]));
}

export const startCampaignInput = z.object({
  policy: policyRef.describe('The policy whose version in force people are asked to acknowledge'),
  audience: z.string().trim().max(10_000).optional()
    .describe('Who is asked: all, role:<role>, or email addresses separated by commas; empty means everyone in scope'),
});

/** The policies that have a version in force, as a form's choices. */
const inForce = async (ctx: CommandContext) => policyOptions(await policiesInForce(ctx.db));

interface OpenCampaign { campaign: Campaign; audienceSize: number; acknowledged: number }

/**
 * A campaign for this version asking the same audience, in which someone has still to acknowledge:
 * starting another would ask the same people twice.
 */
async function openCampaignFor(ctx: CommandContext, version: PolicyVersion, audience: Audience): Promise<OpenCampaign | undefined> {
  const wanted = new Set(audience.members.map((p) => p.id));
  const same = await ctx.db.select().from(ackCampaigns)
    .where(and(eq(ackCampaigns.policyVersionId, version.id), eq(ackCampaigns.audience, audience.label))).orderBy(desc(ackCampaigns.id));
  for (const campaign of same) {
    const memberIds = (await ctx.db.select({ id: ackCampaignAudience.personId }).from(ackCampaignAudience)
      .where(eq(ackCampaignAudience.campaignId, campaign.id))).map((m) => m.id);
    if (audience.label === 'people' && (memberIds.length !== wanted.size || memberIds.some((id) => !wanted.has(id)))) continue;
    const acked = await acknowledgedBy(ctx, version.id, memberIds);
    if (acked.size < memberIds.length) return { campaign, audienceSize: memberIds.length, acknowledged: acked.size };
  }
  return undefined;
}

export type StartedCampaign =
  | { started: true; policy: Policy; version: PolicyVersion; campaign: Campaign; audience: Audience; asked: number; alreadyAcknowledged: number }
  | { started: false; policy: Policy; version: PolicyVersion; audience: Audience; open: OpenCampaign };

/**
 * Starts a campaign for the version in force, once the management body approved it (its major
 * version), and asks everyone in the audience who has not acknowledged it; an open campaign asking
 * the same people is pointed at instead.
 */
export async function startCampaign(ctx: CommandContext, input: z.infer<typeof startCampaignInput>): Promise<StartedCampaign> {
  const policy = await findPolicy(ctx.db, input.policy);
  const version = await requireCurrentVersion(ctx.db, policy);
  await requireBoardApproval(ctx, policy, version);
  const audience = await resolveAudience(ctx, input.audience);
  // Two people starting the same campaign at once: the second finds the first one open.
  await serializeAdds(ctx.db, `campaigns of policy version ${version.id}`);
  const open = await openCampaignFor(ctx, version, audience);
  if (open) return { started: false, policy, version, audience, open };
  const ref = await nextRef(ctx.db, 'CMP');
  const [campaign] = await ctx.db.insert(ackCampaigns).values({
    ref, policyVersionId: version.id, audience: audience.label, startedBy: ctx.actor.id, startedAt: ctx.now,
  }).returning();
  const memberIds = audience.members.map((p) => p.id);
  await ctx.db.insert(ackCampaignAudience).values(memberIds.map((personId) => ({ campaignId: campaign.id, personId })));
  await ctx.audit({ action: 'start', entity: 'ack_campaign', entityRef: ref, after: { ...campaign, audienceIds: memberIds } });

  const acked = await acknowledgedBy(ctx, version.id, memberIds);
  // One card for everyone, queued in a few multi-row statements: a campaign to 10,000 people must neither
  // take a statement per person nor hold 10,000 rendered cards at once.
  const card = {
    ...reply(...acknowledgementCard(policy, version,
      `${ctx.actor.name} asks you to read ${policy.ref} ${policy.title}, version ${version.version}, and acknowledge it.`)),
    about: policy.ref,
  };
  const asked = await enqueueMany(ctx.db, audience.members.filter((person) => !acked.has(person.id)).map((person) => ({
    recipientId: person.id,
    kind: 'policy_ack',
    idempotencyKey: `campaign:${ref}:${person.id}`,
    campaignId: campaign.id,
    reply: card,
  })));
  return { started: true, policy, version, campaign, audience, asked, alreadyAcknowledged: acked.size };
}

const peopleCount = (n: number) => `${n} ${n === 1 ? 'person' : 'people'}`;

export const startCampaignCommand = defineCommand({
  name: 'campaign',
  aliases: ['policy campaign'],
  summary: 'Ask people to acknowledge the version in force of a policy, once the management body approved its major version',
  examples: ['campaign POL-0001', 'campaign POL-0002 role:staff', 'campaign POL-0003 olga@example.com, sam@example.com'],
  roles: ['isms_lead'],
  schema: startCampaignInput,
  args: {
    policy: { positional: true, value: 'policy id', placeholder: 'e.g. POL-0001', options: inForce },
    audience: { positional: 'rest', label: 'Who', field: 'text', placeholder: 'all, role:staff, or email addresses' },
  },
  form: { title: 'Start an acknowledgement campaign', submitLabel: 'Start' },
  async run(ctx, input) {
    const result = await startCampaign(ctx, input);
    if (!result.started) {
      const { policy, version, audience, open } = result;
      return reply(
        text(`${open.campaign.ref} already asks ${audience.label === 'people' ? 'these people' : audience.label === 'all' ? 'everyone in scope' : `everyone with ${audience.label}`} `
          + `to acknowledge ${policy.ref} ${policy.title} version ${version.version}: ${open.acknowledged} of ${peopleCount(open.audienceSize)} acknowledged so far. `
          + 'Nobody was asked twice; nothing new was recorded.'),
        fields([
          { label: 'Campaign', value: `${open.campaign.ref}, started ${isoDay(open.campaign.startedAt)}` },
          { label: 'Progress', value: `${open.acknowledged} of ${open.audienceSize} acknowledged` },
        ]),
        actions({ label: 'Who has not acknowledged yet', command: `campaign status ${open.campaign.ref}` }),
      );
    }
    const { policy, version, campaign, audience, asked, alreadyAcknowledged } = result;
    const blocks: Block[] = [
      text(`Started ${campaign.ref} for ${policy.ref} ${policy.title} version ${version.version}: asked ${peopleCount(asked)} to acknowledge it.`, 'success'),
      fields([
        { label: 'Campaign', value: campaign.ref },
        { label: 'Audience', value: `${audience.label} (${audience.members.length} ${audience.members.length === 1 ? 'person' : 'people'})` },
        { label: 'Asked', value: String(asked) },
        { label: 'Already acknowledged', value: String(alreadyAcknowledged) },
      ]),
    ];
    blocks.push(text(`"${commandLine(ctx.channel, `campaign status ${campaign.ref}`)}" shows who has acknowledged.`));
    return reply(...blocks);
  },
});

/** A campaign's reference, or a policy's (then its latest campaign). */
const campaignOrPolicy = z.string({ required_error: 'name the campaign or the policy, e.g. CMP-0001 or POL-0001' }).trim()
  .transform((v, check) => {
    const m = /^(CMP|POL)-?(\d+)$/i.exec(v);
    if (!m) {
      check.addIssue({ code: z.ZodIssueCode.custom, message: `must be a campaign like CMP-0001 or a policy like POL-0001, not "${v}"` });
      return z.NEVER;
    }
    return `${m[1].toUpperCase()}-${m[2].padStart(4, '0')}`;
  });

/** The campaign named, or the latest one of the policy named, with the version it asked about. */
async function findCampaign(ctx: CommandContext, ref: string): Promise<{ campaign: Campaign; policy: Policy; askedVersion: PolicyVersion }> {
  const query = () => ctx.db.select({ campaign: ackCampaigns, policy: policies, askedVersion: policyVersions })
    .from(ackCampaigns).innerJoin(policyVersions, eq(ackCampaigns.policyVersionId, policyVersions.id))
    .innerJoin(policies, eq(policies.id, policyVersions.policyId));
  if (ref.startsWith('CMP-')) {
    const [found] = await query().where(eq(ackCampaigns.ref, ref));
    if (!found) throw notFound(`There is no acknowledgement campaign ${ref}.`, 'Name the policy instead, e.g. "/isms campaign status POL-0001", for its latest campaign.');
    return found;
  }
  const policy = await findPolicy(ctx.db, ref);
  const [latest] = await query().where(eq(policyVersions.policyId, policy.id))
    .orderBy(desc(ackCampaigns.startedAt), desc(ackCampaigns.id)).limit(1);
  if (!latest) throw notFound(`${policy.ref} has had no acknowledgement campaign yet.`, `Start one with "/isms campaign ${policy.ref}".`);
  return latest;
}

/** Who in a campaign's audience has and has not acknowledged the version it asked about. */
export async function campaignStatus(ctx: CommandContext, ref: string) {
  const { campaign, policy, askedVersion } = await findCampaign(ctx, ref);
  const current: PolicyVersion = await requireCurrentVersion(ctx.db, policy);
  const audience = await ctx.db.select({ person: people }).from(ackCampaignAudience)
    .innerJoin(people, eq(ackCampaignAudience.personId, people.id))
    .where(eq(ackCampaignAudience.campaignId, campaign.id)).orderBy(asc(people.name), asc(people.id));
  const acked = await acknowledgedBy(ctx, askedVersion.id, audience.map((a) => a.person.id));
  const done = audience.filter((a) => acked.has(a.person.id)).map((a) => ({ person: a.person, at: acked.get(a.person.id)! }));
  const pending = audience.filter((a) => !acked.has(a.person.id)).map((a) => a.person);
  const starter = await findPersonById(ctx.db, campaign.startedBy);
  return { policy, current, campaign, askedVersion, done, pending, starter };
}

export const campaignStatusCommand = defineCommand({
  name: 'campaign status',
  aliases: ['policy campaign status'],
  summary: "Who has and hasn't acknowledged in a campaign (CMP-…), or in a policy's latest campaign (POL-…)",
  examples: ['campaign status CMP-0003', 'campaign status POL-0001', 'campaign status CMP-0003 --page 2'],
  roles: ['isms_lead'],
  schema: z.object({
    campaign: campaignOrPolicy.describe('The campaign, e.g. CMP-0003, or a policy for its latest campaign'),
    page: pageNumber,
  }),
  args: { campaign: { positional: true, value: 'CMP-ref or POL-ref', placeholder: 'e.g. CMP-0001 or POL-0001' }, page: { asked: false } },
  form: { title: 'Acknowledgement campaign status', submitLabel: 'Show' },
  async run(ctx, { campaign: ref, page }) {
    const { policy, current, campaign, askedVersion, done, pending, starter } = await campaignStatus(ctx, ref);
    const total = done.length + pending.length;
    const window = pageWindow(Math.max(done.length, pending.length), page, `campaign status ${campaign.ref}`, `The status of ${campaign.ref}`);
    const shown = <T>(list: T[]) => list.slice(window.offset, window.offset + window.limit);
    const blocks: Block[] = [
      text(`${policy.ref} ${policy.title} version ${askedVersion.version}: ${done.length} of ${total} acknowledged in ${campaign.ref}.`,
        pending.length === 0 ? 'success' : 'info'),
    ];
    if (askedVersion.id !== current.id) {
      blocks.push(text(`${campaign.ref} asked about version ${askedVersion.version}; version ${current.version} has been published since. Start a new campaign to ask about it.`, 'warning'));
    }
    blocks.push(
      fields([
        { label: 'Campaign', value: `${campaign.ref}, started ${isoDay(campaign.startedAt)}${starter ? ` by ${starter.name}` : ''}` },
        { label: 'Audience', value: campaign.audience },
        { label: 'Acknowledged', value: String(done.length) },
        { label: 'Not yet', value: String(pending.length) },
      ]),
      {
        type: 'list', title: 'Not yet acknowledged', empty: pending.length ? 'No more on this page.' : 'Everyone has acknowledged.',
        items: shown(pending).map((p) => ({ title: p.name, detail: p.email })),
      },
      {
        type: 'list', title: 'Acknowledged', empty: done.length ? 'No more on this page.' : 'Nobody yet.',
        items: shown(done).map(({ person, at }) => ({ title: person.name, detail: `${person.email}, on ${isoDay(at)}` })),
        page: window.page,
      },
    );
    return reply(...blocks);
  },
});
