import { and, desc, eq, inArray, isNull } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { managementApprovals, people } from '../../db/schema/index.js';
import type { CommandContext } from '../../core/router.js';
import { peopleWithRole, type Person } from '../../core/actor.js';
import { sha256Json } from '../../core/audit.js';
import { nextRef } from '../../core/refs.js';
import { notFound } from '../../core/errors.js';
import { actions, fields, reply, text, type Field } from '../../core/reply.js';
import { readersDay, readersZone } from '../../core/time.js';
import type { Approval, ApprovalSubject, SubjectNow } from './subject.js';

export const stateSha256 = (state: Record<string, unknown>): string => sha256Json(state);

/** The card a management-body member gets: what is asked, the facts, and the two buttons; days on their clock (`timezone`). */
export function approvalCard(approval: Approval, requester: string, facts: Field[], timezone: string | null | undefined) {
  return reply(
    text(`${requester} asks the management body to approve ${approval.title} (${approval.ref}).`),
    fields([...facts, { label: 'Requested', value: `${readersDay(approval.requestedAt, timezone)} by ${requester}` }]),
    actions(
      { label: 'Approve', command: `approve ${approval.ref}`, style: 'primary' },
      { label: 'Reject', command: `reject ${approval.ref}`, style: 'danger' },
    ),
  );
}

/** Management-body members who may decide: none of the thing's authors, nor whoever asked. */
export async function approversOf(db: Db, now: SubjectNow, requestedBy: number): Promise<Person[]> {
  const authors = new Set([requestedBy, ...now.authors.flatMap((d) => (d.by == null ? [] : [d.by]))]);
  return (await peopleWithRole(db, 'management_body')).filter((p) => !authors.has(p.id));
}

export interface Requested {
  approval: Approval;
  /** False when an identical request was already pending: nothing was written or sent again. */
  created: boolean;
  /** Who was asked (empty when the register has no management-body member free to decide). */
  asked: Person[];
}

/**
 * Asks the management body to approve `subjectRef` as it is now, in the caller's transaction: one
 * pending request per thing (the same state asked twice is the same request; a changed state
 * withdraws the older request), with its audit event and a card to each member free to decide it.
 */
export async function requestApproval(ctx: CommandContext, subject: ApprovalSubject, subjectRef: string,
  /** Who asks, when not the acting person (a request renewed on someone's behalf). */
  requester: { id: number; name: string } = ctx.actor): Promise<Requested> {
  const now = await subject.current(ctx.db, subjectRef);
  if (!now) throw notFound(`${subjectRef} does not exist, so there is nothing to ask the management body to approve.`);
  const hash = stateSha256(now.state);
  const [pending] = await ctx.db.select().from(managementApprovals)
    .where(and(eq(managementApprovals.subjectKind, subject.kind), eq(managementApprovals.subjectRef, subjectRef), eq(managementApprovals.status, 'pending')))
    .for('update');
  if (pending?.stateSha256 === hash) return { approval: pending, created: false, asked: await approversOf(ctx.db, now, pending.requestedBy) };
  if (pending) await markStale(ctx, pending, 'it changed before the management body decided; a new request replaces it');
  const [approval] = await ctx.db.insert(managementApprovals).values({
    ref: await nextRef(ctx.db, 'APR'), subjectKind: subject.kind, subjectRef, title: now.title, state: now.state,
    stateSha256: hash, requestedBy: requester.id, requestedAt: ctx.now,
  }).returning();
  await ctx.audit({ action: 'request', entity: 'management_approval', entityRef: approval.ref, before: null, after: approval });
  const asked = await approversOf(ctx.db, now, requester.id);
  // Each member reads the card on their own clock: the facts are read once for each zone among them.
  const factsIn = new Map<string, SubjectNow>();
  for (const member of asked) {
    const zone = readersZone(member.timezone);
    const theirs = factsIn.get(zone) ?? (await subject.current(ctx.db, subjectRef, zone)) ?? now;
    factsIn.set(zone, theirs);
    await ctx.notify({
      recipientId: member.id, kind: 'approval', idempotencyKey: `approval:${approval.ref}:${member.id}`,
      reply: approvalCard(approval, requester.name, [...theirs.facts, ...(theirs.alternatives ?? [])], member.timezone),
    });
  }
  return { approval, created: true, asked };
}

/** Marks a request or decision as no longer covering its thing; a pending request is withdrawn. */
async function markStale(ctx: CommandContext, row: Approval, reason: string): Promise<Approval> {
  const [after] = await ctx.db.update(managementApprovals).set({
    staleAt: ctx.now, staleReason: reason, ...(row.status === 'pending' ? { status: 'withdrawn' as const } : {}),
  }).where(eq(managementApprovals.id, row.id)).returning();
  await ctx.audit({ action: 'mark_stale', entity: 'management_approval', entityRef: row.ref, before: row, after });
  return after;
}

/**
 * Call after changing a thing the management body approves: every request and decision about it that
 * no longer matches its state is marked stale (with `reason`, e.g. "version 2.1 was published"), and
 * the people who asked are told. Returns what was marked.
 */
