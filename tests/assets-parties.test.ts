import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asc, eq } from 'drizzle-orm';
import { assets, auditEvents, interestedParties } from '../src/db/schema/index.js';
import { findForm, toPlainText, type Block, type Reply } from '../src/core/reply.js';
import { verifyRegister } from '../src/core/verify.js';
import { createTestBot, type CastKey, type TestBot } from './helpers/bot.js';
import { auditSeededRows } from './helpers/fixtures.js';

const NOW = new Date('2026-11-20T10:00:00Z');
const at = { now: NOW };
const listIn = (r: Reply) => r.blocks.find((b): b is Extract<Block, { type: 'list' }> => b.type === 'list')!;
const titlesIn = (r: Reply) => listIn(r).items.map((i) => i.title);

describe('assets in chat', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  const submit = async (who: CastKey, command: string, values: Record<string, unknown>) =>
    bot.router.submit(command, values, { actor: await bot.actor(who), channel: 'test', now: NOW });
  const allAssets = () => bot.t.db.select().from(assets).orderBy(asc(assets.id));

  it('adds an asset from a typed line, names tidied, with its audit event', async () => {
    const answer = await bot.sayText('lead',
      '/isms asset add "  Customer   portal " "public web app on AWS" --owner olga@test.example --classification confidential --protection "Very high"', at);
    expect(answer).toContain('Added Customer portal to the asset register as AST-0001.');
    expect(answer).toContain('Owner: Olga Owner');
    expect(answer).toContain('Protection requirement: very high');
    const [asset] = await allAssets();
    expect(asset).toMatchObject({
      ref: 'AST-0001', name: 'Customer portal', description: 'public web app on AWS', ownerId: bot.ids.owner,
      classification: 'confidential', protectionRequirement: 'very_high', inScope: true, retiredAt: null,
    });
    const [event] = await bot.t.db.select().from(auditEvents).where(eq(auditEvents.entityRef, 'AST-0001'));
    expect(event).toMatchObject({ action: 'create', entity: 'asset', actorId: bot.ids.lead });
  });

  it('asks for the fields in a form and records the submitted form', async () => {
    const form = findForm(await bot.say('lead', '/isms asset add', at))!;
    expect(form.fields.map((f) => [f.name, f.required ?? false])).toEqual([
      ['name', true], ['description', false], ['owner', false], ['classification', false], ['protection', false],
    ]);
    expect(form.fields.find((f) => f.name === 'protection')?.options?.map((o) => o.value)).toEqual(['normal', 'high', 'very_high']);
    const answer = toPlainText(await submit('lead', 'asset add', { name: 'HR system', protection: 'high', description: '', owner: '' }));
    expect(answer).toContain('Added HR system to the asset register as AST-0001.');
    expect(await allAssets()).toEqual([expect.objectContaining({ name: 'HR system', protectionRequirement: 'high', classification: 'internal', ownerId: null })]);
  });

  it('names each bad field and writes nothing', async () => {
    const before = await bot.auditCount();
    const bad = await submit('lead', 'asset add', { owner: 'x'.repeat(321), protection: 'extreme', classification: 'x'.repeat(51) });
    expect(bad.outcome).toBe('refused');
    expect(Object.keys(bad.fieldErrors ?? {}).sort()).toEqual(['classification', 'name', 'owner', 'protection']);
    const said = toPlainText(bad);
    expect(said).toContain('name: is required');
    expect(said).toContain('protection: must be one of normal, high, very_high');
    expect(said).toContain('classification: must be at most 50 characters');
    expect(said).toContain('Nothing was recorded');
    const stranger = await bot.sayText('lead', '/isms asset add CRM --owner nobody@test.example', at);
    expect(stranger).toContain('owner: nobody in the register matches "nobody@test.example"');
    expect(await bot.sayText('lead', '/isms asset add " " ', at)).toContain('name: must not be empty');
    expect(await allAssets()).toEqual([]);
    expect(await bot.auditCount()).toBe(before);
  });

  it('points a duplicate at the existing entry, whatever its case and spacing', async () => {
    await bot.say('lead', '/isms asset add "Customer portal"', at);
    const before = await bot.auditCount();
    const again = await bot.say('lead', '/isms asset add "customer   PORTAL" "same thing"', at);
    expect(toPlainText(again)).toContain('Customer portal is already in the asset register as AST-0001.');
    expect(again.fieldErrors).toHaveProperty('name');
    expect(await allAssets()).toHaveLength(1);
    expect(await bot.auditCount()).toBe(before);
    // The refusal took no reference: the next asset is AST-0002.
    expect(await bot.sayText('lead', '/isms asset add CRM', at)).toContain('as AST-0002');
  });

  it('retires an asset with its reason, keeps the row, hides it from the list, and refuses to retire it twice', async () => {
    await bot.say('lead', '/isms asset add "Legacy CRM" --owner olga@test.example', at);
    await bot.say('lead', '/isms asset add "New CRM"', at);
    const retired = await bot.sayText('lead', '/isms asset retire ast-1 "replaced by the new CRM"', at);
    expect(retired).toContain('Retired AST-0001 Legacy CRM.');
    expect(retired).toContain('Retired: retired on 2026-11-20: replaced by the new CRM');
    expect((await allAssets())[0]).toMatchObject({ retiredAt: NOW, retiredReason: 'replaced by the new CRM', inScope: false });
    const [event] = await bot.t.db.select().from(auditEvents).where(eq(auditEvents.action, 'retire'));
    expect(event).toMatchObject({ entity: 'asset', entityRef: 'AST-0001' });

    expect(titlesIn(await bot.say('lead', '/isms assets', at))).toEqual(['AST-0002 New CRM']);
    const all = await bot.say('lead', '/isms assets --all', at);
    expect(titlesIn(all)).toEqual(['AST-0001 Legacy CRM', 'AST-0002 New CRM']);
    expect(listIn(all).items[0]).toMatchObject({ detail: 'retired' });

    const before = await bot.auditCount();
    const twice = await bot.sayText('lead', '/isms asset retire AST-0001 "again"', at);
    expect(twice).toContain('AST-0001 Legacy CRM was already retired on 2026-11-20: replaced by the new CRM.');
    expect(await bot.sayText('lead', '/isms asset retire AST-0009 "gone"', at)).toContain('AST-0009 is not in the asset register.');
    expect(await bot.sayText('lead', '/isms asset retire AST-0002', at)).toContain('reason: say why it is retired');
    expect(await bot.auditCount()).toBe(before);
    // A retired system cannot be proposed back into scope under its old name.
    expect(await bot.sayText('owner', '/isms scope add "legacy crm"', at)).toContain('Legacy CRM (AST-0001) was retired from the asset register');
  });

  it('lets only the ISMS lead add and retire, and staff not read the register', async () => {
    await bot.say('lead', '/isms asset add CRM', at);
    const before = await bot.auditCount();
    for (const who of ['staff', 'owner', 'board', 'auditor'] as const) {
      expect(await bot.sayText(who, '/isms asset add Payroll', at)).toContain('Only the ISMS lead may use "/isms asset add"');
      expect(await bot.sayText(who, '/isms asset retire AST-0001 "gone"', at)).toContain('Only the ISMS lead may use "/isms asset retire"');
    }
    expect(await bot.auditCount()).toBe(before);
    expect(await bot.sayText('staff', '/isms assets', at)).toContain('Only the ISMS lead, an auditor, the management body or an asset owner may use "/isms assets"');
    for (const who of ['lead', 'auditor', 'board', 'owner'] as const) {
      expect(titlesIn(await bot.say(who, '/isms assets', at))).toEqual(['AST-0001 CRM']);
    }
  });

  it('pages the asset register ten at a time', async () => {
    for (let i = 1; i <= 11; i++) await bot.say('lead', `/isms asset add System${i}`, at);
    const first = await bot.say('auditor', '/isms assets', at);
    expect(titlesIn(first)).toHaveLength(10);
    expect(listIn(first).page).toMatchObject({ number: 1, total: 2, next: 'assets --page 2' });
    expect(titlesIn(await bot.say('auditor', '/isms assets --page 2', at))).toEqual(['AST-0011 System11']);
  });
});

