import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asc, desc, eq, gt } from 'drizzle-orm';
import { aiTools, assets, auditEvents, scopeChanges, suppliers } from '../src/db/schema/index.js';
import { supplierTier } from '../src/domain/declarations/supplier-tier.js';
import { findForm, toPlainText, type Reply } from '../src/core/reply.js';
import { ImportError, importYaml } from '../src/import/index.js';
import { ARTEFACTS } from '../src/domain/exports/artefacts.js';
import { verifyRegister } from '../src/core/verify.js';
import { auditSeededRows } from './helpers/fixtures.js';
import { nextRef } from '../src/core/refs.js';
import { appendAudit } from '../src/core/audit.js';
import { createTestBot, type TestBot } from './helpers/bot.js';

describe('supplier criticality tier', () => {
  it.each([
    [{ ict: true, critical: true, data: 'none' }, 'tier1_critical'],
    [{ ict: false, critical: true, data: 'personal' }, 'tier1_critical'],
    [{ ict: false, critical: true, data: 'personal_and_customer' }, 'tier1_critical'],
    [{ ict: true, critical: false, data: 'customer' }, 'tier2_important'],
    [{ ict: true, critical: false, data: 'none' }, 'tier2_important'],
    [{ ict: false, critical: false, data: 'customer' }, 'tier2_important'],
    [{ ict: false, critical: true, data: 'internal' }, 'tier3_standard'],
    [{ ict: false, critical: false, data: 'internal' }, 'tier3_standard'],
  ] as const)('%o is %s', (answers, tier) => {
    expect(supplierTier(answers)).toBe(tier);
  });
});

