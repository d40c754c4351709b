import { z } from 'zod';
import { and, asc, count, desc, eq, inArray, max, not, sql, type SQL } from 'drizzle-orm';
import { ackCampaignAudience, ackCampaigns, people, policies, policyAcknowledgements, policyVersions, ROLES, type Role } from '../../db/schema/index.js';
import { commandLine, defineCommand, type CommandContext } from '../../core/router.js';
import { nextRef } from '../../core/refs.js';
import { findPersonById, nameKey, personNamed, ROLE_LABELS, type Person } from '../../core/actor.js';
import { invalid, notFound } from '../../core/errors.js';
import { reply, text, fields, actions, type Block } from '../../core/reply.js';
import { beforeCursor, NEAR_PAGES, PAGE_SIZE, pageCursor, pageNumber, pageWindow, seekArgs, seekPage, type SeekInput } from '../../core/paging.js';
import { serializeAdds } from '../registers/entries.js';
import { acknowledgementCard } from './ack.js';
import { requireBoardApproval } from './approval.js';
import { enqueueSelected } from '../../core/outbox.js';
import { findPolicy, requireCurrentVersion, policyChoices, policyRef, type Policy, type PolicyVersion } from './lookup.js';
import { readersDay } from '../../core/time.js';

const AUDIENCE_HELP = 'The audience is "all", "role:<role>" (roles: ' + ROLES.join(', ') + ') or people separated by commas, each an email address, a name or an @handle.';

/**
 * Who a campaign asks, as a condition on people and the order they are listed, asked and audited in:
 * the database selects them, so a campaign to 10,000 people never holds them in the process.
 */
interface Audience { label: string; where: SQL; order: SQL[] }
type Campaign = typeof ackCampaigns.$inferSelect;

const inScope = eq(people.inScope, true);
const byName = [asc(nameKey), asc(people.id)];

async function countPeople(ctx: CommandContext, where: SQL): Promise<number> {
  const [{ n }] = await ctx.db.select({ n: count() }).from(people).where(where);
  return n;
}

/**
 * The people a list names, separated by commas or semicolons: "Sam Staff, ada@x.com". Emails and
 * @handles may also be separated by spaces alone ("a@x.com b@x.com"); a name keeps its spaces.
 */
function listedPeople(spec: string): string[] {
  return spec.split(/[,;]/).map((item) => item.trim()).filter(Boolean)
    .flatMap((item) => { const words = item.split(/\s+/); return words.every((w) => w.includes('@')) ? words : [item]; });
}

/** "all", "role:staff" or "sam@x.com, Ada Auditor, @olga" into the people asked; only people in ISMS scope. */
async function resolveAudience(ctx: CommandContext, typed: string | undefined): Promise<Audience> {
  const spec = (typed ?? '').trim();
  if (spec === '' || spec.toLowerCase() === 'all') return { label: 'all', where: inScope, order: byName };
  const role = /^role:\s*(\S+)$/i.exec(spec);
  if (role) {
    const wanted = role[1].toLowerCase() as Role;
    if (!ROLES.includes(wanted)) throw invalid(`There is no role "${role[1]}".`, AUDIENCE_HELP).on('audience');
    const where = and(inScope, sql`${wanted} = any(${people.roles})`)!;
    if (await countPeople(ctx, where) === 0) throw invalid(`Nobody in scope has the role ${ROLE_LABELS[wanted]}, so there is nobody to ask.`, AUDIENCE_HELP).on('audience');
    return { label: `role:${wanted}`, where, order: byName };
  }
  const listed: Person[] = [];
  for (const query of listedPeople(spec)) {
    const person = await personNamed(ctx.db, 'audience', query);
    if (!listed.some((p) => p.id === person.id)) listed.push(person);
  }
  const outOfScope = listed.filter((p) => !p.inScope);
  if (outOfScope.length) {
    throw invalid(`${outOfScope.map((p) => `${p.name} <${p.email}>`).join(', ')} ${outOfScope.length === 1 ? 'is' : 'are'} outside the ISMS scope.`,
      'Leave them out of the list, or bring them into scope first.').on('audience');
  }
  // As typed: the list is bounded by the command's length.
  const ids = listed.map((p) => p.id);
  return { label: 'people', where: inArray(people.id, ids), order: [sql`array_position(array[${sql.join(ids.map((id) => sql`${id}`), sql`, `)}]::int[], ${people.id})`] };
}

