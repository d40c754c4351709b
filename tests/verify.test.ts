import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { desc, eq, sql } from 'drizzle-orm';
import { auditEvents, evidenceItems, evidenceSummaries, managementApprovals, people, policies, policyVersions, risks } from '../src/db/schema/index.js';
import { EvidenceSummariser } from '../src/domain/evidence/summary.js';
import { ModelClient } from '../src/core/assist.js';
import { loadPrompt } from '../src/core/prompts.js';
import { createLogger } from '../src/log.js';
import { FakeOpenAi } from './helpers/fake-openai.js';
import { hashEvent } from '../src/core/audit.js';
import { parseWitness, verifyRegister } from '../src/core/verify.js';
import { witnessAuditTrail } from '../src/scheduler/jobs/index.js';
import { defaultNudgeSettings } from '../src/scheduler/settings.js';
import { loadConfig } from '../src/config.js';
import type { Db } from '../src/db/client.js';
import { behindTheTriggers } from './helpers/tamper.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { addControl, auditSeededRows } from './helpers/fixtures.js';
import { attachmentFromBuffer } from '../src/core/attachments.js';
import { freshRegister, runScript, type Register } from './helpers/process.js';

const NOW = new Date('2026-06-15T09:00:00Z');
const FILE = randomBytes(4096);

/** Real commands touching several registers: a declaration, its triage, evidence with a file. */
async function workTheRegister(bot: TestBot) {
  await bot.say('staff', '/isms declare ai ChatGPT --vendor OpenAI', { now: NOW });
  expect(await bot.sayText('lead', '/isms triage accept SC-0001 low risk', { now: NOW })).toContain('SC-0001');
  await addControl(bot.t.db, { code: 'CTL-VF-01', title: 'Backups', ownerId: bot.ids.owner });
  await auditSeededRows(bot.t.db);
  const submitted = await bot.sayText('owner', '/isms evidence submit CTL-VF-01', { now: NOW, attachments: [attachmentFromBuffer('restore.log', FILE)] });
  expect(submitted).toContain('EV-0001');
}

/** The database's own message for a refused statement (drizzle wraps it). */
const refusal = (query: Promise<unknown>) => query.then(
  () => 'accepted',
  (e: Error & { cause?: Error }) => (e.cause ?? e).message,
);

const problemOf = async (db: Db, witness?: string) => {
  const heads = witness === undefined ? [] : parseWitness(witness);
  if (typeof heads === 'string') throw new Error(heads);
  const verdict = await verifyRegister(db, heads);
  return verdict.ok ? 'ok' : verdict.problem;
};

