import { createHash, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { and, asc, desc, eq, gte, isNull, ne } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import {
  auditFindings, controls, evidenceRequests, interestedParties, managementReviews, people, poamExtensions, poamItems, reviewDecisions,
  reviewPacks, riskAcceptances, risks, scopeChanges, scopeStatements,
} from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { peopleWithRole } from '../../core/actor.js';
import { invalid, notFound } from '../../core/errors.js';
import { nextRef } from '../../core/refs.js';
import { actions, fields, fileBlock, imageBlock, reply, text, type Block, type FileOut } from '../../core/reply.js';
import { addDays, isoDay, readersDay, readersTime } from '../../core/time.js';
import { controlStates } from '../soa/soa.js';
import { courseCompletion } from '../training/obligations.js';
import { appetiteInForce } from '../risks/register.js';
import { programmeFigures } from '../status/queries.js';
import { KIND_LABELS } from '../triage/labels.js';
import { FINDING_LABELS, isNonconformity } from './shared.js';
import { currentNarrative, narrativeBlocks, narrativeDocument, narrativeFileName, type ShownNarrative } from './narrative-view.js';
import {
  chartPng, coverageChart, freshnessChart, poamChart, riskChart, type Chart, type Coverage, type FreshnessArea, type PoamMonth,
} from './charts.js';

export type ReviewPack = typeof reviewPacks.$inferSelect;

/** The inputs ISO/IEC 27001:2022 cl. 9.3.2 asks a management review to consider, in the pack's order. */
export const REVIEW_INPUTS = [
  { key: 'a', heading: 'Status of actions from previous management reviews' },
  { key: 'b', heading: 'Changes in external and internal issues and scope (scope changes, interested parties)' },
  { key: 'c', heading: 'Nonconformities and corrective actions' },
  { key: 'd', heading: 'Monitoring and measurement results' },
  { key: 'e', heading: 'Audit results' },
  { key: 'f', heading: 'Fulfilment of information security objectives' },
  { key: 'g', heading: 'Feedback from interested parties' },
  { key: 'h', heading: 'Results of risk assessment and status of risk treatment' },
  { key: 'i', heading: 'Opportunities for continual improvement' },
] as const;

export type InputKey = (typeof REVIEW_INPUTS)[number]['key'];

export interface PackSection {
  key: InputKey;
  heading: string;
  /** One sentence for the chat summary. */
  summary: string;
  /** The detail, one bullet each, for the document. */
  lines: string[];
}

export interface CompiledPack {
  sections: PackSection[];
  charts: Chart[];
  /** The last review held before, whose date the "since" figures count from. */
  since?: { ref: string; heldOn: string };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const percent = (part: number, whole: number) => (whole === 0 ? 'n/a' : `${Math.round((part / whole) * 100)}%`);
const OPEN_POAM = ['open', 'in_progress'];

/** "CTL-GOV-01" belongs to the control area "GOV"; a code without that shape is its own area. */
export const controlArea = (code: string) => /^[A-Z]+-([A-Z0-9]+)-\d+$/i.exec(code)?.[1]?.toUpperCase() ?? code.toUpperCase();

async function previousActions(db: Db, today: string): Promise<PackSection> {
  const rows = await db.select({ decision: reviewDecisions, review: managementReviews.ref, owner: people.name, item: poamItems })
    .from(reviewDecisions).innerJoin(managementReviews, eq(managementReviews.id, reviewDecisions.reviewId))
    .leftJoin(people, eq(people.id, reviewDecisions.ownerId)).leftJoin(poamItems, eq(poamItems.id, reviewDecisions.poamItemId))
    .orderBy(asc(managementReviews.heldOn), asc(reviewDecisions.id));
  const numbered = new Map<string, number>();
  const lines = rows.map(({ decision, review, owner, item }) => {
    const n = (numbered.get(review) ?? 0) + 1;
    numbered.set(review, n);
    const overdue = decision.status !== 'closed' && decision.dueOn && decision.dueOn < today ? ', overdue' : '';
    const tracked = item ? ` (${item.ref}, ${item.status.replace('_', ' ')})` : '';
    return `${review}/${n}: ${decision.decision} — owner ${owner ?? 'none'}, due ${decision.dueOn ?? 'not set'}: ${decision.status}${overdue}${tracked}`;
  });
  const open = rows.filter((r) => r.decision.status !== 'closed');
  const overdue = open.filter((r) => r.decision.dueOn && r.decision.dueOn < today).length;
  return {
    key: 'a', heading: REVIEW_INPUTS[0].heading, lines: lines.length ? lines : ['No actions from earlier management reviews are recorded.'],
    summary: rows.length === 0 ? 'no actions from earlier reviews recorded'
      : `${plural(rows.length, 'action')}: ${rows.length - open.length} closed, ${open.length} open, ${overdue} overdue`,
  };
}

async function issuesAndScope(db: Db, since: string | undefined): Promise<PackSection> {
  const [scope] = await db.select().from(scopeStatements).orderBy(desc(scopeStatements.version)).limit(1);
  const changes = await db.select().from(scopeChanges)
    .where(since ? gte(scopeChanges.declaredAt, new Date(`${since}T00:00:00Z`)) : undefined).orderBy(asc(scopeChanges.id));
  const parties = await db.select().from(interestedParties).orderBy(asc(interestedParties.name));
  const current = parties.filter((p) => !p.retiredAt);
  const isNew = (at: Date | null) => !!at && (!since || isoDay(at) >= since);
  const added = current.filter((p) => isNew(p.createdAt));
  const retired = parties.filter((p) => isNew(p.retiredAt));
  const from = since ? `since ${since}` : 'so far';
  const lines = [
    scope ? `Scope statement version ${scope.version}${scope.approvedAt ? `, approved ${isoDay(scope.approvedAt)}` : ', not approved'}.` : 'No scope statement is recorded.',
    `Scope changes declared ${from}: ${changes.length}.`,
    ...changes.map((c) => `${c.ref} ${KIND_LABELS[c.kind] ?? c.kind}: ${c.subject} — ${c.status}`),
    `Interested parties: ${current.length} current; ${added.length} added and ${retired.length} retired ${from}.`,
    ...added.map((p) => `Added: ${p.name}${p.kind ? ` (${p.kind})` : ''}`),
    ...retired.map((p) => `Retired: ${p.name}${p.retiredReason ? ` — ${p.retiredReason}` : ''}`),
  ];
  return {
    key: 'b', heading: REVIEW_INPUTS[1].heading, lines,
    summary: `${plural(changes.length, 'scope change')} ${from} (${changes.filter((c) => c.status === 'proposed').length} awaiting triage); ${current.length} interested parties`,
  };
}

async function nonconformities(db: Db, today: string): Promise<PackSection> {
  const findings = (await db.select().from(auditFindings).orderBy(asc(auditFindings.id))).filter((f) => isNonconformity(f.type));
  const items = await db.select({ item: poamItems, owner: people.name }).from(poamItems)
    .innerJoin(people, eq(people.id, poamItems.ownerId)).orderBy(asc(poamItems.id));
  const open = items.filter(({ item }) => OPEN_POAM.includes(item.status));
  const overdue = open.filter(({ item }) => item.dueOn < today);
  const pending = (await db.select({ id: poamExtensions.id }).from(poamExtensions).where(eq(poamExtensions.status, 'requested'))).length;
  const openNc = findings.filter((f) => f.status === 'open');
  const lines = [
    `Nonconformities: ${findings.length} recorded, ${openNc.length} open (${openNc.filter((f) => f.type === 'major_nc').length} major).`,
    ...openNc.map((f) => `${f.ref} ${FINDING_LABELS[f.type]} against ${f.clause ?? 'no clause'}: ${f.description}`),
    `POA&M items: ${open.length} open, ${overdue.length} overdue, ${items.length - open.length} closed; ${plural(pending, 'extension request')} pending.`,
    ...overdue.map(({ item, owner }) => `Overdue: ${item.ref} ${item.weakness} — ${owner}, due ${item.dueOn}`),
  ];
  return {
    key: 'c', heading: REVIEW_INPUTS[2].heading, lines,
    summary: `${plural(openNc.length, 'open nonconformity', 'open nonconformities')}; POA&M ${open.length} open, ${overdue.length} overdue`,
  };
}

interface Measures { areas: FreshnessArea[]; coverage: Coverage[] }

async function monitoring(db: Db, today: string): Promise<{ section: PackSection; measures: Measures }> {
  const states = await controlStates(db, today);
  const byArea = new Map<string, FreshnessArea>();
  for (const c of states.values()) {
    if (!c.applicable) continue;
    const area = controlArea(c.code);
    const a = byArea.get(area) ?? { area, fresh: 0, stale: 0, missing: 0 };
    if (c.evidence === 'fresh') a.fresh++;
    else if (c.evidence === 'stale') a.stale++;
    else a.missing++;
    byArea.set(area, a);
  }
  const areas = [...byArea.values()].sort((x, y) => x.area.localeCompare(y.area));
  const total = areas.reduce((n, a) => n + a.fresh + a.stale + a.missing, 0);
  const fresh = areas.reduce((n, a) => n + a.fresh, 0);
  const overdue = await db.select({ ref: evidenceRequests.ref, dueOn: evidenceRequests.dueOn, control: controls.code, owner: people.name })
    .from(evidenceRequests).innerJoin(controls, eq(controls.id, evidenceRequests.controlId)).innerJoin(people, eq(people.id, evidenceRequests.ownerId))
    .where(eq(evidenceRequests.status, 'open')).orderBy(asc(evidenceRequests.dueOn), asc(evidenceRequests.id));
  const late = overdue.filter((r) => r.dueOn < today);
  const coverage = await coverageMeasures(db, today);
  const lines = [
    `Evidence freshness: ${fresh} of ${total} applicable controls have fresh evidence (${percent(fresh, total)}).`,
    ...areas.map((a) => `${a.area}: ${a.fresh} fresh, ${a.stale} stale, ${a.missing} without evidence`),
    `Evidence requests overdue: ${late.length}.`,
    ...late.map((r) => `${r.ref} ${r.control} — ${r.owner}, due ${r.dueOn}`),
    ...coverage.map((c) => `${c.measure}: ${percent(c.done, c.expected)} (${c.done} of ${c.expected})`),
  ];
  return {
    section: {
      key: 'd', heading: REVIEW_INPUTS[3].heading, lines,
      summary: `evidence fresh for ${percent(fresh, total)} of applicable controls; ${plural(late.length, 'evidence request')} overdue`,
    },
    measures: { areas, coverage },
  };
}

/** Policy acknowledgement of current versions, and each course's completion (a valid attestation). */
async function coverageMeasures(db: Db, today: string): Promise<Coverage[]> {
  const figures = await programmeFigures(db, today);
  return [
    { measure: 'Policy acknowledgement', done: figures.policyAcks, expected: figures.policyAcksExpected },
    ...(await courseCompletion(db, today)).map(({ code, done, expected }) => ({ measure: `Training ${code}`, done, expected })),
  ];
}

async function auditResults(db: Db, since: string | undefined): Promise<PackSection> {
  const all = await db.select().from(auditFindings).orderBy(asc(auditFindings.id));
  const recent = since ? all.filter((f) => isoDay(f.createdAt) >= since) : all;
  const from = since ? `since ${since}` : 'so far';
  const byType = (Object.keys(FINDING_LABELS) as (keyof typeof FINDING_LABELS)[])
    .map((t) => `${recent.filter((f) => f.type === t).length} ${FINDING_LABELS[t]}`).join(', ');
  return {
    key: 'e', heading: REVIEW_INPUTS[4].heading,
    lines: [`Audit findings raised ${from}: ${recent.length} (${byType}).`, `Findings still open: ${all.filter((f) => f.status === 'open').length}.`],
    summary: `${plural(recent.length, 'audit finding')} ${from}`,
  };
}

/** The register keeps no objectives table: the pack says so rather than inventing a measure. */
function objectives(): PackSection {
  return {
    key: 'f', heading: REVIEW_INPUTS[5].heading,
    lines: ['No information security objectives are recorded in the register, so their fulfilment cannot be reported. '
      + 'Set measurable objectives (ISO 27001 cl. 6.2) and track them; the measures under (d) show programme performance meanwhile.'],
    summary: 'no objectives recorded',
  };
}

async function feedback(db: Db): Promise<PackSection> {
  const parties = (await db.select().from(interestedParties).where(isNull(interestedParties.retiredAt)).orderBy(asc(interestedParties.name)));
  return {
    key: 'g', heading: REVIEW_INPUTS[6].heading,
    lines: [
      'No feedback from interested parties is recorded in the register. Their needs as recorded, and when they were last reviewed:',
      ...parties.map((p) => `${p.name}${p.kind ? ` (${p.kind})` : ''}: ${p.needs ?? 'no needs recorded'} — ${p.reviewedOn ? `reviewed ${p.reviewedOn}` : 'never reviewed'}`),
    ],
    summary: `no feedback recorded; ${plural(parties.filter((p) => !p.reviewedOn).length, 'party', 'parties')} never reviewed`,
  };
}

async function riskTreatment(db: Db, today: string): Promise<{ section: PackSection; appetite: number | undefined; scores: { ref: string; title: string; residualScore: number }[] }> {
  const appetite = await appetiteInForce(db);
  const current = await db.select().from(risks).where(ne(risks.status, 'closed')).orderBy(asc(risks.id));
  const max = appetite?.maxResidualScore;
  const over = max === undefined ? [] : current.filter((r) => r.residualScore > max);
  const acceptances = await db.select({ a: riskAcceptances, ref: risks.ref }).from(riskAcceptances).innerJoin(risks, eq(risks.id, riskAcceptances.riskId));
  const inForce = acceptances.filter(({ a }) => !a.expiresOn || isoDay(a.expiresOn) >= today);
  const treatments = ['mitigate', 'accept', 'transfer', 'avoid'].map((t) => `${current.filter((r) => r.treatment === t).length} ${t}`).join(', ');
  const riskItems = await db.select().from(poamItems).where(eq(poamItems.source, 'risk'));
  const lines = [
    max === undefined ? 'No risk appetite is recorded.' : `Risk appetite: residual score up to ${max}.`,
    `Risks: ${current.length} (treatment: ${treatments}); ${over.length} over the appetite.`,
    ...over.map((r) => `Over appetite: ${r.ref} ${r.title} — residual ${r.residualScore}`),
    `Risk acceptances in force: ${inForce.length}${acceptances.length > inForce.length ? `; ${acceptances.length - inForce.length} expired` : ''}.`,
    `Risk treatment POA&M items: ${riskItems.filter((i) => OPEN_POAM.includes(i.status)).length} open, ${riskItems.filter((i) => !OPEN_POAM.includes(i.status)).length} closed.`,
  ];
  return {
    section: { key: 'h', heading: REVIEW_INPUTS[7].heading, lines, summary: `${plural(current.length, 'risk')}, ${over.length} over the appetite` },
    appetite: max,
    scores: current.map((r) => ({ ref: r.ref, title: r.title, residualScore: r.residualScore })),
  };
}

async function improvements(db: Db): Promise<PackSection> {
  const ofis = await db.select().from(auditFindings).where(and(eq(auditFindings.type, 'ofi'), eq(auditFindings.status, 'open'))).orderBy(asc(auditFindings.id));
  return {
    key: 'i', heading: REVIEW_INPUTS[8].heading,
    lines: ofis.length ? ofis.map((f) => `${f.ref} against ${f.clause ?? 'no clause'}: ${f.description}`) : ['No open opportunities for improvement are recorded.'],
    summary: `${plural(ofis.length, 'open opportunity for improvement', 'open opportunities for improvement')}`,
  };
}

/** Month ends of the five months before this one, then today: enough to show a trend on one chart. */
function chartDays(today: string): string[] {
  const days: string[] = [];
  for (let back = 5; back >= 1; back--) {
    const firstOfMonth = `${today.slice(0, 7)}-01`;
    const d = new Date(`${firstOfMonth}T00:00:00Z`);
    d.setUTCMonth(d.getUTCMonth() - back + 1);
    days.push(addDays(isoDay(d), -1));
  }
  return [...days, today];
}

/**
 * POA&M items open and closed at the end of each day shown. Completion has its time; an item accepted
 * as a risk keeps none, so it counts as closed at today's point only. Items imported with a later
 * clock than the review's count as existing today.
 */
async function poamTrend(db: Db, now: Date): Promise<PoamMonth[]> {
  const today = isoDay(now);
  const items = await db.select().from(poamItems);
  return chartDays(today).map((day) => {
    const created = items.filter((i) => (i.createdAt > now ? today : isoDay(i.createdAt)) <= day);
    const closedBy = (i: (typeof items)[number]) => (i.completedAt ? isoDay(i.completedAt) <= day : !OPEN_POAM.includes(i.status) && day === today);
    const closed = created.filter(closedBy).length;
    return { month: day, open: created.length - closed, closed };
  });
}

/** Compiles the cl. 9.3.2 inputs from the register as it is now. */
export async function compileReviewPack(db: Db, now: Date): Promise<CompiledPack> {
  const today = isoDay(now);
  const [last] = await db.select({ ref: managementReviews.ref, heldOn: managementReviews.heldOn }).from(managementReviews)
    .orderBy(desc(managementReviews.heldOn), desc(managementReviews.id)).limit(1);
  const since = last?.heldOn;
  const { section: measured, measures } = await monitoring(db, today);
  const risk = await riskTreatment(db, today);
  const sections = [
    await previousActions(db, today), await issuesAndScope(db, since), await nonconformities(db, today), measured,
    await auditResults(db, since), objectives(), await feedback(db), risk.section, await improvements(db),
  ];
  const charts = [poamChart(await poamTrend(db, now)), freshnessChart(measures.areas), coverageChart(measures.coverage), riskChart(risk.scores, risk.appetite)];
  return { sections, charts, since: last };
}

/** The PNG file name of a pack's chart: "review-pack-RP-0001-poam-open-closed.png". */
export const chartFileName = (packRef: string, chart: { name: string }) => `review-pack-${packRef}-${chart.name}.png`;
export const documentFileName = (pack: { ref: string; preparedAt: Date }) => `review-pack-${pack.ref}-${isoDay(pack.preparedAt)}.md`;

/**
 * The day a pack was compiled as its document and file name carry it (UTC, the day its figures count to:
 * part of the audit evidence, so the same for every reader) and, where the reader's day differs, the moment
 * on their clock: "2026-06-15 (UTC, as the pack document is dated; 2026-06-16 03:30 Pacific/Kiritimati on your clock)".
 */
export function packDayInWords(pack: { preparedAt: Date }, timezone: string | null | undefined): string {
  const day = isoDay(pack.preparedAt);
  if (readersDay(pack.preparedAt, timezone) === day) return day;
  return `${day} (UTC, as the pack document is dated; ${readersTime(pack.preparedAt, timezone)} on your clock)`;
}

/** The pack as a Markdown document that names its chart files, which travel with it. */
export function packDocument(ref: string, preparedOn: string, preparedBy: string, compiled: CompiledPack): string {
  const out = [
    `# Management review pack ${ref}`,
    '',
    `Inputs to the management review (ISO/IEC 27001:2022 cl. 9.3.2), compiled from the ISMS register on ${preparedOn} by ${preparedBy}.`,
    compiled.since ? `Figures "since" count from the last management review, ${compiled.since.ref} held on ${compiled.since.heldOn}.` : 'No earlier management review is recorded.',
    '',
  ];
  for (const s of compiled.sections) {
    out.push(`## (${s.key}) ${s.heading}`, '', ...s.lines.map((l) => `- ${l.replace(/\n/g, ' ')}`), '');
  }
  out.push('## Charts', '');
  for (const c of compiled.charts) out.push(`![${c.title}](${chartFileName(ref, c)})`, '');
  return out.join('\n');
}

/** Each file in a folder of its own: a platform takes a file from its folder and removes that folder afterwards. */
async function writeOut(name: string, bytes: Buffer | string): Promise<string> {
  const file = path.join(tmpdir(), 'isms-exports', randomUUID(), name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, bytes);
  return file;
}

/** The pack's document and chart images as files, drawn again from what the pack stored, and its narrative with its marking. */
export async function packFiles(pack: ReviewPack, narrative?: ShownNarrative): Promise<FileOut[]> {
  const files: FileOut[] = [{
    name: documentFileName(pack), mimeType: 'text/markdown', title: `Management review pack ${pack.ref} (Markdown)`,
    path: await writeOut(documentFileName(pack), pack.document),
  }];
  if (narrative) {
    const name = narrativeFileName(pack.ref);
    const what = narrative.narrative.machineGenerated ? 'machine-generated draft' : 'narrative';
    files.push({ name, mimeType: 'text/markdown', title: `Management review pack ${pack.ref}, ${what} (Markdown)`, path: await writeOut(name, narrativeDocument(pack.ref, narrative)) });
  }
  for (const chart of pack.charts) {
    const name = chartFileName(pack.ref, chart);
    files.push({ name, mimeType: 'image/png', title: `${chart.title} (${pack.ref}, PNG)`, path: await writeOut(name, await chartPng(chart as unknown as Chart)) });
  }
  return files;
}

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The latest pack, or the one named by RP- or MR- reference (the pack that review considered). */
export async function findPack(db: Db, ref?: string): Promise<ReviewPack> {
  if (!ref) {
    const [latest] = await db.select().from(reviewPacks).orderBy(desc(reviewPacks.id)).limit(1);
    if (!latest) throw notFound('No management review pack has been prepared yet.', 'The ISMS lead prepares one with "/isms review prepare".');
    return latest;
  }
  if (ref.startsWith('MR-')) {
    const [row] = await db.select({ pack: reviewPacks }).from(managementReviews).leftJoin(reviewPacks, eq(reviewPacks.id, managementReviews.packId))
      .where(eq(managementReviews.ref, ref));
    if (!row) throw notFound(`${ref} does not exist.`, '"/isms reviews" lists the management reviews with their references.');
    if (!row.pack) throw notFound(`${ref} was recorded without a review pack.`, '"/isms review pack" gives the latest pack.');
    return row.pack;
  }
  const [pack] = await db.select().from(reviewPacks).where(eq(reviewPacks.ref, ref));
  if (!pack) throw notFound(`${ref} does not exist.`, '"/isms review pack" gives the latest pack; "/isms reviews" names each review\'s pack.');
  return pack;
}

/** What a member of the management body is told, the day as the document reads (and on their clock where it differs): one line per input, the charts as pictures, and where to get the document. */
function packMessage(pack: ReviewPack, preparedBy: string, compiled: CompiledPack, charts: Block[], timezone: string | null | undefined): Block[] {
  return [
    text(`${preparedBy} prepared the management review pack ${pack.ref}: the ISO 27001 cl. 9.3.2 inputs as the register stands on ${packDayInWords(pack, timezone)}.`),
    fields(compiled.sections.map((s) => ({ label: `(${s.key}) ${s.heading}`, value: s.summary })), 'Inputs at a glance'),
    ...charts,
    text(`The pack document and its ${pack.charts.length} charts (${pack.charts.map((c) => c.title.toLowerCase()).join('; ')}) come as files with "Get the pack".`),
    actions({ label: 'Get the pack', command: `review pack ${pack.ref}`, style: 'primary' }),
  ];
}

/** The pack's charts as pictures in the message, drawn once for every member. */
async function chartImages(ref: string, charts: Chart[]): Promise<Block[]> {
  return Promise.all(charts.map(async (chart) => imageBlock({
    title: chart.title,
    alt: `Chart of the management review pack ${ref}; its figures are in the inputs above and in the pack document.`,
    fileName: chartFileName(ref, chart),
    png: await chartPng(chart),
  })));
}

/**
 * Compiles the pack, stores it and tells each member of the management body. A pack identical to the
 * latest one (same document) is not stored or sent again: the latest is handed out instead.
 */
export async function prepareReviewPack(ctx: CommandContext): Promise<{ pack: ReviewPack; compiled: CompiledPack; fresh: boolean; told: number }> {
  const board = (await peopleWithRole(ctx.db, 'management_body')).sort((a, b) => a.id - b.id);
  if (board.length === 0) {
    throw invalid('No one in the register has the management body role, and the pack is for top management (ISO 27001 9.3).',
      'Give the management body its role in the register (import), then prepare the pack.');
  }
  const compiled = await compileReviewPack(ctx.db, ctx.now);
  const [latest] = await ctx.db.select().from(reviewPacks).orderBy(desc(reviewPacks.id)).limit(1);
  const candidate = packDocument(latest?.ref ?? '', isoDay(ctx.now), ctx.actor.name, compiled);
  if (latest && sha256(candidate) === latest.documentSha256) return { pack: latest, compiled, fresh: false, told: 0 };

  const ref = await nextRef(ctx.db, 'RP');
  const document = packDocument(ref, isoDay(ctx.now), ctx.actor.name, compiled);
  const [pack] = await ctx.db.insert(reviewPacks).values({
    ref, preparedBy: ctx.actor.id, preparedAt: ctx.now, document, documentSha256: sha256(document),
    charts: compiled.charts.map((c) => ({ name: c.name, title: c.title, spec: c.spec as unknown as Record<string, unknown> })),
  }).returning();
  await ctx.audit({ action: 'prepare', entity: 'review_pack', entityRef: ref, after: pack });
  let told = 0;
  const charts = await chartImages(ref, compiled.charts);
  for (const member of board) {
    if (member.id === ctx.actor.id) continue;
    const queued = await ctx.notify({
      recipientId: member.id, kind: 'review_pack', idempotencyKey: `review-pack:${ref}:member:${member.id}`,
      reply: { ...reply(...packMessage(pack, ctx.actor.name, compiled, charts, member.timezone)), about: ref },
    });
    if (queued) told++;
  }
  return { pack, compiled, fresh: true, told };
}

export const reviewPrepareCommand = defineCommand({
  name: 'review prepare',
  summary: 'Compile the management review inputs (ISO 27001 9.3.2) with charts and send the pack to the management body',
  examples: ['review prepare'],
  roles: ['isms_lead'],
  schema: z.object({}),
  async run(ctx) {
    const { pack, compiled, fresh, told } = await prepareReviewPack(ctx);
    // A fresh pack has no narrative yet: its draft is written once the pack is stored.
    const narrative = fresh ? undefined : await currentNarrative(ctx.db, pack.id);
    const files = await packFiles(pack, narrative);
    const said = fresh
      ? text(`Prepared the management review pack ${pack.ref} and sent it to ${plural(told, 'member')} of the management body.`, 'success')
      : text(`Nothing changed since ${pack.ref} was prepared on ${packDayInWords(pack, ctx.actor.timezone)}: the management body already has it, so nothing was sent again. Here it is.`);
    return {
      ...reply(
        said,
        fields(compiled.sections.map((s) => ({ label: `(${s.key}) ${s.heading}`, value: s.summary })), 'Inputs at a glance'),
        ...(narrative ? narrativeBlocks(narrative, pack.ref, ctx.actor) : []),
        ...files.map(fileBlock),
        text(`Record the review once it is held with "review record <date> --attendees <emails or names> --chair <email> --pack ${pack.ref}".`),
      ),
      about: pack.ref,
    };
  },
});

export const packRef = z.string().trim().transform((v, ctx) => {
  const m = /^(RP|MR)-?(\d+)$/i.exec(v);
  if (!m) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a pack reference like RP-0001 or a review reference like MR-0001, not "${v}"` });
    return z.NEVER;
  }
  return `${m[1].toUpperCase()}-${m[2].padStart(4, '0')}`;
});

export const reviewPackCommand = defineCommand({
  name: 'review pack',
  summary: 'The management review pack as files: the document (Markdown) and its charts (PNG); the latest unless named',
  examples: ['review pack', 'review pack RP-0001', 'review pack MR-0002'],
  roles: ['isms_lead', 'management_body', 'auditor'],
  schema: z.object({ pack: packRef.optional().describe('The pack (RP-0001) or the review that considered it (MR-0001); the latest pack if left out') }),
  args: { pack: { positional: true, value: 'RP-ref or MR-ref' } },
  async run(ctx, input) {
    const pack = await findPack(ctx.db, input.pack);
    const narrative = await currentNarrative(ctx.db, pack.id);
    const files = await packFiles(pack, narrative);
    await ctx.audit({ action: 'export', entity: 'export', entityRef: pack.ref, after: { files: files.map((f) => f.name) } });
    return {
      ...reply(text(`The management review pack ${pack.ref}, prepared on ${packDayInWords(pack, ctx.actor.timezone)}: the document and ${plural(pack.charts.length, 'chart')}`
        + `${narrative ? ', and its narrative' : ''}.`, 'success'),
      ...(narrative ? narrativeBlocks(narrative, pack.ref, ctx.actor) : []),
      ...files.map(fileBlock)),
      about: pack.ref,
    };
  },
});
