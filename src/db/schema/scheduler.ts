import { pgTable, text, integer, timestamp, jsonb, primaryKey, index } from 'drizzle-orm/pg-core';
import { outbox } from './system.js';

/** One row per scheduled fire that ran: the unique (job, fire_at) makes each fire run once across replicas. */
export const schedulerRuns = pgTable('scheduler_runs', {
  job: text('job').notNull(),
  fireAt: timestamp('fire_at', { withTimezone: true, mode: 'date' }).notNull(),
  ranAt: timestamp('ran_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  summary: jsonb('summary'),
}, (t) => [primaryKey({ columns: [t.job, t.fireAt] })]);

/**
 * Each nudge about one item, to one person, for one cycle and ladder step, with the grouped outbox
 * message that carried it: a key here is never nudged twice.
 */
export const nudgeLog = pgTable('nudge_log', {
  key: text('key').primaryKey(),
  outboxId: integer('outbox_id').notNull().references(() => outbox.id),
  itemRef: text('item_ref').notNull(),
  recipientId: integer('recipient_id').notNull(),
  step: integer('step'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
}, (t) => [index('nudge_log_item').on(t.itemRef), index('nudge_log_recipient').on(t.recipientId)]);

/**
 * Nudges a scheduler run decided on, committed with the change that caused them, until the run's end
 * groups each person's into one outbox message (see NudgeBatch.stage and sendNudges).
 */
export const schedulerNudges = pgTable('scheduler_nudges', {
  key: text('key').primaryKey(),
  recipientId: integer('recipient_id').notNull(),
  nudge: jsonb('nudge').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
}, (t) => [index('scheduler_nudges_recipient').on(t.recipientId)]);
