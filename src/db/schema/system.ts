import { pgTable, bigserial, boolean, text, integer, timestamp, jsonb, serial, uniqueIndex, index } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

/**
 * Append-only audit trail. Each row holds the SHA-256 of the previous row, so a change to any
 * row breaks the chain from there on; a trigger refuses UPDATE and DELETE.
 */
export const auditEvents = pgTable('audit_events', {
  seq: bigserial('seq', { mode: 'number' }).primaryKey(),
  at: timestamp('at', { withTimezone: true, mode: 'string' }).notNull(),
  actorId: integer('actor_id'),
  actorLabel: text('actor_label').notNull(),
  action: text('action').notNull(),
  entity: text('entity').notNull(),
  entityRef: text('entity_ref').notNull(),
  before: jsonb('before'),
  after: jsonb('after'),
  /** SHA-256 of the canonical JSON of `after`: the register row's audited fields as written. */
  rowHash: text('row_hash'),
  prevHash: text('prev_hash').notNull(),
  hash: text('hash').notNull(),
}, (t) => [index('audit_events_entity_seq').on(t.entity, t.seq)]);

/** Gapless per-kind counters for register references (AI-0001, SUP-0001, ...). */
export const refCounters = pgTable('ref_counters', {
  prefix: text('prefix').primaryKey(),
  last: integer('last').notNull().default(0),
});

/**
 * Platform deliveries already handled (Slack event ids, Teams activity ids, button clicks), kept for
 * the retention window (ISMS_PROCESSED_EVENTS_RETENTION_HOURS) in which a platform may deliver them again.
 */
export const processedEvents = pgTable('processed_events', {
  key: text('key').primaryKey(),
  reply: jsonb('reply'),
  at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
}, (t) => [index('processed_events_at').on(t.at)]);

export const OUTBOX_STATUSES = ['queued', 'sending', 'sent', 'failed'] as const;

/** Every message the bot sends on its own initiative is written here first, in the causing transaction. */
export const outbox = pgTable('outbox', {
  id: serial('id').primaryKey(),
  idempotencyKey: text('idempotency_key').notNull(),
  recipientId: integer('recipient_id').notNull(),
  kind: text('kind').notNull(),
  reply: jsonb('reply').notNull(),
  status: text('status').notNull().default('queued').$type<(typeof OUTBOX_STATUSES)[number]>(),
  notBefore: timestamp('not_before', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  campaignId: integer('campaign_id'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  sentAt: timestamp('sent_at', { withTimezone: true, mode: 'date' }),
  /** The platform the last attempt went through ("slack", "teams", ...), for pacing and `/isms nudges`. */
  platform: text('platform'),
  /** When a worker last claimed the row; pacing counts claims per platform and conversation. */
  claimedAt: timestamp('claimed_at', { withTimezone: true, mode: 'date' }),
  /** A row left in 'sending' past this moment (its worker died) is claimed again. */
  leaseUntil: timestamp('lease_until', { withTimezone: true, mode: 'date' }),
  /**
   * Set just before the platform is called, cleared when it answers with an error: a row found still
   * 'sending' with it set may have reached the person, on a platform that cannot be asked (Teams).
   */
  sendStartedAt: timestamp('send_started_at', { withTimezone: true, mode: 'date' }),
  /** Sent again after an interruption, with a note saying so, on a platform that cannot tell whether the first attempt arrived. */
  possibleRepeat: boolean('possible_repeat').notNull().default(false),
}, (t) => [
  uniqueIndex('outbox_idempotency').on(t.idempotencyKey),
  index('outbox_due').on(t.status, t.notBefore),
  index('outbox_recipient').on(t.recipientId, t.status),
  index('outbox_platform_claimed').on(t.platform, t.claimedAt),
  index('outbox_campaign_status').on(t.campaignId, t.status).where(sql`campaign_id IS NOT NULL`),
  index('outbox_failed').on(t.id).where(sql`status = 'failed'`),
  index('outbox_possible_repeat').on(t.id).where(sql`possible_repeat`),
]);

/** Each platform's pace, shared by every replica (see src/core/pacing.ts): its next even slot and any workspace-wide pause. */
export const deliveryPace = pgTable('delivery_pace', {
  platform: text('platform').primaryKey(),
  tat: timestamp('tat', { withTimezone: true, mode: 'date' }).notNull(),
  pausedUntil: timestamp('paused_until', { withTimezone: true, mode: 'date' }),
});

/**
 * Which register item a message the bot sent is about (Slack channel + ts, Teams conversation +
 * activity id), so a reply in its thread, a file for instance, lands on the right item.
 */
export const messageLinks = pgTable('message_links', {
  id: serial('id').primaryKey(),
  platform: text('platform').notNull(),
  conversationId: text('conversation_id').notNull(),
  messageId: text('message_id').notNull(),
  recipientId: integer('recipient_id'),
  subjectRef: text('subject_ref').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
}, (t) => [uniqueIndex('message_links_message').on(t.platform, t.conversationId, t.messageId)]);
