import { asc, eq, inArray, isNull, max, or } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { controlMappings, controls, evidenceItems, evidenceRequests, frameworkRequirements, EVIDENCE_FREQUENCIES } from '../../db/schema/index.js';
import { addDays } from '../../core/time.js';
import type { FrameworkId } from '../../refdata/frameworks.js';
import { isSoaRequirement } from './frameworks.js';

export type Decision = 'applicable' | 'not applicable' | 'no decision';
export type Implementation = 'implemented' | 'partly implemented' | 'planned';
export type Freshness = 'fresh' | 'stale' | 'none';

/**
 * How long evidence counts as fresh after its effective date, by the control's evidence frequency:
 * one period. A control evidenced on demand has no period, so any evidence it has is fresh.
 */
const FRESH_DAYS: Record<(typeof EVIDENCE_FREQUENCIES)[number], number | null> = {
  monthly: 31, quarterly: 92, semiannual: 183, yearly: 366, on_demand: null,
};

/** An internal control as the statement of applicability sees it. */
export interface ControlState {
  code: string;
  title: string;
  applicable: boolean;
  justification: string | null;
  /** "implemented" once it has submitted or accepted evidence, "planned" before; null when not applicable. */
  implementation: 'implemented' | 'planned' | null;
  evidence: Freshness;
  /** Effective date of its latest submitted or accepted evidence. */
  latestEvidenceOn: string | null;
}

/** One row of a statement of applicability: a framework requirement and what the organisation decided about it. */
export interface SoaRow {
  framework: FrameworkId;
  reference: string;
  /** Null where the framework's titles are not shipped (ISO) and the organisation has not imported its own. */
  title: string | null;
  decision: Decision;
  justification: string | null;
  /** Codes of the internal controls mapped to it. */
  controls: string[];
  /** Null when not applicable or undecided. */
  implementation: Implementation | null;
  /** The least fresh of its applicable controls' evidence; null when not applicable or undecided. */
  evidence: Freshness | null;
  latestEvidenceOn: string | null;
}

const byReference = (a: { reference: string }, b: { reference: string }) =>
  a.reference.localeCompare(b.reference, 'en', { numeric: true });

const FRESHNESS_ORDER: Freshness[] = ['none', 'stale', 'fresh'];
const leastFresh = (states: Freshness[]) => FRESHNESS_ORDER.find((f) => states.includes(f)) ?? 'none';

/**
 * Every internal control with its evidence freshness on `today`. Evidence counts when it was submitted
 * directly or against a request that is submitted or accepted (not one sent back open or cancelled).
 */
export async function controlStates(db: Db, today: string): Promise<Map<number, ControlState>> {
  // Each control beside its latest evidence that counts, in one read.
  const latest = db.select({ controlId: evidenceItems.controlId, on: max(evidenceItems.effectiveOn).as('latest_on') })
    .from(evidenceItems).leftJoin(evidenceRequests, eq(evidenceRequests.id, evidenceItems.requestId))
    .where(or(isNull(evidenceItems.requestId), inArray(evidenceRequests.status, ['submitted', 'accepted'])))
    .groupBy(evidenceItems.controlId).as('latest');
  // The first day of fresh evidence, per frequency: a handful of dates, not one per control.
  const since = new Map<number, string>();
  const freshSince = (days: number) => since.get(days) ?? since.set(days, addDays(today, -days)).get(days)!;
  const states = new Map<number, ControlState>();
  // Only what a state says: not the controls' descriptions, which every status of the ISMS lead would read.
  const control = {
    id: controls.id, code: controls.code, title: controls.title, applicable: controls.applicable,
    justification: controls.justification, evidenceFrequency: controls.evidenceFrequency,
  };
  for (const { control: c, latestOn } of await db.select({ control, latestOn: latest.on }).from(controls).leftJoin(latest, eq(latest.controlId, controls.id))) {
    const on = latestOn ?? null;
    const days = FRESH_DAYS[c.evidenceFrequency];
    const evidence: Freshness = !on ? 'none' : days === null || on >= freshSince(days) ? 'fresh' : 'stale';
    states.set(c.id, {
      code: c.code, title: c.title, applicable: c.applicable, justification: c.justification,
      implementation: c.applicable ? (on ? 'implemented' : 'planned') : null, evidence, latestEvidenceOn: on,
    });
  }
  return states;
}

/** A requirement's decision and state, from the internal controls mapped to it. */
function rowOf(framework: FrameworkId, reference: string, title: string | null, mapped: ControlState[]): SoaRow {
  const applicable = mapped.filter((c) => c.applicable);
  const deciding = applicable.length ? applicable : mapped;
  const decision: Decision = mapped.length === 0 ? 'no decision' : applicable.length ? 'applicable' : 'not applicable';
  const implemented = applicable.filter((c) => c.implementation === 'implemented').length;
  const latest = applicable.map((c) => c.latestEvidenceOn).filter((d): d is string => !!d).sort().at(-1) ?? null;
  return {
    framework, reference, title, decision,
    justification: [...new Set(deciding.map((c) => c.justification).filter((j): j is string => !!j))].join('; ') || null,
    controls: mapped.map((c) => c.code).sort(),
    implementation: !applicable.length ? null
      : implemented === applicable.length ? 'implemented' : implemented ? 'partly implemented' : 'planned',
    evidence: applicable.length ? leastFresh(applicable.map((c) => c.evidence)) : null,
    latestEvidenceOn: applicable.length ? latest : null,
  };
}

