import { z } from 'zod';
import { desc, eq, isNotNull } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { people, scopeChanges, scopeStatements } from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { hasRole, findPersonById } from '../../core/actor.js';
import { conflict, forbidden } from '../../core/errors.js';
import { sha256Json } from '../../core/audit.js';
import { fields, reply, text } from '../../core/reply.js';
import { readersDay } from '../../core/time.js';
import type { ApprovalSubject, Approval } from '../approvals/subject.js';
import { approvalInWords, latestApproval, requestApproval, withdrawPending } from '../approvals/request.js';
import { KIND_LABELS } from '../triage/labels.js';

/** "scope v3": how approvals and audit events name a version of the scope statement. */
export const scopeStatementRef = (version: number) => `scope v${version}`;
const versionOf = (ref: string) => Number(/^scope v(\d+)$/.exec(ref)?.[1] ?? NaN);

/** A version of the ISMS scope statement (ISO 27001 cl. 4.3): in force once the management body approves it. */
export const scopeStatementApproval: ApprovalSubject = {
  kind: 'scope_statement',
  label: 'the ISMS scope statement',
  async current(db, ref) {
    const version = versionOf(ref);
    if (!Number.isInteger(version)) return undefined;
    const [row] = await db.select().from(scopeStatements).where(eq(scopeStatements.version, version));
    if (!row) return undefined;
    return {
      title: `the ISMS scope statement, version ${row.version}`,
      state: { version: row.version, textSha256: sha256Json(row.text) },
      facts: [{ label: 'Scope statement', value: row.text }],
      authors: [{ by: row.proposedBy, did: `proposed scope statement version ${row.version}` }],
    };
  },
  async onApproved(ctx, approval) {
    const [before] = await ctx.db.select().from(scopeStatements).where(eq(scopeStatements.version, versionOf(approval.subjectRef))).for('update');
    const [after] = await ctx.db.update(scopeStatements).set({ approvedBy: ctx.actor.id, approvedAt: ctx.now })
      .where(eq(scopeStatements.id, before.id)).returning();
    await ctx.audit({ action: 'approve', entity: 'scope_statement', entityRef: approval.subjectRef, before, after });
  },
};

/** Systems entering or leaving the scope, new geographies and regulatory regimes: the body ratifies what the lead accepted. */
export const MAJOR_SCOPE_CHANGES: readonly string[] = ['new_system', 'retired_system', 'new_geography', 'new_regulatory_regime'];

/** A major scope change the ISMS lead accepted, for the management body to ratify (ISO 27001 cl. 4.3, 6.3). */
export const scopeChangeApproval: ApprovalSubject = {
  kind: 'scope_change',
  label: 'a major scope change',
  async current(db, ref, timezone) {
    const [change] = await db.select().from(scopeChanges).where(eq(scopeChanges.ref, ref));
    if (!change || (change.status !== 'accepted' && change.status !== 'ratified')) return undefined;
    return {
      title: `scope change ${ref} (${KIND_LABELS[change.kind]}: ${change.subject})`,
      // Its status is left out: ratifying it changes the status, not what was ratified.
      state: { ref, kind: change.kind, subject: change.subject, description: change.description, subjectRef: change.subjectRef },
      facts: [
        { label: 'Change', value: `${KIND_LABELS[change.kind]}: ${change.subject}` },
        ...(change.description ? [{ label: 'Description', value: change.description }] : []),
        ...(change.subjectRef ? [{ label: 'Register entry', value: change.subjectRef }] : []),
        ...(change.decidedAt ? [{ label: 'Accepted', value: readersDay(change.decidedAt, timezone) + (change.rationale ? `: ${change.rationale}` : '') }] : []),
      ],
      authors: [{ by: change.declaredBy, did: `declared ${ref}` }, { by: change.decidedBy, did: `accepted ${ref} in triage` }],
    };
  },
  async onApproved(ctx, approval: Approval) {
    const [before] = await ctx.db.select().from(scopeChanges).where(eq(scopeChanges.ref, approval.subjectRef)).for('update');
    const [after] = await ctx.db.update(scopeChanges).set({ status: 'ratified' }).where(eq(scopeChanges.id, before.id)).returning();
    await ctx.audit({ action: 'ratify', entity: 'scope_change', entityRef: before.ref, before, after });
  },
};

/** After the lead accepts a major scope change in triage: the management body is asked to ratify it. */
export async function askRatification(ctx: CommandContext, change: typeof scopeChanges.$inferSelect): Promise<string> {
  if (change.status !== 'accepted' || !MAJOR_SCOPE_CHANGES.includes(change.kind)) return '';
  const { approval, asked } = await requestApproval(ctx, scopeChangeApproval, change.ref);
  return asked.length
    ? ` The management body is asked to ratify it (${approval.ref}).`
    : ` It waits for ratification by the management body (${approval.ref}), but nobody there is free to decide it: add a management-body member by import.`;
}

