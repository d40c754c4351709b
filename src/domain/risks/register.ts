import { asc, desc, eq, inArray, isNotNull } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { people, riskAcceptances, riskAppetite, risks } from '../../db/schema/index.js';
import { hasRole, type Actor } from '../../core/actor.js';
import { isoDay, readersDay } from '../../core/time.js';

export type Risk = typeof risks.$inferSelect;
export type RiskAppetite = typeof riskAppetite.$inferSelect;
export type RiskAcceptance = typeof riskAcceptances.$inferSelect;

export type ApprovedAppetite = RiskAppetite & { approvedAt: Date };

/** Appetite is kept as versions: the newest approved row is the one in force. */
export async function appetiteInForce(db: Db): Promise<ApprovedAppetite | undefined> {
  const [latest] = await db.select().from(riskAppetite).where(isNotNull(riskAppetite.approvedAt)).orderBy(desc(riskAppetite.id)).limit(1);
  return latest as ApprovedAppetite | undefined;
}

/** The newest appetite version, approved or not: the one the management body is asked about. */
export async function newestAppetite(db: Db): Promise<RiskAppetite | undefined> {
  const [latest] = await db.select().from(riskAppetite).orderBy(desc(riskAppetite.id)).limit(1);
  return latest;
}

/** True above the appetite, false within it, undefined when no appetite has been recorded. */
export function isAboveAppetite(residualScore: number, appetite: RiskAppetite | undefined): boolean | undefined {
  return appetite ? residualScore > appetite.maxResidualScore : undefined;
}

/** Who reads the whole register; everyone else sees the risks they own. */
export const seesAllRisks = (actor: Actor) => hasRole(actor, 'isms_lead', 'management_body', 'auditor');

/** The newest acceptance decision of each risk. */
export async function latestAcceptances(db: Db, riskIds: number[]): Promise<Map<number, RiskAcceptance & { decider: string }>> {
  if (riskIds.length === 0) return new Map();
  const rows = await db.select({ acceptance: riskAcceptances, decider: people.name }).from(riskAcceptances)
    .innerJoin(people, eq(people.id, riskAcceptances.decidedBy))
    .where(inArray(riskAcceptances.riskId, riskIds))
    .orderBy(asc(riskAcceptances.decidedAt), asc(riskAcceptances.id));
  return new Map(rows.map((r) => [r.acceptance.riskId, { ...r.acceptance, decider: r.decider }]));
}

/**
 * An acceptance covers a risk while the risk stands accepted (a reassessment or expiry reopens it),
 * until it expires, and only up to the residual score it was decided at.
 */
export function acceptanceInForce(acceptance: RiskAcceptance | undefined, risk: Risk, today: string): boolean {
  if (!acceptance || risk.status !== 'accepted') return false;
  if (acceptance.expiresOn && isoDay(acceptance.expiresOn) < today) return false;
  return risk.residualScore <= acceptance.residualScoreAtDecision;
}

/** One line on an acceptance decision, saying whether it still covers the risk, on the reader's calendar. */
export function describeAcceptance(acceptance: RiskAcceptance & { decider: string }, risk: Risk, now: Date, timezone: string | null | undefined): string {
  const base = `accepted by ${acceptance.decider} on ${readersDay(acceptance.decidedAt, timezone)} at residual score ${acceptance.residualScoreAtDecision}`
    + (acceptance.expiresOn ? `, until ${isoDay(acceptance.expiresOn)}` : '');
  if (acceptance.expiresOn && isoDay(acceptance.expiresOn) < readersDay(now, timezone)) return `${base} — expired, needs a new decision`;
  if (risk.residualScore > acceptance.residualScoreAtDecision) return `${base} — the residual score has risen since, needs a new decision`;
  if (risk.status !== 'accepted') return `${base} — reopened since, needs a new decision`;
  return base;
}