interface Mapping { controlId: number; framework: string; reference: string }

async function mappings(db: Db): Promise<Mapping[]> {
  return db.select({ controlId: controlMappings.controlId, framework: frameworkRequirements.framework, reference: frameworkRequirements.reference })
    .from(controlMappings).innerJoin(frameworkRequirements, eq(frameworkRequirements.id, controlMappings.requirementId));
}

const key = (framework: string, reference: string) => `${framework} ${reference}`;

/** Control ids mapped to each requirement, by "framework reference". */
function controlsByRequirement(all: Mapping[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const m of all) out.set(key(m.framework, m.reference), [...(out.get(key(m.framework, m.reference)) ?? []), m.controlId]);
  return out;
}

/**
 * The statement of applicability of one framework on `today`: every requirement it lists (see
 * isSoaRequirement), in reference order, each decided through the internal controls mapped to it.
 * A requirement no control is mapped to is "no decision", never left out.
 */
export async function soaRows(db: Db, framework: FrameworkId, today: string): Promise<SoaRow[]> {
  const [requirements, states, all] = [
    await db.select().from(frameworkRequirements).where(eq(frameworkRequirements.framework, framework)).orderBy(asc(frameworkRequirements.id)),
    await controlStates(db, today),
    await mappings(db),
  ];
  const mapped = controlsByRequirement(all);
  return requirements.filter((r) => isSoaRequirement(framework, r)).sort(byReference)
    .map((r) => rowOf(framework, r.reference, r.title, (mapped.get(key(framework, r.reference)) ?? []).map((id) => states.get(id)!)));
}

export interface SoaSummary {
  requirements: number;
  decided: number;
  applicable: number;
  notApplicable: number;
  implemented: number;
  partlyImplemented: number;
  evidenceFresh: number;
  evidenceStale: number;
  evidenceNone: number;
}

export function summarise(rows: SoaRow[]): SoaSummary {
  const n = (p: (r: SoaRow) => boolean) => rows.filter(p).length;
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

/** Two requirements of different frameworks, mapped to the same control, whose states disagree. */
export interface Drift {
  control: string;
  requirement: SoaRow;
  other: SoaRow;
  /** What disagrees, in words. */
  reason: string;
}

/** Why two requirements' states disagree, or undefined when they agree. */
function disagreement(a: SoaRow, b: SoaRow): string | undefined {
  if (a.decision !== b.decision) return `${a.framework} ${a.reference} is ${a.decision}, ${b.framework} ${b.reference} is ${b.decision}`;
  const done = (r: SoaRow) => r.implementation === 'implemented';
  if (a.implementation && b.implementation && done(a) !== done(b)) {
    return `${a.framework} ${a.reference} is ${a.implementation}, ${b.framework} ${b.reference} is ${b.implementation}`;
  }
  return undefined;
}

export interface Coverage {
  framework: FrameworkId;
  /** Requirements no internal control is mapped to. */
  uncovered: SoaRow[];
  /** Applicable controls mapped to the framework whose evidence is stale or missing. */
  unevidenced: ControlState[];
  drift: Drift[];
}

/**
 * Where a framework's statement of applicability has gaps: requirements without a control, controls
 * without fresh evidence, and drift against every other framework mapped to the same controls.
 */
export async function coverage(db: Db, framework: FrameworkId, today: string): Promise<Coverage> {
  const [states, all] = [await controlStates(db, today), await mappings(db)];
  const mapped = controlsByRequirement(all);
  const titles = new Map((await db.select().from(frameworkRequirements).where(inArray(frameworkRequirements.id,
    db.select({ id: controlMappings.requirementId }).from(controlMappings)))).map((r) => [key(r.framework, r.reference), r.title]));
  const rowFor = (fw: string, reference: string) =>
    rowOf(fw as FrameworkId, reference, titles.get(key(fw, reference)) ?? null, mapped.get(key(fw, reference))!.map((id) => states.get(id)!));

  const rows = await soaRows(db, framework, today);
  const ownControls = new Set(all.filter((m) => m.framework === framework).map((m) => m.controlId));
  const unevidenced = [...ownControls].map((id) => states.get(id)!)
    .filter((c) => c.applicable && c.evidence !== 'fresh').sort((a, b) => a.code.localeCompare(b.code));

  const drift: Drift[] = [];
  const seen = new Set<string>();
  for (const m of all.filter((x) => x.framework === framework).sort(byReference)) {
    const requirement = rowFor(framework, m.reference);
    for (const o of all.filter((x) => x.controlId === m.controlId && x.framework !== framework).sort(byReference)) {
      const pair = `${m.reference}|${key(o.framework, o.reference)}`;
      if (seen.has(pair)) continue;
      seen.add(pair);
      const other = rowFor(o.framework, o.reference);
      const reason = disagreement(requirement, other);
      if (reason) drift.push({ control: states.get(m.controlId)!.code, requirement, other, reason });
    }
  }
  return { framework, uncovered: rows.filter((r) => r.decision === 'no decision'), unevidenced, drift };
}
