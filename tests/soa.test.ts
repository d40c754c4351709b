import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { controlMappings, controls, evidenceItems, evidenceRequests, frameworkRequirements, people } from '../src/db/schema/index.js';
import { toPlainText, type Block, type Reply } from '../src/core/reply.js';
import { toActor } from '../src/core/actor.js';
import { nextRef } from '../src/core/refs.js';
import { buildRouter } from '../src/commands.js';
import { loadReferenceData } from '../src/refdata/index.js';
import { loadExampleOrganisation } from '../src/import/example.js';
import { coverage, soaRows } from '../src/domain/soa/soa.js';
import type { Db } from '../src/db/client.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

const NOW = new Date('2026-12-01T10:00:00Z');
const TODAY = '2026-12-01';
const listTitled = (r: Reply, title: string) =>
  r.blocks.find((b): b is Extract<Block, { type: 'list' }> => b.type === 'list' && !!b.title?.startsWith(title))!;

async function addControl(db: Db, code: string, values: Partial<typeof controls.$inferInsert>, mapped: [string, string][]) {
  const [control] = await db.insert(controls).values({ code, title: `${code} title`, ...values }).returning();
  for (const [framework, reference] of mapped) {
    const [req] = await db.select().from(frameworkRequirements)
      .where(eq(frameworkRequirements.framework, framework)).then((rs) => rs.filter((r) => r.reference === reference));
    await db.insert(controlMappings).values({ controlId: control.id, requirementId: req.id });
  }
  return control;
}

/** Evidence as "/isms evidence submit" writes it: an item against a request in the given state. */
async function addEvidence(db: Db, controlId: number, ownerId: number, effectiveOn: string, status: 'submitted' | 'accepted' | 'open') {
  const [request] = await db.insert(evidenceRequests).values({
    ref: await nextRef(db, 'EVR'), controlId, ownerId, dueOn: effectiveOn, cycle: `cycle-${effectiveOn}`, status,
  }).returning();
  await db.insert(evidenceItems).values({
    ref: await nextRef(db, 'EV'), requestId: request.id, controlId, revision: 1, submittedBy: ownerId,
    submittedAt: new Date(`${effectiveOn}T09:00:00Z`), effectiveOn, text: 'evidence', channel: 'test',
  });
}

