import { pgTable, serial, text, integer, timestamp, primaryKey, uniqueIndex, index, type AnyPgColumn } from 'drizzle-orm/pg-core';
import { createdAt, ref } from './columns.js';
import { people } from './people.js';
import { assets } from './scope.js';
import { controls } from './controls.js';
import { managementApprovals } from './approvals.js';

export const TREATMENTS = ['mitigate', 'accept', 'transfer', 'avoid'] as const;

export const risks = pgTable('risks', {
  id: serial('id').primaryKey(),
  ref: ref(),
  title: text('title').notNull(),
  description: text('description'),
  assetId: integer('asset_id').references(() => assets.id),
  /** Free-text scope link when the risk is not about one asset. */
  scopeArea: text('scope_area'),
  threatRef: text('threat_ref'),
  likelihood: integer('likelihood').notNull(),
  impact: integer('impact').notNull(),
  inherentScore: integer('inherent_score').notNull(),
  residualScore: integer('residual_score').notNull(),
  treatment: text('treatment').notNull().$type<(typeof TREATMENTS)[number]>(),
  ownerId: integer('owner_id').references(() => people.id),
  status: text('status').notNull().default('open'),
  createdAt: createdAt(),
}, (t) => [
  // An owner's own risks, paged and counted (migration 0026).
  index('risks_owner').on(t.ownerId, t.id),
]);

/**
 * The organisation's risk appetite, as versions: the newest approved row is in force. A version
 * proposed in chat has no approval time until the management body approves it.
 */
export const riskAppetite = pgTable('risk_appetite', {
  id: serial('id').primaryKey(),
  maxResidualScore: integer('max_residual_score').notNull(),
  statement: text('statement').notNull(),
  approvedBy: integer('approved_by').references(() => people.id),
  approvedAt: timestamp('approved_at', { withTimezone: true, mode: 'date' }).defaultNow(),
  proposedBy: integer('proposed_by').references(() => people.id),
  proposedAt: timestamp('proposed_at', { withTimezone: true, mode: 'date' }),
});

/** Append-only: each acceptance keeps the residual score as it was when decided. */
export const riskAcceptances = pgTable('risk_acceptances', {
  id: serial('id').primaryKey(),
  riskId: integer('risk_id').notNull().references(() => risks.id),
  residualScoreAtDecision: integer('residual_score_at_decision').notNull(),
  decision: text('decision').notNull(),
  rationale: text('rationale').notNull(),
  decidedBy: integer('decided_by').notNull().references(() => people.id),
  decidedAt: timestamp('decided_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  expiresOn: timestamp('expires_on', { withTimezone: true, mode: 'date' }),
  /** The earlier acceptance of the same risk this one replaces; each is replaced at most once. */
  supersedes: integer('supersedes').references((): AnyPgColumn => riskAcceptances.id),
  /** The management body's approval this acceptance carries out (above the risk appetite). */
  approvalId: integer('approval_id').references(() => managementApprovals.id),
}, (t) => [uniqueIndex('risk_acceptances_supersedes_once').on(t.supersedes)]);

/** Append-only: what someone asks the management body to accept above the appetite, until it decides. */
export const riskAcceptanceProposals = pgTable('risk_acceptance_proposals', {
  id: serial('id').primaryKey(),
  riskId: integer('risk_id').notNull().references(() => risks.id),
  rationale: text('rationale').notNull(),
  expiresOn: timestamp('expires_on', { withTimezone: true, mode: 'date' }).notNull(),
  proposedBy: integer('proposed_by').notNull().references(() => people.id),
  proposedAt: timestamp('proposed_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/** Append-only: every (re)assessment of a risk's scores, with the scores before (none for the first) and after. */
export const riskAssessments = pgTable('risk_assessments', {
  id: serial('id').primaryKey(),
  riskId: integer('risk_id').notNull().references(() => risks.id),
  assessedBy: integer('assessed_by').notNull().references(() => people.id),
  assessedAt: timestamp('assessed_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  likelihoodBefore: integer('likelihood_before'),
  impactBefore: integer('impact_before'),
  inherentScoreBefore: integer('inherent_score_before'),
  residualScoreBefore: integer('residual_score_before'),
  likelihoodAfter: integer('likelihood_after').notNull(),
  impactAfter: integer('impact_after').notNull(),
  inherentScoreAfter: integer('inherent_score_after').notNull(),
  residualScoreAfter: integer('residual_score_after').notNull(),
  rationale: text('rationale').notNull(),
});

/** The assets a risk is about. */
export const riskAssets = pgTable('risk_assets', {
  riskId: integer('risk_id').notNull().references(() => risks.id),
  assetId: integer('asset_id').notNull().references(() => assets.id),
}, (t) => [primaryKey({ columns: [t.riskId, t.assetId] })]);

/** The controls that treat a risk. */
export const riskControls = pgTable('risk_controls', {
  riskId: integer('risk_id').notNull().references(() => risks.id),
  controlId: integer('control_id').notNull().references(() => controls.id),
}, (t) => [primaryKey({ columns: [t.riskId, t.controlId] })]);
