import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { parse } from 'csv-parse/sync';
import { auditEvents, managementApprovals, people, suppliers } from '../src/db/schema/index.js';
import { findForm, toPlainText, type Block } from '../src/core/reply.js';
import { verifyRegister } from '../src/core/verify.js';
import { isValidLei } from '../src/domain/suppliers/register-of-information.js';
import { toActor } from '../src/core/actor.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { auditSeededRows } from './helpers/fixtures.js';

const NOW = new Date('2026-12-02T09:00:00Z');
const LEI = '5493001KJTIIGC8Y1R12';
const OTHER_LEI = '529900T8BM49AURSDO55';

describe('the supplier register in chat: /isms supplier, supplier review, tier-1 approval', () => {
  let bot: TestBot;
  const supplier = async (ref: string) => (await bot.t.db.select().from(suppliers).where(eq(suppliers.ref, ref)))[0];
  const approvals = async (ref: string) => bot.t.db.select().from(managementApprovals)
    .where(and(eq(managementApprovals.subjectKind, 'supplier'), eq(managementApprovals.subjectRef, ref))).orderBy(managementApprovals.id);
  const lastEvent = async (ref: string) => (await bot.t.db.select().from(auditEvents).where(eq(auditEvents.entityRef, ref))).at(-1)!;

  // Declared and accepted through the commands, so every row has its audit events.
  beforeEach(async () => {
    bot = await createTestBot();
    await bot.say('staff', '/isms declare supplier "Acme Cloud" "managed Kubernetes" --ict yes --critical yes --data customer'); // SUP-0001, SC-0001
    await bot.say('staff', '/isms declare supplier "Paper Co" "office paper" --ict no --critical no --data none'); // SUP-0002, SC-0002
    await bot.say('staff', '/isms declare supplier "Later Ltd" --ict yes --critical no --data internal'); // SUP-0003, SC-0003, left in triage
  });
  afterEach(async () => { await bot.destroy(); });

  it('checks LEIs by their ISO 17442 check digits', () => {
    expect(isValidLei(LEI)).toBe(true);
    expect(isValidLei(OTHER_LEI)).toBe(true);
    expect(isValidLei('5493001KJTIIGC8Y1R13')).toBe(false);
    expect(isValidLei('5493001KJTIIGC8Y1R1')).toBe(false);
  });

  it('asks the management body to approve a supplier accepted in triage as tier 1, and not one of a lower tier', async () => {
    const accepted = await bot.sayText('lead', '/isms triage accept SC-0001');
    expect(accepted).toContain('As a tier-1 supplier it needs the management body\'s approval: asked as APR-0001.');
    expect(await approvals('SUP-0001')).toEqual([expect.objectContaining({ ref: 'APR-0001', status: 'pending', requestedBy: bot.ids.lead })]);
    const card = (await bot.outboxFor('board')).filter((m) => m.kind === 'approval');
    expect(card).toHaveLength(1);
    expect(JSON.stringify(card[0].reply)).toContain('tier-1 supplier Acme Cloud (SUP-0001)');

    await bot.say('lead', '/isms triage accept SC-0002');
    expect(await approvals('SUP-0002')).toEqual([]);
    const waiting = await bot.sayText('board', '/isms approvals');
    expect(waiting).toContain('APR-0001 — tier-1 supplier Acme Cloud (SUP-0001)');
    expect(waiting).toContain('1 item waits');
  });

  it('the lead records the details with their audit event; a change to what the board approves makes the approval stale and asks again', async () => {
    await bot.say('lead', '/isms triage accept SC-0001'); // APR-0001
    const answer = await bot.sayText('lead', `/isms supplier SUP-0001 --owner olga@test.example --contract MSA-2026-014 --contract-start 2026-01-01 `
      + `--contract-end 2028-12-31 --exit-strategy "exit plan EP-3 in the wiki" --lei ${LEI.toLowerCase()} --country de --service-type s19 `
      + '--substitutability difficult --subcontractors "AWS, Stripe"', { now: NOW });
    expect(answer).toContain('Updated SUP-0001 (Acme Cloud): owner, contract, contract start, contract end, exit strategy, lei, country, service type, substitutability, subcontractors.');
    expect(answer).toContain('As a tier-1 supplier, SUP-0001 needs the management body\'s approval of what changed: asked as APR-0002 (Bruno Board).');
    expect(answer).toContain('Country: DE (Germany)');
    expect(answer).toContain('Type of ICT service: S19 Cloud services: SaaS');
    expect(await supplier('SUP-0001')).toMatchObject({
      ownerId: bot.ids.owner, contractRef: 'MSA-2026-014', contractStart: '2026-01-01', contractEnd: '2028-12-31', exitStrategy: true,
      exitPlan: 'exit plan EP-3 in the wiki', lei: LEI, country: 'DE', ictServiceType: 'S19', substitutability: 'difficult', subcontractors: ['AWS', 'Stripe'],
    });
    expect(await lastEvent('SUP-0001')).toMatchObject({
      action: 'update', entity: 'supplier', before: expect.objectContaining({ lei: null }), after: expect.objectContaining({ lei: LEI }),
    });
    expect((await bot.outboxFor('owner')).map((m) => m.kind)).toContain('supplier_owner');
    expect(await approvals('SUP-0001')).toEqual([
      expect.objectContaining({ ref: 'APR-0001', status: 'withdrawn', staleReason: expect.stringContaining('Lena Lead changed SUP-0001') }),
      expect.objectContaining({ ref: 'APR-0002', status: 'pending' }),
    ]);

    expect((await bot.say('board', '/isms approve APR-0002', { now: NOW })).outcome).toBe('recorded');
    expect(await bot.sayText('lead', '/isms supplier SUP-0001')).toContain('Management-body approval: approved by Bruno Board on 2026-12-02 (APR-0002)');

    // The owner changes what the board approved: the approval goes stale and the board is asked again.
    await bot.say('owner', `/isms supplier SUP-0001 --lei ${OTHER_LEI}`);
    const [, second, third] = await approvals('SUP-0001');
    expect(second).toMatchObject({ status: 'approved', staleReason: expect.stringContaining('Olga Owner changed SUP-0001 (lei)') });
    expect(third).toMatchObject({ ref: 'APR-0003', status: 'pending', requestedBy: bot.ids.owner });
    expect(await bot.sayText('owner', '/isms supplier SUP-0001')).toContain('Management-body approval: awaiting management-body approval (APR-0003)');

    // What the board does not approve (the country) changes without asking again.
    await bot.say('owner', '/isms supplier SUP-0001 --country IE');
    expect(await approvals('SUP-0001')).toHaveLength(3);
    expect((await approvals('SUP-0001'))[2].status).toBe('pending');
  });

  it('asks again when a supplier becomes tier 1, and withdraws the request when it leaves tier 1', async () => {
    await bot.say('lead', '/isms triage accept SC-0002');
    expect(await bot.sayText('lead', '/isms supplier SUP-0002 --tier 1')).toContain('asked as APR-0001');
    expect(await supplier('SUP-0002')).toMatchObject({ criticalityTier: 'tier1_critical', supportsCriticalFunction: true });
    await bot.say('lead', '/isms supplier SUP-0002 --tier 3');
    expect(await supplier('SUP-0002')).toMatchObject({ criticalityTier: 'tier3_standard', supportsCriticalFunction: false });
    expect(await approvals('SUP-0002')).toEqual([expect.objectContaining({ status: 'withdrawn', staleAt: expect.any(Date) })]);
    expect(await bot.sayText('board', '/isms approvals')).toContain('Nothing waits for the management body\'s approval.');
    expect(await bot.sayText('board', '/isms approve APR-0001')).toContain('APR-0001 was withdrawn');
  });

  it('refuses everyone but the lead and the owner, the owner changing owner or tier, and writes nothing', async () => {
    await bot.say('lead', '/isms triage accept SC-0001');
    await bot.say('lead', '/isms supplier SUP-0001 --owner olga@test.example');
    const before = await bot.auditCount();
    for (const who of ['staff', 'auditor', 'board'] as const) {
      expect(await bot.sayText(who, '/isms supplier SUP-0001 --contract X-1')).toContain('Only the ISMS lead or the owner of SUP-0001 (Olga Owner) may change its details.');
      expect(await bot.sayText(who, '/isms supplier review SUP-0001 continue')).toContain('Only the ISMS lead or the owner of SUP-0001 records its reviews.');
    }
    expect(await bot.sayText('owner', '/isms supplier SUP-0001 --tier 2')).toContain('Only the ISMS lead changes the owner or the criticality tier of SUP-0001');
    expect(await bot.sayText('owner', '/isms supplier SUP-0001 --owner sam@test.example')).toContain('Only the ISMS lead changes the owner');
    expect(await bot.sayText('lead', '/isms supplier SUP-0099 --contract X')).toContain('SUP-0099 does not exist');
    expect(await bot.sayText('lead', '/isms supplier SUP-0001 --owner nobody@test.example')).toContain('owner: nobody in the register matches "nobody@test.example"');
    expect(await bot.auditCount()).toBe(before);
    expect(await supplier('SUP-0001')).toMatchObject({ contractRef: null, criticalityTier: 'tier1_critical', ownerId: bot.ids.owner });
  });

  it('refuses an invalid LEI, country, service type or dates with a clear message, and writes nothing', async () => {
    await bot.say('lead', '/isms triage accept SC-0002');
    const before = await bot.auditCount();
    const refusals: [string, string][] = [
      ['--lei 5493001KJTIIGC8Y1R13', 'the check digits of 5493001KJTIIGC8Y1R13 do not match (ISO 17442)'],
      ['--lei 12345', '"12345" is no LEI: an LEI has 20 characters'],
      ['--country XX', '"XX" is no ISO 3166-1 country code: use two letters, e.g. DE, IE or US'],
      ['--country Germany', '"GERMANY" is no ISO 3166-1 country code'],
      ['--service-type S20', 'must be a type of ICT service from the register of information, S01 to S19'],
      ['--substitutability sometimes', 'must be one of easy, medium, difficult, impossible'],
      ['--contract-start 2027-01-01 --contract-end 2026-01-01', 'The contract of SUP-0002 cannot end (2026-01-01) before it starts (2027-01-01).'],
      ['--next-review 2020-01-01', 'The next review of SUP-0002 cannot lie in the past (2020-01-01)'],
      ['--tier 4', 'must be 1, 2 or 3'],
    ];
    for (const [flags, message] of refusals) {
      const answer = await bot.say('lead', `/isms supplier SUP-0002 ${flags}`, { now: NOW });
      expect(toPlainText(answer)).toContain(message);
      expect(toPlainText(answer)).toContain('Nothing was recorded');
      expect(answer.outcome).toBe('refused');
    }
    expect(await bot.auditCount()).toBe(before);
    expect(await supplier('SUP-0002')).toMatchObject({ lei: null, country: null, contractStart: null, nextReviewOn: null });
  });

  it('the owner and the lead record reviews: the next one is due in 6 months for tier 1, 12 otherwise; a repeat is recorded once', async () => {
    await bot.say('lead', '/isms triage accept SC-0001');
    await bot.say('lead', '/isms triage accept SC-0002');
    await bot.say('lead', '/isms supplier SUP-0001 --owner olga@test.example');

    const reviewed = await bot.sayText('owner', '/isms supplier review SUP-0001 continue-with-actions "renew the SOC 2 report by March"', { now: NOW });
    expect(reviewed).toContain('Recorded the review of SUP-0001 (Acme Cloud): continue with actions. The next review is due on 2027-06-02 (in 6 months).');
    expect(await supplier('SUP-0001')).toMatchObject({
      lastReviewOn: '2026-12-02', lastReviewOutcome: 'continue_with_actions', lastReviewNote: 'renew the SOC 2 report by March', nextReviewOn: '2027-06-02',
    });
    expect(await lastEvent('SUP-0001')).toMatchObject({ action: 'review', before: expect.objectContaining({ lastReviewOn: null }) });

    const before = await bot.auditCount();
    expect(await bot.sayText('owner', '/isms supplier review SUP-0001 continue-with-actions "renew the SOC 2 report by March"', { now: NOW }))
      .toContain('This review of SUP-0001 was already recorded today; nothing changed.');
    expect(await bot.sayText('lead', '/isms supplier review SUP-0002 exit')).toContain('A review ending in "exit" needs a note');
    expect(await bot.sayText('lead', '/isms supplier review SUP-0002 maybe')).toContain('must be continue, continue-with-actions or exit');
    expect(await bot.sayText('lead', '/isms supplier review SUP-0003 continue')).toContain('SUP-0003 (Later Ltd) is declared, not accepted into the supplier register');
    expect(await bot.auditCount()).toBe(before);

    expect(await bot.sayText('lead', '/isms supplier review SUP-0002 continue', { now: NOW })).toContain('The next review is due on 2027-12-02 (in 12 months).');
    expect(await supplier('SUP-0002')).toMatchObject({ lastReviewOutcome: 'continue', nextReviewOn: '2027-12-02' });
  });

  it('nobody approves their own supplier: the owner on the management body is refused, another member decides', async () => {
    const [second] = await bot.t.db.insert(people).values({ name: 'Berta Board', email: 'berta@test.example', roles: ['management_body'] }).returning();
    await bot.say('lead', '/isms triage accept SC-0001'); // APR-0001
    await bot.say('lead', '/isms supplier SUP-0001 --owner bruno@test.example'); // owner is not in what the board approves: APR-0001 stands
    const before = await bot.auditCount();
    const refused = await bot.sayText('board', '/isms approve APR-0001');
    expect(refused).toContain('You own the supplier relationship SUP-0001 (Acme Cloud), so another member of the management body decides APR-0001');
    expect(refused).toContain('Ask Berta Board.');
    expect(await bot.auditCount()).toBe(before);
    const decided = await bot.router.handle('/isms approve APR-0001', { actor: toActor(second), channel: 'test', now: NOW });
    expect(decided.outcome).toBe('recorded');
    expect(await approvals('SUP-0001')).toEqual([expect.objectContaining({ status: 'approved', decidedBy: second.id })]);
  });

  it('shows the details to whom may see them, with a form filled in for whom may change them', async () => {
    await bot.say('lead', '/isms triage accept SC-0001');
    await bot.say('lead', `/isms supplier SUP-0001 --contract MSA-1 --lei ${LEI}`);
    const details = await bot.say('lead', '/isms supplier SUP-0001');
    expect(toPlainText(details)).toContain('SUP-0001 Acme Cloud: tier 1 (critical), accepted');
    expect(toPlainText(details)).toContain('Management-body approval: awaiting management-body approval (APR-0002)');
    const form = findForm(details)!;
    expect(form.hidden).toEqual({ ref: 'SUP-0001' });
    expect(form.fields.find((f) => f.name === 'lei')?.initial).toBe(LEI);
    expect(form.fields.find((f) => f.name === 'tier')?.initial).toBe('tier1_critical');

    const forDeclarer = await bot.say('staff', '/isms supplier SUP-0001');
    expect(toPlainText(forDeclarer)).toContain('Contract: MSA-1');
    expect(findForm(forDeclarer)).toBeUndefined();
    expect(await bot.sayText('owner', '/isms supplier SUP-0001')).toContain('Only the ISMS lead, the owner or the declarer of SUP-0001');

    // The form sent back as it was filled in repeats an overdue review date: that is no new date in the past.
    await bot.say('lead', '/isms supplier SUP-0001 --next-review 2027-01-04', { now: NOW });
    const later = new Date('2027-02-01T09:00:00Z');
    const overdue = findForm(await bot.say('lead', '/isms supplier SUP-0001', { now: later }))!;
    const values = Object.fromEntries(overdue.fields.filter((f) => f.initial !== undefined).map((f) => [f.name, f.initial]));
    const saved = await bot.router.submit('supplier', { ...overdue.hidden, ...values, contract: 'MSA-2' }, { actor: await bot.actor('lead'), channel: 'test', now: later });
    expect(toPlainText(saved)).toContain('Updated SUP-0001 (Acme Cloud): contract.');
    expect(await supplier('SUP-0001')).toMatchObject({ contractRef: 'MSA-2', nextReviewOn: '2027-01-04', lei: LEI });
  });

  it('shows the new fields and the approval in words in the register and the export, and verify still passes', async () => {
    await bot.say('lead', '/isms triage accept SC-0001');
    await bot.say('lead', '/isms triage accept SC-0002');
    await bot.say('lead', `/isms supplier SUP-0001 --lei ${LEI} --country DE --service-type S17 --substitutability impossible --contract-end 2028-12-31`);
    await bot.say('board', '/isms approve APR-0002', { now: NOW });
    await bot.say('lead', '/isms supplier review SUP-0002 continue', { now: NOW });

    const register = await bot.say('auditor', '/isms register suppliers');
    const list = register.blocks.find((b): b is Extract<Block, { type: 'list' }> => b.type === 'list')!;
    expect(list.items[0].fields).toContainEqual({ label: 'Management-body approval', value: 'approved by Bruno Board on 2026-12-02 (APR-0002)' });
    expect(list.items[0].fields).toContainEqual({ label: 'Substitutability', value: 'not substitutable' });
    expect(list.items[1].fields).toContainEqual({ label: 'Last review', value: '2026-12-02: continue' });
    expect(list.items[1].fields?.map((f) => f.label)).not.toContain('Management-body approval');

    const exported = await bot.say('lead', '/isms export suppliers csv');
    const file = exported.blocks.find((b): b is Extract<Block, { type: 'file' }> => b.type === 'file')!.file;
    try {
      const [header, ...rows] = parse(readFileSync(file.path)) as string[][];
      const column = (name: string) => rows.map((r) => r[header.indexOf(name)]);
      expect(column('LEI')).toEqual([LEI, '', '']);
      expect(column('Country')[0]).toBe('DE');
      expect(column('Type of ICT service')[0]).toBe('S17 Cloud services: IaaS');
      expect(column('Contract end')[0]).toBe('2028-12-31');
      expect(column('Management-body approval')).toEqual(['approved by Bruno Board on 2026-12-02 (APR-0002)', '', '']);
      expect(column('Last review outcome')[1]).toBe('continue');
    } finally {
      await rm(path.dirname(file.path), { recursive: true, force: true });
    }
    await auditSeededRows(bot.t.db);
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
  });
});
