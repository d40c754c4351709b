import { sql } from 'drizzle-orm';
import { pgTable, serial, text, integer, boolean, date, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, ref } from './columns.js';
import { people } from './people.js';
export const CRITICALITY_TIERS = ['tier1_critical', 'tier2_important', 'tier3_standard'];
export const DATA_ACCESS = ['none', 'internal', 'personal', 'customer', 'personal_and_customer'];
/** The register of information's substitutability scale: easily, medium complexity, highly complex, not substitutable. */
export const SUBSTITUTABILITY = ['easy', 'medium', 'difficult', 'impossible'];
export const SUPPLIER_REVIEW_OUTCOMES = ['continue', 'continue_with_actions', 'exit'];
/** Minimum fields of a DORA Art. 28 register of information. */
export const suppliers = pgTable('suppliers', {
    id: serial('id').primaryKey(),
    ref: ref(),
    name: text('name').notNull(),
    service: text('service'),
    ictService: boolean('ict_service').notNull().default(false),
    supportsCriticalFunction: boolean('supports_critical_function').notNull().default(false),
    dataAccess: text('data_access').notNull().default('none').$type(),
    criticalityTier: text('criticality_tier').notNull().default('tier3_standard').$type(),
    contractRef: text('contract_ref'),
    exitStrategy: boolean('exit_strategy').notNull().default(false),
    ownerId: integer('owner_id').references(() => people.id),
    nextReviewOn: date('next_review_on'),
    status: text('status').notNull().default('declared'),
    declaredBy: integer('declared_by').references(() => people.id),
    createdAt: createdAt(),
    contractStart: date('contract_start'),
    contractEnd: date('contract_end'),
    /** Where the exit strategy is documented, or its summary; exit_strategy says whether there is one. */
    exitPlan: text('exit_plan'),
    lastReviewOn: date('last_review_on'),
    lastReviewOutcome: text('last_review_outcome').$type(),
    lastReviewNote: text('last_review_note'),
    /** DORA register of information: legal entity identifier (ISO 17442). */
    lei: text('lei'),
    /** ISO 3166-1 alpha-2 country of the supplier's head office. */
    country: text('country'),
    /** One of the ICT service types of the register of information (ITS (EU) 2024/2956, Annex III), S01…S19. */
    ictServiceType: text('ict_service_type'),
    substitutability: text('substitutability').$type(),
    subcontractors: text('subcontractors').array().notNull().default([]),
}, (t) => [
    // One live entry per supplier name, whatever the case; a rejected one may be declared again.
    uniqueIndex('suppliers_name_live').on(sql `lower(${t.name})`).where(sql `${t.status} <> 'rejected'`),
]);
/**
 * "restricted" allows use only under recorded conditions; "awaiting_management_approval" is a lead's
 * approval of a tool that sees personal or customer data, which the management body still has to confirm.
 */
export const AI_STATUSES = ['declared', 'under_review', 'awaiting_management_approval', 'approved', 'restricted', 'prohibited', 'duplicate'];
export const AI_DATA_CATEGORIES = ['public', 'internal', 'confidential', 'personal', 'customer'];
export const aiTools = pgTable('ai_tools', {
    id: serial('id').primaryKey(),
    ref: ref(),
    name: text('name').notNull(),
    vendor: text('vendor'),
    purpose: text('purpose'),
    dataCategories: text('data_categories').array().notNull().default([]),
    userCount: integer('user_count'),
    status: text('status').notNull().default('declared').$type(),
    declaredBy: integer('declared_by').notNull().references(() => people.id),
    createdAt: createdAt(),
    /** Conditions of use of an approved or restricted tool. */
    conditions: text('conditions'),
    /** Why a tool is prohibited. */
    reason: text('reason'),
    /** The entry a duplicate was closed in favour of, e.g. "AI-0001". */
    duplicateOf: text('duplicate_of'),
    decidedBy: integer('decided_by').references(() => people.id),
    decidedAt: timestamp('decided_at', { withTimezone: true, mode: 'date' }),
    managementApprovedBy: integer('management_approved_by').references(() => people.id),
    managementApprovedAt: timestamp('management_approved_at', { withTimezone: true, mode: 'date' }),
    /** The supplier that provides the tool, from the supplier register. */
    supplierId: integer('supplier_id').references(() => suppliers.id),
    /** ISO/IEC 42001:2023 Annex A controls that apply to its use, e.g. A.6.2.2. */
    iso42001Controls: text('iso42001_controls').array().notNull().default([]),
});
//# sourceMappingURL=suppliers.js.map