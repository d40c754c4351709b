import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asc, eq } from 'drizzle-orm';
import {
  auditEvents, auditFindings, controls, evidenceItems, evidenceRequests, people, poamExtensions, poamItems, poamMilestones,
} from '../src/db/schema/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { chatSession } from './helpers/chat-exports.js';
import { exampleRegister, runScript, type Register } from './helpers/process.js';
import { loadExampleOrganisation } from '../src/import/example.js';
import { buildRouter } from '../src/commands.js';
import { toPlainText, type Block } from '../src/core/reply.js';
import { DOCUMENTS, findDocument } from '../src/domain/exports/artefacts.js';
import { documentDoc } from '../src/domain/exports/docs.js';
import { exportDocumentToFile } from '../src/domain/exports/files.js';
import { parseExportRequest } from '../src/domain/exports/request.js';
import { buildPoam } from '../src/domain/oscal/poam.js';
import { buildAssessmentResults } from '../src/domain/oscal/assessment-results.js';
import { stableUuid } from '../src/domain/oscal/common.js';
import { assertValidOscal, OscalDocumentInvalid, oscalProblems } from '../src/domain/oscal/validate.js';
import type { CommandRouter } from '../src/core/router.js';

const NOW = new Date('2026-12-02T09:00:00Z');
const LATER = new Date('2026-12-02T17:30:00Z');
const FILE = Buffer.from('%PDF-1.4 access review 2026-Q4\n');
const FILE_SHA256 = createHash('sha256').update(FILE).digest('hex');

type Json = Record<string, any>;
const poamOf = (doc: object) => (doc as Json)['plan-of-action-and-milestones'] as Json;
const resultsOf = (doc: object) => (doc as Json)['assessment-results'] as Json;

/**
 * An audit finding with its POA&M item, an approved extension, a milestone done, and three evidence revisions
 * (a file, a link, a text) for the first control, answering a request an evidence-gap POA&M item follows.
 */
async function addActivity(db: TestDatabase['db']): Promise<void> {
  const [lead] = await db.select().from(people).where(eq(people.email, 'iris@northwind.example'));
  const [board] = await db.select().from(people).where(eq(people.email, 'katrin.vogel@northwind.example'));
  const [first] = await db.select().from(poamItems).orderBy(asc(poamItems.id)).limit(1);
  const [control] = await db.select().from(controls).orderBy(asc(controls.code)).limit(1);
  await db.insert(auditFindings).values({ ref: 'AF-0001', type: 'major_nc', clause: '6.1.3', description: 'The SoA misses two Annex A controls.', raisedBy: lead.id });
  await db.insert(poamItems).values({ ref: 'POAM-0100', weakness: 'Statement of applicability incomplete', source: 'audit_finding', sourceRef: 'AF-0001', ownerId: lead.id, dueOn: '2027-02-28' });
  await db.insert(poamExtensions).values({ ref: 'PEX-0001', itemId: first.id, previousDueOn: '2027-01-31', requestedDueOn: '2027-03-31', reason: 'restore lab delayed', requestedBy: lead.id, status: 'approved', decidedBy: board.id, decidedAt: new Date('2026-11-20T08:00:00Z') });
  await db.update(poamMilestones).set({ doneAt: new Date('2026-11-25T10:00:00Z'), doneBy: lead.id }).where(eq(poamMilestones.itemId, first.id));
  const [request] = await db.insert(evidenceRequests).values({ ref: 'EVR-0100', controlId: control.id, ownerId: lead.id, dueOn: '2026-12-15', cycle: '2026-Q4', status: 'submitted' }).returning();
  await db.insert(poamItems).values({ ref: 'POAM-0101', weakness: 'Access review evidence was late', source: 'evidence_gap', sourceRef: 'EVR-0100', ownerId: lead.id, dueOn: '2026-12-31' });
  const revision = { requestId: request.id, controlId: control.id, submittedBy: lead.id, submittedAt: new Date('2026-11-30T09:00:00Z'), effectiveOn: '2026-11-30', channel: 'slack' };
  await db.insert(evidenceItems).values([
    { ...revision, ref: 'EV-0100', revision: 1, fileName: 'access review.pdf', fileSize: FILE.length, fileSha256: FILE_SHA256 },
    { ...revision, ref: 'EV-0101', revision: 2, link: 'https://wiki.northwind.example/access-review' },
    { ...revision, ref: 'EV-0102', revision: 3, text: 'Reviewed by the IT lead,\nno findings.' },
  ]);
}

