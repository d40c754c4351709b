import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { aiTools, assets, auditEvents, outbox, scopeChanges, suppliers } from '../src/db/schema/index.js';
import { findForm, type Block, type Reply } from '../src/core/reply.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { addAiTool, addAsset, addScopeChange, addSupplier } from './helpers/fixtures.js';

const listIn = (r: Reply) => r.blocks.find((b): b is Extract<Block, { type: 'list' }> => b.type === 'list');
const NOV_28 = new Date('2026-11-28T10:00:00Z');

describe('/isms triage', () => {
  let bot: TestBot;
  const change = async (ref: string) => (await bot.t.db.select().from(scopeChanges).where(eq(scopeChanges.ref, ref)))[0];

  // Six declarations wait for triage, written as the declare commands write them.
  beforeEach(async () => {
    bot = await createTestBot();
    const db = bot.t.db;
    const { staff, owner } = bot.ids;
    const crm = await addAsset(db, { name: 'Legacy CRM', ownerId: owner }); // AST-0001
    await addAiTool(db, { name: 'ChatGPT', purpose: 'drafting', vendor: 'OpenAI', dataCategories: ['internal'], declaredBy: staff }); // SC-0001, AI-0001
    await addAiTool(db, { name: 'DeepSeek', dataCategories: ['customer'], declaredBy: staff }); // SC-0002, AI-0002
    await addSupplier(db, { name: 'Acme Cloud', service: 'hosting', ict: true, critical: true, data: 'customer', declaredBy: staff }); // SC-0003, SUP-0001
    await addSupplier(db, { name: 'Payly', ict: true, critical: false, data: 'personal', declaredBy: owner }); // SC-0004, SUP-0002
    await addScopeChange(db, { kind: 'new_system', subject: 'Customer portal', description: 'web app', declaredBy: owner }); // SC-0005
    await addScopeChange(db, { kind: 'retired_system', subject: crm.name, description: 'replaced', subjectRef: crm.ref, declaredBy: owner }); // SC-0006
  });
  afterEach(async () => { await bot.destroy(); });

  it('lists what waits, oldest first, with Accept and Reject buttons per item', async () => {
    const answer = await bot.say('lead', '/isms triage');
    const list = listIn(answer)!;
    expect(list.items.map((i) => i.title.split(' ')[0])).toEqual(['SC-0001', 'SC-0002', 'SC-0003', 'SC-0004', 'SC-0005', 'SC-0006']);
    expect(list.items[2].title).toContain('new supplier: Acme Cloud');
    expect(list.items[2].fields).toContainEqual({ label: 'Tier', value: 'tier 1 (critical)' });
    expect(list.items[0].buttons).toEqual([
      { label: 'Accept', command: 'triage accept SC-0001', style: 'primary' },
      { label: 'Reject', command: 'triage reject SC-0001', style: 'danger' },
    ]);
  });

  it('is for the ISMS lead (and, to read the list, the management body): others are refused and nothing changes', async () => {
    const before = await bot.auditCount();
    expect(await bot.sayText('owner', '/isms triage')).toContain('Only the ISMS lead or the management body may use "/isms triage"');
    expect(await bot.sayText('auditor', '/isms triage accept SC-0001')).toContain('Only the ISMS lead');
    expect(await bot.sayText('staff', '/isms triage reject SC-0001 no')).toContain('Only the ISMS lead');
    expect(await bot.auditCount()).toBe(before);
    expect((await change('SC-0001')).status).toBe('proposed');
  });

  it('accepting an AI declaration puts the tool under review, records who and why, audits both rows and tells the declarer', async () => {
    const before = await bot.auditCount();
    const answer = await bot.sayText('lead', '/isms triage accept SC-0001 low risk, assess next review', { now: NOV_28 });
    expect(answer).toContain('Accepted SC-0001');
    expect(answer).toContain('AI-0001 is now under review');
    expect(await change('SC-0001')).toMatchObject({ status: 'accepted', decidedBy: bot.ids.lead, decidedAt: NOV_28, rationale: 'low risk, assess next review' });
    const [tool] = await bot.t.db.select().from(aiTools).where(eq(aiTools.ref, 'AI-0001'));
    expect(tool.status).toBe('under_review');
    expect(await bot.auditCount()).toBe(before + 2);
    const events = await bot.t.db.select().from(auditEvents).where(eq(auditEvents.entityRef, 'AI-0001'));
    expect(events.at(-1)).toMatchObject({ before: expect.objectContaining({ status: 'declared' }), after: expect.objectContaining({ status: 'under_review' }) });
    const told = (await bot.outboxFor('staff')).filter((m) => m.kind === 'triage_decision');
    expect(told).toHaveLength(1);
    expect(JSON.stringify(told[0].reply)).toContain('SC-0001');
    expect(JSON.stringify(told[0].reply)).toContain('accepted by Lena Lead');
    expect(told[0].reply).toMatchObject({ about: 'AI-0001' });
  });

  it('refuses to decide an item twice, naming who decided and when', async () => {
    await bot.say('lead', '/isms triage accept SC-0001 low risk, assess next review', { now: NOV_28 });
    const before = await bot.auditCount();
    const answer = await bot.sayText('lead', '/isms triage reject SC-0001 changed my mind');
    expect(answer).toContain('SC-0001 was already accepted by Lena Lead on 2026-11-28');
    expect(await bot.auditCount()).toBe(before);
    expect((await change('SC-0001')).status).toBe('accepted');
  });

  it('a rejection without a rationale asks for one and writes nothing', async () => {
    const before = await bot.auditCount();
    const answer = await bot.say('lead', '/isms triage reject SC-0002');
    expect(JSON.stringify(answer)).toContain('A rejection needs a rationale');
    expect(findForm(answer)).toMatchObject({ command: 'triage reject', hidden: { ref: 'SC-0002' } });
    expect(findForm(answer)?.fields.map((f) => f.name)).toEqual(['rationale']);
    expect(await bot.auditCount()).toBe(before);
    expect((await change('SC-0002')).status).toBe('proposed');
  });

  it('rejecting an AI declaration prohibits the tool', async () => {
    const answer = await bot.router.submit('triage reject', { ref: 'SC-0002', rationale: 'customer data may not leave the EU' },
      { actor: await bot.actor('lead'), channel: 'test' });
    expect(JSON.stringify(answer)).toContain('AI-0002 is now prohibited');
    expect(await change('SC-0002')).toMatchObject({ status: 'rejected', rationale: 'customer data may not leave the EU' });
    const [tool] = await bot.t.db.select().from(aiTools).where(eq(aiTools.ref, 'AI-0002'));
    expect(tool.status).toBe('prohibited');
  });

  it('accepting or rejecting a supplier sets its status in the supplier register', async () => {
    await bot.say('lead', '/isms triage accept SC-0003');
    await bot.say('lead', '/isms triage reject SC-0004 "no DPA signed"');
    const rows = await bot.t.db.select().from(suppliers).orderBy(suppliers.id);
    expect(rows.map((s) => [s.ref, s.status])).toEqual([['SUP-0001', 'accepted'], ['SUP-0002', 'rejected']]);
    const ownerTold = (await bot.outboxFor('owner')).filter((m) => m.kind === 'triage_decision');
    expect(JSON.stringify(ownerTold.map((m) => m.reply))).toContain('no DPA signed');
  });

  it('accepting a new system creates the asset, owned by the declarer', async () => {
    const before = await bot.auditCount();
    const answer = await bot.sayText('lead', '/isms triage accept SC-0005');
    expect(answer).toContain('Customer portal is now in the asset register as AST-0002');
    const [asset] = await bot.t.db.select().from(assets).where(eq(assets.name, 'Customer portal'));
    expect(asset).toMatchObject({ ref: 'AST-0002', ownerId: bot.ids.owner, inScope: true, description: 'web app' });
    expect((await change('SC-0005')).subjectRef).toBe('AST-0002');
    // The change, the new asset, and the request to the management body to ratify it.
    expect(answer).toContain('The management body is asked to ratify it (APR-0001).');
    expect(await bot.auditCount()).toBe(before + 3);
  });

  it('accepting a retirement takes the asset out of scope', async () => {
    const answer = await bot.sayText('lead', '/isms triage accept SC-0006');
    expect(answer).toContain('AST-0001 Legacy CRM is now out of scope');
    const [asset] = await bot.t.db.select().from(assets).where(eq(assets.ref, 'AST-0001'));
    expect(asset.inScope).toBe(false);
  });

  it('names an unknown or malformed reference and writes nothing', async () => {
    const before = await bot.auditCount();
    expect(await bot.sayText('lead', '/isms triage accept SC-0099')).toContain('SC-0099 does not exist');
    expect(await bot.sayText('lead', '/isms triage accept AI-0001')).toContain('ref: must be a reference like SC-0001');
    expect(await bot.auditCount()).toBe(before);
  });

  it('records a repeated click once', async () => {
    await bot.say('owner', '/isms scope add Datalake'); // SC-0007
    const before = await bot.auditCount();
    const first = await bot.say('lead', '/isms triage accept SC-0007', { idempotencyKey: 'click-1' });
    const again = await bot.say('lead', '/isms triage accept SC-0007', { idempotencyKey: 'click-1' });
    expect(again).toEqual(first);
    expect(await bot.auditCount()).toBe(before + 3);
    expect(await bot.t.db.select().from(assets).where(eq(assets.name, 'Datalake'))).toHaveLength(1);
    expect((await bot.t.db.select().from(outbox).where(eq(outbox.idempotencyKey, `triage-decision:SC-0007:${bot.ids.owner}`)))).toHaveLength(1);
  });

  it('pages a long list ten at a time, and shows an empty list when all is decided', async () => {
    // Seven changes came before, all decided.
    await bot.say('owner', '/isms scope add Datalake'); // SC-0007
    for (let n = 1; n <= 7; n++) await bot.say('lead', `/isms triage accept SC-000${n}`);
    for (let i = 1; i <= 11; i++) await bot.say('staff', `/isms declare ai Tool${i}`); // SC-0008 .. SC-0018
    const first = listIn(await bot.say('lead', '/isms triage'))!;
    expect(first.items).toHaveLength(10);
    expect(first.page).toMatchObject({ number: 1, total: 2, next: 'triage --page 2' });
    const second = listIn(await bot.say('lead', '/isms triage --page 2'))!;
    expect(second.items.map((i) => i.title.split(' ')[0])).toEqual(['SC-0018']);
    expect(second.page?.next).toBeUndefined();
    for (let n = 8; n <= 18; n++) await bot.say('lead', `/isms triage accept SC-${String(n).padStart(4, '0')}`);
    expect(await bot.sayText('lead', '/isms triage')).toContain('Nothing is waiting for triage');
  });
});