/** Members of a campaign's audience (a subquery on ack_campaign_audience) who acknowledged the version. */
const hasAcknowledged = (versionId: number) => sql`exists (select 1 from ${policyAcknowledgements}
  where ${policyAcknowledgements.policyVersionId} = ${versionId} and ${policyAcknowledgements.personId} = ${ackCampaignAudience.personId})`;

async function acknowledgedBy(ctx: CommandContext, versionId: number, personIds: number[]) {
  if (personIds.length === 0) return new Map<number, Date>();
  const acks = await ctx.db.select().from(policyAcknowledgements)
    .where(and(eq(policyAcknowledgements.policyVersionId, versionId), inArray(policyAcknowledgements.personId, personIds)));
  return new Map(acks.map((a) => [a.personId, a.acknowledgedAt]));
}

export const startCampaignInput = z.object({
  policy: policyRef.describe('The policy whose version in force people are asked to acknowledge'),
  audience: z.string().trim().max(10_000).optional()
    .describe('Everyone in scope ("all", or left empty), a role ("role:<role>"), or people separated by commas (an email address, a name or an @handle each)'),
});

/** The policies that have a version in force, as a form's choices. */
const inForce = (ctx: CommandContext) => policyChoices(ctx.db, undefined, true);

interface OpenCampaign { campaign: Campaign; audienceSize: number; acknowledged: number }

/**
 * A campaign for this version asking the same audience, in which someone has still to acknowledge:
 * starting another would ask the same people twice. Counted in SQL, whatever the audience's size.
 */
async function openCampaignFor(ctx: CommandContext, version: PolicyVersion, audience: Audience): Promise<OpenCampaign | undefined> {
  const same = await ctx.db.select().from(ackCampaigns)
    .where(and(eq(ackCampaigns.policyVersionId, version.id), eq(ackCampaigns.audience, audience.label))).orderBy(desc(ackCampaigns.id));
  if (same.length === 0) return undefined;
  const wanted = audience.label === 'people' ? await countPeople(ctx, audience.where) : 0;
  for (const campaign of same) {
    const [counts] = await ctx.db.select({
      size: count(),
      acknowledged: sql<number>`(count(*) filter (where ${hasAcknowledged(version.id)}))::int`,
      // Members also in the audience asked for now: the same people when it is all of both.
      wanted: sql<number>`(count(*) filter (where ${ackCampaignAudience.personId} in (select ${people.id} from ${people} where ${audience.where})))::int`,
    }).from(ackCampaignAudience).where(eq(ackCampaignAudience.campaignId, campaign.id));
    if (audience.label === 'people' && (counts.size !== wanted || counts.wanted !== wanted)) continue;
    if (counts.acknowledged < counts.size) return { campaign, audienceSize: counts.size, acknowledged: counts.acknowledged };
  }
  return undefined;
}

export type StartedCampaign =
  | { started: true; policy: Policy; version: PolicyVersion; campaign: Campaign; audience: Audience; audienceSize: number; asked: number; alreadyAcknowledged: number }
  | { started: false; policy: Policy; version: PolicyVersion; audience: Audience; open: OpenCampaign };

