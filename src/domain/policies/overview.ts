import { and, asc, count, eq, inArray } from 'drizzle-orm';
import { people, policies, policyAcknowledgements, type Role } from '../../db/schema/index.js';
import type { CommandContext } from '../../core/router.js';
import { hasRole } from '../../core/actor.js';
import { forbidden } from '../../core/errors.js';
import { seekPage, type SeekInput } from '../../core/paging.js';
import { reply, text, type ListItem } from '../../core/reply.js';
import { readersDay } from '../../core/time.js';
import { currentVersion } from './lookup.js';
import { versionApprovalInWords } from './approval.js';

/** Who reads every policy with its approval and acknowledgement figures. */
export const OVERVIEW_READERS: Role[] = ['isms_lead', 'auditor', 'management_body'];

/** "3 of 5 people in scope (60%)". */
export const ackRate = (acknowledged: number, audience: number) =>
  `${acknowledged} of ${audience} ${audience === 1 ? 'person' : 'people'} in scope${audience ? ` (${Math.round((acknowledged / audience) * 100)}%)` : ''}`;

/**
 * Every policy, in reference order: its version in force, where the management body's approval
 * stands, and how many of the people in scope (everyone must acknowledge a policy in force) did.
 */
export async function policyOverview(ctx: CommandContext, position: SeekInput) {
  if (!hasRole(ctx.actor, ...OVERVIEW_READERS)) {
    throw forbidden('Only the ISMS lead, an auditor or the management body may use "/isms policies --all".',
      '"/isms policies" lists the policies waiting for your acknowledgement.');
  }
  // In reference order: a page is found by seeking (reference, id), whatever its position.
  const window = await seekPage(ctx.db, policies, policies.id, position, 'policies --all', 'The policy list', undefined, { by: [policies.ref] });
  const n = window.count;
  const [{ audience }] = await ctx.db.select({ audience: count() }).from(people).where(eq(people.inScope, true));
  const rows = window.ids.length === 0 ? [] : await ctx.db.select({ policy: policies, owner: people.name }).from(policies)
    .leftJoin(people, eq(people.id, policies.ownerId)).where(inArray(policies.id, window.ids)).orderBy(asc(policies.ref), asc(policies.id));
  const items: ListItem[] = [];
  for (const { policy, owner } of rows) {
    const version = await currentVersion(ctx.db, policy.id);
    if (!version) {
      items.push({ title: `${policy.ref} ${policy.title}`, detail: 'no version published yet', fields: [{ label: 'Owner', value: owner ?? 'none yet' }] });
      continue;
    }
    const [{ acknowledged }] = await ctx.db.select({ acknowledged: count() }).from(policyAcknowledgements)
      .innerJoin(people, eq(people.id, policyAcknowledgements.personId))
      .where(and(eq(policyAcknowledgements.policyVersionId, version.id), eq(people.inScope, true)));
    items.push({
      title: `${policy.ref} ${policy.title}`,
      detail: `version ${version.version}, published ${readersDay(version.publishedAt, ctx.actor.timezone)}`,
      fields: [
        { label: 'Owner', value: owner ?? 'none yet' },
        { label: 'Management-body approval', value: await versionApprovalInWords(ctx.db, policy, version, ctx.actor.timezone) },
        { label: 'Acknowledged', value: ackRate(acknowledged, audience) },
      ],
    });
  }
  return reply(
    text(`${n} ${n === 1 ? 'policy' : 'policies'} in the register; acknowledgements count the ${audience} ${audience === 1 ? 'person' : 'people'} in scope.`),
    { type: 'list', title: 'Policies', items, empty: 'No policies yet. The ISMS lead adds one with "/isms policy add".', page: window.page },
  );
}
