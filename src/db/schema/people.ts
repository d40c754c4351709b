import { pgTable, serial, text, boolean, integer, timestamp, uniqueIndex, index } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { createdAt } from './columns.js';

export const ROLES = ['management_body', 'isms_lead', 'control_owner', 'asset_owner', 'staff', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export const people = pgTable('people', {
  id: serial('id').primaryKey(),
  name: text('name').notNull(),
  email: text('email').notNull().unique(),
  slackUserId: text('slack_user_id').unique(),
  teamsAadObjectId: text('teams_aad_object_id').unique(),
  roles: text('roles').array().notNull().$type<Role[]>().default([]),
  managerId: integer('manager_id'),
  timezone: text('timezone'),
  inScope: boolean('in_scope').notNull().default(true),
  /** Nudges wait until this moment (leave); null means active. */
  pausedUntil: timestamp('paused_until', { withTimezone: true, mode: 'date' }),
  createdAt: createdAt(),
}, (t) => [
  index('people_paused_until').on(t.pausedUntil).where(sql`paused_until IS NOT NULL`),
  index('people_manager').on(t.managerId),
  index('people_roles').using('gin', t.roles),
  // A campaign's audience in name order as every database orders it (nameKey), seeked a page at a time (migration 0031).
  index('people_name_key').on(sql`lower(${t.name} collate "C")`, t.id),
  // The people outside ISMS scope, whose acknowledgements programmeFigures takes off its count (migration 0032).
  index('people_out_of_scope').on(t.id).where(sql`NOT in_scope`),
]);

/** Where a person can be reached proactively (Teams conversation reference, Slack DM channel). */
export const chatAddresses = pgTable('chat_addresses', {
  id: serial('id').primaryKey(),
  personId: integer('person_id').notNull().references(() => people.id),
  platform: text('platform').notNull(),
  address: text('address').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
}, (t) => [uniqueIndex('chat_addresses_person_platform').on(t.personId, t.platform)]);

/**
 * People the delivery worker could reach on no chat platform, and why (no Slack account for their
 * email, not in any team where the Teams app is installed, ...): shown to the ISMS lead in
 * `/isms nudges` and the weekly digest. Operational state like the outbox, not register data.
 */
export const unreachablePeople = pgTable('unreachable_people', {
  personId: integer('person_id').primaryKey().references(() => people.id),
  reason: text('reason').notNull(),
  /** When the worker first found them unreachable: their nudges fail once this is older than the retry window. */
  since: timestamp('since', { withTimezone: true, mode: 'date' }).notNull(),
  checkedAt: timestamp('checked_at', { withTimezone: true, mode: 'date' }).notNull(),
});