/**
 * Starts a campaign for the version in force, once the management body approved it (its major
 * version), and asks everyone in the audience who has not acknowledged it; an open campaign asking
 * the same people is pointed at instead. The audience and the messages are written by INSERT ...
 * SELECT: memory stays flat however many people are asked.
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
  await ctx.db.execute(sql`insert into ${ackCampaignAudience} (campaign_id, person_id)
    select ${campaign.id}::int, ${people.id} from ${people} where ${audience.where}`);
  // The members in the audience's order, read back from what was stored; the audit event names them all.
  const members = { join: eq(ackCampaignAudience.personId, people.id), where: eq(ackCampaignAudience.campaignId, campaign.id) };
  const memberIds = (await ctx.db.select({ id: ackCampaignAudience.personId }).from(ackCampaignAudience).innerJoin(people, members.join)
    .where(members.where).orderBy(...audience.order)).map((m) => m.id);
  await ctx.audit({ action: 'start', entity: 'ack_campaign', entityRef: ref, after: { ...campaign, audienceIds: memberIds } });

  const [{ acknowledged }] = await ctx.db.select({ acknowledged: count() }).from(ackCampaignAudience)
    .where(and(members.where, hasAcknowledged(version.id)));
  // One card for everyone, queued by the database for those who have not acknowledged yet.
  const card = {
    ...reply(...acknowledgementCard(policy, version,
      `${ctx.actor.name} asks you to read ${policy.ref} ${policy.title}, version ${version.version}, and acknowledge it.`)),
    about: policy.ref,
  };
  const asked = await enqueueSelected(ctx.db, sql`select ${ackCampaignAudience.personId} as recipient_id
      from ${ackCampaignAudience} inner join ${people} on ${members.join}
      where ${members.where} and not ${hasAcknowledged(version.id)}
      order by ${sql.join(audience.order, sql`, `)}`,
  { kind: 'policy_ack', keyPrefix: `campaign:${ref}:`, campaignId: campaign.id, reply: card });
  return { started: true, policy, version, campaign, audience, audienceSize: memberIds.length, asked, alreadyAcknowledged: acknowledged };
}

const peopleCount = (n: number) => `${n} ${n === 1 ? 'person' : 'people'}`;

export const startCampaignCommand = defineCommand({
  name: 'campaign',
  aliases: ['policy campaign'],
  summary: 'Ask people to acknowledge the version in force of a policy, once the management body approved its major version',
  examples: ['campaign POL-0001', 'campaign POL-0002 role:staff', 'campaign POL-0002 sam.novak@northwind.example, Jonas Weber, @priya.raman'],
  roles: ['isms_lead'],
  schema: startCampaignInput,
  args: {
    policy: { positional: true, value: 'policy id', placeholder: 'e.g. POL-0001', options: inForce },
    audience: { positional: 'rest', label: 'Who is asked', field: 'text', placeholder: 'all, role:staff, or people: emails, names or @handles' },
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
          { label: 'Campaign', value: `${open.campaign.ref}, started ${readersDay(open.campaign.startedAt, ctx.actor.timezone)}` },
          { label: 'Progress', value: `${open.acknowledged} of ${open.audienceSize} acknowledged` },
        ]),
        actions({ label: 'Who has not acknowledged yet', command: `campaign status ${open.campaign.ref}` }),
      );
    }
    const { policy, version, campaign, audience, audienceSize, asked, alreadyAcknowledged } = result;
    const blocks: Block[] = [
      text(`Started ${campaign.ref} for ${policy.ref} ${policy.title} version ${version.version}: asked ${peopleCount(asked)} to acknowledge it.`, 'success'),
      fields([
        { label: 'Campaign', value: campaign.ref },
        { label: 'Audience', value: `${audience.label} (${peopleCount(audienceSize)})` },
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

/** Where a campaign status page starts: its number, and the positions its Next/Previous button carries in each list. */
export const campaignPosition = {
  page: pageNumber.optional(),
  after: pageCursor.describe('The position in the list of those not yet acknowledged a Next page button carries'),
  before: pageCursor.describe('The position in the list of those not yet acknowledged a Previous page button carries'),
  'acknowledged-after': pageCursor.describe('The position in the list of those who acknowledged a Next page button carries'),
  'acknowledged-before': pageCursor.describe('The position in the list of those who acknowledged a Previous page button carries'),
};
export type CampaignPosition = { page?: number; after?: number; before?: number; 'acknowledged-after'?: number; 'acknowledged-before'?: number };

/**
 * One page of who in a campaign's audience has and has not acknowledged the version it asked about, by
 * name: the two lists side by side, as many pages as the longer one needs. Counted in SQL; each list's
 * slice is seeked in name order (nameKey: people_name_key, migration 0031) from the nearer end, or, from a Next or
 * Previous button far from both ends, from the position it carries in that list: the same cost at any page.
 */