describe('/isms declare supplier', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });
  const declareAcmeCloud = () => bot.say('staff', '/isms declare supplier "Acme Cloud" "managed Kubernetes" --ict yes --critical yes --data customer'); // SUP-0001

  it('records the supplier with its tier, a scope change, an audit event each, and tells the ISMS lead', async () => {
    const before = await bot.auditCount();
    const answer = await bot.sayText('staff', '/isms declare supplier "Acme Cloud" "managed Kubernetes" --ict yes --critical yes --data customer');
    expect(answer).toContain('SUP-0001');
    expect(answer).toContain('tier 1 (critical)');
    const [supplier] = await bot.t.db.select().from(suppliers);
    expect(supplier).toMatchObject({
      ref: 'SUP-0001', name: 'Acme Cloud', service: 'managed Kubernetes', ictService: true, supportsCriticalFunction: true,
      dataAccess: 'customer', criticalityTier: 'tier1_critical', status: 'declared', declaredBy: bot.ids.staff,
    });
    const [change] = await bot.t.db.select().from(scopeChanges);
    expect(change).toMatchObject({ kind: 'new_supplier', subject: 'Acme Cloud', subjectRef: 'SUP-0001', status: 'proposed', declaredBy: bot.ids.staff });
    expect(await bot.auditCount()).toBe(before + 2);
    const leadInbox = await bot.outboxFor('lead');
    expect(leadInbox.map((m) => m.kind)).toEqual(['triage']);
    expect(JSON.stringify(leadInbox[0].reply)).toContain(`triage accept ${change.ref}`);
  });

  it('asks only the questions not answered inline, writes nothing until they are, then records the form', async () => {
    await declareAcmeCloud();
    const before = await bot.auditCount();
    const asked = await bot.say('owner', '/isms declare supplier Printmaster "office printing" --ict no');
    const form = findForm(asked);
    expect(form?.fields.map((f) => f.name)).toEqual(['critical', 'data']);
    expect(form?.hidden).toEqual({ name: 'Printmaster', service: 'office printing', ict: 'no' });
    expect(await bot.auditCount()).toBe(before);
    expect(await bot.t.db.select().from(suppliers).where(eq(suppliers.name, 'Printmaster'))).toHaveLength(0);

    const done = await bot.router.submit('declare supplier', { ...form!.hidden, critical: 'no', data: 'internal' },
      { actor: await bot.actor('owner'), channel: 'test' });
    expect(JSON.stringify(done)).toContain('SUP-0002');
    const [row] = await bot.t.db.select().from(suppliers).where(eq(suppliers.name, 'Printmaster'));
    expect(row).toMatchObject({ ictService: false, supportsCriticalFunction: false, dataAccess: 'internal', criticalityTier: 'tier3_standard' });
  });

  it('opens the full form when given no arguments', async () => {
    const form = findForm(await bot.say('staff', '/isms declare supplier'));
    expect(form?.fields.map((f) => f.name)).toEqual(['name', 'service', 'ict', 'critical', 'data']);
  });

  it('names the bad answer and writes nothing', async () => {
    const before = await bot.auditCount();
    const badData = await bot.sayText('staff', '/isms declare supplier Payly --ict yes --critical no --data secret');
    expect(badData).toContain('data: must be one of none, internal, personal, customer, personal_and_customer');
    expect(badData).toContain('Nothing was recorded');
    const badIct = await bot.sayText('staff', '/isms declare supplier Payly --ict maybe --critical no --data none');
    expect(badIct).toContain('ict: answer yes or no');
    expect(await bot.auditCount()).toBe(before);
    expect(await bot.t.db.select().from(suppliers).where(eq(suppliers.name, 'Payly'))).toHaveLength(0);
  });

  it('names everything missing in one reply: the name and each unanswered question', async () => {
    const answer = await bot.say('staff', '/isms declare supplier --ict yes --data wrong');
    expect(answer.outcome).toBe('refused');
    expect(toPlainText(answer)).toContain('That didn\'t work: name: is required (the supplier or service provider); '
      + 'critical: is required (whether they support a critical or important function); data: must be one of');
    expect(Object.keys(answer.fieldErrors ?? {})).toEqual(['name', 'critical', 'data']);
  });

  it('refuses a supplier already in the register and writes nothing', async () => {
    await declareAcmeCloud();
    const before = await bot.auditCount();
    const answer = await bot.sayText('staff', '/isms declare supplier "acme cloud" --ict yes --critical no --data none');
    expect(answer).toContain('Acme Cloud is already in the supplier register as SUP-0001');
    expect(await bot.auditCount()).toBe(before);
  });

  it('records a delivery repeated by the platform once', async () => {
    const line = '/isms declare supplier Mailbird --ict yes --critical no --data personal';
    const first = await bot.say('staff', line, { idempotencyKey: 'evt-sup-1' });
    const again = await bot.say('staff', line, { idempotencyKey: 'evt-sup-1' });
    expect(again).toEqual(first);
    const rows = await bot.t.db.select().from(suppliers).where(eq(suppliers.name, 'Mailbird'));
    expect(rows).toHaveLength(1);
    expect(rows[0].criticalityTier).toBe('tier2_important');
  });
});

