import { z } from 'zod';
import { asc, count, eq } from 'drizzle-orm';
import { people, risks } from '../../db/schema/index.js';
import { defineCommand } from '../../core/router.js';
import { reply, text } from '../../core/reply.js';
import { pageNumber, pageWindow } from '../../core/paging.js';
import { isoDay } from '../../core/time.js';
import { acceptanceInForce, appetiteInForce, describeAcceptance, isAboveAppetite, latestAcceptances, mayAccept, seesAllRisks, } from './register.js';
export const risksInput = z.object({ page: pageNumber });
export const risksCommand = defineCommand({
    name: 'risks',
    summary: 'The risk register with scores, treatment and whether each risk is above the risk appetite (owners see their own)',
    examples: ['risks', 'risks --page 2'],
    schema: risksInput,
    async run(ctx, { page: pageNo }) {
        const all = seesAllRisks(ctx.actor);
        const mine = all ? undefined : eq(risks.ownerId, ctx.actor.id);
        const [{ n }] = await ctx.db.select({ n: count() }).from(risks).where(mine);
        const w = pageWindow(n, pageNo, 'risks', all ? 'The risk register' : 'Your list of risks');
        const rows = await ctx.db.select({ risk: risks, owner: people.name }).from(risks)
            .leftJoin(people, eq(people.id, risks.ownerId)).where(mine)
            .orderBy(asc(risks.id)).offset(w.offset).limit(w.limit);
        const appetite = await appetiteInForce(ctx.db);
        const acceptances = await latestAcceptances(ctx.db, rows.map((r) => r.risk.id));
        const items = rows.map(({ risk, owner }) => {
            const above = isAboveAppetite(risk.residualScore, appetite);
            const acceptance = acceptances.get(risk.id);
            const accepted = acceptanceInForce(acceptance, risk, ctx.now);
            const offerAcceptance = above === true && !accepted && mayAccept(ctx.actor, above);
            return {
                title: `${risk.ref} ${risk.title}`,
                detail: [above === undefined ? 'no risk appetite set' : above ? 'above appetite' : 'within appetite',
                    ...(accepted ? ['accepted'] : []), ...(risk.status !== 'open' ? [risk.status] : [])].join(' · '),
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
                    ...(acceptance ? [{ label: 'Acceptance', value: describeAcceptance(acceptance, risk, ctx.now) }] : []),
                ],
                buttons: offerAcceptance ? [{ label: 'Accept risk', command: `risk accept ${risk.ref}` }] : undefined,
            };
        });
        const preface = appetite
            ? [text(`Risk appetite in force: residual score up to ${appetite.maxResidualScore} (since ${isoDay(appetite.approvedAt)}). ${appetite.statement}`)]
            : [text('No risk appetite has been recorded, so no risk can be marked above or within it.', 'warning')];
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
//# sourceMappingURL=list.js.map