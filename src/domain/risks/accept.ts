import { z } from 'zod';
import { asc, desc, eq, gt, or, sql } from 'drizzle-orm';
import { riskAcceptanceProposals, riskAcceptances, risks } from '../../db/schema/index.js';
import type { Db } from '../../db/client.js';
import { commandLine, defineCommand, type CommandContext } from '../../core/router.js';
import { MAX_CHOICES } from '../../core/args.js';
import { hasRole, isLead, type Actor } from '../../core/actor.js';
import { invalid, notFound } from '../../core/errors.js';
import { refuseOwnWork } from '../../core/duties.js';
import { isoDate, registerRef } from '../../core/validate.js';
import { fields, formBlock, reply, text } from '../../core/reply.js';
import { addDays, addMonths, isoDay, readersDay, startOfLocalDay } from '../../core/time.js';
import { requestApproval } from '../approvals/request.js';
import type { Approval, ApprovalSubject, SubjectNow } from '../approvals/subject.js';
import { appetiteInForce, isAboveAppetite, type Risk } from './register.js';
import { refuseUntrainedBoardMember } from './board-training.js';

export const acceptInput = z.object({
  risk: registerRef('R').describe('The risk, e.g. R-0003'),
  // Optional here so that a bare "risk accept R-0001" (the list's button) can ask for them in a form.
  rationale: z.string().trim().max(4000, 'must be at most 4000 characters').optional()
    .describe('Why the organisation accepts this risk; auditors read this'),
  until: isoDate.optional().describe('The last day the acceptance holds, a future date; the risk reopens after it'),
});
type AcceptInput = z.infer<typeof acceptInput>;

const LEGAL_BASIS = 'NIS2 Art. 20(1) and DORA Art. 5: the management body approves the treatment of risks above the risk appetite';

/** What the management body decides when it accepts a risk above the appetite. */
interface AcceptanceState { risk: string; residualScore: number; expiresOn: string; rationale: string; [key: string]: unknown }

export async function loadRisk(db: Db, ref: string): Promise<Risk> {
  const [risk] = await db.select().from(risks).where(eq(risks.ref, ref)).for('update');
  if (!risk) throw notFound(`${ref} does not exist.`, '"/isms risks" lists the risk register with its references.');
  return risk;
}

const ownDeed = (risk: Risk) => ({ by: risk.ownerId, did: `own ${risk.ref}` });

/** A risk above the appetite (or with none recorded) is accepted only by the management body. */
const needsBody = (above: boolean | undefined) => above !== false;

/** The acceptance of a risk above the appetite, as the management body is asked to decide it. */
export const riskAcceptanceSubject: ApprovalSubject = {
  kind: 'risk_acceptance',
  label: 'a risk acceptance above the risk appetite',
  async current(db, ref): Promise<SubjectNow | undefined> {
    const [risk] = await db.select().from(risks).where(eq(risks.ref, ref));
    if (!risk) return undefined;
    const [proposal] = await db.select().from(riskAcceptanceProposals).where(eq(riskAcceptanceProposals.riskId, risk.id))
      .orderBy(desc(riskAcceptanceProposals.id)).limit(1);
    if (!proposal) return undefined;
    const state: AcceptanceState = { risk: risk.ref, residualScore: risk.residualScore, expiresOn: isoDay(proposal.expiresOn), rationale: proposal.rationale };
    return {
      title: `acceptance of ${risk.ref} ${risk.title} at residual score ${risk.residualScore}`,
      state,
      facts: [
        { label: 'Risk', value: `${risk.ref} ${risk.title}` },
        { label: 'Residual score', value: String(risk.residualScore) },
        { label: 'Accepted until', value: state.expiresOn },
        { label: 'Rationale', value: proposal.rationale },
      ],
      authors: [ownDeed(risk), { by: proposal.proposedBy, did: `proposed accepting ${risk.ref}` }],
    };
  },
  checkDecider: (ctx, approval) => refuseUntrainedBoardMember(ctx, `${approval.title} (${approval.ref})`),
  async onApproved(ctx, approval: Approval) {
    const state = approval.state as AcceptanceState;
    await acceptRisk(ctx, await loadRisk(ctx.db, state.risk), state.rationale, state.expiresOn, approval.id);
  },
};

