import { sql } from 'drizzle-orm';
import { pgTable, serial, text, integer, boolean, timestamp, date, uniqueIndex, primaryKey, index } from 'drizzle-orm/pg-core';
import { createdAt, ref } from './columns.js';
import { people } from './people.js';

export const policies = pgTable('policies', {
  id: serial('id').primaryKey(),
  ref: ref(),
  title: text('title').notNull(),
  ownerId: integer('owner_id').references(() => people.id),
  createdAt: createdAt(),
});

export const policyVersions = pgTable('policy_versions', {
  id: serial('id').primaryKey(),
  policyId: integer('policy_id').notNull().references(() => policies.id),
  /** "1.0", "1.1", "2.0": a major change needs everyone to acknowledge again. */
  version: text('version').notNull(),
  major: integer('major').notNull(),
  minor: integer('minor').notNull(),
  content: text('content').notNull(),
  contentSha256: text('content_sha256').notNull(),
  url: text('url'),
  approvedBy: integer('approved_by').references(() => people.id),
  approvedAt: timestamp('approved_at', { withTimezone: true, mode: 'date' }),
  publishedAt: timestamp('published_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  /** Who published it: an author of the version, so never its approver. */
  publishedBy: integer('published_by').references(() => people.id),
}, (t) => [uniqueIndex('policy_versions_policy_version').on(t.policyId, t.version)]);

export const policyAcknowledgements = pgTable('policy_acknowledgements', {
  id: serial('id').primaryKey(),
  personId: integer('person_id').notNull().references(() => people.id),
  policyVersionId: integer('policy_version_id').notNull().references(() => policyVersions.id),
  contentSha256: text('content_sha256').notNull(),
  acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  channel: text('channel').notNull(),
}, (t) => [
  uniqueIndex('policy_ack_person_version').on(t.personId, t.policyVersionId),
  // The acknowledgements of a version, counted from the index alone (programmeFigures; migration 0032).
  index('policy_ack_version_person').on(t.policyVersionId, t.personId),
]);

export const ackCampaigns = pgTable('ack_campaigns', {
  id: serial('id').primaryKey(),
  ref: ref(),
  policyVersionId: integer('policy_version_id').notNull().references(() => policyVersions.id),
  /** "all", "role:<role>" or "people" (then the audience table lists them). */
  audience: text('audience').notNull(),
  startedBy: integer('started_by').notNull().references(() => people.id),
  startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  dueOn: date('due_on'),
});

export const ackCampaignAudience = pgTable('ack_campaign_audience', {
  campaignId: integer('campaign_id').notNull().references(() => ackCampaigns.id),
  personId: integer('person_id').notNull().references(() => people.id),
}, (t) => [uniqueIndex('ack_campaign_audience_pk').on(t.campaignId, t.personId)]);

export const trainingCourses = pgTable('training_courses', {
  id: serial('id').primaryKey(),
  code: text('code').notNull().unique(),
  title: text('title').notNull(),
  /** Role whose members must complete it; null means everyone in scope. */
  audienceRole: text('audience_role'),
  validityMonths: integer('validity_months').notNull().default(12),
  /** e.g. "NIS2 Art. 20(2); DORA Art. 5(4)" for management-body training. */
  legalBasis: text('legal_basis'),
  createdAt: createdAt(),
});

export const trainingAttestations = pgTable('training_attestations', {
  id: serial('id').primaryKey(),
  personId: integer('person_id').notNull().references(() => people.id),
  courseId: integer('course_id').notNull().references(() => trainingCourses.id),
  completedOn: date('completed_on').notNull(),
  expiresOn: date('expires_on').notNull(),
  evidenceRef: text('evidence_ref'),
  attestedAt: timestamp('attested_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  channel: text('channel').notNull(),
}, (t) => [
  uniqueIndex('training_attestations_person_course_day').on(t.personId, t.courseId, t.completedOn),
  index('training_attestations_attested_at').on(t.attestedAt),
]);

/**
 * The day the training-reminder sweep next looks at each obligation (a person a course applies to), kept
 * by triggers (migration 0028): '-infinity' once anything about it changes, 'infinity' when nothing more is due.
 */
export const trainingReminders = pgTable('training_reminders', {
  personId: integer('person_id').notNull().references(() => people.id, { onDelete: 'cascade' }),
  courseId: integer('course_id').notNull().references(() => trainingCourses.id, { onDelete: 'cascade' }),
  nextOn: date('next_on').notNull().default(sql`'-infinity'`),
}, (t) => [primaryKey({ columns: [t.personId, t.courseId] }), index('training_reminders_next_on').on(t.nextOn, t.personId, t.courseId)]);

/**
 * Where each person stands on each course that applies to them or that they attested, kept by triggers
 * (migration 0030): whether it applies (courseAppliesTo), the expiry of the latest attestation (by
 * completion day, then id; null when never attested) and the furthest expiry of any of them.
 */
export const trainingStanding = pgTable('training_standing', {
  personId: integer('person_id').notNull().references(() => people.id, { onDelete: 'cascade' }),
  courseId: integer('course_id').notNull().references(() => trainingCourses.id, { onDelete: 'cascade' }),
  applies: boolean('applies').notNull().default(false),
  expiresOn: date('expires_on'),
  furthestOn: date('furthest_on'),
}, (t) => [
  primaryKey({ columns: [t.personId, t.courseId] }),
  index('training_standing_course').on(t.courseId, t.expiresOn).where(sql`applies`),
  index('training_standing_furthest').on(t.furthestOn).where(sql`furthest_on is not null`),
]);

/** The reminder settings the remembered days were worked out with (one row). */
export const trainingReminderSettings = pgTable('training_reminder_settings', {
  settings: text('settings').primaryKey(),
});
