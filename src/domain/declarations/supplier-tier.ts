import type { CRITICALITY_TIERS, DATA_ACCESS } from '../../db/schema/index.js';

export type CriticalityTier = (typeof CRITICALITY_TIERS)[number];
export type DataAccess = (typeof DATA_ACCESS)[number];

export interface SupplierAnswers {
  /** Provides an ICT service (DORA Art. 3(21)). */
  ict: boolean;
  /** Supports a critical or important function. */
  critical: boolean;
  data: DataAccess;
}

export const touchesPersonalOrCustomerData = (data: DataAccess) =>
  data === 'personal' || data === 'customer' || data === 'personal_and_customer';

/**
 * The criticality tier of a third party from the declaration answers:
 * tier 1 when an ICT service or personal/customer data meets a critical or important function,
 * tier 2 for any ICT service or personal/customer data, tier 3 otherwise.
 */
export function supplierTier({ ict, critical, data }: SupplierAnswers): CriticalityTier {
  const sensitiveData = touchesPersonalOrCustomerData(data);
  if (critical && (ict || sensitiveData)) return 'tier1_critical';
  if (ict || sensitiveData) return 'tier2_important';
  return 'tier3_standard';
}

export const TIER_LABELS: Record<CriticalityTier, string> = {
  tier1_critical: 'tier 1 (critical)',
  tier2_important: 'tier 2 (important)',
  tier3_standard: 'tier 3 (standard)',
};
