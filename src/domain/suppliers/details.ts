import { eq } from 'drizzle-orm';
import { suppliers } from '../../db/schema/index.js';
import type { Db } from '../../db/client.js';
import type { Field } from '../../core/reply.js';
import { TIER_LABELS } from '../declarations/supplier-tier.js';
import { supplierApprovalInWords } from './approval.js';
import { REVIEW_OUTCOME_LABELS, SUBSTITUTABILITY_LABELS, countryInWords, serviceTypeInWords } from './register-of-information.js';
import { notFound } from '../../core/errors.js';

export type Supplier = typeof suppliers.$inferSelect;

/** The supplier by reference, locked when it is about to change. */
export async function findSupplier(db: Db, ref: string, forUpdate = false): Promise<Supplier> {
  const query = db.select().from(suppliers).where(eq(suppliers.ref, ref));
  const [supplier] = forUpdate ? await query.for('update') : await query;
  if (!supplier) throw notFound(`${ref} does not exist; "/isms register suppliers" lists the supplier register.`);
  return supplier;
}

const contractPeriod = (s: Supplier) => (s.contractStart || s.contractEnd
  ? [{ label: 'Contract period', value: `${s.contractStart ?? 'start not recorded'} to ${s.contractEnd ?? 'open-ended'}` }] : []);

/** What the register of information and the ISMS know of a supplier, in words, as the details and the register show it. */
export async function supplierFacts(db: Db, s: Supplier, ownerName: string | null | undefined, timezone: string | null | undefined): Promise<Field[]> {
  const approval = await supplierApprovalInWords(db, s, timezone);
  const review = s.lastReviewOn && s.lastReviewOutcome
    ? `${s.lastReviewOn}: ${REVIEW_OUTCOME_LABELS[s.lastReviewOutcome]}${s.lastReviewNote ? ` (${s.lastReviewNote})` : ''}` : undefined;
  return [
    ...(s.service ? [{ label: 'Service', value: s.service }] : []),
    { label: 'ICT service', value: s.ictService ? 'yes' : 'no' },
    { label: 'Critical or important function', value: s.supportsCriticalFunction ? 'yes' : 'no' },
    { label: 'Data', value: s.dataAccess },
    { label: 'Owner', value: ownerName ?? 'none yet' },
    ...(approval ? [{ label: 'Management-body approval', value: approval }] : []),
    ...(s.contractRef ? [{ label: 'Contract', value: s.contractRef }] : []),
    ...contractPeriod(s),
    ...(s.exitPlan || s.exitStrategy ? [{ label: 'Exit strategy', value: s.exitPlan ?? 'documented' }] : []),
    ...(s.lei ? [{ label: 'LEI', value: s.lei }] : []),
    ...(s.country ? [{ label: 'Country', value: countryInWords(s.country) }] : []),
    ...(s.ictServiceType ? [{ label: 'Type of ICT service', value: serviceTypeInWords(s.ictServiceType) }] : []),
    ...(s.substitutability ? [{ label: 'Substitutability', value: SUBSTITUTABILITY_LABELS[s.substitutability] }] : []),
    ...(s.subcontractors.length ? [{ label: 'Subcontractors', value: s.subcontractors.join(', ') }] : []),
    ...(review ? [{ label: 'Last review', value: review }] : []),
    ...(s.nextReviewOn ? [{ label: 'Next review', value: s.nextReviewOn }] : []),
  ];
}

/** The heading line of a supplier, e.g. "SUP-0001 Acme Cloud: tier 1 (critical), accepted". */
export const supplierHeading = (s: Supplier) => `${s.ref} ${s.name}: ${TIER_LABELS[s.criticalityTier]}, ${s.status}`;
