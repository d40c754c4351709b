import { asc, eq, inArray, isNull, max, or } from 'drizzle-orm';
import { controlMappings, controls, evidenceItems, evidenceRequests, frameworkRequirements } from '../../db/schema/index.js';
import { addDays } from '../../core/time.js';
import { isSoaRequirement } from './frameworks.js';
/**
 * How long evidence counts as fresh after its effective date, by the control's evidence frequency:
 * one period. A control evidenced on demand has no period, so any evidence it has is fresh.
 */
const FRESH_DAYS = {
    monthly: 31, quarterly: 92, semiannual: 183, yearly: 366, on_demand: null,
};
const byReference = (a, b) => a.reference.localeCompare(b.reference, 'en', { numeric: true });
const FRESHNESS_ORDER = ['none', 'stale', 'fresh'];
const leastFresh = (states) => FRESHNESS_ORDER.find((f) => states.includes(f)) ?? 'none';
/**
 * Every internal control with its evidence freshness on `today`. Evidence counts when it was submitted
 * directly or against a request that is submitted or accepted (not one sent back open or cancelled).
 */
export async function controlStates(db, today) {
    const latest = await db.select({ controlId: evidenceItems.controlId, on: max(evidenceItems.effectiveOn) })
        .from(evidenceItems).leftJoin(evidenceRequests, eq(evidenceRequests.id, evidenceItems.requestId))
        .where(or(isNull(evidenceItems.requestId), inArray(evidenceRequests.status, ['submitted', 'accepted'])))
        .groupBy(evidenceItems.controlId);
    const latestOn = new Map(latest.map((l) => [l.controlId, l.on]));
    const states = new Map();
    for (const c of await db.select().from(controls)) {
        const on = latestOn.get(c.id) ?? null;
        const days = FRESH_DAYS[c.evidenceFrequency];
        const evidence = !on ? 'none' : days === null || on >= addDays(today, -days) ? 'fresh' : 'stale';
        states.set(c.id, {
            code: c.code, title: c.title, applicable: c.applicable, justification: c.justification,
            implementation: c.applicable ? (on ? 'implemented' : 'planned') : null, evidence, latestEvidenceOn: on,
        });
    }
    return states;
}
/** A requirement's decision and state, from the internal controls mapped to it. */
function rowOf(framework, reference, title, mapped) {
    const applicable = mapped.filter((c) => c.applicable);
    const deciding = applicable.length ? applicable : mapped;
    const decision = mapped.length === 0 ? 'no decision' : applicable.length ? 'applicable' : 'not applicable';
    const implemented = applicable.filter((c) => c.implementation === 'implemented').length;
    const latest = applicable.map((c) => c.latestEvidenceOn).filter((d) => !!d).sort().at(-1) ?? null;
    return {
        framework, reference, title, decision,
        justification: [...new Set(deciding.map((c) => c.justification).filter((j) => !!j))].join('; ') || null,
        controls: mapped.map((c) => c.code).sort(),
        implementation: !applicable.length ? null
            : implemented === applicable.length ? 'implemented' : implemented ? 'partly implemented' : 'planned',
        evidence: applicable.length ? leastFresh(applicable.map((c) => c.evidence)) : null,
        latestEvidenceOn: applicable.length ? latest : null,
    };
}
async function mappings(db) {
    return db.select({ controlId: controlMappings.controlId, framework: frameworkRequirements.framework, reference: frameworkRequirements.reference })
        .from(controlMappings).innerJoin(frameworkRequirements, eq(frameworkRequirements.id, controlMappings.requirementId));
}
const key = (framework, reference) => `${framework} ${reference}`;
/** Control ids mapped to each requirement, by "framework reference". */
function controlsByRequirement(all) {
    const out = new Map();
    for (const m of all)
        out.set(key(m.framework, m.reference), [...(out.get(key(m.framework, m.reference)) ?? []), m.controlId]);
    return out;
}
/**
 * The statement of applicability of one framework on `today`: every requirement it lists (see
 * isSoaRequirement), in reference order, each decided through the internal controls mapped to it.
 * A requirement no control is mapped to is "no decision", never left out.
 */