describe('/isms ai details', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    await bot.say('staff', '/isms declare ai ChatGPT');
  });
  afterEach(async () => { await bot.destroy(); });
  const completeChatGpt = () => bot.say('staff', '/isms ai details AI-0001 --vendor OpenAI --data internal,customer --users 12 --purpose "drafting emails"');

  it('lets the declarer complete the declaration, with the before and after in the audit trail', async () => {
    const before = await bot.auditCount();
    const answer = await bot.sayText('staff', '/isms ai details AI-0001 --vendor OpenAI --data internal,customer --users 12 --purpose "drafting emails"');
    expect(answer).toContain('Updated the details of ChatGPT (AI-0001)');
    const [tool] = await bot.t.db.select().from(aiTools);
    expect(tool).toMatchObject({ vendor: 'OpenAI', purpose: 'drafting emails', dataCategories: ['internal', 'customer'], userCount: 12, status: 'declared' });
    expect(await bot.auditCount()).toBe(before + 1);
    const events = await bot.t.db.select().from(auditEvents).where(eq(auditEvents.entityRef, 'AI-0001'));
    const update = events.at(-1)!;
    expect(update.action).toBe('update');
    expect(update.before).toMatchObject({ vendor: null, userCount: null });
    expect(update.after).toMatchObject({ vendor: 'OpenAI', userCount: 12 });
  });

  it('keeps what is not given and lets the ISMS lead change it too', async () => {
    await completeChatGpt();
    expect(await bot.sayText('lead', '/isms ai details ai-1 --users 20')).toContain('AI-0001');
    const [tool] = await bot.t.db.select().from(aiTools);
    expect(tool).toMatchObject({ vendor: 'OpenAI', userCount: 20 });
  });

  it('refuses anyone else and writes nothing', async () => {
    await completeChatGpt();
    const before = await bot.auditCount();
    const answer = await bot.sayText('owner', '/isms ai details AI-0001 --vendor Evil');
    expect(answer).toContain('Only the person who declared AI-0001 or the ISMS lead');
    expect(answer).toContain('Nothing was recorded');
    expect(await bot.auditCount()).toBe(before);
    const [tool] = await bot.t.db.select().from(aiTools);
    expect(tool.vendor).toBe('OpenAI');
  });

  it('names a bad value or an unknown reference and writes nothing', async () => {
    const before = await bot.auditCount();
    expect(await bot.sayText('staff', '/isms ai details AI-0001 --users many')).toContain('users: must be a whole number of people');
    expect(await bot.sayText('staff', '/isms ai details SUP-0001 --users 3')).toContain('ref: must be a reference like AI-0001');
    expect(await bot.sayText('staff', '/isms ai details AI-0042 --users 3')).toContain('AI-0042 does not exist');
    expect(await bot.auditCount()).toBe(before);
  });

  it('answers the "Add details" button (reference only) with a form about that tool', async () => {
    const declared = await bot.say('staff', '/isms declare ai Midjourney');
    expect(JSON.stringify(declared)).toContain('"command":"ai details AI-0002"');
    const form = findForm(await bot.say('staff', '/isms ai details AI-0002'));
    expect(form).toMatchObject({ command: 'ai details', hidden: { ref: 'AI-0002' } });
    expect(form?.fields.map((f) => f.name)).toEqual(['vendor', 'purpose', 'data', 'users', 'supplier', 'controls']);
    await bot.router.submit('ai details', { ...form!.hidden, vendor: 'Midjourney Inc', data: ['public'] }, { actor: await bot.actor('staff'), channel: 'test' });
    const [tool] = await bot.t.db.select().from(aiTools).where(eq(aiTools.ref, 'AI-0002'));
    expect(tool).toMatchObject({ vendor: 'Midjourney Inc', dataCategories: ['public'] });
  });

  it('records a repeated delivery once', async () => {
    await bot.say('staff', '/isms declare ai Midjourney'); // AI-0002
    const before = await bot.auditCount();
    await bot.say('staff', '/isms ai details AI-0002 --users 4', { idempotencyKey: 'evt-aid-1' });
    await bot.say('staff', '/isms ai details AI-0002 --users 4', { idempotencyKey: 'evt-aid-1' });
    expect(await bot.auditCount()).toBe(before + 1);
  });
});

