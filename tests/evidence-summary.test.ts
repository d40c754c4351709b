/**
 * Evidence summaries against a local server playing the OpenAI chat-completions API: made after the
 * submission has committed, stored beside the evidence marked machine-generated with the prompt's
 * version, shown to the reviewer; a missing, slow or failing endpoint changes nothing about the submission.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { createTestBot, type CastKey, type TestBot } from './helpers/bot.js';
import { FakeOpenAi } from './helpers/fake-openai.js';
import { LogSink } from './helpers/fake-slack-workspace.js';
import { addControl, auditSeededRows } from './helpers/fixtures.js';
import { assembleCore, type Core } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { loadPrompt } from '../src/core/prompts.js';
import { toPlainText } from '../src/core/reply.js';
import { auditEvents, controls, evidenceItems, evidenceRequests, evidenceSummaries } from '../src/db/schema/index.js';
import { attachmentFromBuffer } from '../src/core/attachments.js';
import { FILE_TEXT_MAX_CHARS } from '../src/domain/evidence/file-text.js';
import ExcelJS from 'exceljs';

const NOW = new Date('2026-06-15T09:00:00Z');
const PROMPT_VERSION = loadPrompt('summarise-evidence').version;
const EVIDENCE = 'Quarterly access review done by Olga Owner on 2026-06-10; Sam Staff (sam@test.example) lost admin rights; no other findings.';
const SUMMARY = { summary: 'An access review was done and one admin right removed.', matchesRequest: 'yes', reason: 'It describes the quarterly access review asked for.' };
const MARK = `Machine-generated summary (prompt summarise-evidence v${PROMPT_VERSION.split('/').pop()}, not verified): ${SUMMARY.summary}`;

let fake: FakeOpenAi;
beforeAll(async () => { fake = await FakeOpenAi.start(); });
afterAll(async () => { await fake?.close(); });

describe('evidence summaries', () => {
  let bot: TestBot;
  let logs: LogSink;
  let requestRef: string;

  const coreWith = (env: Record<string, string>): Core =>
    assembleCore(loadConfig({ ISMS_EXAMPLE_ORG: 'false', LOG_LEVEL: 'info', ...env }), createLogger('info', logs), bot.t);
  const withEndpoint = (timeoutMs = 10_000) => coreWith({
    OPENAI_API_KEY: 'sk-test-0123456789abcdefghij', OPENAI_BASE_URL: fake.baseUrl, OPENAI_MODEL: 'fake-model', OPENAI_TIMEOUT_MS: String(timeoutMs),
  });
  const say = async (core: Core, who: CastKey, line: string) => toPlainText(await core.router.handle(line, { actor: await bot.actor(who), channel: 'test', now: NOW }));
  const submit = (core: Core) => say(core, 'owner', `/isms evidence submit ${requestRef} "${EVIDENCE}"`);
  const items = () => bot.t.db.select().from(evidenceItems);
  const summaries = () => bot.t.db.select().from(evidenceSummaries);

  beforeEach(async () => {
    bot = await createTestBot();
    logs = new LogSink();
    fake.reset();
    const control = await addControl(bot.t.db, { code: 'CTL-AC-01', title: 'Access reviews', ownerId: bot.ids.owner });
    await bot.t.db.update(controls).set({ description: 'Review user access rights every quarter' }).where(eq(controls.id, control.id));
    await auditSeededRows(bot.t.db);
    await bot.say('lead', '/isms request CTL-AC-01', { now: NOW });
    [{ ref: requestRef }] = await bot.t.db.select().from(evidenceRequests);
  });
  afterEach(async () => { await bot.destroy(); });

  it('stores the summary beside the evidence, machine-generated with its prompt version, and the reviewer sees it; the evidence is unchanged', async () => {
    const core = withEndpoint();
    fake.next({ content: JSON.stringify(SUMMARY) });
    expect(await submit(core)).toContain('Recorded EV-');
    const [submitted] = await items();
    expect(await core.inFlight.settled(15_000)).toBe(true);

    const [stored] = await summaries();
    expect(stored).toMatchObject({
      evidenceItemId: submitted.id, summary: SUMMARY.summary, matches: 'yes', reason: SUMMARY.reason,
      model: 'fake-model', promptName: 'summarise-evidence', promptVersion: PROMPT_VERSION, machineGenerated: true,
    });
    expect(await items()).toEqual([submitted]);
    const [event] = await bot.t.db.select().from(auditEvents).where(eq(auditEvents.entity, 'evidence_summary'));
    expect(event).toMatchObject({ action: 'summarise', entityRef: submitted.ref, actorId: null });

    const review = await say(core, 'lead', '/isms evidence review');
    expect(review).toContain(MARK);
    expect(review).toContain(SUMMARY.reason);
    expect(await say(core, 'lead', `/isms evidence show ${submitted.ref}`)).toContain(MARK);
  });

  it('sends only the control and the evidence text: no email address or person name', async () => {
    const core = withEndpoint();
    fake.next({ content: JSON.stringify(SUMMARY) });
    await submit(core);
    expect(await core.inFlight.settled(15_000)).toBe(true);

    expect(fake.requests).toHaveLength(1);
    const body = JSON.stringify(fake.requests[0].body);
    expect(body).toContain('Access reviews');
    expect(body).toContain('Review user access rights every quarter');
    expect(body).toContain('lost admin rights');
    for (const personal of ['@test.example', 'Olga', 'Owner', 'Sam', 'Staff', 'Lena', 'CTL-AC-01', requestRef]) expect(body).not.toContain(personal);
  });

  it('without an endpoint: no summary, nothing sent, and the submission records exactly what it does with one', async () => {
    const plain = coreWith({});
    const before = await bot.auditCount();
    const answer = await submit(plain);
    expect(await plain.inFlight.settled(1_000)).toBe(true);

    expect(answer).toContain('Recorded EV-0001 (revision 1)');
    expect(await summaries()).toEqual([]);
    expect(fake.requests).toEqual([]);
    expect(await bot.auditCount()).toBe(before + 2);
    expect(await say(plain, 'lead', '/isms evidence review')).not.toContain('Machine-generated');
  });

  it('a slow endpoint: the submission is answered and recorded at once; no summary is stored after the timeout', async () => {
    const core = withEndpoint(300);
    fake.next({ content: JSON.stringify(SUMMARY), delayMs: 3_000 });
    const before = await bot.auditCount();
    expect(await submit(core)).toContain('Recorded EV-0001 (revision 1)');
    expect(core.inFlight.size).toBe(1);
    expect(await items()).toHaveLength(1);

    expect(await core.inFlight.settled(15_000)).toBe(true);
    expect(await summaries()).toEqual([]);
    expect(await bot.auditCount()).toBe(before + 2);
    expect(logs.lines.some((l) => l.msg === 'assistant unavailable: the plain answer goes instead')).toBe(true);
  });

  it.each([
    ['a server error', { status: 500 as const }],
    ['an answer that does not match the schema', { content: JSON.stringify({ summary: 'Looks fine', matchesRequest: 'certainly' }) }],
    ['an answer that is not JSON', { content: 'Looks fine to me' }],
  ])('%s: the submission is recorded, no summary, and the log holds no evidence text', async (_what, answer) => {
    const core = withEndpoint();
    fake.next(answer);
    expect(await submit(core)).toContain('Recorded EV-0001 (revision 1)');
    expect(await core.inFlight.settled(15_000)).toBe(true);

    expect(await items()).toHaveLength(1);
    expect(await summaries()).toEqual([]);
    expect(fake.requests).toHaveLength(1);
    expect(logs.text()).not.toContain('admin rights');
    expect(await say(core, 'lead', '/isms evidence review')).not.toContain('Machine-generated');
  });

  describe('a submitted file\'s text (ISMS_AI_FILE_TEXT)', () => {
    const CSV = 'reviewer,email,system,result\nOlga Owner,olga@test.example,payroll,restore test passed\nSam Staff,sam@test.example,crm,restore test passed\n';
    const withFileText = (on: boolean) => coreWith({
      OPENAI_API_KEY: 'sk-test-0123456789abcdefghij', OPENAI_BASE_URL: fake.baseUrl, OPENAI_MODEL: 'fake-model', OPENAI_TIMEOUT_MS: '10000',
      ISMS_AI_FILE_TEXT: String(on),
    });
    const submitFile = async (core: Core, name: string, bytes: Buffer, typed?: string) => toPlainText(await core.router.handle(
      `/isms evidence submit ${requestRef}${typed ? ` "${typed}"` : ''}`,
      { actor: await bot.actor('owner'), channel: 'test', now: NOW, attachments: [attachmentFromBuffer(name, bytes)] },
    ));
    const sent = () => fake.requests.map((r) => r.body.messages.at(-1).content as string).join('\n');

    it('off (the default): no file content leaves; a file without text is not summarised at all', async () => {
      expect(loadConfig({}).assistant).toBeUndefined();
      const core = withFileText(false);
      fake.next({ content: JSON.stringify(SUMMARY) });
      expect(await submitFile(core, 'restore-tests.csv', Buffer.from(CSV), 'Restore tests of Q2')).toContain('Recorded EV-0001');
      expect(await core.inFlight.settled(15_000)).toBe(true);
      expect(sent()).toContain('Restore tests of Q2');
      expect(sent()).not.toContain('restore test passed');
      expect(sent()).not.toContain('restore-tests');

      expect(await submitFile(core, 'restore-tests.csv', Buffer.from(CSV))).toContain('Recorded EV-0002');
      expect(await core.inFlight.settled(15_000)).toBe(true);
      expect(fake.requests).toHaveLength(1);
    });

    it('on: the CSV\'s text is sent with names and emails replaced, and summarised even without typed text', async () => {
      const core = withFileText(true);
      fake.next({ content: JSON.stringify(SUMMARY) });
      expect(await submitFile(core, 'restore-tests.csv', Buffer.from(CSV))).toContain('Recorded EV-0001');
      expect(await core.inFlight.settled(15_000)).toBe(true);
      const body = sent();
      expect(body).toContain('Text extracted from the attached CSV file:');
      expect(body).toContain('[name],[email],payroll,restore test passed');
      for (const personal of ['@test.example', 'Olga', 'Owner', 'Sam', 'Staff', 'restore-tests']) expect(body).not.toContain(personal);
      const [stored] = await summaries();
      expect(stored).toMatchObject({ summary: SUMMARY.summary, machineGenerated: true });
    });

    it('on: a workbook\'s cells, sheet by sheet, and only the first few thousand characters of a long file', async () => {
      const core = withFileText(true);
      const workbook = new ExcelJS.Workbook();
      const sheet = workbook.addWorksheet('Access review');
      sheet.addRow(['Account', 'Holder', 'Decision']);
      sheet.addRow(['svc-backup', 'olga@test.example', 'keep']);
      sheet.addRow(['old-admin', 'Sam Staff', 'removed']);
      const xlsx = Buffer.from(await workbook.xlsx.writeBuffer());
      const long = Buffer.from(`${'line of a long log file\n'.repeat(2_000)}THE END`);
      fake.next({ content: JSON.stringify(SUMMARY) }, { content: JSON.stringify(SUMMARY) });
      await submitFile(core, 'review.xlsx', xlsx);
      expect(await core.inFlight.settled(15_000)).toBe(true);
      await submitFile(core, 'restore.log', long);
      expect(await core.inFlight.settled(15_000)).toBe(true);

      const [fromWorkbook, fromLog] = fake.requests.map((r) => r.body.messages.at(-1).content as string);
      expect(fromWorkbook).toContain('Sheet Access review:\nAccount, Holder, Decision\nsvc-backup, [email], keep\nold-admin, [name], removed');
      expect(fromLog).not.toContain('THE END');
      expect(fromLog.length).toBeLessThan(FILE_TEXT_MAX_CHARS + 500);
    });

    it('on: a file of another kind (a PDF) sends nothing of it', async () => {
      const core = withFileText(true);
      await submitFile(core, 'review.pdf', Buffer.from('%PDF-1.7 restore test passed'));
      expect(await core.inFlight.settled(15_000)).toBe(true);
      expect(fake.requests).toEqual([]);
    });
  });
});
