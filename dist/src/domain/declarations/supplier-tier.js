export const touchesPersonalOrCustomerData = (data) => data === 'personal' || data === 'customer' || data === 'personal_and_customer';
/**
 * The criticality tier of a third party from the declaration answers:
 * tier 1 when an ICT service or personal/customer data meets a critical or important function,
 * tier 2 for any ICT service or personal/customer data, tier 3 otherwise.
 */
export function supplierTier({ ict, critical, data }) {
    const sensitiveData = touchesPersonalOrCustomerData(data);
    if (critical && (ict || sensitiveData))
        return 'tier1_critical';
    if (ict || sensitiveData)
        return 'tier2_important';
    return 'tier3_standard';
}
export const TIER_LABELS = {
    tier1_critical: 'tier 1 (critical)',
    tier2_important: 'tier 2 (important)',
    tier3_standard: 'tier 3 (standard)',
};
//# sourceMappingURL=supplier-tier.js.map