describe('OSCAL exports of the example organisation', () => {
  let t: TestDatabase;
  let router: CommandRouter;
  let poam: Json;
  let results: Json;
  const { say, cleanUp } = chatSession(() => ({ db: t.db, router }), NOW);
  beforeAll(async () => {
    t = await createTestDatabase();
    expect(await loadExampleOrganisation(t.db, NOW)).toBe(true);
    await addActivity(t.db);
    router = buildRouter(t.db);
    poam = (await buildPoam(t.db, NOW)).document;
    results = (await buildAssessmentResults(t.db, NOW)).document;
  });
  afterAll(async () => {
    await t?.destroy();
    await cleanUp();
  });

  it('writes both documents so that they validate against NIST\'s OSCAL 1.2.1 schemas', () => {
    expect(oscalProblems('plan-of-action-and-milestones', poam)).toEqual([]);
    expect(oscalProblems('assessment-results', results)).toEqual([]);
    expect(poamOf(poam).metadata['oscal-version']).toBe('1.2.1');
    // There is no separate assessment plan: the documented placeholder stands where the schema wants one.
    expect(resultsOf(results)['import-ap']).toMatchObject({ href: 'urn:isms-bot:oscal:continuous-assessment', remarks: expect.stringContaining('no separate assessment plan') });
  });

  it('fails a broken document with an error that names where it breaks the schema', () => {
    const badUuid = structuredClone(poam);
    poamOf(badUuid)['poam-items'][1].uuid = 'not-a-uuid';
    expect(oscalProblems('plan-of-action-and-milestones', badUuid)[0]).toMatch(/^\/plan-of-action-and-milestones\/poam-items\/1\/uuid must match pattern/);

    const noTitle = structuredClone(poam);
    delete poamOf(noTitle)['poam-items'][0].title;
    expect(() => assertValidOscal('plan-of-action-and-milestones', noTitle)).toThrow(OscalDocumentInvalid);
    expect(() => assertValidOscal('plan-of-action-and-milestones', noTitle))
      .toThrow(/does not validate .*: \/plan-of-action-and-milestones\/poam-items\/0 must have required property 'title'/);

    const badState = structuredClone(results);
    resultsOf(badState).results[0].findings[0].target.status.state = 'compliant';
    expect(oscalProblems('assessment-results', badState).join('; ')).toContain('/assessment-results/results/0/findings/0/target/status/state');
  });

  it('gives each POA&M row an item, its milestones as the tasks of its remediation, and its extension history', async () => {
    const rows = await t.db.select().from(poamItems).orderBy(asc(poamItems.id));
    const doc = poamOf(poam);
    expect(doc['poam-items'].map((i: Json) => i.uuid)).toEqual(rows.map((r) => stableUuid(`poam-item:${r.ref}`)));
    const risks = new Map<string, Json>(doc.risks.map((r: Json) => [r.uuid, r]));
    for (const row of rows) {
      const item = doc['poam-items'].find((i: Json) => i.uuid === stableUuid(`poam-item:${row.ref}`));
      expect(item.title).toBe(`${row.ref}: ${row.weakness}`);
      expect(item.props).toContainEqual({ name: 'due-on', ns: 'urn:isms-bot:oscal', value: row.dueOn });
      const risk = risks.get(item['related-risks'][0]['risk-uuid'])!;
      const remediation = risk.remediations.find((r: Json) => r.uuid === stableUuid(`remediation:${row.ref}`));
      const milestones = await t.db.select().from(poamMilestones).where(eq(poamMilestones.itemId, row.id)).orderBy(asc(poamMilestones.seq));
      expect(remediation.tasks ?? []).toHaveLength(milestones.length);
      milestones.forEach((m, i) => expect(remediation.tasks[i]).toMatchObject({
        type: 'milestone', title: m.description, timing: { 'within-date-range': { end: `${m.dueOn}T23:59:59Z` } },
      }));
    }

    const [first] = rows;
    expect(doc['poam-items'][0].remarks).toMatch(/PEX-0001: from 2027-01-31 to 2027-03-31, requested by Iris Lindqvist .*\(restore lab delayed\); approved on 2026-11-20 by Katrin Vogel/);
    expect(risks.get(stableUuid(`risk:${first.sourceRef}`))).toMatchObject({ status: 'open', characterizations: [{ facets: expect.arrayContaining([{ name: 'likelihood', system: 'urn:isms-bot:oscal', value: '3' }]) }] });
    expect(risks.get(stableUuid(`risk:${first.sourceRef}`))!.remediations[0].tasks[0].props).toContainEqual({ name: 'done-at', ns: 'urn:isms-bot:oscal', value: '2026-11-25T10:00:00.000Z' });

    const fromFinding = doc['poam-items'].find((i: Json) => i.uuid === stableUuid('poam-item:POAM-0100'));
    expect(fromFinding['related-findings']).toEqual([{ 'finding-uuid': stableUuid('finding:AF-0001') }]);
    expect(doc.findings).toEqual([expect.objectContaining({ uuid: stableUuid('finding:AF-0001'), target: expect.objectContaining({ 'target-id': 'clause-6.1.3', status: { state: 'not-satisfied', reason: 'fail' } }) })]);
    const fromGap = doc['poam-items'].find((i: Json) => i.uuid === stableUuid('poam-item:POAM-0101'));
    expect(fromGap['related-observations']).toEqual(['EV-0100', 'EV-0101', 'EV-0102'].map((ref) => ({ 'observation-uuid': stableUuid(`observation:${ref}`) })));
  });

  it('lists evidence as observations, the file in the back matter with its SHA-256', () => {
    const doc = poamOf(poam);
    const resource = stableUuid('evidence-file:EV-0100');
    expect(doc['back-matter'].resources).toEqual([expect.objectContaining({
      uuid: resource, title: 'access review.pdf',
      rlinks: [{ href: 'evidence/EV-0100-access-review.pdf', hashes: [{ algorithm: 'SHA-256', value: FILE_SHA256 }] }],
    })]);
    const observations = new Map<string, Json>(doc.observations.map((o: Json) => [o.uuid, o]));
    expect(observations.get(stableUuid('observation:EV-0100'))).toMatchObject({ methods: ['EXAMINE'], collected: '2026-11-30T09:00:00.000Z', 'relevant-evidence': [{ href: `#${resource}` }] });
    expect(observations.get(stableUuid('observation:EV-0101'))!['relevant-evidence']).toEqual([{ href: 'https://wiki.northwind.example/access-review', description: 'Link: https://wiki.northwind.example/access-review' }]);
    expect(observations.get(stableUuid('observation:EV-0102'))!['relevant-evidence']).toEqual([{ description: 'Reviewed by the IT lead,\nno findings.' }]);
    expect(resultsOf(results)['back-matter']).toEqual(doc['back-matter']);
  });

  it('finds each applicable control satisfied only when implemented with fresh evidence', async () => {
    const [result] = resultsOf(results).results;
    const all = await t.db.select().from(controls).orderBy(asc(controls.code));
    const applicable = all.filter((c) => c.applicable);
    expect(result.start).toBe(NOW.toISOString());
    expect(result['reviewed-controls']['control-selections'][0]['include-controls']).toEqual(applicable.map((c) => ({ 'control-id': c.code })));
    expect(result.findings.map((f: Json) => f.target['target-id'])).toEqual(applicable.map((c) => c.code));
    const evidenced = result.findings.find((f: Json) => f.target['target-id'] === all[0].code);
    expect(evidenced.target).toMatchObject({ type: 'objective-id', status: { state: 'satisfied', reason: 'pass' }, 'implementation-status': { state: 'implemented' } });
    expect(evidenced['related-observations']).toHaveLength(3);
    for (const f of result.findings.filter((x: Json) => x !== evidenced)) expect(f.target.status.state).toBe('not-satisfied');
  });

  it('keeps every UUID across exports of an unchanged register, differs per item, and renames the document when the register changes', async () => {
    const again = (await buildPoam(t.db, LATER)).document;
    const timeless = (doc: object) => {
      const copy = structuredClone(poamOf(doc));
      delete copy.metadata['last-modified'];
      delete copy.metadata.version;
      return copy;
    };
    expect(timeless(again)).toEqual(timeless(poam));
    const uuids = poamOf(poam)['poam-items'].map((i: Json) => i.uuid);
    expect(new Set(uuids).size).toBe(uuids.length);
    const laterResults = resultsOf((await buildAssessmentResults(t.db, LATER)).document);
    expect(laterResults.uuid).toBe(resultsOf(results).uuid);
    expect(laterResults.results[0].findings.map((f: Json) => f.uuid)).toEqual(resultsOf(results).results[0].findings.map((f: Json) => f.uuid));

    await t.db.update(poamItems).set({ status: 'in_progress' }).where(eq(poamItems.ref, 'POAM-0100'));
    const changed = poamOf((await buildPoam(t.db, LATER)).document);
    await t.db.update(poamItems).set({ status: 'open' }).where(eq(poamItems.ref, 'POAM-0100'));
    expect(changed.uuid).not.toBe(poamOf(poam).uuid);
    expect(changed['poam-items'].map((i: Json) => i.uuid)).toEqual(uuids);
  });

  it('hands the ISMS lead the OSCAL document in chat, audited; refuses it as CSV or XLSX and writes nothing', async () => {
    const before = (await t.db.select().from(auditEvents)).length;
    const answer = await say('iris@northwind.example', '/isms export oscal-poam');
    expect(answer.outcome).toBe('recorded');
    const file = answer.blocks.find((b): b is Extract<Block, { type: 'file' }> => b.type === 'file')!.file;
    expect(file).toMatchObject({ name: 'oscal-poam-2026-12-02.json', mimeType: 'application/json', title: 'OSCAL plan of action and milestones (JSON: 5 POA&M items, 5 risks, 1 finding, 3 observations, 1 evidence file)' });
    expect(oscalProblems('plan-of-action-and-milestones', JSON.parse(readFileSync(file.path, 'utf8')))).toEqual([]);
    const events = await t.db.select().from(auditEvents).orderBy(asc(auditEvents.seq));
    expect(events.at(-1)).toMatchObject({ action: 'export', entityRef: 'oscal-poam', after: { format: 'json', file: 'oscal-poam-2026-12-02.json' } });

    for (const format of ['csv', 'xlsx']) {
      const refused = await say('iris@northwind.example', `/isms export oscal-poam ${format}`);
      expect(toPlainText(refused)).toContain(`"oscal-poam" is an OSCAL document, so it is exported as JSON only, not as ${format.toUpperCase()}. Nothing was exported.`);
      expect(refused.blocks.some((b) => b.type === 'file')).toBe(false);
    }
    expect(toPlainText(await say('sam.novak@northwind.example', '/isms export oscal-assessment-results'))).toContain('Only the ISMS lead, an auditor or the management body may use');
    expect(await t.db.select().from(auditEvents)).toHaveLength(before + 1);
  });

  it('never writes a document that does not validate, and says where it breaks', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'oscal-'));
    const broken = {
      ...findDocument('oscal-poam')!,
      async build() {
        const document = structuredClone(poam);
        poamOf(document)['poam-items'][0].uuid = 'POAM-0001';
        assertValidOscal('plan-of-action-and-milestones', document);
        return { document, counts: {} };
      },
    };
    await expect(exportDocumentToFile(t.db, broken, path.join(dir, 'poam.json'), NOW)).rejects.toThrow(/poam-items\/0\/uuid must match pattern/);
    expect(await readdir(dir)).toEqual([]);
    await rm(dir, { recursive: true });
  });

  it('takes OSCAL documents on the command line as JSON only, without a period', () => {
    expect(parseExportRequest(['oscal-assessment-results'])).toMatchObject({ name: 'oscal-assessment-results', format: 'json', artefacts: [] });
    expect(() => parseExportRequest(['oscal-poam', '--format', 'xlsx'])).toThrow('"oscal-poam" is an OSCAL document, so it is exported as JSON only, not as XLSX.');
    expect(() => parseExportRequest(['oscal-poam', '--from', '2026-01-01'])).toThrow(/--from and --to do not apply to "oscal-poam"/);
  });

  it('documents both OSCAL documents in docs/exports.md', async () => {
    const docs = await readFile(path.join(import.meta.dirname, '../docs/exports.md'), 'utf8');
    for (const document of DOCUMENTS) expect(docs).toContain(documentDoc(document));
  });
});