describe('/isms scope add and /isms scope retire', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    await bot.t.db.insert(assets).values({ ref: await nextRef(bot.t.db, 'AST'), name: 'Legacy CRM', ownerId: null });
  });
  afterEach(async () => { await bot.destroy(); });
  const proposeCustomerPortal = () => bot.say('owner', '/isms scope add "Customer portal" public web app on AWS'); // SC-0001

  it('lets an asset owner propose a new system: a scope change, an audit event, and the ISMS lead is told', async () => {
    const before = await bot.auditCount();
    const answer = await bot.sayText('owner', '/isms scope add "Customer portal" public web app on AWS');
    expect(answer).toContain('SC-0001');
    const [change] = await bot.t.db.select().from(scopeChanges);
    expect(change).toMatchObject({ ref: 'SC-0001', kind: 'new_system', subject: 'Customer portal', description: 'public web app on AWS', status: 'proposed', declaredBy: bot.ids.owner, subjectRef: null });
    expect(await bot.auditCount()).toBe(before + 1);
    const leadInbox = await bot.outboxFor('lead');
    expect(JSON.stringify(leadInbox.map((m) => m.reply))).toContain('triage accept SC-0001');
  });

  it('refuses staff without the asset owner role and writes nothing', async () => {
    await proposeCustomerPortal();
    const before = await bot.auditCount();
    const answer = await bot.sayText('staff', '/isms scope add "Shadow wiki"');
    expect(answer).toContain('Only an asset owner or the ISMS lead may use "/isms scope add"');
    expect(await bot.sayText('staff', '/isms scope retire "Legacy CRM"')).toContain('Only an asset owner or the ISMS lead');
    expect(await bot.auditCount()).toBe(before);
    expect(await bot.t.db.select().from(scopeChanges)).toHaveLength(1);
  });

  it('names a missing system and writes nothing; without arguments it opens a form', async () => {
    const before = await bot.auditCount();
    expect(await bot.sayText('owner', '/isms scope add ""')).toContain('system: name the system');
    expect(await bot.auditCount()).toBe(before);
    expect(findForm(await bot.say('owner', '/isms scope retire'))?.fields.map((f) => f.name)).toEqual(['system', 'reason']);
  });

  it('refuses a system already waiting for triage', async () => {
    await proposeCustomerPortal();
    const answer = await bot.sayText('lead', '/isms scope add "customer portal"');
    expect(answer).toContain('Customer portal is already waiting for triage as SC-0001');
  });

  it('retires a registered system with its asset reference', async () => {
    await proposeCustomerPortal();
    const answer = await bot.sayText('owner', '/isms scope retire "legacy crm" replaced by the new CRM');
    expect(answer).toContain('SC-0002');
    expect(answer).not.toContain('not in the asset register');
    const [change] = await bot.t.db.select().from(scopeChanges).where(eq(scopeChanges.ref, 'SC-0002'));
    expect(change).toMatchObject({ kind: 'retired_system', subject: 'Legacy CRM', subjectRef: 'AST-0001', description: 'replaced by the new CRM' });
  });

  it('allows retiring a system that is not in the asset register, and says so', async () => {
    await proposeCustomerPortal();
    await bot.say('owner', '/isms scope retire "legacy crm" replaced by the new CRM'); // SC-0002
    const answer = await bot.sayText('lead', '/isms scope retire "Old fax server"');
    expect(answer).toContain('SC-0003');
    expect(answer).toContain('Old fax server is not in the asset register');
    const [change] = await bot.t.db.select().from(scopeChanges).where(eq(scopeChanges.ref, 'SC-0003'));
    expect(change).toMatchObject({ kind: 'retired_system', subjectRef: null, status: 'proposed' });
  });

  it('records a repeated delivery once', async () => {
    const before = await bot.auditCount();
    const first = await bot.say('owner', '/isms scope add Datalake', { idempotencyKey: 'evt-scope-1' });
    const again = await bot.say('owner', '/isms scope add Datalake', { idempotencyKey: 'evt-scope-1' });
    expect(again).toEqual(first);
    expect(await bot.auditCount()).toBe(before + 1);
  });
});