describe('statement of applicability', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    await loadReferenceData(bot.t.db);
  });
  afterEach(async () => { await bot.destroy(); });

  it('lists all 93 Annex A controls of an empty register as "no decision"', async () => {
    const rows = await soaRows(bot.t.db, 'ISO27001:2022', TODAY);
    expect(rows).toHaveLength(93);
    expect(rows.map((r) => r.reference).slice(0, 3)).toEqual(['A.5.1', 'A.5.2', 'A.5.3']);
    expect(rows.at(-1)!.reference).toBe('A.8.34');
    expect(new Set(rows.map((r) => r.decision))).toEqual(new Set(['no decision']));

    const answer = await bot.sayText('auditor', '/isms soa iso27001:2022', { now: NOW });
    expect(answer).toContain('ISO/IEC 27001:2022: 0 of 93 requirements decided');
    expect(answer).toContain('No decision yet (first 10 of 93 undecided)');
    expect(answer).toContain('/isms export soa');
  });

  it('decides each requirement through its mapped controls: applicability, implementation and evidence freshness', async () => {
    const access = await addControl(bot.t.db, 'CTL-AC-01', { evidenceFrequency: 'quarterly', justification: 'Account takeover' },
      [['ISO27001:2022', 'A.5.15'], ['NIS2', '21.2.i']]);
    await addControl(bot.t.db, 'CTL-AC-02', { evidenceFrequency: 'monthly' }, [['NIS2', '21.2.i']]);
    await addControl(bot.t.db, 'CTL-PHY-01', { applicable: false, justification: 'No own premises' }, [['ISO27001:2022', 'A.7.1']]);
    await addEvidence(bot.t.db, access.id, bot.ids.owner, '2026-10-15', 'accepted');

    const iso = await soaRows(bot.t.db, 'ISO27001:2022', TODAY);
    expect(iso.find((r) => r.reference === 'A.5.15')).toMatchObject({
      decision: 'applicable', justification: 'Account takeover', controls: ['CTL-AC-01'], implementation: 'implemented',
      evidence: 'fresh', latestEvidenceOn: '2026-10-15',
    });
    expect(iso.find((r) => r.reference === 'A.7.1')).toMatchObject({
      decision: 'not applicable', justification: 'No own premises', implementation: null, evidence: null,
    });
    const nis2 = await soaRows(bot.t.db, 'NIS2', TODAY);
    expect(nis2.map((r) => r.reference)).toEqual(['21.2.a', '21.2.b', '21.2.c', '21.2.d', '21.2.e', '21.2.f', '21.2.g', '21.2.h', '21.2.i', '21.2.j']);
    // One of its two controls has no evidence yet: partly implemented, and its evidence is as weak as the weakest.
    expect(nis2.find((r) => r.reference === '21.2.i')).toMatchObject({ implementation: 'partly implemented', evidence: 'none' });
    expect((await soaRows(bot.t.db, 'NIST-CSF-2.0', TODAY))).toHaveLength(106);

    const answer = await bot.sayText('lead', '/isms soa ISO27001:2022', { now: NOW });
    expect(answer).toContain('2 of 93 requirements decided');
    expect(answer).toContain('Applicable: 1 (1 not applicable)');
    expect(answer).toContain('Implemented: 1 of 1 applicable');
    expect(answer).toContain('Evidence: 1 fresh, 0 stale, 0 none');
  });

  it('refuses staff and an unknown framework, suggesting the one meant, and writes nothing', async () => {
    const before = await bot.auditCount();
    const refused = await bot.say('staff', '/isms soa ISO27001:2022');
    expect(refused.outcome).toBe('refused');
    expect(toPlainText(refused)).toContain('"/isms soa"');
    expect((await bot.say('staff', '/isms coverage NIS2')).outcome).toBe('refused');
    expect(await bot.sayText('lead', '/isms soa ISO27010:2022')).toContain('There is no framework "ISO27010:2022". Did you mean ISO27001:2022');
    expect(await bot.sayText('board', '/isms coverage dorra')).toContain('Did you mean DORA');
    expect(await bot.auditCount()).toBe(before);
  });
});

describe('coverage and drift', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    await loadReferenceData(bot.t.db);
  });
  afterEach(async () => { await bot.destroy(); });

  it('names exactly the CSF subcategory with no control and the control whose evidence is stale', async () => {
    const subcategories = (await soaRows(bot.t.db, 'NIST-CSF-2.0', TODAY)).map((r) => r.reference);
    const [stale, ...rest] = subcategories.filter((r) => r !== 'DE.CM-09');
    const covering = await addControl(bot.t.db, 'CTL-ALL-01', { evidenceFrequency: 'yearly' }, rest.map((r) => ['NIST-CSF-2.0', r]));
    const aging = await addControl(bot.t.db, 'CTL-OLD-01', { evidenceFrequency: 'quarterly' }, [['NIST-CSF-2.0', stale]]);
    await addEvidence(bot.t.db, covering.id, bot.ids.owner, '2026-03-01', 'submitted');
    // Fresh evidence sent back (its request open again) does not count; the accepted one is 200 days old.
    await addEvidence(bot.t.db, aging.id, bot.ids.owner, '2026-05-15', 'accepted');
    await addEvidence(bot.t.db, aging.id, bot.ids.owner, '2026-11-20', 'open');

    const c = await coverage(bot.t.db, 'NIST-CSF-2.0', TODAY);
    expect(c.uncovered.map((r) => r.reference)).toEqual(['DE.CM-09']);
    expect(c.unevidenced.map((s) => `${s.code} ${s.evidence} ${s.latestEvidenceOn}`)).toEqual(['CTL-OLD-01 stale 2026-05-15']);
    expect(c.drift).toEqual([]);

    const answer = await bot.say('auditor', '/isms coverage csf', { now: NOW });
    expect(listTitled(answer, 'Requirements with no control').items.map((i) => i.title.split(' ')[0])).toEqual(['DE.CM-09']);
    expect(listTitled(answer, 'Controls without fresh evidence').items).toEqual([
      { title: 'CTL-OLD-01 CTL-OLD-01 title', detail: 'stale: latest evidence effective 2026-05-15' },
    ]);
    expect(toPlainText(answer)).toContain('1 requirement with no control, 1 control without fresh evidence, 0 drift');
  });

  it('names two frameworks whose requirements disagree through the same control', async () => {
    await addControl(bot.t.db, 'CTL-PHY-01', { applicable: false, justification: 'No own premises' },
      [['ISO27001:2022', 'A.7.1'], ['NIST-CSF-2.0', 'PR.IR-02']]);
    await addControl(bot.t.db, 'CTL-FAC-01', {}, [['NIST-CSF-2.0', 'PR.IR-02']]);

    const c = await coverage(bot.t.db, 'ISO27001:2022', TODAY);
    expect(c.drift.map((d) => [d.control, d.reason])).toEqual([
      ['CTL-PHY-01', 'ISO27001:2022 A.7.1 is not applicable, NIST-CSF-2.0 PR.IR-02 is applicable'],
    ]);
    const fromCsf = await bot.say('lead', '/isms coverage NIST-CSF-2.0', { now: NOW });
    expect(listTitled(fromCsf, 'Drift').items).toEqual([{
      title: 'CTL-PHY-01: NIST-CSF-2.0 PR.IR-02 ↔ ISO27001:2022 A.7.1',
      detail: 'NIST-CSF-2.0 PR.IR-02 is applicable, ISO27001:2022 A.7.1 is not applicable',
    }]);
  });
});

