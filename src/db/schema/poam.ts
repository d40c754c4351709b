import { sql } from 'drizzle-orm';
import { pgTable, serial, text, integer, timestamp, date, jsonb, bigint, primaryKey, uniqueIndex, boolean, index, type AnyPgColumn } from 'drizzle-orm/pg-core';
import { createdAt, ref } from './columns.js';
import { people } from './people.js';
import { bytea } from './evidence.js';

export const POAM_SOURCES = ['audit_finding', 'risk', 'evidence_gap', 'management_review'] as const;
/** 'awaiting_verification': the owner says it is done, with closure evidence; an ISMS lead has yet to verify it. */
export const POAM_STATUSES = ['open', 'in_progress', 'awaiting_verification', 'completed', 'risk_accepted'] as const;

export const poamItems = pgTable('poam_items', {
  id: serial('id').primaryKey(),
  ref: ref(),
  weakness: text('weakness').notNull(),
  source: text('source').notNull().$type<(typeof POAM_SOURCES)[number]>(),
  /** Reference of the finding, risk or evidence request it came from. */
  sourceRef: text('source_ref'),
  ownerId: integer('owner_id').notNull().references(() => people.id),
  dueOn: date('due_on').notNull(),
  /** The due date the item was opened with; extensions move due_on only. A trigger fills it from due_on when an insert leaves it out. */
  originalDueOn: date('original_due_on').notNull().default(sql`null`),
  status: text('status').notNull().default('open').$type<(typeof POAM_STATUSES)[number]>(),
  escalationLevel: integer('escalation_level').notNull().default(0),
  /** The day it last moved up its ladder (migration 0029): it moves at most one rung a day, however often the sweep runs. */
  escalatedOn: date('escalated_on'),
  completedAt: timestamp('completed_at', { withTimezone: true, mode: 'date' }),
  createdAt: createdAt(),
}, (t) => [
  index('poam_items_open_ladder').on(t.escalationLevel, t.dueOn).where(sql`status in ('open', 'in_progress')`),
  index('poam_items_open_due').on(t.dueOn, t.id).where(sql`status in ('open', 'in_progress')`),
  // What `poam` and `poam --all` list, paged and counted (migration 0027).
  index('poam_items_listed').on(t.dueOn, t.id).where(sql`status in ('open', 'in_progress', 'awaiting_verification')`),
  index('poam_items_owner_status').on(t.ownerId, t.status),
]);

export const poamMilestones = pgTable('poam_milestones', {
  id: serial('id').primaryKey(),
  itemId: integer('item_id').notNull().references(() => poamItems.id),
  seq: integer('seq').notNull(),
  description: text('description').notNull(),
  dueOn: date('due_on').notNull(),
  doneAt: timestamp('done_at', { withTimezone: true, mode: 'date' }),
  doneBy: integer('done_by').references(() => people.id),
  /** The day the owner is next reminded while it is open (null once done); a trigger sets it to the day after a new, moved or reopened due date. */
  nextReminderOn: date('next_reminder_on'),
}, (t) => [
  index('poam_milestones_item').on(t.itemId, t.seq),
  index('poam_milestones_open_due_item').on(t.dueOn, t.itemId).where(sql`done_at IS NULL`),
  index('poam_milestones_next_reminder').on(t.nextReminderOn, t.id).where(sql`done_at IS NULL`),
]);

export const EXTENSION_STATUSES = ['requested', 'approved', 'rejected'] as const;

