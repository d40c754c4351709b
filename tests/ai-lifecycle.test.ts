import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { parse } from 'csv-parse/sync';
import { aiTools, auditEvents, managementApprovals } from '../src/db/schema/index.js';
import { toPlainText, type Block } from '../src/core/reply.js';
import { verifyRegister } from '../src/core/verify.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { auditSeededRows } from './helpers/fixtures.js';

const NOW = new Date('2026-12-02T09:00:00Z');

describe('AI tool decisions: /isms ai approve|restrict|prohibit|duplicate', () => {
  let bot: TestBot;
  const tool = async (ref: string) => (await bot.t.db.select().from(aiTools).where(eq(aiTools.ref, ref)))[0];
  const lastEvent = async (ref: string) => (await bot.t.db.select().from(auditEvents).where(eq(auditEvents.entityRef, ref))).at(-1)!;

  // Declared and accepted through the commands, so every row has its audit events.
  beforeEach(async () => {
    bot = await createTestBot();
    await bot.say('staff', '/isms declare ai ChatGPT drafting --vendor OpenAI --data internal'); // AI-0001, SC-0001
    await bot.say('staff', '/isms declare ai DeepSeek summaries --data customer'); // AI-0002, SC-0002
    await bot.say('lead', '/isms declare ai Copilot coding --data internal'); // AI-0003, SC-0003
    await bot.say('staff', '/isms declare ai "OpenAI ChatGPT" drafting --data internal'); // AI-0004, SC-0004
    for (const ref of ['SC-0001', 'SC-0002', 'SC-0004']) await bot.say('lead', `/isms triage accept ${ref}`);
    // Nobody decides their own declaration: with one ISMS lead, the management body accepts the lead's.
    expect((await bot.say('board', '/isms triage accept SC-0003')).outcome).toBe('recorded');
  });
  afterEach(async () => { await bot.destroy(); });

  it('the lead approves, restricts and prohibits; each decision is recorded with who, when, its audit event, and the declarer is told', async () => {
    const approved = await bot.sayText('lead', '/isms ai approve AI-0001 no customer data; opt out of training', { now: NOW });
    expect(approved).toContain('AI-0001 (ChatGPT) is now approved with conditions: no customer data; opt out of training.');
    expect(await tool('AI-0001')).toMatchObject({
      status: 'approved', conditions: 'no customer data; opt out of training', decidedBy: bot.ids.lead, decidedAt: NOW,
    });
    expect(await lastEvent('AI-0001')).toMatchObject({ action: 'approve', entity: 'ai_tool', after: expect.objectContaining({ status: 'approved' }) });
    const told = (await bot.outboxFor('staff')).filter((m) => m.kind === 'ai_decision');
    expect(JSON.stringify(told[0].reply)).toContain('Lena Lead decided your AI declaration AI-0001 (ChatGPT): approved with conditions');

    expect(await bot.sayText('lead', '/isms ai restrict AI-0001 public data only')).toContain('is now restricted to: public data only');
    expect(await tool('AI-0001')).toMatchObject({ status: 'restricted', conditions: 'public data only' });
    expect((await lastEvent('AI-0001')).action).toBe('restrict');

    expect(await bot.sayText('lead', '/isms ai prohibit AI-0001 „stores prompts outside the EU“')).toContain('is now prohibited: stores prompts outside the EU');
    expect(await tool('AI-0001')).toMatchObject({ status: 'prohibited', reason: 'stores prompts outside the EU', conditions: null });
    expect((await lastEvent('AI-0001')).action).toBe('prohibit');

    await bot.say('lead', '/isms ai approve AI-0004');
    expect(await tool('AI-0004')).toMatchObject({ status: 'approved', conditions: null });
  });

  it('names the missing conditions, reason or entry, and writes nothing', async () => {
    const before = await bot.auditCount();
    expect(await bot.sayText('lead', '/isms ai restrict AI-0001')).toContain('A restriction needs its conditions');
    expect((await bot.say('lead', '/isms ai restrict AI-0001')).fieldErrors).toHaveProperty('conditions');
    expect(await bot.sayText('lead', '/isms ai prohibit AI-0001')).toContain('A prohibition needs a reason');
    expect(await bot.sayText('lead', '/isms ai duplicate AI-0004')).toContain('Name the entry AI-0004 duplicates');
    expect(await bot.sayText('lead', '/isms ai approve AI-0099')).toContain('AI-0099 does not exist');
    expect(await bot.auditCount()).toBe(before);
    expect((await tool('AI-0001')).status).toBe('under_review');
  });

  it('refuses a decision on one\'s own declaration, and anyone but the lead', async () => {
    const before = await bot.auditCount();
    expect(await bot.sayText('lead', '/isms ai approve AI-0003')).toContain('You declared AI-0003 (Copilot) yourself, so someone else decides it');
    expect(await bot.sayText('staff', '/isms ai approve AI-0001')).toContain('Only the ISMS lead or the management body may use "/isms ai approve"');
    expect(await bot.sayText('staff', '/isms ai prohibit AI-0001 no')).toContain('Only the ISMS lead or the management body may use');
    expect(await bot.sayText('auditor', '/isms ai duplicate AI-0004 AI-0001')).toContain('Only the ISMS lead or the management body may use');
    // The management body steps in only where every ISMS lead had a part in the work.
    expect(await bot.sayText('board', '/isms ai approve AI-0001')).toContain('AI-0001 (ChatGPT) is for an ISMS lead to decide');
    expect(await bot.auditCount()).toBe(before);
    expect((await tool('AI-0003')).status).toBe('under_review');

    // The sole ISMS lead declared AI-0003, so the management body decides it.
    expect((await bot.say('board', '/isms ai approve AI-0003 internal code only')).outcome).toBe('recorded');
    expect(await tool('AI-0003')).toMatchObject({ status: 'approved', conditions: 'internal code only', decidedBy: bot.ids.board });
  });

  it('refuses to decide a tool still waiting for triage, naming the triage item', async () => {
    await bot.say('staff', '/isms declare ai Gemini');
    expect(await bot.sayText('lead', '/isms ai approve AI-0005')).toContain('AI-0005 (Gemini) is still waiting for triage: accept it first with "/isms triage accept SC-0005"');
    expect((await tool('AI-0005')).status).toBe('declared');
  });

  it('closes a duplicate in favour of an entry that exists and is no duplicate itself', async () => {
    const before = await bot.auditCount();
    expect(await bot.sayText('lead', '/isms ai duplicate AI-0004 AI-0099')).toContain('AI-0099 does not exist');
    expect(await bot.sayText('lead', '/isms ai duplicate AI-0004 AI-0004')).toContain('AI-0004 cannot be a duplicate of itself');
    expect(await bot.auditCount()).toBe(before);

    expect(await bot.sayText('lead', '/isms ai duplicate AI-0004 AI-0001')).toContain('AI-0004 (OpenAI ChatGPT) is now duplicate of AI-0001');
    expect(await tool('AI-0004')).toMatchObject({ status: 'duplicate', duplicateOf: 'AI-0001', decidedBy: bot.ids.lead });
    expect((await lastEvent('AI-0004')).action).toBe('close_duplicate');
    expect(await bot.sayText('lead', '/isms ai duplicate AI-0002 AI-0004')).toContain('AI-0004 is itself a duplicate of AI-0001; name AI-0001 instead');
    expect(await bot.sayText('lead', '/isms ai approve AI-0004')).toContain('AI-0004 was closed as a duplicate of AI-0001; decide AI-0001 instead');
    expect((await tool('AI-0002')).status).toBe('under_review');
  });

  it('an approval for customer or personal data awaits the management body, who confirm it', async () => {
    const answer = await bot.sayText('lead', '/isms ai approve AI-0002 EU region only');
    expect(answer).toContain('AI-0002 (DeepSeek) is now awaiting management-body approval; conditions: EU region only');
    expect(answer).toContain('Until then it may not be used');
    expect(await tool('AI-0002')).toMatchObject({ status: 'awaiting_management_approval', managementApprovedBy: null });
    expect(answer).toContain('they have been asked (APR-0001) to confirm with "/isms approve APR-0001" or "/isms ai approve AI-0002"');
    const asked = (await bot.outboxFor('board')).filter((m) => m.kind === 'approval');
    expect(asked).toHaveLength(1);
    expect(JSON.stringify(asked[0].reply)).toContain('approve APR-0001');

    expect(await bot.sayText('board', '/isms ai approve AI-0002', { now: NOW })).toContain('AI-0002 (DeepSeek) is now approved with conditions: EU region only');
    expect(await tool('AI-0002')).toMatchObject({ status: 'approved', managementApprovedBy: bot.ids.board, managementApprovedAt: NOW, decidedBy: bot.ids.board });
  });

  it('puts an allowed tool back under review when its data changes, so customer data cannot slip past the management body', async () => {
    await bot.say('lead', '/isms ai approve AI-0001');
    const answer = await bot.sayText('staff', '/isms ai details AI-0001 --data internal,customer');
    expect(answer).toContain('Its data changed since it was decided, so AI-0001 is under review again');
    expect(await tool('AI-0001')).toMatchObject({ status: 'under_review', dataCategories: ['internal', 'customer'] });
    expect(await bot.sayText('lead', '/isms ai approve AI-0001')).toContain('is now awaiting management-body approval');
  });

  it('points a declaration of a name already in the register at its entry, case, spacing and quotes ignored', async () => {
    await bot.say('lead', '/isms ai approve AI-0001 no customer data');
    await bot.say('lead', '/isms ai duplicate AI-0004 AI-0001');
    const before = await bot.auditCount();
    for (const line of ['/isms declare ai „Chat  GPT“ "drafting replies"', '/isms declare ai chatgpt', '/isms declare ai "OPENAI chatgpt"']) {
      const answer = await bot.say('owner', line);
      expect(toPlainText(answer)).toContain('ChatGPT is already in the AI register as AI-0001 (approved with conditions: no customer data). Nothing new was recorded.');
      expect(answer.outcome).toBe('info');
    }
    expect(await bot.auditCount()).toBe(before);
    expect(await bot.t.db.select().from(aiTools)).toHaveLength(4);
  });

  it('shows statuses in words in the register and the export, and verify still passes', async () => {
    await bot.say('lead', '/isms ai approve AI-0001 no customer data', { now: NOW });
    await bot.say('lead', '/isms ai duplicate AI-0004 AI-0001');
    await bot.say('lead', '/isms ai approve AI-0002');
    await bot.say('owner', '/isms declare ai Gemini'); // AI-0005, SC-0005
    await bot.say('lead', '/isms triage accept SC-0005');
    await bot.say('lead', '/isms ai prohibit AI-0005 code leaves the company');

    const register = await bot.say('lead', '/isms register ai');
    const list = register.blocks.find((b): b is Extract<Block, { type: 'list' }> => b.type === 'list')!;
    expect(list.items.map((i) => i.detail)).toEqual([
      'approved with conditions: no customer data', 'awaiting management-body approval', 'under review', 'duplicate of AI-0001',
      'prohibited: code leaves the company',
    ]);
    expect(list.items[0].fields).toContainEqual({ label: 'Conditions', value: 'no customer data' });
    expect(list.items[0].fields).toContainEqual({ label: 'Decided', value: 'by Lena Lead on 2026-12-02' });
    expect(list.items[3].fields).toContainEqual({ label: 'Duplicate of', value: 'AI-0001' });

    const exported = await bot.say('lead', '/isms export ai-tools csv');
    const file = exported.blocks.find((b): b is Extract<Block, { type: 'file' }> => b.type === 'file')!.file;
    try {
      const [header, ...rows] = parse(readFileSync(file.path)) as string[][];
      const column = (name: string) => rows.map((r) => r[header.indexOf(name)]);
      expect(column('Status')).toEqual(['approved', 'awaiting management-body approval', 'under review', 'duplicate', 'prohibited']);
      expect(column('Conditions')[0]).toBe('no customer data');
      expect(column('Reason')[4]).toBe('code leaves the company');
      expect(column('Duplicate of')[3]).toBe('AI-0001');
      expect(column('Decided by')[0]).toBe('Lena Lead');
    } finally {
      await rm(path.dirname(file.path), { recursive: true, force: true });
    }

    await auditSeededRows(bot.t.db);
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
  });
});

