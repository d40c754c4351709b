import { sql } from 'drizzle-orm';
import { pgTable, serial, text, integer, timestamp, jsonb, uniqueIndex, index } from 'drizzle-orm/pg-core';
import { ref } from './columns.js';
import { people } from './people.js';

export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'withdrawn'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/**
 * A request for the management body's approval of one thing in one exact state (NIS2 Art. 20,
 * DORA Art. 5): the state is kept with its SHA-256, so a decision always names what was decided,
 * and is marked stale when the thing changes afterwards.
 */
export const managementApprovals = pgTable('management_approvals', {
  id: serial('id').primaryKey(),
  ref: ref(),
  /** What kind of thing: 'scope_statement', 'policy_version', 'risk_appetite', 'soa', 'supplier', … */
  subjectKind: text('subject_kind').notNull(),
  /** The thing, e.g. "POL-0001 v2.0", "SUP-0003", "SoA". */
  subjectRef: text('subject_ref').notNull(),
  title: text('title').notNull(),
  /** The state the request (and its decision) is about. */
  state: jsonb('state').notNull().$type<Record<string, unknown>>(),
  stateSha256: text('state_sha256').notNull(),
  requestedBy: integer('requested_by').notNull().references(() => people.id),
  requestedAt: timestamp('requested_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  status: text('status').notNull().default('pending').$type<ApprovalStatus>(),
  decidedBy: integer('decided_by').references(() => people.id),
  decidedAt: timestamp('decided_at', { withTimezone: true, mode: 'date' }),
  rationale: text('rationale'),
  /** Set when the thing changed after the request: a stale decision no longer covers it. */
  staleAt: timestamp('stale_at', { withTimezone: true, mode: 'date' }),
  staleReason: text('stale_reason'),
}, (t) => [
  uniqueIndex('management_approvals_one_pending').on(t.subjectKind, t.subjectRef).where(sql`${t.status} = 'pending'`),
  // The latest request about a thing, e.g. for each risk a risks page shows (migration 0026).
  index('management_approvals_subject').on(t.subjectKind, t.subjectRef, t.id),
  // The approvals waiting, paged and counted (migration 0026).
  index('management_approvals_waiting').on(t.id).where(sql`status = 'pending' AND stale_at IS NULL`),
]);