export const poamExtensions = pgTable('poam_extensions', {
  id: serial('id').primaryKey(),
  ref: ref(),
  itemId: integer('item_id').notNull().references(() => poamItems.id),
  previousDueOn: date('previous_due_on').notNull(),
  requestedDueOn: date('requested_due_on').notNull(),
  reason: text('reason').notNull(),
  requestedBy: integer('requested_by').notNull().references(() => people.id),
  requestedAt: timestamp('requested_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  status: text('status').notNull().default('requested').$type<(typeof EXTENSION_STATUSES)[number]>(),
  decidedBy: integer('decided_by').references(() => people.id),
  decidedAt: timestamp('decided_at', { withTimezone: true, mode: 'date' }),
  decisionNote: text('decision_note'),
}, (t) => [index('poam_extensions_item').on(t.itemId)]);

export const CLOSURE_STATUSES = ['awaiting_verification', 'verified', 'reopened'] as const;

/** The owner's claim that an item is done, with its closure evidence, and the ISMS lead's verification of it. */
export const poamClosures = pgTable('poam_closures', {
  id: serial('id').primaryKey(),
  ref: ref(),
  itemId: integer('item_id').notNull().references(() => poamItems.id),
  text: text('text'),
  link: text('link'),
  fileName: text('file_name'),
  fileSize: bigint('file_size', { mode: 'number' }),
  fileSha256: text('file_sha256'),
  submittedBy: integer('submitted_by').notNull().references(() => people.id),
  submittedAt: timestamp('submitted_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  status: text('status').notNull().default('awaiting_verification').$type<(typeof CLOSURE_STATUSES)[number]>(),
  decidedBy: integer('decided_by').references(() => people.id),
  decidedAt: timestamp('decided_at', { withTimezone: true, mode: 'date' }),
  decisionNote: text('decision_note'),
}, (t) => [
  uniqueIndex('poam_closures_one_awaiting').on(t.itemId).where(sql`${t.status} = 'awaiting_verification'`),
  index('poam_closures_item').on(t.itemId),
]);

/** The bytes of a closure's file, in chunks like evidence files (EVIDENCE_CHUNK_BYTES); append-only. */
export const poamClosureFileChunks = pgTable('poam_closure_file_chunks', {
  closureId: integer('closure_id').notNull().references(() => poamClosures.id),
  seq: integer('seq').notNull(),
  bytes: bytea('bytes').notNull(),
}, (t) => [primaryKey({ columns: [t.closureId, t.seq] })]);

export const FINDING_TYPES = ['major_nc', 'minor_nc', 'observation', 'ofi'] as const;

export const auditFindings = pgTable('audit_findings', {
  id: serial('id').primaryKey(),
  ref: ref(),
  type: text('type').notNull().$type<(typeof FINDING_TYPES)[number]>(),
  clause: text('clause'),
  description: text('description').notNull(),
  rootCause: text('root_cause'),
  correctiveAction: text('corrective_action'),
  status: text('status').notNull().default('open'),
  raisedBy: integer('raised_by').references(() => people.id),
  createdAt: createdAt(),
}, (t) => [
  // The open findings, paged and counted (migration 0026).
  index('audit_findings_open').on(t.id).where(sql`status = 'open'`),
]);

export const managementReviews = pgTable('management_reviews', {
  id: serial('id').primaryKey(),
  ref: ref(),
  heldOn: date('held_on').notNull(),
  /** Attendees as they were: names and roles copied, so later changes to people do not rewrite history. */
  attendees: jsonb('attendees').notNull().$type<{ personId: number; name: string; roles: string[] }[]>(),
  inputs: text('inputs').notNull(),
  createdAt: createdAt(),
  /** The management-body member who chaired it; only they close it. */
  chairId: integer('chair_id').references(() => people.id),
  /** The pack of ISO 27001 9.3.2 inputs it considered, if one was prepared. */
  packId: integer('pack_id').references(() => reviewPacks.id),
  /** Open: attendees, chair and decisions may still be recorded; closed: the record is final. */
  status: text('status').notNull().default('open').$type<(typeof REVIEW_STATUSES)[number]>(),
  closedBy: integer('closed_by').references(() => people.id),
  closedAt: timestamp('closed_at', { withTimezone: true, mode: 'date' }),
});

export const REVIEW_STATUSES = ['open', 'closed'] as const;

/**
 * The ISO 27001 9.3.2 inputs as compiled for a management review: the document and the data of its
 * charts as they were that moment, so the pack can be handed out again unchanged. Append-only.
 */
export const reviewPacks = pgTable('review_packs', {
  id: serial('id').primaryKey(),
  ref: ref(),
  preparedBy: integer('prepared_by').notNull().references(() => people.id),
  preparedAt: timestamp('prepared_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  /** The pack as Markdown. */
  document: text('document').notNull(),
  documentSha256: text('document_sha256').notNull(),
  /** Each chart's name, title and Vega-Lite spec with its data. */
  charts: jsonb('charts').notNull().$type<{ name: string; title: string; spec: Record<string, unknown> }[]>(),
});

/**
 * The narrative of a review pack's figures: a machine-generated draft (with the model and prompt that
 * wrote it) or the ISMS lead's text, each edit a new row based on the one it edits. Append-only.
 */
export const reviewNarratives = pgTable('review_narratives', {
  id: serial('id').primaryKey(),
  ref: ref(),
  packId: integer('pack_id').notNull().references(() => reviewPacks.id),
  text: text('text').notNull(),
  machineGenerated: boolean('machine_generated').notNull(),
  model: text('model'),
  promptName: text('prompt_name'),
  /** Null for a person's text. */
  promptVersion: text('prompt_version'),
  writtenBy: integer('written_by').references(() => people.id),
  basedOn: integer('based_on').references((): AnyPgColumn => reviewNarratives.id),
  createdAt: createdAt(),
}, (t) => [
  index('review_narratives_pack').on(t.packId),
  uniqueIndex('review_narratives_one_draft').on(t.packId).where(sql`${t.machineGenerated}`),
]);

export const reviewDecisions = pgTable('review_decisions', {
  id: serial('id').primaryKey(),
  reviewId: integer('review_id').notNull().references(() => managementReviews.id),
  decision: text('decision').notNull(),
  ownerId: integer('owner_id').references(() => people.id),
  dueOn: date('due_on'),
  status: text('status').notNull().default('open'),
  /** The POA&M item that tracks the action. */
  poamItemId: integer('poam_item_id').references(() => poamItems.id),
});
