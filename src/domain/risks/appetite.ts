import { z } from 'zod';
import { eq } from 'drizzle-orm';
import { riskAppetite } from '../../db/schema/index.js';
import type { Db } from '../../db/client.js';
import { defineCommand } from '../../core/router.js';
import { conflict } from '../../core/errors.js';
import { fields, reply, text } from '../../core/reply.js';
import { readersDay } from '../../core/time.js';
import { riskAppetiteEntry } from '../../import/schema.js';
import { approvalInWords, latestApproval, requestApproval } from '../approvals/request.js';
import type { ApprovalSubject, SubjectNow } from '../approvals/subject.js';
import { appetiteInForce, newestAppetite, type RiskAppetite } from './register.js';

/** The risk appetite is one thing the management body approves, version by version. */
export const RISK_APPETITE_REF = 'risk-appetite';

/** What the management body decides: one appetite version, its threshold and its statement. */
export const riskAppetiteSubject: ApprovalSubject = {
  kind: 'risk_appetite',
  label: 'the risk appetite',
  async current(db): Promise<SubjectNow | undefined> {
    const version = await newestAppetite(db);
    if (!version) return undefined;
    return {
      title: `risk appetite version ${version.id}: residual score up to ${version.maxResidualScore}`,
      state: { version: version.id, maxResidualScore: version.maxResidualScore, statement: version.statement },
      facts: [
        { label: 'Maximum residual score', value: String(version.maxResidualScore) },
        { label: 'Statement', value: version.statement },
      ],
      authors: [{ by: version.proposedBy, did: 'proposed this risk appetite' }],
    };
  },
  async onApproved(ctx, approval) {
    const version = (approval.state as { version: number }).version;
    const [before] = await ctx.db.select().from(riskAppetite).where(eq(riskAppetite.id, version)).for('update');
    const [after] = await ctx.db.update(riskAppetite).set({ approvedBy: ctx.actor.id, approvedAt: ctx.now })
      .where(eq(riskAppetite.id, version)).returning();
    await ctx.audit({ action: 'approve', entity: 'risk_appetite', entityRef: `risk appetite #${version}`, before, after });
  },
};

/** The version proposed after the one in force, while the management body has not approved it; days on the reader's clock. */
export async function proposedAppetite(db: Db, timezone: string | null | undefined): Promise<{ version: RiskAppetite; standing: string } | undefined> {
  const newest = await newestAppetite(db);
  if (!newest || newest.approvedAt) return undefined;
  return { version: newest, standing: approvalInWords(await latestApproval(db, riskAppetiteSubject, RISK_APPETITE_REF), timezone) };
}

export const riskAppetiteCommand = defineCommand({
  name: 'risk appetite',
  summary: 'Propose a new risk appetite: the highest residual score the organisation accepts, in force once the management body approves it',
  examples: ['risk appetite 12 "We accept residual risks up to 12; above that the management body decides."'],
  roles: ['isms_lead'],
  schema: z.object({
    max: riskAppetiteEntry.shape.max_residual_score.describe('The highest residual score within the appetite, 1 to 25'),
    statement: riskAppetiteEntry.shape.statement.describe('The appetite statement the management body approves'),
  }),
  args: {
    max: { positional: true, label: 'Maximum residual score', value: 'max residual score' },
    statement: { positional: 'rest', label: 'Risk appetite statement', field: 'textarea' },
  },
  form: { title: 'Propose a risk appetite', submitLabel: 'Propose' },
  async run(ctx, { max, statement }) {
    const newest = await newestAppetite(ctx.db);
    const inForce = await appetiteInForce(ctx.db);
    const same = newest && newest.maxResidualScore === max && newest.statement === statement;
    if (same && newest.approvedAt) {
      throw conflict(`The risk appetite in force already reads so: residual score up to ${max} (approved on ${readersDay(newest.approvedAt, ctx.actor.timezone)}).`, 'Nothing new was proposed.');
    }
    if (!same) {
      const [version] = await ctx.db.insert(riskAppetite).values({
        maxResidualScore: max, statement, proposedBy: ctx.actor.id, proposedAt: ctx.now, approvedAt: null,
      }).returning();
      await ctx.audit({ action: 'propose', entity: 'risk_appetite', entityRef: `risk appetite #${version.id}`, after: version });
    }
    const asked = await requestApproval(ctx, riskAppetiteSubject, RISK_APPETITE_REF);
    const who = asked.asked.length ? `Asked ${asked.asked.map((p) => p.name).join(' and ')} (management body).`
      : 'No member of the management body is free to decide it: the ISMS lead adds one by import.';
    return reply(
      text(`${asked.created ? 'Proposed' : 'Already proposed'} a risk appetite of residual score up to ${max}: it is in force once the management body approves it (${asked.approval.ref}). ${who}`,
        asked.asked.length ? 'success' : 'warning'),
      fields([
        { label: 'Proposed', value: `residual score up to ${max}. ${statement}` },
        { label: 'In force until approved', value: inForce ? `residual score up to ${inForce.maxResidualScore} (since ${readersDay(inForce.approvedAt, ctx.actor.timezone)})` : 'no risk appetite yet' },
        { label: 'Approval request', value: asked.approval.ref },
      ]),
    );
  },
});
