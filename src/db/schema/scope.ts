import { sql } from 'drizzle-orm';
import { pgTable, serial, text, integer, timestamp, date, boolean, uniqueIndex, index } from 'drizzle-orm/pg-core';
import { createdAt, ref } from './columns.js';
import { people } from './people.js';

export const scopeStatements = pgTable('scope_statements', {
  id: serial('id').primaryKey(),
  version: integer('version').notNull().unique(),
  text: text('text').notNull(),
  /** Who proposed this version in chat (null when imported): they may not approve it. */
  proposedBy: integer('proposed_by').references(() => people.id),
  approvedBy: integer('approved_by').references(() => people.id),
  approvedAt: timestamp('approved_at', { withTimezone: true, mode: 'date' }),
  createdAt: createdAt(),
});

export const SCOPE_CHANGE_KINDS = ['new_system', 'retired_system', 'new_supplier', 'new_ai_usage', 'new_geography', 'new_regulatory_regime'] as const;
export const SCOPE_CHANGE_STATUSES = ['proposed', 'accepted', 'rejected', 'ratified'] as const;

export const scopeChanges = pgTable('scope_changes', {
  id: serial('id').primaryKey(),
  ref: ref(),
  kind: text('kind').notNull().$type<(typeof SCOPE_CHANGE_KINDS)[number]>(),
  subject: text('subject').notNull(),
  description: text('description'),
  /** The register entry this change is about, e.g. "AI-0001" or "SUP-0002". */
  subjectRef: text('subject_ref'),
  declaredBy: integer('declared_by').notNull().references(() => people.id),
  declaredAt: timestamp('declared_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  status: text('status').notNull().default('proposed').$type<(typeof SCOPE_CHANGE_STATUSES)[number]>(),
  decidedBy: integer('decided_by').references(() => people.id),
  decidedAt: timestamp('decided_at', { withTimezone: true, mode: 'date' }),
  rationale: text('rationale'),
}, (t) => [
  // One proposal per system waiting for triage (suppliers and AI tools have their own registers).
  uniqueIndex('scope_changes_system_waiting').on(t.kind, sql`lower(${t.subject})`)
    .where(sql`${t.status} = 'proposed' and ${t.kind} in ('new_system', 'retired_system')`),
  // The triage list, paged and counted (migration 0026).
  index('scope_changes_proposed').on(t.id).where(sql`status = 'proposed'`),
]);

/** Entries are retired, never deleted: when and why stay on the row. */
const retirement = () => ({
  retiredAt: timestamp('retired_at', { withTimezone: true, mode: 'date' }),
  retiredReason: text('retired_reason'),
});

export const interestedParties = pgTable('interested_parties', {
  id: serial('id').primaryKey(),
  name: text('name').notNull(),
  kind: text('kind'),
  needs: text('needs'),
  reviewedOn: date('reviewed_on'),
  createdAt: createdAt(),
  ...retirement(),
});

export const PROTECTION_LEVELS = ['normal', 'high', 'very_high'] as const;

export const assets = pgTable('assets', {
  id: serial('id').primaryKey(),
  ref: ref(),
  name: text('name').notNull().unique(),
  description: text('description'),
  ownerId: integer('owner_id').references(() => people.id),
  classification: text('classification').notNull().default('internal'),
  protectionRequirement: text('protection_requirement').notNull().default('normal').$type<(typeof PROTECTION_LEVELS)[number]>(),
  inScope: boolean('in_scope').notNull().default(true),
  createdAt: createdAt(),
  ...retirement(),
});