describe('OSCAL exports of an empty register', () => {
  let t: TestDatabase;
  beforeAll(async () => { t = await createTestDatabase(); });
  afterAll(async () => { await t?.destroy(); });

  it('says there is nothing to export instead of writing a document OSCAL would not accept', async () => {
    await expect(buildPoam(t.db, NOW)).rejects.toThrow('The register has no POA&M items, so there is no plan of action and milestones to export.');
    await expect(buildAssessmentResults(t.db, NOW)).rejects.toThrow('No internal control is applicable, so there is nothing to report assessment results for.');
  });
});

describe('npm run isms -- export oscal-assessment-results', () => {
  let register: Register;
  beforeAll(async () => { register = await exampleRegister(); });
  afterAll(async () => { await register?.dispose(); });

  it('writes a file that validates, named by the day', async () => {
    const result = await runScript('src/cli.ts', ['export', 'oscal-assessment-results'], { env: { ...register.env, ISMS_EXPORT_DIR: 'oscal' }, cwd: register.cwd });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [name] = await readdir(path.join(register.cwd, 'oscal'));
    expect(name).toMatch(/^oscal-assessment-results-\d{4}-\d{2}-\d{2}\.json$/);
    expect(result.stdout).toMatch(/Exported OSCAL assessment results \(JSON: \d+ applicable controls, 0 satisfied, 0 observations, 0 evidence files\) to .*oscal-assessment-results-/);
    const document = JSON.parse(readFileSync(path.join(register.cwd, 'oscal', name), 'utf8')) as object;
    expect(oscalProblems('assessment-results', document)).toEqual([]);
    expect(existsSync(path.join(register.cwd, 'oscal', `${name}.partial`))).toBe(false);
  });
});
