import { z } from 'zod';
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import { ackCampaignAudience, ackCampaigns, people, policyAcknowledgements, policyVersions, ROLES, type Role } from '../../db/schema/index.js';
import { commandLine, defineCommand, type CommandContext } from '../../core/router.js';
import { nextRef } from '../../core/refs.js';
import { findPersonById, ROLE_LABELS, type Person } from '../../core/actor.js';
import { invalid, notFound } from '../../core/errors.js';
import { reply, text, fields, type Block } from '../../core/reply.js';
import { ackButton } from './ack.js';
import { findPolicy, requireCurrentVersion, policiesInForce, policyOptions, policyRef, type Policy, type PolicyVersion } from './lookup.js';
import { isoDay } from '../../core/time.js';

const AUDIENCE_HELP = 'The audience is "all", "role:<role>" (roles: ' + ROLES.join(', ') + ') or email addresses separated by commas.';

interface Audience { label: string; members: Person[] }

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

/** Starts a campaign for the version in force and asks everyone in the audience who has not acknowledged it. */
export async function startCampaign(ctx: CommandContext, input: z.infer<typeof startCampaignInput>) {
  const policy = await findPolicy(ctx.db, input.policy);
  const version = await requireCurrentVersion(ctx.db, policy);
  const audience = await resolveAudience(ctx, input.audience);
  const ref = await nextRef(ctx.db, 'CMP');
  const [campaign] = await ctx.db.insert(ackCampaigns).values({
    ref, policyVersionId: version.id, audience: audience.label, startedBy: ctx.actor.id, startedAt: ctx.now,
  }).returning();
  const memberIds = audience.members.map((p) => p.id);
  await ctx.db.insert(ackCampaignAudience).values(memberIds.map((personId) => ({ campaignId: campaign.id, personId })));
  await ctx.audit({ action: 'start', entity: 'ack_campaign', entityRef: ref, after: { ...campaign, audienceIds: memberIds } });

  const acked = await acknowledgedBy(ctx, version.id, memberIds);
  let asked = 0;
  for (const person of audience.members) {
    if (acked.has(person.id)) continue;
    const queued = await ctx.notify({
      recipientId: person.id,
      kind: 'policy_ack',
      idempotencyKey: `campaign:${ref}:${person.id}`,
      campaignId: campaign.id,
      reply: {
        ...reply(
          text(`${ctx.actor.name} asks you to read ${policy.ref} ${policy.title}, version ${version.version}, and acknowledge it.`),
          ...(version.url ? [text(`Read it here: ${version.url}`)] : []),
          { type: 'actions', buttons: [ackButton(policy, version)] },
        ),
        about: policy.ref,
      },
    });
    if (queued) asked++;
  }
  return { policy, version, campaign, audience, asked, alreadyAcknowledged: acked.size };
}

export const startCampaignCommand = defineCommand({
  name: 'campaign',
  aliases: ['policy campaign'],
  summary: 'Ask people to acknowledge the version in force of a policy',
  examples: ['campaign POL-0001', 'campaign POL-0002 role:staff', 'campaign POL-0003 olga@example.com, sam@example.com'],
  roles: ['isms_lead'],
  schema: startCampaignInput,
  args: {
    policy: { positional: true, value: 'policy id', placeholder: 'e.g. POL-0001', options: inForce },
    audience: { positional: 'rest', label: 'Who', field: 'text', placeholder: 'all, role:staff, or email addresses' },
  },
  form: { title: 'Start an acknowledgement campaign', submitLabel: 'Start' },
  async run(ctx, input) {
    const { policy, version, campaign, audience, asked, alreadyAcknowledged } = await startCampaign(ctx, input);
    const blocks: Block[] = [
      text(`Started ${campaign.ref} for ${policy.ref} ${policy.title} version ${version.version}: asked ${asked} ${asked === 1 ? 'person' : 'people'} to acknowledge it.`, 'success'),
      fields([
        { label: 'Campaign', value: campaign.ref },
        { label: 'Audience', value: `${audience.label} (${audience.members.length} ${audience.members.length === 1 ? 'person' : 'people'})` },
        { label: 'Asked', value: String(asked) },
        { label: 'Already acknowledged', value: String(alreadyAcknowledged) },
      ]),
    ];
    blocks.push(text(`"${commandLine(ctx.channel, `campaign status ${policy.ref}`)}" shows who has acknowledged.`));
    return reply(...blocks);
  },
});

/** The latest campaign of a policy, with the version it asked about. */
async function latestCampaign(ctx: CommandContext, policy: Policy) {
  const [latest] = await ctx.db.select({ campaign: ackCampaigns, version: policyVersions })
    .from(ackCampaigns).innerJoin(policyVersions, eq(ackCampaigns.policyVersionId, policyVersions.id))
    .where(eq(policyVersions.policyId, policy.id))
    .orderBy(desc(ackCampaigns.startedAt), desc(ackCampaigns.id)).limit(1);
  if (!latest) throw notFound(`${policy.ref} has had no acknowledgement campaign yet.`, `Start one with "/isms campaign ${policy.ref}".`);
  return latest;
}

/** Who in the latest campaign's audience has and has not acknowledged the version in force. */
export async function campaignStatus(ctx: CommandContext, policyRefValue: string) {
  const policy = await findPolicy(ctx.db, policyRefValue);
  const current: PolicyVersion = await requireCurrentVersion(ctx.db, policy);
  const { campaign, version: askedVersion } = await latestCampaign(ctx, policy);
  const audience = await ctx.db.select({ person: people }).from(ackCampaignAudience)
    .innerJoin(people, eq(ackCampaignAudience.personId, people.id))
    .where(eq(ackCampaignAudience.campaignId, campaign.id)).orderBy(asc(people.name));
  const acked = await acknowledgedBy(ctx, current.id, audience.map((a) => a.person.id));
  const done = audience.filter((a) => acked.has(a.person.id)).map((a) => ({ person: a.person, at: acked.get(a.person.id)! }));
  const pending = audience.filter((a) => !acked.has(a.person.id)).map((a) => a.person);
  const starter = await findPersonById(ctx.db, campaign.startedBy);
  return { policy, current, campaign, askedVersion, done, pending, starter };
}

export const campaignStatusCommand = defineCommand({
  name: 'campaign status',
  aliases: ['policy campaign status'],
  summary: "Who has and hasn't acknowledged a policy in its latest campaign",
  examples: ['campaign status POL-0001'],
  roles: ['isms_lead'],
  schema: z.object({ policy: policyRef.describe('The policy whose latest campaign is shown') }),
  args: { policy: { positional: true, value: 'policy id', placeholder: 'e.g. POL-0001', options: inForce } },
  form: { title: 'Acknowledgement campaign status', submitLabel: 'Show' },
  async run(ctx, { policy: ref }) {
    const { policy, current, campaign, askedVersion, done, pending, starter } = await campaignStatus(ctx, ref);
    const total = done.length + pending.length;
    const blocks: Block[] = [
      text(`${policy.ref} ${policy.title} version ${current.version}: ${done.length} of ${total} acknowledged in ${campaign.ref}.`,
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
        type: 'list', title: 'Not yet acknowledged', empty: 'Everyone has acknowledged.',
        items: pending.map((p) => ({ title: p.name, detail: p.email })),
      },
      {
        type: 'list', title: 'Acknowledged', empty: 'Nobody yet.',
        items: done.map(({ person, at }) => ({ title: person.name, detail: `${person.email}, on ${isoDay(at)}` })),
      },
    );
    return reply(...blocks);
  },
});