describe('interested parties in chat', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  const allParties = () => bot.t.db.select().from(interestedParties).orderBy(asc(interestedParties.id));

  it('adds from a typed line and from the form, checks fields, and points duplicates at the entry', async () => {
    const typed = await bot.sayText('lead', '/isms party add BaFin "incident reports within 4 hours" --kind regulator --reviewed 2026-11-01', at);
    expect(typed).toContain('Added BaFin to the interested parties.');
    const form = findForm(await bot.say('lead', '/isms party add', at))!;
    expect(form.fields.map((f) => f.name)).toEqual(['name', 'needs', 'kind', 'reviewed']);
    const submitted = await bot.router.submit('party add', { name: 'Enterprise  customers', kind: 'customer' },
      { actor: await bot.actor('lead'), channel: 'test', now: NOW });
    expect(toPlainText(submitted)).toContain('Added Enterprise customers to the interested parties.');
    expect(await allParties()).toEqual([
      expect.objectContaining({ name: 'BaFin', kind: 'regulator', needs: 'incident reports within 4 hours', reviewedOn: '2026-11-01' }),
      expect.objectContaining({ name: 'Enterprise customers', kind: 'customer', needs: null }),
    ]);

    const before = await bot.auditCount();
    const bad = await bot.router.submit('party add', { name: 'Auditors', reviewed: '2026-02-30', kind: 'k'.repeat(101) },
      { actor: await bot.actor('lead'), channel: 'test', now: NOW });
    expect(Object.keys(bad.fieldErrors ?? {}).sort()).toEqual(['kind', 'reviewed']);
    expect(toPlainText(bad)).toContain('reviewed: must be a date written YYYY-MM-DD');
    expect(await bot.sayText('lead', '/isms party add " bafin "', at)).toContain('BaFin is already an interested party.');
    expect(await allParties()).toHaveLength(2);
    expect(await bot.auditCount()).toBe(before);
  });

  it('retires a party with its reason, hides it unless --all, and refuses twice', async () => {
    await bot.say('lead', '/isms party add BaFin --kind regulator', at);
    await bot.say('lead', '/isms party add "Card schemes"', at);
    expect(await bot.sayText('lead', '/isms party retire "card  SCHEMES" "no longer acquiring"', at)).toContain('Retired Card schemes.');
    expect(await allParties()).toContainEqual(expect.objectContaining({ name: 'Card schemes', retiredAt: NOW, retiredReason: 'no longer acquiring' }));
    expect(titlesIn(await bot.say('board', '/isms parties', at))).toEqual(['BaFin']);
    expect(titlesIn(await bot.say('board', '/isms parties --all', at))).toEqual(['BaFin', 'Card schemes']);

    const before = await bot.auditCount();
    expect(await bot.sayText('lead', '/isms party retire "Card schemes" again', at))
      .toContain('Card schemes was already retired on 2026-11-20: no longer acquiring.');
    expect(await bot.sayText('lead', '/isms party retire Bafn gone', at)).toContain('There is no interested party named "Bafn". Did you mean "BaFin"?');
    expect(await bot.sayText('lead', '/isms party add "card schemes"', at)).toContain('Card schemes is already an interested party (retired on 2026-11-20');
    expect(await bot.auditCount()).toBe(before);
  });

  it('lets only the ISMS lead add and retire; lead, auditors and the management body read', async () => {
    await bot.say('lead', '/isms party add BaFin', at);
    const before = await bot.auditCount();
    for (const who of ['staff', 'owner', 'board', 'auditor'] as const) {
      expect(await bot.sayText(who, '/isms party add Customers', at)).toContain('Only the ISMS lead may use "/isms party add"');
      expect(await bot.sayText(who, '/isms party retire BaFin gone', at)).toContain('Only the ISMS lead may use "/isms party retire"');
    }
    expect(await bot.auditCount()).toBe(before);
    for (const who of ['staff', 'owner'] as const) expect(await bot.sayText(who, '/isms parties', at)).toContain('may use "/isms parties"');
    for (const who of ['lead', 'auditor', 'board'] as const) expect(titlesIn(await bot.say(who, '/isms parties', at))).toEqual(['BaFin']);
  });
});

