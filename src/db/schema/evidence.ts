import { sql } from 'drizzle-orm';
import { pgTable, serial, text, integer, timestamp, date, customType, bigint, boolean, uniqueIndex, primaryKey, index } from 'drizzle-orm/pg-core';
import { ref } from './columns.js';
import { people } from './people.js';
import { controls } from './controls.js';

export const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (v) => Buffer.from(v),
});

export const EVIDENCE_REQUEST_STATUSES = ['open', 'submitted', 'accepted', 'cancelled'] as const;

export const evidenceRequests = pgTable('evidence_requests', {
  id: serial('id').primaryKey(),
  ref: ref(),
  controlId: integer('control_id').notNull().references(() => controls.id),
  ownerId: integer('owner_id').notNull().references(() => people.id),
  dueOn: date('due_on').notNull(),
  /** The evidence period this request covers, e.g. "2026-Q4": one request per control and cycle. */
  cycle: text('cycle').notNull(),
  status: text('status').notNull().default('open').$type<(typeof EVIDENCE_REQUEST_STATUSES)[number]>(),
  escalationLevel: integer('escalation_level').notNull().default(0),
  /** The day it last moved up its ladder (migration 0029): it moves at most one rung a day, however often the sweep runs. */
  escalatedOn: date('escalated_on'),
  requestedBy: integer('requested_by').references(() => people.id),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
}, (t) => [
  uniqueIndex('evidence_requests_control_cycle').on(t.controlId, t.cycle),
  index('evidence_requests_open_ladder').on(t.escalationLevel, t.dueOn).where(sql`status = 'open'`),
  index('evidence_requests_open_due').on(t.dueOn, t.id).where(sql`status = 'open'`),
  // The evidence review queue's pages and count (migration 0025).
  index('evidence_requests_submitted_due').on(t.dueOn, t.id).where(sql`status = 'submitted'`),
  index('evidence_requests_owner_status').on(t.ownerId, t.status),
  index('evidence_requests_cycle').on(t.cycle, t.controlId),
]);

/** Every submission is a new row (a revision); nothing is overwritten. */
export const evidenceItems = pgTable('evidence_items', {
  id: serial('id').primaryKey(),
  ref: ref(),
  requestId: integer('request_id').references(() => evidenceRequests.id),
  controlId: integer('control_id').notNull().references(() => controls.id),
  revision: integer('revision').notNull(),
  submittedBy: integer('submitted_by').notNull().references(() => people.id),
  submittedAt: timestamp('submitted_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  effectiveOn: date('effective_on').notNull(),
  text: text('text'),
  link: text('link'),
  fileName: text('file_name'),
  fileSize: bigint('file_size', { mode: 'number' }),
  fileSha256: text('file_sha256'),
  channel: text('channel').notNull(),
}, (t) => [
  // A request's or a control's revisions, newest first, paged and counted (migration 0026).
  index('evidence_items_request_id').on(t.requestId, t.id),
  index('evidence_items_control_id').on(t.controlId, t.id),
  index('evidence_items_submitted_at').on(t.submittedAt),
]);

/**
 * The bytes of an evidence item's file, in slices of EVIDENCE_CHUNK_BYTES numbered from 0, so a file
 * is written and read a slice at a time and a listing of evidence_items never carries file bytes.
 * Append-only, like the revisions they belong to.
 */
export const evidenceFileChunks = pgTable('evidence_file_chunks', {
  itemId: integer('item_id').notNull().references(() => evidenceItems.id),
  seq: integer('seq').notNull(),
  bytes: bytea('bytes').notNull(),
}, (t) => [primaryKey({ columns: [t.itemId, t.seq] })]);

/**
 * A file is written in chunks of this many bytes, the last one shorter. Each chunk is copied about three
 * times on its way to the database (filled, then the driver's parameter and message buffers): 256 KiB keeps
 * that under the file's own size from 1 MB on. Files stored before hold 1 MiB chunks (as migration 0006
 * made them): a file is read chunk by chunk whatever their size.
 */
export const EVIDENCE_CHUNK_BYTES = 256 * 1024;

export const EVIDENCE_SUMMARY_MATCHES = ['yes', 'partly', 'no', 'unclear'] as const;

/**
 * A machine-generated summary of an evidence item, stored beside it (the item itself never changes):
 * what the text appears to show and whether it matches what was asked, with the prompt that produced
 * it. Append-only; a reviewer sees it marked as machine-generated and not verified.
 */
export const evidenceSummaries = pgTable('evidence_summaries', {
  id: serial('id').primaryKey(),
  evidenceItemId: integer('evidence_item_id').notNull().references(() => evidenceItems.id),
  summary: text('summary').notNull(),
  matches: text('matches').notNull().$type<(typeof EVIDENCE_SUMMARY_MATCHES)[number]>(),
  reason: text('reason').notNull(),
  model: text('model').notNull(),
  promptName: text('prompt_name').notNull(),
  promptVersion: text('prompt_version').notNull(),
  machineGenerated: boolean('machine_generated').notNull().default(true),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
}, (t) => [uniqueIndex('evidence_summaries_evidence_item').on(t.evidenceItemId)]);