describe('verify: the register checked for tampering', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    await workTheRegister(bot);
  });
  afterEach(async () => { await bot.destroy(); });

  it('passes on a clean register after declare, triage and an evidence file, and says what it checked', async () => {
    const verdict = await verifyRegister(bot.t.db);
    expect(verdict).toMatchObject({ ok: true, files: 1 });
    // Five people, the control, the AI tool, its scope change, the evidence item.
    expect(verdict.ok && verdict.rows).toBe(9);
    const answer = await bot.sayText('auditor', '/isms audit verify');
    expect(answer).toContain(`Audit trail intact: ${await bot.auditCount()} events, each linked to the one before; 9 register rows match their last audit event; 1 evidence file matches its SHA-256.`);
  });

  it('fails on a register row inserted in SQL, which no audit event vouches for, and names it', async () => {
    await bot.t.db.execute(sql`insert into suppliers (ref, name, service) values ('SUP-0001', 'Shadow Hosting', 'servers nobody declared')`);
    expect(await problemOf(bot.t.db)).toBe('supplier SUP-0001 has no audit event: it was written outside the bot (e.g. in SQL) or its events were cut from the trail, so nothing vouches for it.');
    expect(await bot.sayText('auditor', '/isms audit verify')).not.toContain('Audit trail intact');
  });

  it('names the event that was altered behind the trigger', async () => {
    await behindTheTriggers(bot.t.db, 'audit_events', () =>
      bot.t.db.execute(sql`update audit_events set actor_label = 'Someone else' where seq = 2`));
    expect(await problemOf(bot.t.db)).toBe('Audit trail broken at event #2: its content does not match its hash.');
    expect(await bot.sayText('lead', '/isms audit verify')).toContain('Audit trail broken at event #2');
  });

  it('names the register row changed directly in SQL, and the field', async () => {
    await bot.t.db.execute(sql`update ai_tools set vendor = 'Harmless Ltd' where ref = 'AI-0001'`);
    expect(await problemOf(bot.t.db)).toBe('AI tool AI-0001 differs from its last audit event in vendor: it was changed without one.');
  });

  it('accepts a row a later command changed, since its last event records the change', async () => {
    await bot.say('staff', '/isms declare ai Copilot', { now: NOW });
    expect(await bot.sayText('lead', '/isms triage reject SC-0002 not needed', { now: NOW })).toContain('SC-0002');
    expect(await problemOf(bot.t.db)).toBe('ok');
  });

  it('names the evidence file one byte of which was changed', async () => {
    await behindTheTriggers(bot.t.db, 'evidence_file_chunks', () => bot.t.db.execute(sql`update evidence_file_chunks
      set bytes = overlay(bytes placing '\\x00'::bytea from 100 for 1) where item_id = (select id from evidence_items where ref = 'EV-0001')`));
    expect(await problemOf(bot.t.db)).toMatch(/^Evidence file of EV-0001 \(restore\.log\) does not match its SHA-256: recorded [0-9a-f]{12}…, the stored bytes hash to [0-9a-f]{12}…\.$/);
  });

  it('names the evidence file a chunk was added to, removed from, or moved within', async () => {
    const item = sql`(select id from evidence_items where ref = 'EV-0001')`;
    await bot.t.db.execute(sql`insert into evidence_file_chunks (item_id, seq, bytes) values (${item}, 1, '\\x00'::bytea)`);
    expect(await problemOf(bot.t.db)).toMatch(/^Evidence file of EV-0001 \(restore\.log\) does not match its SHA-256: recorded [0-9a-f]{12}…, the stored bytes hash to [0-9a-f]{12}…\.$/);
    // The same bytes under another number: the hash still matches, the storage does not.
    await behindTheTriggers(bot.t.db, 'evidence_file_chunks', async () => {
      await bot.t.db.execute(sql`delete from evidence_file_chunks where item_id = ${item} and seq = 1`);
      await bot.t.db.execute(sql`update evidence_file_chunks set seq = 3 where item_id = ${item} and seq = 0`);
    });
    expect(await problemOf(bot.t.db)).toBe(`Evidence file of EV-0001 (restore.log) is not stored as submitted: recorded ${FILE.length} bytes, its stored chunks hold ${FILE.length} bytes with one out of place.`);
    await behindTheTriggers(bot.t.db, 'evidence_file_chunks', () => bot.t.db.execute(sql`delete from evidence_file_chunks where item_id = ${item}`));
    expect(await problemOf(bot.t.db)).toMatch(/^Evidence file of EV-0001 \(restore\.log\) does not match its SHA-256: recorded [0-9a-f]{12}…, the stored bytes hash to e3b0c44298fc…\.$/);
  });

  it('names bytes stored for evidence that records no file', async () => {
    await bot.say('owner', '/isms evidence submit CTL-VF-01 "restore test passed"', { now: NOW });
    await bot.t.db.execute(sql`insert into evidence_file_chunks (item_id, seq, bytes) values ((select id from evidence_items where ref = 'EV-0002'), 0, '\\x00'::bytea)`);
    expect(await problemOf(bot.t.db)).toBe('Evidence EV-0002 records no file, but file bytes are stored for it.');
  });

  it('keeps stored file bytes append-only: no update, delete or truncate', async () => {
    const item = sql`(select id from evidence_items where ref = 'EV-0001')`;
    expect(await refusal(bot.t.db.execute(sql`update evidence_file_chunks set bytes = '\\x00'::bytea where item_id = ${item}`)))
      .toBe('evidence_file_chunks is append-only: record a new row instead of changing or deleting one');
    expect(await refusal(bot.t.db.execute(sql`delete from evidence_file_chunks where item_id = ${item}`)))
      .toBe('evidence_file_chunks is append-only: record a new row instead of changing or deleting one');
    expect(await refusal(bot.t.db.execute(sql`truncate evidence_file_chunks`))).toBe('evidence_file_chunks is append-only: it cannot be truncated');
  });

  it('the ISMS lead is told the witnessed head with the moment on their own clock; the witness file keeps UTC', async () => {
    await bot.t.db.update(people).set({ timezone: 'America/New_York' }).where(eq(people.id, bot.ids.lead));
    const file = path.join(tmpdir(), `witness-${randomBytes(4).toString('hex')}.jsonl`);
    await witnessAuditTrail(bot.t.db, NOW, defaultNudgeSettings({ witnessFile: file }));
    const told = (await bot.outboxFor('lead')).filter((m) => m.kind === 'audit_witness').map((m) => JSON.stringify(m.reply));
    expect(told).toHaveLength(1);
    expect(told[0]).toContain('Audit trail head, 2026-06-15 05:00 America/New_York: event #');
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ at: NOW.toISOString() });
    await rm(file, { force: true });
  });

  it('with a witness, catches the last ten events deleted and the one before rewritten with a recomputed hash', async () => {
    // The scheduled witness writes the head to the witness file; the lead asks for one on demand later.
    const file = path.join(tmpdir(), `witness-${randomBytes(4).toString('hex')}.jsonl`);
    const summary = await witnessAuditTrail(bot.t.db, NOW, defaultNudgeSettings({ witnessFile: file }));
    const early = (await bot.t.db.select().from(auditEvents).orderBy(desc(auditEvents.seq)).limit(1))[0];
    expect(summary).toEqual({ 'head witnessed': early.seq, messages: 1 });
    for (const name of ['Copilot', 'Gemini', 'Claude', 'Mistral', 'Perplexity']) await bot.say('staff', `/isms declare ai ${name}`, { now: NOW });
    expect(await bot.sayText('staff', '/isms audit witness')).toContain('Only the ISMS lead or an auditor may use "/isms audit witness"');
    expect(await bot.sayText('auditor', '/isms audit witness')).toContain(`Witnessed the audit trail head: event #${early.seq + 10}`);
    const told = (await bot.outboxFor('lead')).filter((m) => m.kind === 'audit_witness').map((m) => JSON.stringify(m.reply));
    const late = (await bot.t.db.select().from(auditEvents).orderBy(desc(auditEvents.seq)).limit(1))[0];
    expect(told.some((m) => m.includes(`verify --witness ${late.seq}:${late.hash}`))).toBe(true);
    expect(await problemOf(bot.t.db, await readFile(file, 'utf8'))).toBe('ok');

    // A hash chain alone cannot see its own tail: cut ten events and re-hash the new last one.
    await behindTheTriggers(bot.t.db, 'audit_events', async () => {
      await bot.t.db.execute(sql`delete from audit_events where seq > ${early.seq}`);
      const rewritten = { ...early, actorLabel: 'Nobody' };
      await bot.t.db.update(auditEvents).set({ actorLabel: rewritten.actorLabel, hash: hashEvent(rewritten) }).where(eq(auditEvents.seq, early.seq));
    });
    // Without a witness the chain itself looks whole; the rows whose events went are what give the cut away.
    expect(await problemOf(bot.t.db)).toBe('10 register rows have no audit event: they were written outside the bot (e.g. in SQL) or their events were cut from the trail, so nothing vouches for them: '
      + 'AI tool AI-0002, AI tool AI-0003, AI tool AI-0004, AI tool AI-0005, AI tool AI-0006, and 5 more.');

    expect(await problemOf(bot.t.db, await readFile(file, 'utf8')))
      .toBe(`Audit trail rewritten: event #${early.seq} hashes ${hashEvent({ ...early, actorLabel: 'Nobody' }).slice(0, 12)}…, but the witness recorded ${early.hash.slice(0, 12)}….`);
    expect(await problemOf(bot.t.db, `${late.seq}:${late.hash}`))
      .toBe(`Audit trail cut short: witnessed event #${late.seq} (${late.hash.slice(0, 12)}…) no longer exists; the trail now ends at #${early.seq}.`);
  });

  it('TRUNCATE is refused for the audit trail and the append-only decisions, and the events remain', async () => {
    const before = await bot.auditCount();
    expect(await refusal(bot.t.db.execute(sql`truncate audit_events`))).toBe('audit_events is append-only: it cannot be truncated');
    expect(await refusal(bot.t.db.execute(sql`truncate risk_acceptances`))).toBe('risk_acceptances is append-only: it cannot be truncated');
    expect(await bot.auditCount()).toBe(before);
    expect(await problemOf(bot.t.db)).toBe('ok');
  });
});