/**
 * Records an acceptance decision (append-only) with the residual score as it is now, linked to the
 * acceptance it replaces, and marks the risk accepted with the treatment "accept".
 */
export async function acceptRisk(ctx: CommandContext, risk: Risk, rationale: string, until: string, approvalId?: number) {
  const [previous] = await ctx.db.select({ id: riskAcceptances.id }).from(riskAcceptances).where(eq(riskAcceptances.riskId, risk.id))
    .orderBy(desc(riskAcceptances.id)).limit(1);
  const [acceptance] = await ctx.db.insert(riskAcceptances).values({
    riskId: risk.id,
    residualScoreAtDecision: risk.residualScore,
    decision: 'accept',
    rationale,
    decidedBy: ctx.actor.id,
    decidedAt: ctx.now,
    expiresOn: startOfLocalDay(until, 'utc'),
    supersedes: previous?.id ?? null,
    approvalId: approvalId ?? null,
  }).returning();
  await ctx.audit({ action: 'accept', entity: 'risk_acceptance', entityRef: risk.ref, after: acceptance });
  const [updated] = await ctx.db.update(risks).set({ treatment: 'accept', status: 'accepted' }).where(eq(risks.id, risk.id)).returning();
  await ctx.audit({ action: 'accept', entity: 'risk', entityRef: risk.ref, before: risk, after: updated });
  if (risk.ownerId && risk.ownerId !== ctx.actor.id) {
    await ctx.notify({
      recipientId: risk.ownerId, kind: 'risk_acceptance', idempotencyKey: `risk-accepted:${risk.ref}:${acceptance.id}:${risk.ownerId}`,
      reply: reply(text(`${ctx.actor.name} accepted your risk ${risk.ref} (${risk.title}) at residual score ${risk.residualScore} until ${until}: ${rationale}. `
        + 'It opens again after that day, or when its residual score changes.')),
    });
  }
  return acceptance;
}

/** The risks this person may accept or ask the management body to accept, for the form's picker. */
async function acceptableOptions(ctx: CommandContext) {
  const appetite = await appetiteInForce(ctx.db);
  // Chosen in the database, as many as a form lists and one more (a longer list is typed): never the whole register.
  const acceptable = appetite ? or(gt(risks.residualScore, appetite.maxResidualScore), sql`${risks.ownerId} is distinct from ${ctx.actor.id}`) : undefined;
  const choices = await ctx.db.select().from(risks).where(acceptable).orderBy(asc(risks.id)).limit(MAX_CHOICES + 1);
  return choices.map((r) => ({
    value: r.ref,
    label: `${r.ref} ${r.title} — residual ${r.residualScore}${needsBody(isAboveAppetite(r.residualScore, appetite)) ? ', for the management body' : ''}`,
  }));
}

/** Asks the management body to accept a risk above the appetite; the same proposal asked twice is one request. */
async function proposeAcceptance(ctx: CommandContext, risk: Risk, rationale: string, until: string) {
  const [latest] = await ctx.db.select().from(riskAcceptanceProposals).where(eq(riskAcceptanceProposals.riskId, risk.id))
    .orderBy(desc(riskAcceptanceProposals.id)).limit(1);
  if (!latest || latest.rationale !== rationale || isoDay(latest.expiresOn) !== until) {
    const [proposal] = await ctx.db.insert(riskAcceptanceProposals).values({
      riskId: risk.id, rationale, expiresOn: startOfLocalDay(until, 'utc'), proposedBy: ctx.actor.id, proposedAt: ctx.now,
    }).returning();
    await ctx.audit({ action: 'propose', entity: 'risk_acceptance_proposal', entityRef: risk.ref, after: proposal });
  }
  return requestApproval(ctx, riskAcceptanceSubject, risk.ref);
}

