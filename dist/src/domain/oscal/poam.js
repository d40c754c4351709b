import { asc, inArray } from 'drizzle-orm';
import { auditFindings, poamExtensions, poamItems, poamMilestones, risks } from '../../db/schema/index.js';
import { invalid } from '../../core/errors.js';
import { FINDING_LABELS } from '../reviews/shared.js';
import { asToken, compact, documentUuid, endOfDay, evidenceRecord, line, NS, Parties, prop, stableUuid, token } from './common.js';
/** How the register's risk statuses read as OSCAL risk statuses; others are kept as they are. */
const RISK_STATUS = { open: 'open', accepted: 'deviation-approved', closed: 'closed' };
function milestoneTask(m, item, parties) {
    return compact({
        uuid: stableUuid(`milestone:${item.ref}:${m.seq}`),
        type: 'milestone',
        title: line(m.description),
        props: [...prop('sequence', m.seq), ...prop('due-on', m.dueOn), ...prop('done-at', m.doneAt?.toISOString())],
        timing: { 'within-date-range': { start: item.createdAt.toISOString(), end: endOfDay(m.dueOn) } },
        remarks: m.doneAt ? `Done ${m.doneAt.toISOString()}${m.doneBy ? ` by ${parties.name(m.doneBy)}` : ''}.` : undefined,
    });
}
/** The item's corrective action with its milestones, as OSCAL models it: a risk response whose tasks are milestones. */
function remediation(item, milestones, parties) {
    return compact({
        uuid: stableUuid(`remediation:${item.ref}`),
        lifecycle: item.status === 'completed' ? 'completed' : 'planned',
        title: `${item.ref}: corrective action`,
        description: item.weakness,
        props: [...prop('poam-item', item.ref), ...prop('owner', parties.email(item.ownerId))],
        origins: [{ actors: [{ type: 'party', 'actor-uuid': parties.of(item.ownerId) }] }],
        tasks: milestones.map((m) => milestoneTask(m, item, parties)),
    });
}
/** A register risk with every POA&M item's corrective action that treats it. */
function registerRisk(r, items, milestones, parties) {
    const actor = r.ownerId ? parties.of(r.ownerId) : parties.organisation;
    const facet = (name, value) => ({ name, system: NS, value: String(value) });
    const deadline = items.map((i) => i.dueOn).sort().at(-1);
    return compact({
        uuid: stableUuid(`risk:${r.ref}`),
        title: line(`${r.ref}: ${r.title}`),
        description: r.description ?? r.title,
        statement: `Likelihood ${r.likelihood} and impact ${r.impact} (1 to 5 each) give an inherent score of ${r.inherentScore}; `
            + `with the controls in place the residual score is ${r.residualScore}. Treatment: ${r.treatment}.`,
        props: [...prop('risk', r.ref), ...prop('treatment', r.treatment), ...prop('scope-area', r.scopeArea)],
        status: RISK_STATUS[r.status] ?? token(r.status),
        characterizations: [{
                origin: { actors: [{ type: 'party', 'actor-uuid': actor }] },
                facets: [facet('likelihood', r.likelihood), facet('impact', r.impact), facet('inherent-score', r.inherentScore), facet('residual-score', r.residualScore)],
            }],
        deadline: deadline ? endOfDay(deadline) : undefined,
        remediations: items.map((i) => remediation(i, milestones.get(i.id) ?? [], parties)),
    });
}
/** A weakness that is not in the risk register (an audit finding, an evidence gap): OSCAL still tracks its remediation on a risk. */
function weaknessRisk(item, milestones, parties) {
    return compact({
        uuid: stableUuid(`weakness:${item.ref}`),
        title: line(`${item.ref}: ${item.weakness}`),
        description: item.weakness,
        statement: `The weakness of POA&M item ${item.ref}, from ${item.source.replace(/_/g, ' ')}${item.sourceRef ? ` ${item.sourceRef}` : ''}.`,
        props: prop('poam-item', item.ref),
        status: item.status === 'completed' ? 'closed' : item.status === 'risk_accepted' ? 'deviation-approved' : item.status === 'in_progress' ? 'remediating' : 'open',
        deadline: endOfDay(item.dueOn),
        remediations: [remediation(item, milestones, parties)],
    });
}
function finding(f, parties) {
    const open = f.status !== 'closed';
    const nonconformity = f.type === 'major_nc' || f.type === 'minor_nc';
    return compact({
        uuid: stableUuid(`finding:${f.ref}`),
        title: `${f.ref}: ${FINDING_LABELS[f.type]}`,
        description: f.description,
        props: [...prop('finding', f.ref), ...prop('type', token(f.type)), ...prop('status', f.status), ...prop('clause', f.clause)],
        origins: f.raisedBy ? [{ actors: [{ type: 'party', 'actor-uuid': parties.of(f.raisedBy) }] }] : undefined,
        target: {
            type: 'statement-id',
            'target-id': f.clause ? asToken(f.clause, 'clause-') : 'isms',
            status: { state: open && nonconformity ? 'not-satisfied' : 'satisfied', reason: open && nonconformity ? 'fail' : 'other' },
        },
        remarks: [f.rootCause && `Root cause: ${f.rootCause}`, f.correctiveAction && `Corrective action: ${f.correctiveAction}`].filter(Boolean).join('\n\n') || undefined,
    });
}
/** The extension history in words, oldest first. */
function extensionRemarks(extensions, parties) {
    if (!extensions.length)
        return undefined;
    return ['Due-date extensions:', ...extensions.map((x) => `- ${x.ref}: from ${x.previousDueOn} to ${x.requestedDueOn}, requested by ${parties.name(x.requestedBy)} `
            + `on ${x.requestedAt.toISOString().slice(0, 10)} (${line(x.reason)}); ${x.status}${x.decidedAt ? ` on ${x.decidedAt.toISOString().slice(0, 10)}` : ''}`
            + `${x.decidedBy ? ` by ${parties.name(x.decidedBy)}` : ''}${x.decisionNote ? ` (${line(x.decisionNote)})` : ''}.`)].join('\n');
}
const grouped = (rows) => {
    const out = new Map();
    for (const r of rows)
        out.set(r.itemId, [...(out.get(r.itemId) ?? []), r]);
    return out;
};
/** The register's POA&M as an OSCAL plan-of-action-and-milestones document (not yet validated). */
export async function buildPoam(db, now) {
    const parties = await Parties.load(db);
    const items = await db.select().from(poamItems).orderBy(asc(poamItems.id));
    // OSCAL requires at least one item: an empty plan is said, not written.
    if (!items.length)
        throw invalid('The register has no POA&M items, so there is no plan of action and milestones to export.');
    const milestones = grouped(await db.select().from(poamMilestones).orderBy(asc(poamMilestones.itemId), asc(poamMilestones.seq)));
    const extensions = grouped(await db.select().from(poamExtensions).orderBy(asc(poamExtensions.id)));
    const refsOf = (source) => [...new Set(items.filter((i) => i.source === source && i.sourceRef).map((i) => i.sourceRef))];
    const riskRefs = refsOf('risk');
    const findingRefs = refsOf('audit_finding');
    const riskRows = riskRefs.length ? await db.select().from(risks).where(inArray(risks.ref, riskRefs)).orderBy(asc(risks.id)) : [];
    const findingRows = findingRefs.length ? await db.select().from(auditFindings).where(inArray(auditFindings.ref, findingRefs)).orderBy(asc(auditFindings.id)) : [];
    const evidence = await evidenceRecord(db, parties);
    const riskByRef = new Map(riskRows.map((r) => [r.ref, r]));
    const findingByRef = new Map(findingRows.map((f) => [f.ref, f]));
    const riskOf = (i) => (i.source === 'risk' && i.sourceRef ? riskByRef.get(i.sourceRef) : undefined);
    const poamItemsJson = items.map((i) => {
        const risk = riskOf(i);
        const found = i.source === 'audit_finding' && i.sourceRef ? findingByRef.get(i.sourceRef) : undefined;
        const observed = i.source === 'evidence_gap' && i.sourceRef ? evidence.byRequest.get(i.sourceRef) ?? [] : [];
        return compact({
            uuid: stableUuid(`poam-item:${i.ref}`),
            title: line(`${i.ref}: ${i.weakness}`),
            description: i.weakness,
            props: [
                ...prop('poam-item', i.ref), ...prop('status', token(i.status)), ...prop('due-on', i.dueOn), ...prop('source', token(i.source)),
                ...prop('source-reference', i.sourceRef), ...prop('owner', parties.email(i.ownerId)), ...prop('escalation-level', i.escalationLevel),
                ...prop('completed-at', i.completedAt?.toISOString()), ...prop('milestones', (milestones.get(i.id) ?? []).length),
            ],
            origins: [{ actors: [{ type: 'party', 'actor-uuid': parties.of(i.ownerId) }] }],
            'related-findings': found ? [{ 'finding-uuid': stableUuid(`finding:${found.ref}`) }] : undefined,
            'related-observations': observed.map((uuid) => ({ 'observation-uuid': uuid })),
            'related-risks': [{ 'risk-uuid': risk ? stableUuid(`risk:${risk.ref}`) : stableUuid(`weakness:${i.ref}`) }],
            remarks: extensionRemarks(extensions.get(i.id) ?? [], parties),
        });
    });
    const oscalRisks = [
        ...riskRows.map((r) => registerRisk(r, items.filter((i) => riskOf(i) === r), milestones, parties)),
        ...items.filter((i) => !riskOf(i)).map((i) => weaknessRisk(i, milestones.get(i.id) ?? [], parties)),
    ];
    const body = compact({
        metadata: await parties.metadata(db, 'Plan of action and milestones', now),
        'system-id': { 'identifier-type': 'http://ietf.org/rfc/rfc4122', id: stableUuid('system:isms') },
        observations: evidence.observations,
        risks: oscalRisks,
        findings: findingRows.map((f) => finding(f, parties)),
        'poam-items': poamItemsJson,
        'back-matter': evidence.resources.length ? { resources: evidence.resources } : undefined,
    });
    const timeless = { ...body, metadata: { ...body.metadata, 'last-modified': null, version: null } };
    const document = { 'plan-of-action-and-milestones': { uuid: documentUuid('plan-of-action-and-milestones', timeless), ...body } };
    return {
        document,
        counts: { 'POA&M items': items.length, risks: oscalRisks.length, findings: findingRows.length, observations: evidence.observations.length, 'evidence files': evidence.resources.length },
    };
}
//# sourceMappingURL=poam.js.map