describe('verify: policy versions and machine-generated evidence summaries', () => {
  let bot: TestBot;
  let fake: FakeOpenAi;
  beforeEach(async () => {
    bot = await createTestBot();
    fake = await FakeOpenAi.start();
  });
  afterEach(async () => {
    await fake.close();
    await bot.destroy();
  });

  /** A policy published in chat (1.0 and 1.1) and approved by the management body. */
  async function publishPolicy() {
    await auditSeededRows(bot.t.db);
    expect(await bot.sayText('lead', '/isms policy add "Acceptable use" --text "Use company systems for work."', { now: NOW })).toContain('POL-0001');
    const [approval] = await bot.t.db.select().from(managementApprovals);
    expect(await bot.sayText('board', `/isms approve ${approval.ref} fine`, { now: NOW })).toContain(approval.ref);
    expect(await bot.sayText('lead', '/isms policy publish POL-0001 "Use company systems for work; no personal use."', { now: NOW })).toContain('1.1');
  }

  /** Evidence with a summary the summariser stored, as it does after a submission. */
  async function summarisedEvidence() {
    await addControl(bot.t.db, { code: 'CTL-VF-02', title: 'Access reviews', ownerId: bot.ids.owner });
    await auditSeededRows(bot.t.db);
    await bot.say('owner', '/isms evidence submit CTL-VF-02 "Quarterly access review done, no findings."', { now: NOW });
    const config = loadConfig({ OPENAI_API_KEY: 'sk-test-0123456789abcdefghij', OPENAI_BASE_URL: fake.baseUrl, OPENAI_MODEL: 'fake-model', OPENAI_TIMEOUT_MS: '10000' });
    const logger = createLogger('silent');
    const summariser = new EvidenceSummariser(new ModelClient(config.assistant!, logger), loadPrompt('summarise-evidence'), bot.t.db, logger);
    fake.next({ content: JSON.stringify({ summary: 'An access review with no findings.', matchesRequest: 'yes', reason: 'It is the review asked for.' }) });
    await summariser.summarise('EV-0001', NOW);
    expect(await bot.t.db.select().from(evidenceSummaries)).toHaveLength(1);
  }

  it('passes with policy versions published and approved in chat and a stored summary, each vouched for by its events', async () => {
    await publishPolicy();
    await summarisedEvidence();
    expect(await problemOf(bot.t.db)).toBe('ok');
  });

  it('names a policy version whose text was changed in SQL, and one inserted in SQL', async () => {
    await publishPolicy();
    await bot.t.db.update(policyVersions).set({ content: 'Anything goes.' }).where(eq(policyVersions.version, '1.0'));
    expect(await problemOf(bot.t.db)).toBe('policy version POL-0001 v1.0 differs from its last audit event in content: it was changed without one.');
    await bot.t.db.update(policyVersions).set({ content: 'Use company systems for work.' }).where(eq(policyVersions.version, '1.0'));
    await bot.t.db.update(policyVersions).set({ approvedBy: null }).where(eq(policyVersions.version, '1.0'));
    expect(await problemOf(bot.t.db)).toBe('policy version POL-0001 v1.0 differs from its last audit event in approvedBy: it was changed without one.');
    await bot.t.db.update(policyVersions).set({ approvedBy: bot.ids.board }).where(eq(policyVersions.version, '1.0'));
    expect(await problemOf(bot.t.db)).toBe('ok');

    const [policy] = await bot.t.db.select().from(policies);
    await bot.t.db.insert(policyVersions).values({ policyId: policy.id, version: '1.2', major: 1, minor: 2, content: 'x', contentSha256: 'x' });
    expect(await problemOf(bot.t.db)).toMatch(/^policy version POL-0001 v1\.2 has no audit event/);
  });

  it('names a summary altered behind its append-only trigger, and one inserted in SQL', async () => {
    await summarisedEvidence();
    await behindTheTriggers(bot.t.db, 'evidence_summaries', () => bot.t.db.update(evidenceSummaries).set({ matches: 'no' }));
    expect(await problemOf(bot.t.db)).toBe('evidence summary of EV-0001 differs from its last audit event in matches: it was changed without one.');
    await behindTheTriggers(bot.t.db, 'evidence_summaries', () => bot.t.db.delete(evidenceSummaries));

    const [item] = await bot.t.db.select().from(evidenceItems);
    await bot.t.db.insert(evidenceSummaries).values({
      evidenceItemId: item.id, summary: 'Looks fine.', matches: 'yes', reason: 'Trust me.', model: 'm', promptName: 'summarise-evidence', promptVersion: 'summarise-evidence/1',
    });
    // Its earlier events still name EV-0001, so the row is compared with them, and differs.
    expect(await problemOf(bot.t.db)).toMatch(/^evidence summary of EV-0001 differs from its last audit event in /);
  });

  it('names a summary inserted in SQL for evidence that never had one', async () => {
    await addControl(bot.t.db, { code: 'CTL-VF-03', title: 'Backups', ownerId: bot.ids.owner });
    await auditSeededRows(bot.t.db);
    await bot.say('owner', '/isms evidence submit CTL-VF-03 "Restore tested."', { now: NOW });
    const [item] = await bot.t.db.select().from(evidenceItems);
    await bot.t.db.insert(evidenceSummaries).values({
      evidenceItemId: item.id, summary: 'Looks fine.', matches: 'yes', reason: 'Trust me.', model: 'm', promptName: 'summarise-evidence', promptVersion: 'summarise-evidence/1',
    });
    expect(await problemOf(bot.t.db)).toMatch(/^evidence summary of EV-0001 has no audit event/);
  });
});