export async function soaRows(db, framework, today) {
    const [requirements, states, all] = [
        await db.select().from(frameworkRequirements).where(eq(frameworkRequirements.framework, framework)).orderBy(asc(frameworkRequirements.id)),
        await controlStates(db, today),
        await mappings(db),
    ];
    const mapped = controlsByRequirement(all);
    return requirements.filter((r) => isSoaRequirement(framework, r)).sort(byReference)
        .map((r) => rowOf(framework, r.reference, r.title, (mapped.get(key(framework, r.reference)) ?? []).map((id) => states.get(id))));
}
export function summarise(rows) {
    const n = (p) => rows.filter(p).length;
    return {
        requirements: rows.length,
        decided: n((r) => r.decision !== 'no decision'),
        applicable: n((r) => r.decision === 'applicable'),
        notApplicable: n((r) => r.decision === 'not applicable'),
        implemented: n((r) => r.implementation === 'implemented'),
        partlyImplemented: n((r) => r.implementation === 'partly implemented'),
        evidenceFresh: n((r) => r.evidence === 'fresh'),
        evidenceStale: n((r) => r.evidence === 'stale'),
        evidenceNone: n((r) => r.evidence === 'none'),
    };
}
/** Why two requirements' states disagree, or undefined when they agree. */
function disagreement(a, b) {
    if (a.decision !== b.decision)
        return `${a.framework} ${a.reference} is ${a.decision}, ${b.framework} ${b.reference} is ${b.decision}`;
    const done = (r) => r.implementation === 'implemented';
    if (a.implementation && b.implementation && done(a) !== done(b)) {
        return `${a.framework} ${a.reference} is ${a.implementation}, ${b.framework} ${b.reference} is ${b.implementation}`;
    }
    return undefined;
}
/**
 * Where a framework's statement of applicability has gaps: requirements without a control, controls
 * without fresh evidence, and drift against every other framework mapped to the same controls.
 */
export async function coverage(db, framework, today) {
    const [states, all] = [await controlStates(db, today), await mappings(db)];
    const mapped = controlsByRequirement(all);
    const titles = new Map((await db.select().from(frameworkRequirements).where(inArray(frameworkRequirements.id, db.select({ id: controlMappings.requirementId }).from(controlMappings)))).map((r) => [key(r.framework, r.reference), r.title]));
    const rowFor = (fw, reference) => rowOf(fw, reference, titles.get(key(fw, reference)) ?? null, mapped.get(key(fw, reference)).map((id) => states.get(id)));
    const rows = await soaRows(db, framework, today);
    const ownControls = new Set(all.filter((m) => m.framework === framework).map((m) => m.controlId));
    const unevidenced = [...ownControls].map((id) => states.get(id))
        .filter((c) => c.applicable && c.evidence !== 'fresh').sort((a, b) => a.code.localeCompare(b.code));
    const drift = [];
    const seen = new Set();
    for (const m of all.filter((x) => x.framework === framework).sort(byReference)) {
        const requirement = rowFor(framework, m.reference);
        for (const o of all.filter((x) => x.controlId === m.controlId && x.framework !== framework).sort(byReference)) {
            const pair = `${m.reference}|${key(o.framework, o.reference)}`;
            if (seen.has(pair))
                continue;
            seen.add(pair);
            const other = rowFor(o.framework, o.reference);
            const reason = disagreement(requirement, other);
            if (reason)
                drift.push({ control: states.get(m.controlId).code, requirement, other, reason });
        }
    }
    return { framework, uncovered: rows.filter((r) => r.decision === 'no decision'), unevidenced, drift };
}
//# sourceMappingURL=soa.js.map