import { pgTable, serial, text, integer, boolean, primaryKey, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt } from './columns.js';
import { people } from './people.js';
export const EVIDENCE_FREQUENCIES = ['monthly', 'quarterly', 'semiannual', 'yearly', 'on_demand'];
/** The one internal control set; frameworks attach through mappings. */
export const controls = pgTable('controls', {
    id: serial('id').primaryKey(),
    /** Organisation's own control id, e.g. "CTL-AC-01". */
    code: text('code').notNull().unique(),
    title: text('title').notNull(),
    description: text('description'),
    ownerId: integer('owner_id').references(() => people.id),
    /** Besides the ISMS lead, who may accept or send back this control's evidence; never its owner. */
    evidenceReviewerId: integer('evidence_reviewer_id').references(() => people.id),
    evidenceFrequency: text('evidence_frequency').notNull().default('quarterly').$type(),
    applicable: boolean('applicable').notNull().default(true),
    justification: text('justification'),
    createdAt: createdAt(),
});
export const frameworkRequirements = pgTable('framework_requirements', {
    id: serial('id').primaryKey(),
    framework: text('framework').notNull(),
    reference: text('reference').notNull(),
    title: text('title'),
    parentReference: text('parent_reference'),
}, (t) => [uniqueIndex('framework_requirements_fw_ref').on(t.framework, t.reference)]);
export const controlMappings = pgTable('control_mappings', {
    controlId: integer('control_id').notNull().references(() => controls.id),
    requirementId: integer('requirement_id').notNull().references(() => frameworkRequirements.id),
}, (t) => [primaryKey({ columns: [t.controlId, t.requirementId] })]);
/** Published crosswalks between framework requirements (NIST OLIR, ENISA); "intersect" means related. */
export const requirementCrosswalks = pgTable('requirement_crosswalks', {
    id: serial('id').primaryKey(),
    sourceFramework: text('source_framework').notNull(),
    sourceReference: text('source_reference').notNull(),
    targetFramework: text('target_framework').notNull(),
    targetReference: text('target_reference').notNull(),
    relationship: text('relationship').notNull(),
}, (t) => [uniqueIndex('requirement_crosswalks_pair').on(t.sourceFramework, t.sourceReference, t.targetFramework, t.targetReference)]);
//# sourceMappingURL=controls.js.map