describe('"npm run isms -- verify" as an auditor runs it', () => {
  let register: Register;
  beforeEach(async () => { register = await freshRegister(); });
  afterEach(async () => { await register.dispose(); });

  const isms = (...args: string[]) => runScript('src/cli.ts', args, { env: register.env, cwd: register.cwd });

  it('passes on the example organisation, then names a risk changed in SQL and a tail cut behind the witness', async () => {
    expect((await isms('load-example')).code).toBe(0);
    const clean = await isms('verify');
    expect(clean.stderr).toBe('');
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/^Audit trail intact: \d+ events, each linked to the one before; \d+ register rows match their last audit event;/);
    const head = /Chain head: (\d+):([0-9a-f]{64})/.exec(clean.stdout)!;
    const witnessFile = path.join(register.cwd, 'witness.jsonl');
    await writeFile(witnessFile, `${JSON.stringify({ seq: Number(head[1]), hash: head[2] })}\n`);

    const ref = await register.withDb(async (db) => {
      const [risk] = await db.select().from(risks).orderBy(risks.ref).limit(1);
      await db.execute(sql`update risks set likelihood = ${risk.likelihood === 1 ? 2 : 1} where ref = ${risk.ref}`);
      return risk.ref;
    });
    const edited = await isms('verify');
    expect(edited).toMatchObject({ code: 1, stdout: `risk ${ref} differs from its last audit event in likelihood: it was changed without one.\n` });

    await register.withDb((db) => behindTheTriggers(db, 'audit_events', () =>
      db.execute(sql`delete from audit_events where seq > ${Number(head[1]) - 10}`)));
    const cut = await isms('verify', '--witness', witnessFile);
    expect(cut.code).toBe(1);
    expect(cut.stdout).toContain(`Audit trail cut short: witnessed event #${head[1]} (${head[2].slice(0, 12)}…) no longer exists; the trail now ends at #${Number(head[1]) - 10}.`);

  }, 240_000); // four processes, each opening the register

  it('answers a mistake in its arguments with one sentence and the usage line on stderr, exit status 2, before opening the register', async () => {
    // No data folder at all: a mistake in the arguments must not make one.
    await rm(path.join(register.cwd, 'data'), { recursive: true, force: true });
    const usage = 'Usage: npm run isms -- verify [--witness <file or seq:hash>]\n';
    const cases: [string[], string][] = [
      [['--witnes', 'witness.jsonl'], '"verify" takes only --witness <file or seq:hash>, not "--witnes".\n'],
      [['--witness'], '--witness needs a witness file or a chain head pasted as seq:hash.\n'],
      [['--witness', 'yesterday'], 'The witness file "yesterday" cannot be opened.\n'],
    ];
    for (const [args, sentence] of cases) {
      expect(await isms('verify', ...args)).toMatchObject({ code: 2, stdout: '', stderr: sentence + usage });
    }
    // Each is a process of its own (a few seconds); the register was never opened, so no data folder was made.
    expect(existsSync(path.join(register.cwd, 'data'))).toBe(false);
  }, 120_000); // three processes
});

describe('witness settings', () => {
  it('default to a daily witness without a file, and a bad cron expression is named', () => {
    expect(loadConfig({}).nudges).toMatchObject({ witnessCron: '30 5 * * *', witnessFile: undefined });
    expect(loadConfig({ ISMS_WITNESS_FILE: '/var/lib/isms/witness.jsonl' }).nudges.witnessFile).toBe('/var/lib/isms/witness.jsonl');
    expect(() => loadConfig({ ISMS_WITNESS_CRON: 'daily' })).toThrow('ISMS_WITNESS_CRON must be a cron expression such as "30 5 * * *"');
  });
});