describe('AI tools before the management body and their links: /isms approvals, approve APR, ai details --supplier --controls', () => {
  let bot: TestBot;
  const tool = async (ref: string) => (await bot.t.db.select().from(aiTools).where(eq(aiTools.ref, ref)))[0];
  const requests = async (ref: string) => bot.t.db.select().from(managementApprovals)
    .where(and(eq(managementApprovals.subjectKind, 'ai_tool'), eq(managementApprovals.subjectRef, ref))).orderBy(managementApprovals.id);

  beforeEach(async () => {
    bot = await createTestBot();
    await bot.say('staff', '/isms declare ai DeepSeek summaries --data customer'); // AI-0001, SC-0001
    await bot.say('staff', '/isms declare ai ChatGPT drafting --vendor OpenAI --data internal'); // AI-0002, SC-0002
    await bot.say('staff', '/isms declare supplier "OpenAI" "chat assistant" --ict yes --critical no --data internal'); // SUP-0001, SC-0003
    for (const ref of ['SC-0001', 'SC-0002', 'SC-0003']) await bot.say('lead', `/isms triage accept ${ref}`);
    await bot.say('lead', '/isms ai approve AI-0001 EU region only'); // awaiting the management body: APR-0001
  });
  afterEach(async () => { await bot.destroy(); });

  it('lists a tool awaiting the management body in /isms approvals; "approve APR" approves the tool, once', async () => {
    expect(await requests('AI-0001')).toEqual([expect.objectContaining({ ref: 'APR-0001', status: 'pending', requestedBy: bot.ids.lead })]);
    const waiting = await bot.sayText('board', '/isms approvals');
    expect(waiting).toContain('APR-0001 — use of the AI tool DeepSeek (AI-0001)');
    expect(waiting).toContain('Conditions: EU region only');

    const approved = await bot.sayText('board', '/isms approve APR-0001', { now: NOW });
    expect(approved).toContain('Approved: use of the AI tool DeepSeek (AI-0001) (APR-0001).');
    // The answer reads the tool as the decision left it: approved, with nothing else left to do.
    expect(approved).toContain('Status: approved with conditions: EU region only');
    expect(approved).not.toContain('awaiting management-body approval');
    expect(approved).not.toContain('ai restrict');
    expect(await tool('AI-0001')).toMatchObject({ status: 'approved', conditions: 'EU region only', managementApprovedBy: bot.ids.board, managementApprovedAt: NOW });
    expect(await requests('AI-0001')).toEqual([expect.objectContaining({ status: 'approved', decidedBy: bot.ids.board, staleAt: null })]);
    const told = (await bot.outboxFor('staff')).filter((m) => m.kind === 'ai_decision');
    expect(JSON.stringify(told.at(-1)!.reply)).toContain('Bruno Board decided your AI declaration AI-0001 (DeepSeek): approved with conditions: EU region only');

    const before = await bot.auditCount();
    expect(await bot.sayText('board', '/isms approve APR-0001')).toContain('APR-0001 (use of the AI tool DeepSeek (AI-0001)) was already approved by Bruno Board');
    expect(await bot.sayText('board', '/isms ai approve AI-0001')).toContain('AI-0001 (DeepSeek) was already approved by the management body (Bruno Board) on 2026-12-02');
    expect(await bot.auditCount()).toBe(before);
    // The whole list tells the tool's status from the approval's own.
    const all = await bot.sayText('auditor', '/isms approvals --all');
    expect(all).toContain('Status: approved with conditions: EU region only');
    expect(all).toContain('Approval: approved by Bruno Board on 2026-12-02');
  });

  it('"ai approve" by the management body closes the pending request, so it is decided once', async () => {
    expect(await bot.sayText('board', '/isms ai approve AI-0001', { now: NOW })).toContain('AI-0001 (DeepSeek) is now approved with conditions: EU region only');
    expect(await requests('AI-0001')).toEqual([expect.objectContaining({
      status: 'approved', decidedBy: bot.ids.board, decidedAt: NOW, rationale: 'confirmed with "/isms ai approve AI-0001"',
    })]);
    const told = (await bot.outboxFor('lead')).filter((m) => m.kind === 'approval').map((m) => JSON.stringify(m.reply));
    expect(told).toEqual([expect.stringContaining('Bruno Board approved use of the AI tool DeepSeek (AI-0001) (APR-0001)')]);
    const before = await bot.auditCount();
    expect(await bot.sayText('board', '/isms approve APR-0001')).toContain('was already approved by Bruno Board on 2026-12-02');
    expect(await bot.sayText('board', '/isms approvals')).toContain('Nothing waits for the management body\'s approval.');
    expect(await bot.auditCount()).toBe(before);
  });

  it('a restriction by the management body on other conditions withdraws the request; a data change makes an approval stale', async () => {
    await bot.say('board', '/isms ai restrict AI-0001 public data only');
    expect(await tool('AI-0001')).toMatchObject({ status: 'restricted', conditions: 'public data only' });
    expect(await requests('AI-0001')).toEqual([expect.objectContaining({ status: 'withdrawn', staleReason: expect.stringContaining('Bruno Board decided AI-0001') })]);

    await bot.say('staff', '/isms declare ai Claude drafting --data personal'); // AI-0003, SC-0004
    await bot.say('lead', '/isms triage accept SC-0004');
    await bot.say('lead', '/isms ai approve AI-0003'); // APR-0002
    await bot.say('board', '/isms approve APR-0002');
    await bot.say('staff', '/isms ai details AI-0003 --data personal,customer');
    expect(await tool('AI-0003')).toMatchObject({ status: 'under_review' });
    expect(await requests('AI-0003')).toEqual([expect.objectContaining({ status: 'approved', staleReason: 'Sam Staff changed the data AI-0003 sees' })]);
  });

  it('refuses the management-body member who declared the tool, whichever way they approve', async () => {
    await bot.say('board', '/isms declare ai Mistral translation --data customer'); // AI-0003, SC-0004
    await bot.say('lead', '/isms triage accept SC-0004');
    await bot.say('lead', '/isms ai approve AI-0003'); // APR-0002, no card to its declarer
    expect((await bot.outboxFor('board')).filter((m) => m.kind === 'approval').map((m) => JSON.stringify(m.reply))).not.toContainEqual(expect.stringContaining('APR-0002'));
    const before = await bot.auditCount();
    expect(await bot.sayText('board', '/isms approve APR-0002')).toContain('You declared AI-0003 (Mistral) yourself, so another member of the management body decides APR-0002');
    expect(await bot.sayText('board', '/isms ai approve AI-0003')).toContain('You declared AI-0003 (Mistral) yourself');
    expect(await bot.auditCount()).toBe(before);
    expect((await tool('AI-0003')).status).toBe('awaiting_management_approval');
  });

  it('links a tool to its supplier and ISO/IEC 42001 Annex A controls, shown in the register and the export', async () => {
    const answer = await bot.sayText('staff', '/isms ai details AI-0002 --supplier SUP-1 --controls a.6.2.2,A.8.2');
    expect(answer).toContain('Supplier: SUP-0001 OpenAI');
    expect(answer).toContain('ISO/IEC 42001 controls: A.6.2.2, A.8.2');
    expect(await tool('AI-0002')).toMatchObject({ iso42001Controls: ['A.6.2.2', 'A.8.2'], status: 'under_review' });

    const before = await bot.auditCount();
    expect(await bot.sayText('staff', '/isms ai details AI-0002 --controls A.6.2.2,A.99.1,6.1'))
      .toContain('A.99.1, 6.1 are no ISO/IEC 42001:2023 Annex A control');
    expect(await bot.sayText('staff', '/isms ai details AI-0002 --supplier SUP-0042')).toContain('SUP-0042 does not exist');
    expect(await bot.auditCount()).toBe(before);

    const register = await bot.say('lead', '/isms register ai');
    const list = register.blocks.find((b): b is Extract<Block, { type: 'list' }> => b.type === 'list')!;
    expect(list.items[1].fields).toContainEqual({ label: 'Supplier', value: 'SUP-0001 OpenAI' });
    expect(list.items[1].fields).toContainEqual({ label: 'ISO/IEC 42001 controls', value: 'A.6.2.2, A.8.2' });

    const exported = await bot.say('lead', '/isms export ai-tools csv');
    const file = exported.blocks.find((b): b is Extract<Block, { type: 'file' }> => b.type === 'file')!.file;
    try {
      const [header, ...rows] = parse(readFileSync(file.path)) as string[][];
      const column = (name: string) => rows.map((r) => r[header.indexOf(name)]);
      expect(column('Supplier')).toEqual(['', 'SUP-0001 OpenAI']);
      expect(column('ISO/IEC 42001 controls')).toEqual(['', 'A.6.2.2, A.8.2']);
    } finally {
      await rm(path.dirname(file.path), { recursive: true, force: true });
    }
    await auditSeededRows(bot.t.db);
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
  });
});
