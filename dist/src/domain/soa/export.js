import { col } from '../exports/artefact.js';
import { isoDay } from '../../core/time.js';
import { soaRows } from './soa.js';
/**
 * The statement of applicability of one framework as an export artefact. Its rows are derived (a
 * framework holds at most a few hundred requirements), so a page is a slice of the whole; the
 * period does not apply: a statement of applicability is as of the day it is exported.
 */
function soaArtefact(name, title, framework) {
    return {
        name,
        framework,
        title,
        periodMeaning: 'nothing: a statement of applicability is as of the day of the export',
        columns: [
            col('framework', 'Framework', 'The framework identifier, e.g. ISO27001:2022.'),
            col('reference', 'Requirement', 'The requirement\'s identifier in the framework, e.g. A.5.15.'),
            col('title', 'Title', 'The requirement\'s title, where shipped or imported (ISO titles come from the organisation).'),
            col('decision', 'Decision', '"applicable", "not applicable", or "no decision" when no internal control is mapped to it.'),
            col('justification', 'Justification', 'Why it is applicable or not, from the mapped controls\' applicability decisions.'),
            col('controls', 'Implementing controls', 'Codes of the internal controls mapped to it, comma-separated.'),
            col('implementation', 'Implementation', '"implemented", "partly implemented" or "planned"; empty when not applicable or undecided.'),
            col('evidence', 'Evidence', '"fresh", "stale" or "none": the least fresh of its applicable controls\' evidence.'),
            col('latestEvidenceOn', 'Latest evidence', 'The effective date (YYYY-MM-DD) of the latest evidence that counts.'),
        ],
        async page(db, after, limit) {
            const rows = await soaRows(db, framework, isoDay(new Date()));
            return rows.slice(after, after + limit).map((r, i) => ({
                cursor: after + i + 1,
                row: {
                    framework: r.framework, reference: r.reference, title: r.title, decision: r.decision, justification: r.justification,
                    controls: r.controls.join(', ') || null, implementation: r.implementation, evidence: r.evidence, latestEvidenceOn: r.latestEvidenceOn,
                },
            }));
        },
    };
}
export const SOA_ARTEFACTS = [
    soaArtefact('soa', 'SoA ISO 27001 Annex A', 'ISO27001:2022'),
    soaArtefact('soa-csf', 'Profile NIST CSF 2.0', 'NIST-CSF-2.0'),
    soaArtefact('soa-nis2', 'SoA NIS2 Art. 21(2)', 'NIS2'),
    soaArtefact('soa-dora', 'SoA DORA', 'DORA'),
    soaArtefact('soa-iso42001', 'SoA ISO 42001 Annex A', 'ISO42001:2023'),
];
//# sourceMappingURL=export.js.map