export const KIND_LABELS = {
    new_system: 'new system',
    retired_system: 'retired system',
    new_supplier: 'new supplier',
    new_ai_usage: 'new AI use',
    new_geography: 'new geography',
    new_regulatory_regime: 'new regulatory regime',
};
//# sourceMappingURL=labels.js.map