import { z } from 'zod';
import { asc, eq, inArray } from 'drizzle-orm';
import { assets, controls, people, riskAssets, riskControls, risks } from '../../db/schema/index.js';
import type { Db } from '../../db/client.js';
import { defineCommand } from '../../core/router.js';
import { reply, text, type Block, type ListItem } from '../../core/reply.js';
import { seekArgs, seekFields, seekPage } from '../../core/paging.js';
import { readersDay } from '../../core/time.js';
import {
  acceptanceInForce, appetiteInForce, describeAcceptance, isAboveAppetite, latestAcceptances, seesAllRisks,
} from './register.js';
import { offersAcceptance, riskAcceptanceSubject } from './accept.js';
import { approvalInWords, latestApprovals } from '../approvals/request.js';
import { proposedAppetite } from './appetite.js';
import { threatInWords } from '../../refdata/threats.js';

export const risksInput = z.object(seekFields);

/** The assets and controls linked to each risk, as "AST-0001 Customer portal" and control codes. */
export async function riskLinks(db: Db, riskIds: number[]): Promise<Map<number, { assets: string[]; controls: string[] }>> {
  const links = new Map(riskIds.map((id) => [id, { assets: [] as string[], controls: [] as string[] }]));
  if (riskIds.length === 0) return links;
  const linkedAssets = await db.select({ riskId: riskAssets.riskId, ref: assets.ref, name: assets.name }).from(riskAssets)
    .innerJoin(assets, eq(assets.id, riskAssets.assetId)).where(inArray(riskAssets.riskId, riskIds)).orderBy(asc(assets.ref));
  for (const a of linkedAssets) links.get(a.riskId)!.assets.push(`${a.ref} ${a.name}`);
  const linkedControls = await db.select({ riskId: riskControls.riskId, code: controls.code }).from(riskControls)
    .innerJoin(controls, eq(controls.id, riskControls.controlId)).where(inArray(riskControls.riskId, riskIds)).orderBy(asc(controls.code));
  for (const c of linkedControls) links.get(c.riskId)!.controls.push(c.code);
  return links;
}

export const risksCommand = defineCommand({
  name: 'risks',
  readOnly: true,
  summary: 'The risk register with scores, treatment and whether each risk is above the risk appetite (owners see their own)',
  examples: ['risks', 'risks --page 2'],
  schema: risksInput,
  args: seekArgs,
  async run(ctx, position) {
    const all = seesAllRisks(ctx.actor);
    const mine = all ? undefined : eq(risks.ownerId, ctx.actor.id);
    const w = await seekPage(ctx.db, risks, risks.id, position, 'risks', all ? 'The risk register' : 'Your list of risks', mine);
    const rows = w.ids.length === 0 ? [] : await ctx.db.select({ risk: risks, owner: people.name }).from(risks)
      .leftJoin(people, eq(people.id, risks.ownerId)).where(inArray(risks.id, w.ids)).orderBy(asc(risks.id));
    const appetite = await appetiteInForce(ctx.db);
    const acceptances = await latestAcceptances(ctx.db, rows.map((r) => r.risk.id));
    const links = await riskLinks(ctx.db, rows.map((r) => r.risk.id));
    const asked = await latestApprovals(ctx.db, riskAcceptanceSubject, rows.map((r) => r.risk.ref));

    const items: ListItem[] = rows.map(({ risk, owner }) => {
      const above = isAboveAppetite(risk.residualScore, appetite);
      const acceptance = acceptances.get(risk.id);
      const accepted = acceptanceInForce(acceptance, risk, readersDay(ctx.now, ctx.actor.timezone));
      const offerAcceptance = !accepted && offersAcceptance(ctx.actor, risk, above);
      const linked = links.get(risk.id)!;
      const request = asked.get(risk.ref);
      return {
        title: `${risk.ref} ${risk.title}`,
        detail: [above === undefined ? 'no risk appetite set' : above ? 'above appetite' : 'within appetite',
          ...(accepted ? ['accepted'] : []), ...(!['open', 'accepted'].includes(risk.status) ? [risk.status] : [])].join(' · '),
        fields: [
          { label: 'Owner', value: owner ?? 'none yet' },
          { label: 'Inherent score', value: String(risk.inherentScore) },
          { label: 'Residual score', value: String(risk.residualScore) },
          { label: 'Treatment', value: risk.treatment },
          {
            label: 'Risk appetite',
            value: appetite
              ? `${above ? 'above' : 'within'} the appetite (residual score up to ${appetite.maxResidualScore})`
              : 'no risk appetite recorded',
          },
          ...(acceptance ? [{ label: 'Acceptance', value: describeAcceptance(acceptance, risk, ctx.now, ctx.actor.timezone) }] : []),
          ...(request ? [{ label: 'Acceptance by the management body', value: approvalInWords(request, ctx.actor.timezone) }] : []),
          ...(linked.assets.length ? [{ label: 'Assets', value: linked.assets.join(', ') }] : []),
          ...(linked.controls.length ? [{ label: 'Controls', value: linked.controls.join(', ') }] : []),
          ...(risk.threatRef ? [{ label: 'Threat', value: threatInWords(risk.threatRef) }] : []),
        ],
        buttons: offerAcceptance ? [{ label: 'Accept risk', command: `risk accept ${risk.ref}` }] : undefined,
      };
    });

    const proposed = await proposedAppetite(ctx.db, ctx.actor.timezone);
    const preface: Block[] = appetite
      ? [text(`Risk appetite in force: residual score up to ${appetite.maxResidualScore} (since ${readersDay(appetite.approvedAt, ctx.actor.timezone)}). ${appetite.statement}`)]
      : [text('No risk appetite has been recorded, so no risk can be marked above or within it.', 'warning')];
    if (proposed) {
      preface.push(text(`Proposed risk appetite, not in force until the management body approves it: residual score up to ${proposed.version.maxResidualScore}. `
        + `${proposed.version.statement} (${proposed.standing})`));
    }
    const title = all ? 'Risk register' : 'Your risks';
    return reply(...preface, {
      type: 'list',
      title: `${title}${w.page.total > 1 ? ` (page ${w.page.number} of ${w.page.total})` : ''}`,
      items,
      empty: all ? 'No risks recorded yet.' : 'You own no risks in the register.',
      page: w.page,
    });
  },
});