const proposer = alias(people, 'proposer');
const approver = alias(people, 'approver');

export const scopeStatementCommand = defineCommand({
  name: 'scope statement',
  summary: 'The ISMS scope statement and its approval; the ISMS lead proposes a new version for the management body to approve',
  examples: ['scope statement', 'scope statement "All systems, people and suppliers supporting the payments platform in Germany and Austria"'],
  schema: z.object({
    text: z.string().trim().min(20, 'must say what is in scope in at least 20 characters').max(5000, 'must be at most 5000 characters').optional()
      .describe('The new scope statement (ISMS lead); leave out to see the current one'),
  }),
  args: { text: { positional: 'rest', label: 'New scope statement', field: 'textarea' } },
  async run(ctx, input) {
    if (!input.text) return showScope(ctx);
    if (!hasRole(ctx.actor, 'isms_lead')) throw forbidden('Only an ISMS lead proposes a new scope statement.', 'The management body approves it; "/isms scope statement" shows the current one.');
    const [latest] = await ctx.db.select().from(scopeStatements).orderBy(desc(scopeStatements.version)).limit(1).for('update');
    if (latest && latest.text === input.text) {
      throw conflict(`Scope statement version ${latest.version} already says exactly this.`, 'Nothing was recorded. "/isms approvals" shows whether it waits for approval.');
    }
    const [row] = await ctx.db.insert(scopeStatements).values({ version: (latest?.version ?? 0) + 1, text: input.text, proposedBy: ctx.actor.id, createdAt: ctx.now }).returning();
    await ctx.audit({ action: 'propose', entity: 'scope_statement', entityRef: scopeStatementRef(row.version), before: latest ?? null, after: row });
    await withdrawPending(ctx, scopeStatementApproval, `version ${row.version} replaces it`);
    const { approval, asked } = await requestApproval(ctx, scopeStatementApproval, scopeStatementRef(row.version));
    return reply(
      text(`Scope statement version ${row.version} is proposed and awaits the management body's approval (${approval.ref}).`, 'success'),
      text(asked.length ? `Asked: ${asked.map((p) => p.name).join(', ')}. ${await inForceUntilThen(ctx)}`
        : 'Nobody in the management body is free to approve it: add a member by import.', asked.length ? 'info' : 'warning'),
    );
  },
});

async function inForceUntilThen(ctx: CommandContext): Promise<string> {
  const [approved] = await ctx.db.select({ version: scopeStatements.version }).from(scopeStatements)
    .where(isNotNull(scopeStatements.approvedAt)).orderBy(desc(scopeStatements.version)).limit(1);
  return approved ? `Until then version ${approved.version} stays in force.` : 'Until then no approved scope statement is in force.';
}

/** The scope statement in force (the newest approved) and a newer proposal waiting, if any. */
async function showScope(ctx: CommandContext) {
  const rows = await ctx.db.select({ s: scopeStatements, proposer: proposer.name, approver: approver.name }).from(scopeStatements)
    .leftJoin(proposer, eq(proposer.id, scopeStatements.proposedBy)).leftJoin(approver, eq(approver.id, scopeStatements.approvedBy))
    .orderBy(desc(scopeStatements.version)).limit(20);
  const inForce = rows.find((r) => r.s.approvedAt);
  const newer = rows[0] && rows[0] !== inForce ? rows[0] : undefined;
  if (!rows.length) return reply(text('No scope statement is recorded yet. An ISMS lead proposes one with "/isms scope statement <text>".', 'warning'));
  const pending = newer ? await latestApproval(ctx.db, scopeStatementApproval, scopeStatementRef(newer.s.version)) : undefined;
  const by = newer?.s.proposedBy ? await findPersonById(ctx.db, newer.s.proposedBy) : undefined;
  return reply(
    inForce
      ? text(`Scope statement version ${inForce.s.version}, approved${inForce.approver ? ` by ${inForce.approver}` : ''} on ${readersDay(inForce.s.approvedAt!, ctx.actor.timezone)}: ${inForce.s.text}`)
      : text('No version of the scope statement has been approved by the management body yet.', 'warning'),
    ...(newer ? [fields([
      { label: `Proposed version ${newer.s.version}`, value: newer.s.text },
      { label: 'Proposed', value: `${readersDay(newer.s.createdAt, ctx.actor.timezone)}${by ? ` by ${by.name}` : ''}` },
      { label: 'Approval', value: approvalInWords(pending, ctx.actor.timezone) },
    ])] : []),
  );
}
