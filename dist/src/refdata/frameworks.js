/** The frameworks a control can be mapped to, by the identifier the register stores. */
export const FRAMEWORKS = {
    'ISO27001:2022': { name: 'ISO/IEC 27001:2022', example: 'A.5.1 or 6.1.2' },
    'ISO42001:2023': { name: 'ISO/IEC 42001:2023', example: 'A.2.2 or 6.1' },
    'NIST-CSF-2.0': { name: 'NIST CSF 2.0', example: 'GV.OC-01' },
    NIS2: { name: 'NIS2 Directive (EU) 2022/2555, Art. 21', example: '21.2.d for Art. 21(2)(d)' },
    'NIS2-IR-2024-2690': { name: 'NIS2 Implementing Regulation (EU) 2024/2690, Annex', example: '6.10.1' },
    DORA: { name: 'DORA Regulation (EU) 2022/2554', example: '28 for Art. 28' },
    'SP800-53r5': { name: 'NIST SP 800-53 Rev. 5', example: 'AC-2(1)' },
    SOC2: { name: 'SOC 2 Trust Services Criteria', example: 'CC6.1' },
};
export const FRAMEWORK_IDS = Object.keys(FRAMEWORKS);
/** Frameworks whose requirements ship in reference/; the rest (SOC 2) come from the organisation's own import. */
export const SHIPPED_FRAMEWORKS = FRAMEWORK_IDS.filter((f) => f !== 'SOC2');
/**
 * Brings the ways people write a requirement to the form the register stores:
 * "Art. 21(2)(d)" -> "21.2.d", "Article 28" -> "28", "gv.oc-01" -> "GV.OC-01", "ac-2.1" -> "AC-2(1)".
 */
export function normaliseReference(framework, raw) {
    const ref = raw.trim();
    switch (framework) {
        case 'NIS2': {
            const m = /^(?:art(?:icle)?\.?\s*)?(\d+)\s*\((\d+)\)\s*(?:\(?\s*(?:point\s*)?\(?([a-z])\)?)?$/i.exec(ref);
            return m ? [m[1], m[2], m[3]?.toLowerCase()].filter(Boolean).join('.') : ref.toLowerCase();
        }
        case 'DORA':
            return ref.replace(/^art(?:icle)?\.?\s*/i, '');
        case 'ISO27001:2022':
        case 'ISO42001:2023':
        case 'NIST-CSF-2.0':
            return ref.toUpperCase();
        case 'SP800-53r5': {
            const m = /^([a-z]{2})-(\d+)(?:[.(](\d+)\)?)?$/i.exec(ref);
            return m ? `${m[1].toUpperCase()}-${m[2]}${m[3] ? `(${m[3]})` : ''}` : ref.toUpperCase();
        }
        default:
            return ref;
    }
}
//# sourceMappingURL=frameworks.js.map