describe('the example organisation', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase();
    await loadExampleOrganisation(t.db, NOW);
  });
  afterEach(async () => { await t.destroy(); });

  it('decides every one of the 93 Annex A controls, each with a justification', async () => {
    const rows = await soaRows(t.db, 'ISO27001:2022', TODAY);
    expect(rows).toHaveLength(93);
    expect(rows.filter((r) => r.decision === 'no decision').map((r) => r.reference)).toEqual([]);
    expect(rows.filter((r) => !r.justification).map((r) => r.reference)).toEqual([]);
    expect(rows.filter((r) => r.decision === 'not applicable').length).toBeGreaterThan(0);
    // A model register: no framework contradicts another through a shared control.
    expect((await coverage(t.db, 'ISO27001:2022', TODAY)).drift).toEqual([]);

    const [lead] = (await t.db.select().from(people)).filter((p) => p.roles.includes('isms_lead'));
    const answer = toPlainText(await buildRouter(t.db).handle('/isms soa ISO27001:2022', { actor: toActor(lead), channel: 'test', now: NOW }));
    expect(answer).toContain('93 of 93 requirements decided');
    expect(answer).not.toContain('No decision yet');
  });

  it('exports the statement one click from its summary, every Annex A control a row', async () => {
    const [lead] = (await t.db.select().from(people)).filter((p) => p.roles.includes('isms_lead'));
    const router = buildRouter(t.db);
    const summary = await router.handle('/isms soa iso27001', { actor: toActor(lead), channel: 'test', now: NOW });
    const button = summary.blocks.flatMap((b) => (b.type === 'actions' ? b.buttons : [])).find((b) => b.label === 'Export (XLSX)');
    expect(button?.command).toBe('export soa xlsx');

    const exported = await router.handle('export soa json', { actor: toActor(lead), channel: 'test', now: NOW });
    expect(exported.outcome).toBe('recorded');
    const file = exported.blocks.find((b): b is Extract<Block, { type: 'file' }> => b.type === 'file')!.file;
    const json = JSON.parse(readFileSync(file.path, 'utf8')) as { artefact: string; rows: { reference: string; decision: string; controls: string | null }[] };
    rmSync(path.dirname(file.path), { recursive: true, force: true });
    expect(json.artefact).toBe('soa');
    expect(json.rows).toHaveLength(93);
    expect(json.rows.filter((r) => r.decision === 'no decision')).toEqual([]);
    expect(json.rows.find((r) => r.reference === 'A.5.1')?.controls).toMatch(/^CTL-/);
  });
});