describe('suppliers from an import file', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });
  const importSuppliers = (yaml: string) => importYaml(bot.t.db, yaml, 'suppliers.yaml', { by: 'lena@test.example' });
  const eventsAfter = async (seq: number) => (await bot.t.db.select().from(auditEvents).where(gt(auditEvents.seq, seq)).orderBy(asc(auditEvents.seq)))
    .map((e) => `${e.action} ${e.entity} ${e.entityRef} by ${e.actorLabel}`);
  const lastSeq = async () => (await bot.t.db.select().from(auditEvents).orderBy(desc(auditEvents.seq)).limit(1))[0]?.seq ?? 0;

  it('a supplier imported as declared waits in triage as a declared one does, and once accepted can be reviewed', async () => {
    const seq = await lastSeq();
    await importSuppliers('suppliers:\n  - { name: Acme Cloud, service: managed Kubernetes, ict_service: true, data_access: customer, owner: olga@test.example }\n');
    expect(await eventsAfter(seq)).toEqual(['declare supplier SUP-0001 by import suppliers.yaml', 'propose scope_change SC-0001 by import suppliers.yaml']);
    expect(await bot.t.db.select().from(scopeChanges)).toMatchObject([
      { ref: 'SC-0001', kind: 'new_supplier', subject: 'Acme Cloud', description: 'managed Kubernetes', subjectRef: 'SUP-0001', status: 'proposed', declaredBy: bot.ids.owner },
    ]);
    expect((await bot.outboxFor('lead')).map((m) => m.kind)).toEqual(['triage']);
    // Imported again, it is the same declaration: not a second triage item.
    await importSuppliers('suppliers:\n  - { name: Acme Cloud, owner: olga@test.example }\n');
    expect(await bot.t.db.select().from(scopeChanges)).toHaveLength(1);

    const triage = await bot.sayText('lead', '/isms triage');
    expect(triage).toContain('1 item waiting for triage.');
    expect(triage).toContain('SC-0001 — new supplier: Acme Cloud');
    expect(await bot.sayText('lead', '/isms triage accept SC-0001')).toContain('SUP-0001 is now accepted in the supplier register.');
    expect(await bot.sayText('owner', '/isms supplier review SUP-0001 continue')).toContain('Recorded the review of SUP-0001 (Acme Cloud): continue.');
  });

  it('a tier-1 supplier imported as accepted is put to the management body, as accepting it in triage would', async () => {
    const seq = await lastSeq();
    const file = 'suppliers:\n  - { name: Nimbus Cloud, ict_service: true, supports_critical_function: true, data_access: customer, '
      + 'criticality_tier: tier1_critical, owner: olga@test.example, status: accepted }\n';
    await importSuppliers(file);
    expect(await eventsAfter(seq)).toEqual(['create supplier SUP-0001 by import suppliers.yaml', 'request management_approval APR-0001 by import suppliers.yaml']);
    const cards = await bot.outboxFor('board');
    expect(cards.map((m) => m.kind)).toEqual(['approval']);
    expect(toPlainText(cards[0].reply as Reply)).toContain('Lena Lead asks the management body to approve tier-1 supplier Nimbus Cloud (SUP-0001) (APR-0001).');
    expect(await bot.sayText('lead', '/isms supplier SUP-0001')).toContain('Management-body approval: awaiting management-body approval (APR-0001)');
    expect(await bot.sayText('board', '/isms approvals')).toContain('APR-0001');
    // Imported again unchanged, it is the same request.
    await importSuppliers(file);
    expect(await eventsAfter(seq)).toHaveLength(2);

    expect(await bot.sayText('board', '/isms approve APR-0001')).toContain('Approved: tier-1 supplier Nimbus Cloud (SUP-0001) (APR-0001).');
    expect(await bot.sayText('lead', '/isms supplier SUP-0001')).toMatch(/Management-body approval: approved by Bruno Board on \S+ \(APR-0001\)/);
  });

  it('a new supplier imported as accepted, without triage, is said to be accepted by the import and by whom, in the answer and its audit event; with nobody named, or one who may not decide triage, it is refused', async () => {
    await auditSeededRows(bot.t.db);
    const file = 'suppliers:\n  - { name: Kagi, service: search, owner: olga@test.example, status: accepted }\n';
    const before = await bot.auditCount();
    const error = await importYaml(bot.t.db, file, 'suppliers.yaml').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImportError);
    expect((error as ImportError).message).toBe('suppliers.yaml:2: suppliers[0].status: Kagi is new to the register, and accepted by the import it skips triage, '
      + 'which is recorded under the person running it: name who runs it (npm run isms -- import <file> --as <email>), or leave status out to put it in triage');
    // As in triage, only an ISMS lead or a member of the management body accepts it.
    const owner = await importYaml(bot.t.db, file, 'suppliers.yaml', { by: 'olga@test.example' }).catch((e: unknown) => e);
    expect((owner as ImportError).message).toBe('suppliers.yaml:2: suppliers[0].status: Olga Owner <olga@test.example> runs this import, and accepting Kagi '
      + 'without triage is for whoever decides triage, an ISMS lead or a member of the management body: have one of them run it, or leave status out to put it in triage');
    expect(await bot.auditCount()).toBe(before);

    const notes: string[] = [];
    const seq = await lastSeq();
    await importYaml(bot.t.db, file, 'suppliers.yaml', { by: 'bruno@test.example', onNote: (n) => notes.push(n) });
    expect(notes).toEqual(['SUP-0001 Kagi was accepted by this import, run by Bruno Board, without triage (the file gives it as accepted).']);
    const [event] = await bot.t.db.select().from(auditEvents).where(gt(auditEvents.seq, seq));
    expect(event).toMatchObject({ action: 'create', entity: 'supplier', entityRef: 'SUP-0001', actorLabel: 'import suppliers.yaml' });
    expect((event.after as { status: string; acceptance: unknown })).toMatchObject({ status: 'accepted', acceptance: {
      by: { id: bot.ids.board, name: 'Bruno Board', email: 'bruno@test.example' }, how: 'imported from suppliers.yaml as accepted, without triage' } });
    // Imported again, it is accepted already: nothing more is said.
    notes.length = 0;
    await importYaml(bot.t.db, file, 'suppliers.yaml', { by: 'bruno@test.example', onNote: (n) => notes.push(n) });
    expect(notes).toEqual([]);
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
  });

  it('names who declared an imported declared supplier, its owner or else the ISMS lead, as a declaration in chat does', async () => {
    await auditSeededRows(bot.t.db);
    await importSuppliers('suppliers:\n  - { name: Acme Cloud, owner: olga@test.example }\n  - { name: Nimbus Cloud }\n');
    expect((await bot.t.db.select().from(suppliers).orderBy(asc(suppliers.id))).map((r) => [r.ref, r.declaredBy]))
      .toEqual([['SUP-0001', bot.ids.owner], ['SUP-0002', bot.ids.lead]]);
    const exported = (await ARTEFACTS.find((a) => a.name === 'suppliers')!.page(bot.t.db, 0, 100, {})).map((r) => r.row);
    expect(exported.map((r) => `${String(r.ref)} declared by ${String(r.declaredBy)}`)).toEqual(['SUP-0001 declared by Olga Owner', 'SUP-0002 declared by Lena Lead']);
    expect((await bot.t.db.select().from(scopeChanges).orderBy(asc(scopeChanges.id))).map((c) => c.declaredBy)).toEqual([bot.ids.owner, bot.ids.lead]);
    expect((await bot.outboxFor('lead')).map((m) => toPlainText(m.reply as Reply)).join('\n'))
      .toContain('Acme Cloud (SUP-0001, tier 3 (standard)) was imported from suppliers.yaml as declared by Olga Owner.');
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
  });

  it('refuses a file that would take back a decision on a supplier (accepted to declared, rejected to declared or accepted), naming the row, and writes nothing', async () => {
    await importSuppliers('suppliers:\n  - { name: Acme Cloud, owner: olga@test.example }\n'); // SUP-0001, SC-0001
    await bot.say('lead', '/isms triage accept SC-0001');
    await bot.say('staff', '/isms declare supplier "Nimbus Cloud" --ict no --critical no --data none'); // SUP-0002, SC-0002
    await bot.say('lead', '/isms triage reject SC-0002 we use Acme Cloud');
    const audit = await bot.auditCount();
    const refusal = async (yaml: string) => {
      const error = await importSuppliers(yaml).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ImportError);
      return (error as ImportError).message;
    };
    expect(await refusal('suppliers:\n  - { name: Nimbus Cloud, owner: olga@test.example }\n  - { name: acme cloud, status: declared }\n')).toBe(
      'suppliers.yaml:3: suppliers[1].status: SUP-0001 (Acme Cloud) is accepted; an import does not take that decision back (declared, it would wait in triage again): '
      + 'leave status out, or write accepted');
    for (const status of ['declared', 'accepted']) {
      expect(await refusal(`suppliers:\n  - { ref: SUP-0002, name: Nimbus Cloud, status: ${status} }\n`)).toBe(
        'suppliers.yaml:2: suppliers[0].status: SUP-0002 (Nimbus Cloud) was rejected in triage; an import does not take that decision back: '
        + 'leave the supplier out of the file, or declare it again ("/isms declare supplier") to put it to triage anew');
    }
    expect(await bot.auditCount()).toBe(audit);
    expect((await bot.t.db.select().from(suppliers).orderBy(asc(suppliers.id))).map((r) => r.status)).toEqual(['accepted', 'rejected']);
    expect(await bot.sayText('lead', '/isms triage')).not.toContain('SC-0003');

    // Left out or as it is, the status stands; a rejected supplier declared again is the one a file names.
    await importSuppliers('suppliers:\n  - { name: Acme Cloud, status: accepted, contract_ref: MSA-7 }\n');
    await bot.say('staff', '/isms declare supplier "Nimbus Cloud" --ict no --critical no --data none'); // SUP-0003, SC-0003
    await importSuppliers('suppliers:\n  - { name: Nimbus Cloud, service: object storage, status: declared }\n');
    expect((await bot.t.db.select().from(suppliers).orderBy(asc(suppliers.id))).map((r) => [r.ref, r.status, r.contractRef ?? r.service]))
      .toEqual([['SUP-0001', 'accepted', 'MSA-7'], ['SUP-0002', 'rejected', null], ['SUP-0003', 'declared', 'object storage']]);
  });

  it('sets going a supplier imported before imports did so, when the file (or one naming it) is imported again', async () => {
    // As such an import left them: declared with no triage item nor declarer, accepted at tier 1 with no approval asked.
    await bot.t.db.insert(suppliers).values([
      { ref: await nextRef(bot.t.db, 'SUP'), name: 'Acme Cloud', ownerId: bot.ids.owner, status: 'declared' },
      { ref: await nextRef(bot.t.db, 'SUP'), name: 'Nimbus Cloud', criticalityTier: 'tier1_critical', ownerId: bot.ids.owner, status: 'accepted' },
    ]);
    const seq = await lastSeq();
    await importSuppliers('suppliers:\n  - { ref: SUP-0001, name: Acme Cloud }\n  - { ref: SUP-0002, name: Nimbus Cloud }\n');
    expect(await eventsAfter(seq)).toEqual([
      'update supplier SUP-0001 by import suppliers.yaml', 'propose scope_change SC-0001 by import suppliers.yaml',
      'request management_approval APR-0001 by import suppliers.yaml',
    ]);
    expect((await bot.t.db.select().from(suppliers).orderBy(asc(suppliers.id))).map((r) => r.declaredBy)).toEqual([bot.ids.owner, null]);
    expect(await bot.sayText('lead', '/isms triage')).toContain('SC-0001 — new supplier: Acme Cloud');
    expect(await bot.sayText('board', '/isms approvals')).toContain('APR-0001');
  });

  it('refuses a file accepting a declared supplier an earlier import left without a triage item, saying how to put it in triage; decided there', async () => {
    await auditSeededRows(bot.t.db);
    // As an earlier import left it: declared, with neither a triage item nor a declarer.
    const [stuck] = await bot.t.db.insert(suppliers).values({ ref: await nextRef(bot.t.db, 'SUP'), name: 'Acme Cloud', ownerId: bot.ids.owner, status: 'declared' }).returning();
    await appendAudit(bot.t.db, { id: null, label: 'test fixture' }, { action: 'create', entity: 'supplier', entityRef: stuck.ref, after: stuck });
    const audit = await bot.auditCount();
    const refused = await importSuppliers('suppliers:\n  - { name: Kagi, owner: olga@test.example }\n  - { ref: SUP-0001, name: Acme Cloud, status: accepted }\n')
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ImportError);
    expect((refused as ImportError).message).toBe('suppliers.yaml:3: suppliers[1].status: SUP-0001 (Acme Cloud) is declared and waits for a triage decision, '
      + 'by someone other than who declared it; an import does not accept it: leave status out (or write declared) and import the file again, '
      + 'which puts it in triage ("/isms triage" lists it), then decide it there');
    expect(await bot.auditCount()).toBe(audit);
    expect((await bot.t.db.select().from(suppliers)).map((r) => [r.ref, r.status])).toEqual([['SUP-0001', 'declared']]);
    expect(await bot.t.db.select().from(scopeChanges)).toEqual([]);

    // As the message says: imported without status, it waits in triage, declared by its owner; someone else accepts it there.
    await importSuppliers('suppliers:\n  - { ref: SUP-0001, name: Acme Cloud }\n');
    expect(await bot.sayText('lead', '/isms triage')).toContain('SC-0001 — new supplier: Acme Cloud');
    expect(await bot.sayText('owner', '/isms triage accept SC-0001')).not.toContain('is now accepted');
    expect(await bot.sayText('lead', '/isms triage accept SC-0001')).toContain('SUP-0001 is now accepted in the supplier register.');
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
  });

  it('refuses a file accepting a supplier that waits in triage, naming the row and the triage item, and writes nothing; it is decided in triage', async () => {
    await auditSeededRows(bot.t.db);
    await bot.say('staff', '/isms declare supplier "Kagi" --ict no --critical no --data none'); // SUP-0001, SC-0001
    await importSuppliers('suppliers:\n  - { name: Acme Cloud, owner: olga@test.example }\n'); // SUP-0002, SC-0002
    const audit = await bot.auditCount();
    const file = 'suppliers:\n  - { name: Nimbus Cloud, owner: olga@test.example, status: accepted }\n  - { name: kagi, status: accepted }\n'
      + '  - { ref: SUP-0002, name: Acme Cloud, status: accepted }\n';
    const refused = await importSuppliers(file).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ImportError);
    expect((refused as ImportError).message).toBe('suppliers.yaml:3: suppliers[1].status: SUP-0001 (Kagi) waits in triage as SC-0001: decide it there '
      + '("/isms triage accept SC-0001", by someone other than who declared it); an import does not accept it: leave status out, or write declared');
    expect(await bot.auditCount()).toBe(audit);
    expect((await bot.t.db.select().from(suppliers).orderBy(asc(suppliers.id))).map((r) => [r.ref, r.status])).toEqual([['SUP-0001', 'declared'], ['SUP-0002', 'declared']]);
    expect((await bot.t.db.select().from(scopeChanges).orderBy(asc(scopeChanges.id))).map((c) => [c.ref, c.status])).toEqual([['SC-0001', 'proposed'], ['SC-0002', 'proposed']]);

    // Triage decides; a file saying what triage decided then imports, and a new supplier imported as accepted stays allowed.
    expect(await bot.sayText('lead', '/isms triage accept SC-0001')).not.toContain('waits');
    await importSuppliers('suppliers:\n  - { name: Nimbus Cloud, owner: olga@test.example, status: accepted }\n  - { name: Kagi, status: accepted }\n');
    expect((await bot.t.db.select().from(suppliers).orderBy(asc(suppliers.id))).map((r) => [r.ref, r.name, r.status]))
      .toEqual([['SUP-0001', 'Kagi', 'accepted'], ['SUP-0002', 'Acme Cloud', 'declared'], ['SUP-0003', 'Nimbus Cloud', 'accepted']]);
    expect(await bot.sayText('lead', '/isms triage')).toContain('SC-0002 — new supplier: Acme Cloud');
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
  });
});
