import { pgTable, serial, text, integer, timestamp } from 'drizzle-orm/pg-core';
import { createdAt, ref } from './columns.js';
import { people } from './people.js';
import { assets } from './scope.js';
export const TREATMENTS = ['mitigate', 'accept', 'transfer', 'avoid'];
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
    treatment: text('treatment').notNull().$type(),
    ownerId: integer('owner_id').references(() => people.id),
    status: text('status').notNull().default('open'),
    createdAt: createdAt(),
});
/** The organisation's risk appetite, as versions: the newest row is in force. */
export const riskAppetite = pgTable('risk_appetite', {
    id: serial('id').primaryKey(),
    maxResidualScore: integer('max_residual_score').notNull(),
    statement: text('statement').notNull(),
    approvedBy: integer('approved_by').references(() => people.id),
    approvedAt: timestamp('approved_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
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
});
//# sourceMappingURL=risks.js.map