export async function campaignStatus(ctx: CommandContext, ref: string, position: CampaignPosition) {
  const { campaign, policy, askedVersion } = await findCampaign(ctx, ref);
  const current: PolicyVersion = await requireCurrentVersion(ctx.db, policy);
  const ofCampaign = eq(ackCampaignAudience.campaignId, campaign.id);
  // By name as every database orders it (nameKey), whatever the server's locale.
  const byName = [nameKey];
  /** A button's position in one list, as the name and id it names: none when that person is gone (seekPage refuses the button). */
  const cursorIn = async (input: { after?: number; before?: number }) => {
    const cursor = input.after ?? input.before;
    if (cursor === undefined) return undefined;
    const [row] = await ctx.db.select({ key: nameKey }).from(people).where(eq(people.id, cursor));
    return row && beforeCursor(input, [...byName, people.id], [row.key, cursor]);
  };
  const notYetAt = await cursorIn(position);
  const doneAt = await cursorIn({ after: position['acknowledged-after'], before: position['acknowledged-before'] });
  const isDone = sql`${policyAcknowledgements.id} is not null`;
  // One pass over the audience and the version's acknowledgements (joined rather than asked member by member): the
  // lists' lengths, and where the positions a page button carries stand in them.
  const countQuery = ctx.db.select({
    size: count(), done: count(policyAcknowledgements.id), top: max(ackCampaignAudience.personId),
    notYetEarlier: notYetAt ? sql<number>`(count(*) filter (where ${notYetAt} and not ${isDone}))::int` : sql<null>`null`,
    doneEarlier: doneAt ? sql<number>`(count(*) filter (where ${doneAt} and ${isDone}))::int` : sql<null>`null`,
  }).from(ackCampaignAudience)
    .leftJoin(policyAcknowledgements, and(eq(policyAcknowledgements.personId, ackCampaignAudience.personId), eq(policyAcknowledgements.policyVersionId, askedVersion.id)));
  const [counts] = await (notYetAt || doneAt ? countQuery.innerJoin(people, eq(people.id, ackCampaignAudience.personId)) : countQuery).where(ofCampaign);
  const doneCount = counts.done;
  const pendingCount = counts.size - counts.done;
  const command = `campaign status ${campaign.ref}`;
  const what = `The status of ${campaign.ref}`;
  const member = inArray(people.id, ctx.db.select({ id: ackCampaignAudience.personId }).from(ackCampaignAudience).where(ofCampaign));
  const acknowledged = sql`exists (select 1 from ${policyAcknowledgements}
    where ${policyAcknowledgements.policyVersionId} = ${askedVersion.id} and ${policyAcknowledgements.personId} = ${people.id})`;
  const lists = [
    { where: and(member, not(acknowledged)), n: pendingCount, earlier: counts.notYetEarlier ?? undefined, after: position.after, previousAt: position.before, flag: '' },
    {
      where: and(member, acknowledged), n: doneCount, earlier: counts.doneEarlier ?? undefined,
      after: position['acknowledged-after'], previousAt: position['acknowledged-before'], flag: 'acknowledged-',
    },
  ];
  const seek = (list: (typeof lists)[number], at: SeekInput) => seekPage(ctx.db, people, people.id, at, command, what, list.where, { by: byName },
    { n: list.n, top: counts.top, before: list.earlier });
  // A button's positions say which page it starts; both must name the same one.
  let pageNo = position.page;
  const ids: (number[] | undefined)[] = [];
  for (const [i, list] of lists.entries()) {
    if (list.after === undefined && list.previousAt === undefined) continue;
    const w = await seek(list, { page: pageNo, after: list.after, before: list.previousAt });
    pageNo = w.page.number;
    ids[i] = w.ids;
  }
  pageNo ??= 1;
  const window = pageWindow(Math.max(doneCount, pendingCount), pageNo, command, what);
  for (const [i, list] of lists.entries()) {
    ids[i] ??= window.offset < list.n ? (await seek(list, { page: pageNo })).ids : [];
  }
  const read = async (wanted: number[]) => {
    const found = wanted.length ? await ctx.db.select().from(people).where(inArray(people.id, wanted)) : [];
    return wanted.map((id) => found.find((p) => p.id === id)!);
  };
  const pending = await read(ids[0]!);
  const donePeople = await read(ids[1]!);
  const acked = await acknowledgedBy(ctx, askedVersion.id, donePeople.map((p) => p.id));
  const done = donePeople.map((person) => ({ person, at: acked.get(person.id)! }));
  const starter = await findPersonById(ctx.db, campaign.startedBy);
  // A neighbour page far from both ends of a list is found from the position its button carries in it.
  const far = (list: (typeof lists)[number], p: number) => Math.min(p - 1, Math.ceil(list.n / PAGE_SIZE) - p) >= NEAR_PAGES;
  const carried = (way: 'after' | 'before', p: number) => lists.map((list, i) => {
    const shown = ids[i]!;
    if (!shown.length || !far(list, p)) return '';
    return way === 'after' ? ` --${list.flag}after ${shown[shown.length - 1]}` : ` --${list.flag}before ${shown[0]}`;
  }).join('');
  const { page } = window;
  if (page.next) page.next += carried('after', pageNo + 1);
  if (page.previous) page.previous += carried('before', pageNo - 1);
  return { policy, current, campaign, askedVersion, done, pending, doneCount, pendingCount, page, starter };
}