export const riskAcceptCommand = defineCommand({
  name: 'risk accept',
  summary: 'Accept a risk until a date with a rationale (above the risk appetite, the management body is asked to approve)',
  examples: (today) => [`risk accept R-0003 "mitigation costs more than the exposure; reviewed quarterly" --until ${addMonths(today, 6)}`],
  roles: ['isms_lead', 'management_body'],
  schema: acceptInput,
  args: {
    risk: { positional: true, value: 'R-ref', options: acceptableOptions },
    rationale: { positional: 'rest', required: true, label: 'Why does the organisation accept this risk?' },
    until: { required: true, label: 'Accepted until' },
  },
  form: { title: 'Accept a risk', submitLabel: 'Accept risk' },
  async run(ctx, input: AcceptInput) {
    const risk = await loadRisk(ctx.db, input.risk);
    const today = readersDay(ctx.now, ctx.actor.timezone);
    if (input.until && input.until <= today) {
      throw invalid(`until: ${input.until} is not in the future; an acceptance must run until a later date.`,
        `Give a date after ${today}, e.g. "--until ${addDays(today, 365)}".`).on('until');
    }
    const appetite = await appetiteInForce(ctx.db);
    const above = isAboveAppetite(risk.residualScore, appetite);
    if (!needsBody(above)) {
      await refuseOwnWork(ctx, { what: `Accepting ${risk.ref}`, deeds: [ownDeed(risk)], verb: 'accepts' });
    }
    if (!input.rationale || !input.until) {
      const missing = [...(input.rationale ? [] : ['a rationale (why the organisation accepts this risk)']), ...(input.until ? [] : ['the last day it holds (--until)'])];
      return reply(
        text(`Accepting ${risk.ref} needs ${missing.join(' and ')}, e.g. `
          + `${commandLine(ctx.channel, `risk accept ${risk.ref}`)} "mitigation costs more than the exposure" --until ${addDays(today, 365)}. Nothing was recorded.`, 'warning'),
        formBlock(await ctx.form({ title: `Accept ${risk.ref}`, known: { risk: risk.ref }, fields: { until: { initial: input.until }, rationale: { initial: input.rationale } } })),
      );
    }
    const standing = appetite
      ? `${above ? 'above' : 'within'} the risk appetite of ${appetite.maxResidualScore}`
      : 'no risk appetite recorded';
    if (needsBody(above)) {
      const asked = await proposeAcceptance(ctx, risk, input.rationale, input.until);
      const who = asked.asked.length
        ? `Asked ${asked.asked.map((p) => p.name).join(' and ')} (management body).`
        : 'No member of the management body is free to decide it (nobody decides a risk they own or proposed): the ISMS lead adds one by import.';
      return {
        ...reply(
          text(`${risk.ref} (${risk.title}) has residual score ${risk.residualScore}, ${standing}: only the management body may accept it (${LEGAL_BASIS}). `
            + `${asked.created ? 'Asked' : 'Already asked'} the management body to accept it until ${input.until}: ${asked.approval.ref}. ${who}`, asked.asked.length ? 'success' : 'warning'),
          fields([
            { label: 'Reference', value: risk.ref },
            { label: 'Residual score', value: String(risk.residualScore) },
            { label: 'Rationale', value: input.rationale },
            { label: 'Accepted until', value: input.until },
            { label: 'Approval request', value: asked.approval.ref },
          ]),
        ),
        about: risk.ref,
      };
    }
    const acceptance = await acceptRisk(ctx, risk, input.rationale, input.until);
    return {
      ...reply(
        text(`Accepted ${risk.ref} (${risk.title}) at residual score ${risk.residualScore}, ${standing}, until ${input.until}. Its treatment is now "accept".`
          + (acceptance.supersedes ? ' This decision replaces the earlier acceptance.' : ''), 'success'),
        fields([
          { label: 'Reference', value: risk.ref },
          { label: 'Residual score at decision', value: String(acceptance.residualScoreAtDecision) },
          { label: 'Decided by', value: ctx.actor.name },
          { label: 'Rationale', value: acceptance.rationale },
          { label: 'Accepted until', value: input.until },
        ]),
      ),
      about: risk.ref,
    };
  },
});

/** Who may use the list's acceptance button on a risk. */
export function offersAcceptance(actor: Actor, risk: Risk, above: boolean | undefined): boolean {
  if (needsBody(above)) return hasRole(actor, 'isms_lead', 'management_body');
  return isLead(actor) && risk.ownerId !== actor.id;
}