export async function refreshApprovals(ctx: CommandContext, subject: ApprovalSubject, subjectRef: string, reason: string): Promise<Approval[]> {
  const now = await subject.current(ctx.db, subjectRef);
  const hash = now ? stateSha256(now.state) : undefined;
  const live = await ctx.db.select().from(managementApprovals)
    .where(and(eq(managementApprovals.subjectKind, subject.kind), eq(managementApprovals.subjectRef, subjectRef),
      inArray(managementApprovals.status, ['pending', 'approved', 'rejected']), isNull(managementApprovals.staleAt)))
    .for('update');
  const marked: Approval[] = [];
  for (const row of live) {
    if (row.stateSha256 === hash) continue;
    marked.push(await markStale(ctx, row, reason));
    await ctx.notify({
      recipientId: row.requestedBy, kind: 'approval', idempotencyKey: `approval-stale:${row.ref}:${row.requestedBy}`,
      reply: reply(text(`${row.ref} (${row.title}) no longer covers it: ${reason}.`
        + (row.status === 'approved' ? ' Ask the management body again when it is ready.' : ''), 'warning')),
    });
  }
  return marked;
}

/** Withdraws the pending requests of a kind, other than `keepRef`, e.g. older versions a new version replaces. */
export async function withdrawPending(ctx: CommandContext, subject: ApprovalSubject, reason: string, keepRef?: string): Promise<Approval[]> {
  const pending = await ctx.db.select().from(managementApprovals)
    .where(and(eq(managementApprovals.subjectKind, subject.kind), eq(managementApprovals.status, 'pending'))).for('update');
  const withdrawn: Approval[] = [];
  for (const row of pending) if (row.subjectRef !== keepRef) withdrawn.push(await markStale(ctx, row, reason));
  return withdrawn;
}

/** The management body's approval that covers the thing as it is now, if there is one. */
export async function approvalInForce(db: Db, subject: ApprovalSubject, subjectRef: string): Promise<Approval | undefined> {
  const now = await subject.current(db, subjectRef);
  if (!now) return undefined;
  const [row] = await db.select().from(managementApprovals)
    .where(and(eq(managementApprovals.subjectKind, subject.kind), eq(managementApprovals.subjectRef, subjectRef),
      eq(managementApprovals.status, 'approved'), eq(managementApprovals.stateSha256, stateSha256(now.state)), isNull(managementApprovals.staleAt)))
    .orderBy(desc(managementApprovals.id)).limit(1);
  return row;
}

/** The newest request or decision about a thing, whatever its status. */
export async function latestApproval(db: Db, subject: ApprovalSubject, subjectRef: string): Promise<(Approval & { decider: string | null }) | undefined> {
  const [row] = await db.select({ approval: managementApprovals, decider: people.name }).from(managementApprovals)
    .leftJoin(people, eq(people.id, managementApprovals.decidedBy))
    .where(and(eq(managementApprovals.subjectKind, subject.kind), eq(managementApprovals.subjectRef, subjectRef)))
    .orderBy(desc(managementApprovals.id)).limit(1);
  return row && { ...row.approval, decider: row.decider };
}

/** The newest request or decision about each of several things of one kind, in one query: by subject ref. */
export async function latestApprovals(db: Db, subject: ApprovalSubject, subjectRefs: string[]): Promise<Map<string, Approval & { decider: string | null }>> {
  if (subjectRefs.length === 0) return new Map();
  const rows = await db.selectDistinctOn([managementApprovals.subjectRef], { approval: managementApprovals, decider: people.name }).from(managementApprovals)
    .leftJoin(people, eq(people.id, managementApprovals.decidedBy))
    .where(and(eq(managementApprovals.subjectKind, subject.kind), inArray(managementApprovals.subjectRef, subjectRefs)))
    .orderBy(managementApprovals.subjectRef, desc(managementApprovals.id));
  return new Map(rows.map((r) => [r.approval.subjectRef, { ...r.approval, decider: r.decider }]));
}

/**
 * "approved by Dana Board on 2026-11-02 (APR-0004)", "awaiting management-body approval (APR-0005)", …: the day
 * on the clock of the reader's `timezone` ('UTC' in exports).
 */
export function approvalInWords(row: (Approval & { decider?: string | null }) | undefined, timezone: string | null | undefined): string {
  if (!row) return 'not submitted to the management body';
  const by = row.decider ? ` by ${row.decider}` : '';
  const on = row.decidedAt ? ` on ${readersDay(row.decidedAt, timezone)}` : '';
  if (row.staleAt) return `${row.status === 'withdrawn' ? 'request withdrawn' : `${row.status}${by}${on}, now stale`}: ${row.staleReason} (${row.ref})`;
  switch (row.status) {
    case 'pending': return `awaiting management-body approval (${row.ref})`;
    case 'approved': return `approved${by}${on} (${row.ref})`;
    case 'rejected': return `rejected${by}${on}: ${row.rationale} (${row.ref})`;
    default: return `request withdrawn (${row.ref})`;
  }
}