export const campaignStatusCommand = defineCommand({
  name: 'campaign status',
  aliases: ['policy campaign status'],
  summary: "Who has and hasn't acknowledged in a campaign (CMP-…), or in a policy's latest campaign (POL-…)",
  examples: ['campaign status CMP-0003', 'campaign status POL-0001', 'campaign status CMP-0003 --page 2'],
  roles: ['isms_lead'],
  schema: z.object({
    campaign: campaignOrPolicy.describe('The campaign, e.g. CMP-0003, or a policy for its latest campaign'),
    ...campaignPosition,
  }),
  args: {
    campaign: { positional: true, value: 'CMP-ref or POL-ref', placeholder: 'e.g. CMP-0001 or POL-0001' },
    ...seekArgs, 'acknowledged-after': { asked: false }, 'acknowledged-before': { asked: false },
  },
  form: { title: 'Acknowledgement campaign status', submitLabel: 'Show' },
  async run(ctx, { campaign: ref, ...position }) {
    const { policy, current, campaign, askedVersion, done, pending, doneCount, pendingCount, page: shownPage, starter } = await campaignStatus(ctx, ref, position);
    const total = doneCount + pendingCount;
    const blocks: Block[] = [
      text(`${policy.ref} ${policy.title} version ${askedVersion.version}: ${doneCount} of ${total} acknowledged in ${campaign.ref}.`,
        pendingCount === 0 ? 'success' : 'info'),
    ];
    if (askedVersion.id !== current.id) {
      blocks.push(text(`${campaign.ref} asked about version ${askedVersion.version}; version ${current.version} has been published since. Start a new campaign to ask about it.`, 'warning'));
    }
    blocks.push(
      fields([
        { label: 'Campaign', value: `${campaign.ref}, started ${readersDay(campaign.startedAt, ctx.actor.timezone)}${starter ? ` by ${starter.name}` : ''}` },
        { label: 'Audience', value: campaign.audience },
        { label: 'Acknowledged', value: String(doneCount) },
        { label: 'Not yet', value: String(pendingCount) },
      ]),
      {
        type: 'list', title: 'Not yet acknowledged', empty: pendingCount ? 'No more on this page.' : 'Everyone has acknowledged.',
        items: pending.map((p) => ({ title: p.name, detail: p.email })),
      },
      {
        type: 'list', title: 'Acknowledged', empty: doneCount ? 'No more on this page.' : 'Nobody yet.',
        items: done.map(({ person, at }) => ({ title: person.name, detail: `${person.email}, on ${readersDay(at, ctx.actor.timezone)}` })),
        page: shownPage,
      },
    );
    return reply(...blocks);
  },
});
