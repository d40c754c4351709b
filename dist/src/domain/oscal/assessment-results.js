import { asc } from 'drizzle-orm';
import { controls } from '../../db/schema/index.js';
import { invalid } from '../../core/errors.js';
import { isoDay } from '../../core/time.js';
import { controlStates } from '../soa/soa.js';
import { asToken, compact, documentUuid, evidenceRecord, line, Parties, prop, stableUuid } from './common.js';
/** A control is satisfied when it is implemented and its evidence is fresh, as the statement of applicability says. */
const satisfied = (s) => s.implementation === 'implemented' && s.evidence === 'fresh';
function why(s, frequency) {
    const evidence = s.evidence === 'none' ? 'no evidence that counts'
        : `${s.evidence} evidence (latest effective ${s.latestEvidenceOn}, collected ${frequency.replace(/_/g, ' ')})`;
    return `${s.implementation === 'implemented' ? 'Implemented' : 'Planned'}, with ${evidence}: ${satisfied(s) ? 'satisfied' : 'not satisfied'}.`;
}
/** The internal control set's state now as an OSCAL assessment-results document (not yet validated). */
export async function buildAssessmentResults(db, now) {
    const parties = await Parties.load(db);
    const states = await controlStates(db, isoDay(now));
    const all = await db.select({ id: controls.id, code: controls.code, frequency: controls.evidenceFrequency, ownerId: controls.ownerId })
        .from(controls).orderBy(asc(controls.code));
    const applicable = all.filter((c) => states.get(c.id)?.applicable);
    if (!applicable.length)
        throw invalid('No internal control is applicable, so there is nothing to report assessment results for.', 'Import controls first: npm run isms -- import my-org.yaml.');
    const excluded = all.filter((c) => !states.get(c.id)?.applicable);
    const evidence = await evidenceRecord(db, parties);
    const findings = applicable.map((c) => {
        const s = states.get(c.id);
        const ok = satisfied(s);
        return compact({
            uuid: stableUuid(`control-finding:${c.code}`),
            title: line(`${c.code}: ${s.title}`),
            description: why(s, c.frequency),
            props: [...prop('implementation', s.implementation), ...prop('evidence', s.evidence), ...prop('latest-evidence-on', s.latestEvidenceOn),
                ...prop('evidence-frequency', c.frequency), ...prop('owner', parties.email(c.ownerId))],
            target: {
                type: 'objective-id',
                'target-id': asToken(c.code, 'control-'),
                status: { state: ok ? 'satisfied' : 'not-satisfied', reason: ok ? 'pass' : 'fail' },
                'implementation-status': { state: s.implementation === 'implemented' ? 'implemented' : 'planned' },
            },
            'related-observations': (evidence.byControl.get(c.id) ?? []).map((uuid) => ({ 'observation-uuid': uuid })),
            remarks: s.justification ? `Applicable: ${s.justification}` : undefined,
        });
    });
    const result = compact({
        uuid: stableUuid('result:control-set'),
        title: 'State of the internal control set',
        description: 'Each applicable internal control as the register holds it now: implemented once it has evidence that counts, '
            + 'satisfied when that evidence is also fresh (effective within one period of the control\'s evidence frequency).',
        start: now.toISOString(),
        end: now.toISOString(),
        'reviewed-controls': {
            'control-selections': [compact({
                    description: 'The applicable internal controls.',
                    'include-controls': applicable.map((c) => ({ 'control-id': asToken(c.code, 'control-') })),
                    'exclude-controls': excluded.map((c) => ({ 'control-id': asToken(c.code, 'control-') })),
                })],
        },
        observations: evidence.observations,
        findings,
    });
    const body = compact({
        metadata: await parties.metadata(db, 'Assessment results: internal control set', now),
        'import-ap': {
            href: 'urn:isms-bot:oscal:continuous-assessment',
            remarks: 'There is no separate assessment plan: the ISMS assesses its controls continuously from the evidence in its register.',
        },
        results: [result],
        'back-matter': evidence.resources.length ? { resources: evidence.resources } : undefined,
    });
    const timeless = { ...body, metadata: { ...body.metadata, 'last-modified': null, version: null }, results: [{ ...result, start: null, end: null }] };
    const document = { 'assessment-results': { uuid: documentUuid('assessment-results', timeless), ...body } };
    return {
        document,
        counts: {
            'applicable controls': applicable.length, satisfied: applicable.filter((c) => satisfied(states.get(c.id))).length,
            observations: evidence.observations.length, 'evidence files': evidence.resources.length,
        },
    };
}
//# sourceMappingURL=assessment-results.js.map