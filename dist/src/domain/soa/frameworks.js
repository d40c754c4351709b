import { z } from 'zod';
import { invalid } from '../../core/errors.js';
import { didYouMean } from '../../core/suggest.js';
import { FRAMEWORKS, FRAMEWORK_IDS } from '../../refdata/frameworks.js';
/**
 * Which of a framework's requirements a statement of applicability lists: the ones an organisation decides
 * and implements, not the headings above them (CSF functions and categories) nor the clauses every
 * certified organisation must meet anyway (ISO 27001 clauses 4-10).
 */
const ROWS = {
    'ISO27001:2022': (r) => r.reference.startsWith('A.'),
    'ISO42001:2023': (r) => r.reference.startsWith('A.'),
    'NIST-CSF-2.0': (r) => r.reference.includes('-'),
    NIS2: (r) => /^21\.2\.[a-j]$/.test(r.reference),
    // The articles that oblige a financial entity: Chapters II-VI, without the oversight of critical providers (Art. 31-44).
    DORA: (r) => { const n = Number(r.reference); return (n >= 5 && n <= 30) || n === 45; },
};
export const isSoaRequirement = (framework, r) => ROWS[framework]?.(r) ?? true;
/** Short names people type for a framework, besides its identifier in any letter case. */
const ALIASES = {
    iso27001: 'ISO27001:2022', 'iso27001-2022': 'ISO27001:2022', 'iso-27001': 'ISO27001:2022',
    iso42001: 'ISO42001:2023', csf: 'NIST-CSF-2.0', 'nist-csf': 'NIST-CSF-2.0', 'csf-2.0': 'NIST-CSF-2.0',
    'nis2-ir': 'NIS2-IR-2024-2690', 'sp800-53': 'SP800-53r5', soc2: 'SOC2',
};
/** The framework a person named, or a refusal that lists them and suggests the one most likely meant. */
export function resolveFramework(given) {
    const key = given.trim().toLowerCase();
    const found = FRAMEWORK_IDS.find((f) => f.toLowerCase() === key) ?? ALIASES[key];
    if (found)
        return found;
    const near = didYouMean(key, [...FRAMEWORK_IDS, ...Object.keys(ALIASES)]);
    const meant = near ? (FRAMEWORK_IDS.find((f) => f === near) ?? ALIASES[near]) : undefined;
    throw invalid(`There is no framework "${given}"${meant ? `. Did you mean ${meant} (${FRAMEWORKS[meant].name})?` : '.'}`, `The frameworks are ${FRAMEWORK_IDS.join(', ')}.`).on('framework');
}
export const frameworkInput = z.object({
    framework: z.string({ required_error: `name a framework: ${FRAMEWORK_IDS.join(', ')}` }).trim().min(1, `name a framework: ${FRAMEWORK_IDS.join(', ')}`)
        .describe('The framework, e.g. ISO27001:2022, NIST-CSF-2.0, NIS2 or DORA'),
});
export const frameworkArg = { framework: { positional: true, options: FRAMEWORK_IDS.map((f) => ({ value: f, label: FRAMEWORKS[f].name })) } };
//# sourceMappingURL=frameworks.js.map