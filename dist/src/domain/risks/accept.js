import { z } from 'zod';
import { asc, eq } from 'drizzle-orm';
import { riskAcceptances, risks } from '../../db/schema/index.js';
import { commandLine, defineCommand } from '../../core/router.js';
import { peopleWithRole } from '../../core/actor.js';
import { forbidden, invalid, notFound } from '../../core/errors.js';
import { isoDate, registerRef } from '../../core/validate.js';
import { fields, formBlock, reply, text } from '../../core/reply.js';
import { appetiteInForce, isAboveAppetite, mayAccept } from './register.js';
import { addDays, isoDay, startOfLocalDay } from '../../core/time.js';
export const acceptInput = z.object({
    risk: registerRef('R').describe('The risk, e.g. R-0003'),
    // Optional here so that a bare "risk accept R-0001" (the list's button) can ask for it in a form.
    rationale: z.string().trim().max(4000, 'must be at most 4000 characters').optional()
        .describe('Why the organisation accepts this risk; auditors read this'),
    until: isoDate.optional().describe('The last day the acceptance holds, a future date; empty means no expiry'),
});
const LEGAL_BASIS = 'NIS2 Art. 20(1) and DORA Art. 5: the management body approves the treatment of risks above the risk appetite';
/** Loads the risk (locked for this transaction) and refuses anyone who may not accept it at its current residual score. */
async function loadAcceptable(ctx, ref) {
    const [risk] = await ctx.db.select().from(risks).where(eq(risks.ref, ref)).for('update');
    if (!risk)
        throw notFound(`${ref} does not exist.`, '"/isms risks" lists the risk register with its references.');
    const appetite = await appetiteInForce(ctx.db);
    const above = isAboveAppetite(risk.residualScore, appetite);
    if (!mayAccept(ctx.actor, above)) {
        const board = (await peopleWithRole(ctx.db, 'management_body')).map((p) => p.name);
        const ask = board.length ? `Ask ${board.join(' or ')} (management body)` : 'Ask a member of the management body';
        const why = appetite
            ? `${ref} has a residual score of ${risk.residualScore}, above the risk appetite of ${appetite.maxResidualScore}`
            : `No risk appetite has been recorded, so there is no threshold under which ${ref} could be accepted without the management body`;
        throw forbidden(`${why}: only a member of the management body may accept it (${LEGAL_BASIS}).`, `${ask} to decide with "/isms risk accept ${ref} <rationale>", or lower the residual score with further treatment.`);
    }
    return { risk, appetite, above };
}
/** The risks this person may accept, for the form's picker. */
async function acceptableOptions(ctx) {
    const appetite = await appetiteInForce(ctx.db);
    const all = await ctx.db.select().from(risks).orderBy(asc(risks.id));
    return all.filter((r) => mayAccept(ctx.actor, isAboveAppetite(r.residualScore, appetite))).map((r) => ({
        value: r.ref,
        label: `${r.ref} ${r.title} — residual ${r.residualScore}${isAboveAppetite(r.residualScore, appetite) ? ', above appetite' : ''}`,
    }));
}
/**
 * Records an acceptance decision (append-only) with the residual score as it is now, and sets the
 * risk's treatment to "accept".
 */
export async function acceptRisk(ctx, risk, rationale, until) {
    const [acceptance] = await ctx.db.insert(riskAcceptances).values({
        riskId: risk.id,
        residualScoreAtDecision: risk.residualScore,
        decision: 'accept',
        rationale,
        decidedBy: ctx.actor.id,
        decidedAt: ctx.now,
        expiresOn: until ? startOfLocalDay(until, 'utc') : null,
    }).returning();
    await ctx.audit({ action: 'accept', entity: 'risk_acceptance', entityRef: risk.ref, after: acceptance });
    if (risk.treatment !== 'accept') {
        const [updated] = await ctx.db.update(risks).set({ treatment: 'accept' }).where(eq(risks.id, risk.id)).returning();
        await ctx.audit({ action: 'accept', entity: 'risk', entityRef: risk.ref, before: risk, after: updated });
    }
    return acceptance;
}
export const riskAcceptCommand = defineCommand({
    name: 'risk accept',
    summary: 'Accept a risk with a rationale (above the risk appetite only the management body may)',
    examples: ['risk accept R-0003 "mitigation costs more than the exposure; reviewed quarterly" --until 2027-06-30'],
    roles: ['isms_lead', 'management_body'],
    schema: acceptInput,
    args: {
        risk: { positional: true, value: 'R-ref', options: acceptableOptions },
        rationale: { positional: 'rest', required: true, label: 'Why does the organisation accept this risk?' },
        until: { label: 'Accepted until' },
    },
    form: { title: 'Accept a risk', submitLabel: 'Accept risk' },
    async run(ctx, input) {
        const { risk, appetite, above } = await loadAcceptable(ctx, input.risk);
        if (input.until && input.until <= isoDay(ctx.now)) {
            throw invalid(`until: ${input.until} is not in the future; an acceptance must run until a later date.`, `Give a date after ${isoDay(ctx.now)}, e.g. "--until ${addDays(isoDay(ctx.now), 365)}", or leave --until out for no expiry.`).on('until');
        }
        if (!input.rationale) {
            return reply(text(`Accepting ${risk.ref} needs a rationale: say why the organisation accepts this risk, e.g. `
                + `${commandLine(ctx.channel, `risk accept ${risk.ref}`)} "mitigation costs more than the exposure". Nothing was recorded.`, 'warning'), formBlock(await ctx.form({ title: `Accept ${risk.ref}`, known: { risk: risk.ref }, fields: { until: { initial: input.until } } })));
        }
        const acceptance = await acceptRisk(ctx, risk, input.rationale, input.until);
        const standing = appetite
            ? `${above ? 'above' : 'within'} the risk appetite of ${appetite.maxResidualScore}`
            : 'no risk appetite recorded';
        return {
            ...reply(text(`Accepted ${risk.ref} (${risk.title}) at residual score ${risk.residualScore}, ${standing}. Its treatment is now "accept".`, 'success'), fields([
                { label: 'Reference', value: risk.ref },
                { label: 'Residual score at decision', value: String(acceptance.residualScoreAtDecision) },
                { label: 'Decided by', value: ctx.actor.name },
                { label: 'Rationale', value: acceptance.rationale },
                { label: 'Accepted until', value: input.until ?? 'no expiry' },
            ])),
            about: risk.ref,
        };
    },
});
//# sourceMappingURL=accept.js.map