import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { controls, evidenceItems, evidenceRequests, poamItems, scopeStatements } from '../src/db/schema/index.js';
import { findForm, type Block, type Reply } from '../src/core/reply.js';
import { nextRef } from '../src/core/refs.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { addAiTool, addSupplier } from './helpers/fixtures.js';

const listIn = (r: Reply) => r.blocks.find((b): b is Extract<Block, { type: 'list' }> => b.type === 'list')!;
const refsIn = (r: Reply) => listIn(r).items.map((i) => i.title.split(' ')[0]);

describe('/isms register', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    // Declarations as the declare commands write them; the ISMS lead decides two of them.
    for (let i = 1; i <= 12; i++) await addAiTool(bot.t.db, { name: `Tool${i}`, vendor: `Vendor${i}`, declaredBy: bot.ids.staff });
    await addSupplier(bot.t.db, { name: 'Acme Cloud', service: 'hosting', ict: true, critical: true, data: 'customer', declaredBy: bot.ids.staff });
    await bot.say('lead', '/isms triage accept SC-0013');
    await bot.say('lead', '/isms triage reject SC-0001 "not allowed"');

    const [control] = await bot.t.db.insert(controls).values({ code: 'CTL-AC-01', title: 'Access reviews', ownerId: bot.ids.owner }).returning();
    const [open, submitted] = await bot.t.db.insert(evidenceRequests).values([
      { ref: await nextRef(bot.t.db, 'EVR'), controlId: control.id, ownerId: bot.ids.owner, dueOn: '2026-12-31', cycle: '2026-Q4' },
      { ref: await nextRef(bot.t.db, 'EVR'), controlId: control.id, ownerId: bot.ids.owner, dueOn: '2026-09-30', cycle: '2026-Q3', status: 'submitted' },
    ]).returning();
    for (const revision of [1, 2]) {
      await bot.t.db.insert(evidenceItems).values({
        ref: await nextRef(bot.t.db, 'EV'), requestId: submitted.id, controlId: control.id, revision, submittedBy: bot.ids.owner,
        submittedAt: new Date(`2026-09-2${revision}T09:00:00Z`), effectiveOn: '2026-09-20', text: `review ${revision}`, channel: 'test',
      });
    }
    expect(open.status).toBe('open');
    await bot.t.db.insert(poamItems).values({
      ref: await nextRef(bot.t.db, 'POAM'), weakness: 'No MFA on the VPN', source: 'risk', sourceRef: 'R-0004',
      ownerId: bot.ids.owner, dueOn: '2027-01-15', status: 'in_progress',
    });
    await bot.t.db.insert(scopeStatements).values([
      { version: 1, text: 'All of Example GmbH.' },
      { version: 2, text: 'Example GmbH: SaaS platform and its operations in Berlin.', approvedBy: bot.ids.board, approvedAt: new Date('2026-10-01T12:00:00Z') },
    ]);
  });
  afterEach(async () => { await bot.destroy(); });

  it('pages the AI register ten at a time, with the command for the next page', async () => {
    const first = await bot.say('lead', '/isms register ai');
    expect(refsIn(first)).toEqual(['AI-0001', 'AI-0002', 'AI-0003', 'AI-0004', 'AI-0005', 'AI-0006', 'AI-0007', 'AI-0008', 'AI-0009', 'AI-0010']);
    expect(listIn(first).page).toEqual({ number: 1, total: 2, next: 'register ai --page 2', previous: undefined });
    expect(listIn(first).items[0]).toMatchObject({ title: 'AI-0001 Tool1', detail: 'prohibited' });
    expect(listIn(first).items[0].fields).toContainEqual({ label: 'Vendor', value: 'Vendor1' });

    const second = await bot.say('lead', '/isms register ai --page 2');
    expect(refsIn(second)).toEqual(['AI-0011', 'AI-0012']);
    expect(listIn(second).page).toMatchObject({ number: 2, total: 2, next: undefined, previous: 'register ai --page 1' });
  });

  it('says how many pages there are when asked for one past the end', async () => {
    const answer = await bot.sayText('lead', '/isms register ai --page 3');
    expect(answer).toContain('The AI register has 2 pages, so there is no page 3');
    expect(await bot.sayText('lead', '/isms register ai --page zero')).toContain('page: must be a page number');
  });

  it('lists the valid registers for an unknown name, and offers them in a form without arguments', async () => {
    const answer = await bot.sayText('auditor', '/isms register risks');
    expect(answer).toContain('there is no register "risks"; the registers are ai, suppliers, scope, evidence, poam');
    const form = findForm(await bot.say('auditor', '/isms register'));
    expect(form?.fields[0].options?.map((o) => o.value)).toEqual(['ai', 'suppliers', 'scope', 'evidence', 'poam']);
  });

  it('shows suppliers with their tier and triage status', async () => {
    const answer = await bot.say('auditor', '/isms register suppliers');
    expect(listIn(answer).items).toEqual([expect.objectContaining({ title: 'SUP-0001 Acme Cloud', detail: 'tier 1 (critical) · accepted' })]);
  });

  it('shows the current scope statement and the scope-change log with decisions', async () => {
    const answer = await bot.say('auditor', '/isms register scope');
    const statement = answer.blocks[0];
    expect(statement).toMatchObject({ type: 'text' });
    expect((statement as { text: string }).text).toContain('Scope statement v2 (approved by Bruno Board on 2026-10-01): Example GmbH: SaaS platform');
    const log = listIn(answer);
    expect(log.page).toMatchObject({ total: 2, next: 'register scope --page 2' });
    expect(log.items[0]).toMatchObject({ title: 'SC-0001 — new AI use: Tool1', detail: 'rejected' });
    expect(log.items[0].fields).toContainEqual({ label: 'Rationale', value: 'not allowed' });
    expect(refsIn(await bot.say('auditor', '/isms register scope --page 2'))).toEqual(['SC-0011', 'SC-0012', 'SC-0013']);
  });

  it('shows evidence requests with status and latest revision', async () => {
    const items = listIn(await bot.say('auditor', '/isms register evidence')).items;
    expect(items.map((i) => [i.title, i.detail])).toEqual([
      ['EVR-0001 CTL-AC-01 Access reviews', 'open'],
      ['EVR-0002 CTL-AC-01 Access reviews', 'submitted'],
    ]);
    expect(items[0].fields).toContainEqual({ label: 'Latest revision', value: 'none yet' });
    expect(items[1].fields).toContainEqual({ label: 'Latest revision', value: 'EV-0002 revision 2, submitted 2026-09-22' });
  });

  it('shows POA&M items with owner, due date and status', async () => {
    const [item] = listIn(await bot.say('lead', '/isms register poam')).items;
    expect(item).toMatchObject({ title: 'POAM-0001 No MFA on the VPN', detail: 'in progress' });
    expect(item.fields).toEqual(expect.arrayContaining([{ label: 'Owner', value: 'Olga Owner' }, { label: 'Due', value: '2027-01-15' }]));
  });

  it('is for the ISMS lead, auditors and the management body only, and reading writes nothing', async () => {
    const before = await bot.auditCount();
    expect(await bot.sayText('staff', '/isms register ai')).toContain('Only the ISMS lead, an auditor or the management body may use "/isms register"');
    expect(await bot.sayText('owner', '/isms register poam')).toContain('Only the ISMS lead, an auditor or the management body');
    await bot.say('auditor', '/isms register ai');
    for (const register of ['ai', 'suppliers', 'scope', 'evidence', 'poam']) {
      expect((await bot.say('board', `/isms register ${register}`)).outcome).toBe('info');
    }
    expect(await bot.auditCount()).toBe(before);
  });
});