describe('verify after assets and parties are added and retired in chat', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    await auditSeededRows(bot.t.db);
  });
  afterEach(async () => { await bot.destroy(); });

  it('finds every row vouched for by its events', async () => {
    await bot.say('lead', '/isms asset add CRM --owner olga@test.example', at);
    await bot.say('lead', '/isms asset add Payroll', at);
    await bot.say('lead', '/isms asset retire AST-0001 "replaced"', at);
    await bot.say('lead', '/isms party add BaFin --kind regulator', at);
    await bot.say('lead', '/isms party add "Card schemes"', at);
    await bot.say('lead', '/isms party retire "card schemes" "no longer acquiring"', at);
    const verdict = await verifyRegister(bot.t.db);
    expect(verdict).toMatchObject({ ok: true });
    // Five people, two assets, two parties.
    expect(verdict.ok && verdict.rows).toBe(9);
  });

  it('names a retirement undone in SQL', async () => {
    await bot.say('lead', '/isms party add BaFin', at);
    await bot.say('lead', '/isms party retire BaFin "merged"', at);
    await bot.t.db.update(interestedParties).set({ retiredAt: null });
    expect(await verifyRegister(bot.t.db)).toEqual({
      ok: false, problem: 'interested party BaFin differs from its last audit event in retiredAt: it was changed without one.',
    });
  });
});
