import { asc, desc, eq, inArray } from 'drizzle-orm';
import { people, riskAcceptances, riskAppetite } from '../../db/schema/index.js';
import { hasRole } from '../../core/actor.js';
import { isoDay } from '../../core/time.js';
/** Appetite is kept as versions: the newest row is the one in force. */
export async function appetiteInForce(db) {
    const [latest] = await db.select().from(riskAppetite).orderBy(desc(riskAppetite.id)).limit(1);
    return latest;
}
/** True above the appetite, false within it, undefined when no appetite has been recorded. */
export function isAboveAppetite(residualScore, appetite) {
    return appetite ? residualScore > appetite.maxResidualScore : undefined;
}
/**
 * Who may accept a risk. Above the appetite the management body decides (NIS2 Art. 20(1), DORA Art. 5);
 * without a recorded appetite there is no threshold the ISMS lead could decide under, so the same applies.
 */
export function acceptingRoles(above) {
    return above === false ? ['isms_lead', 'management_body'] : ['management_body'];
}
export const mayAccept = (actor, above) => hasRole(actor, ...acceptingRoles(above));
/** Who reads the whole register; everyone else sees the risks they own. */
export const seesAllRisks = (actor) => hasRole(actor, 'isms_lead', 'management_body', 'auditor');
/** The newest acceptance decision of each risk. */
export async function latestAcceptances(db, riskIds) {
    if (riskIds.length === 0)
        return new Map();
    const rows = await db.select({ acceptance: riskAcceptances, decider: people.name }).from(riskAcceptances)
        .innerJoin(people, eq(people.id, riskAcceptances.decidedBy))
        .where(inArray(riskAcceptances.riskId, riskIds))
        .orderBy(asc(riskAcceptances.decidedAt), asc(riskAcceptances.id));
    return new Map(rows.map((r) => [r.acceptance.riskId, { ...r.acceptance, decider: r.decider }]));
}
/** An acceptance covers a risk until it expires, and only up to the residual score it was decided at. */
export function acceptanceInForce(acceptance, risk, now) {
    if (!acceptance)
        return false;
    if (acceptance.expiresOn && isoDay(acceptance.expiresOn) < isoDay(now))
        return false;
    return risk.residualScore <= acceptance.residualScoreAtDecision;
}
/** One line on an acceptance decision, saying whether it still covers the risk. */
export function describeAcceptance(acceptance, risk, now) {
    const base = `accepted by ${acceptance.decider} on ${isoDay(acceptance.decidedAt)} at residual score ${acceptance.residualScoreAtDecision}`
        + (acceptance.expiresOn ? `, until ${isoDay(acceptance.expiresOn)}` : '');
    if (acceptance.expiresOn && isoDay(acceptance.expiresOn) < isoDay(now))
        return `${base} — expired, needs a new decision`;
    if (risk.residualScore > acceptance.residualScoreAtDecision)
        return `${base} — the residual score has risen since, needs a new decision`;
    return base;
}
//# sourceMappingURL=register.js.map