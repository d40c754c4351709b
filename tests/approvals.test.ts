import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { auditEvents, controlMappings, controls, frameworkRequirements, managementApprovals, people, scopeChanges, scopeStatements } from '../src/db/schema/index.js';
import { toPlainText, type Block, type Reply } from '../src/core/reply.js';
import { verifyRegister } from '../src/core/verify.js';
import { loadReferenceData } from '../src/refdata/index.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { auditSeededRows } from './helpers/fixtures.js';

const NOW = new Date('2026-12-02T09:00:00Z');
const LATER = new Date('2026-12-03T09:00:00Z');
const SCOPE_V1 = 'All systems, people and suppliers supporting the payments platform in Germany.';
const SCOPE_V2 = 'All systems, people and suppliers supporting the payments platform in Germany and Austria.';

const approval = async (bot: TestBot, ref: string) =>
  (await bot.t.db.select().from(managementApprovals).where(eq(managementApprovals.ref, ref)))[0];
const buttons = (r: { blocks: Block[] }) => r.blocks.flatMap((b) => (b.type === 'actions' ? b.buttons : b.type === 'list' ? b.items.flatMap((i) => i.buttons ?? []) : []));

describe('management-body approvals: /isms approvals, approve, reject', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  it('a scope statement the lead proposes waits for the body, which gets a card, approves the exact version and the lead is told', async () => {
    const proposed = await bot.sayText('lead', `/isms scope statement ${SCOPE_V1}`, { now: NOW });
    expect(proposed).toContain('Scope statement version 1 is proposed and awaits the management body\'s approval (APR-0001).');
    expect(proposed).toContain('Asked: Bruno Board.');
    const [row] = await bot.t.db.select().from(scopeStatements);
    expect(row).toMatchObject({ version: 1, text: SCOPE_V1, proposedBy: bot.ids.lead, approvedBy: null });

    const cards = (await bot.outboxFor('board')).filter((m) => m.kind === 'approval');
    expect(cards).toHaveLength(1);
    expect(toPlainText(cards[0].reply as Reply)).toContain('Lena Lead asks the management body to approve the ISMS scope statement, version 1 (APR-0001).');
    expect(buttons(cards[0].reply as Reply).map((b) => b.command)).toEqual(['approve APR-0001', 'reject APR-0001']);
    expect(await bot.sayText('board', '/isms scope statement')).toContain('awaiting management-body approval (APR-0001)');

    const listed = await bot.say('board', '/isms approvals');
    expect(toPlainText(listed)).toContain('1 item waits for the management body\'s approval.');
    expect(buttons(listed).map((b) => b.command)).toEqual(['approve APR-0001', 'reject APR-0001']);

    const approved = await bot.sayText('board', '/isms approve APR-0001 as minuted', { now: LATER });
    expect(approved).toContain('Approved: the ISMS scope statement, version 1 (APR-0001).');
    expect(await approval(bot, 'APR-0001')).toMatchObject({ status: 'approved', decidedBy: bot.ids.board, decidedAt: LATER, rationale: 'as minuted' });
    expect((await bot.t.db.select().from(scopeStatements))[0]).toMatchObject({ approvedBy: bot.ids.board, approvedAt: LATER });
    const told = (await bot.outboxFor('lead')).filter((m) => m.kind === 'approval');
    expect(told.map((m) => toPlainText(m.reply as Reply))).toEqual(['✔ Bruno Board approved the ISMS scope statement, version 1 (APR-0001): as minuted']);
    expect(await bot.sayText('lead', '/isms scope statement')).toContain(`Scope statement version 1, approved by Bruno Board on 2026-12-03: ${SCOPE_V1}`);
    expect(await bot.sayText('board', '/isms approvals')).toContain('Nothing waits for the management body\'s approval.');
    expect(await bot.sayText('auditor', '/isms approvals --all')).toContain('approved by Bruno Board on 2026-12-03 (APR-0001)');

    // Deciding twice is refused, naming the first decision.
    const again = await bot.say('board', '/isms approve APR-0001');
    expect(again.outcome).toBe('refused');
    expect(toPlainText(again)).toContain('APR-0001 (the ISMS scope statement, version 1) was already approved by Bruno Board on 2026-12-03.');
  });

  it('only the management body decides; everyone else is refused and nothing is written', async () => {
    await bot.say('lead', `/isms scope statement ${SCOPE_V1}`, { now: NOW });
    const before = await bot.auditCount();
    for (const who of ['lead', 'owner', 'staff', 'auditor'] as const) {
      const r = await bot.say(who, '/isms approve APR-0001');
      expect(r.outcome).toBe('refused');
    }
    const proposing = await bot.say('staff', `/isms scope statement ${SCOPE_V2}`);
    expect(toPlainText(proposing)).toContain('Only an ISMS lead proposes a new scope statement.');
    expect((await bot.say('staff', '/isms approvals')).outcome).toBe('refused');
    expect(await bot.auditCount()).toBe(before);
    expect(await approval(bot, 'APR-0001')).toMatchObject({ status: 'pending', decidedBy: null });
  });

  it('a rejection needs its rationale: the button opens a form, and the lead is told why', async () => {
    await bot.say('lead', `/isms scope statement ${SCOPE_V1}`, { now: NOW });
    const before = await bot.auditCount();
    const asked = await bot.say('board', '/isms reject APR-0001');
    expect(asked.outcome).toBe('form');
    expect(await bot.auditCount()).toBe(before);
    const rejected = await bot.sayText('board', '/isms reject APR-0001 Austria is not in the business plan', { now: LATER });
    expect(rejected).toContain('Rejected: the ISMS scope statement, version 1 (APR-0001).');
    expect(await approval(bot, 'APR-0001')).toMatchObject({ status: 'rejected', rationale: 'Austria is not in the business plan' });
    expect((await bot.t.db.select().from(scopeStatements))[0].approvedBy).toBeNull();
    const told = (await bot.outboxFor('lead')).filter((m) => m.kind === 'approval').map((m) => toPlainText(m.reply as Reply));
    expect(told).toEqual(['⚠ Bruno Board rejected the ISMS scope statement, version 1 (APR-0001): Austria is not in the business plan']);
  });

  it('nobody approves their own proposal: a lead who sits on the body asks the other members', async () => {
    const [both] = await bot.t.db.insert(people).values({ name: 'Cora Chair', email: 'cora@test.example', roles: ['isms_lead', 'management_body'] }).returning();
    await bot.t.db.update(people).set({ roles: ['management_body'] }).where(eq(people.id, bot.ids.lead));
    const proposed = await bot.router.handle(`/isms scope statement ${SCOPE_V1}`, { actor: { id: both.id, name: both.name, email: both.email, roles: both.roles }, channel: 'test', now: NOW });
    expect(toPlainText(proposed)).toContain('Asked: Bruno Board, Lena Lead. Until then no approved scope statement is in force.');
    const before = await bot.auditCount();
    const own = await bot.router.handle('/isms approve APR-0001', { actor: { id: both.id, name: both.name, email: both.email, roles: both.roles }, channel: 'test', now: NOW });
    expect(own.outcome).toBe('refused');
    expect(toPlainText(own)).toContain('You asked for it, so another member of the management body decides APR-0001 (nobody approves their own proposal).');
    expect(toPlainText(own)).toContain('Ask Bruno Board or Lena Lead.');
    expect(await bot.auditCount()).toBe(before);
    // Their own list shows the request without buttons.
    const list = await bot.router.handle('/isms approvals', { actor: { id: both.id, name: both.name, email: both.email, roles: both.roles }, channel: 'test', now: NOW });
    expect(buttons(list)).toEqual([]);
    expect(toPlainText(list)).toContain('you had a part in it, so another member decides it');
    expect((await bot.say('board', '/isms approve APR-0001')).outcome).toBe('recorded');
  });

  it('a newer scope statement withdraws the request for the older one; the same text twice is refused', async () => {
    await bot.say('lead', `/isms scope statement ${SCOPE_V1}`, { now: NOW });
    const same = await bot.say('lead', `/isms scope statement ${SCOPE_V1}`, { now: NOW });
    expect(toPlainText(same)).toContain('Scope statement version 1 already says exactly this.');
    await bot.say('lead', `/isms scope statement ${SCOPE_V2}`, { now: LATER });
    expect(await approval(bot, 'APR-0001')).toMatchObject({ status: 'withdrawn', staleAt: LATER, staleReason: 'version 2 replaces it' });
    const withdrawn = await bot.say('board', '/isms approve APR-0001');
    expect(toPlainText(withdrawn)).toContain('APR-0001 was withdrawn: version 2 replaces it;');
    expect(toPlainText(await bot.say('board', '/isms approvals'))).toContain('APR-0002 — the ISMS scope statement, version 2');
  });

  it('a major scope change the lead accepted goes to the body for ratification', async () => {
    await bot.say('owner', '/isms scope add "Customer portal" the self-service portal', { now: NOW });
    const accepted = await bot.sayText('lead', '/isms triage accept SC-0001', { now: NOW });
    expect(accepted).toContain('The management body is asked to ratify it (APR-0001).');
    // The declarer and the lead who accepted it may not ratify it; the body does.
    expect(await bot.sayText('board', '/isms approve APR-0001', { now: LATER })).toContain('Approved: scope change SC-0001 (new system: Customer portal) (APR-0001).');
    const [change] = await bot.t.db.select().from(scopeChanges).where(eq(scopeChanges.ref, 'SC-0001'));
    expect(change.status).toBe('ratified');
    const events = await bot.t.db.select().from(auditEvents).where(eq(auditEvents.entityRef, 'SC-0001'));
    expect(events.map((e) => e.action)).toEqual(['propose', 'accept', 'ratify']);
    // An AI declaration is not a major scope change: it has its own decisions.
    await bot.say('staff', '/isms declare ai ChatGPT drafting --data internal', { now: NOW });
    expect(await bot.sayText('lead', '/isms triage accept SC-0002', { now: NOW })).not.toContain('ratify');
    await auditSeededRows(bot.t.db);
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
  });
});

describe('the statement of applicability goes to the body and goes stale when its decisions change', () => {
  let bot: TestBot;
  let control: typeof controls.$inferSelect;
  beforeEach(async () => {
    bot = await createTestBot();
    await loadReferenceData(bot.t.db);
    [control] = await bot.t.db.insert(controls).values({ code: 'CTL-ACC', title: 'Access control', applicable: true }).returning();
    const [req] = (await bot.t.db.select().from(frameworkRequirements).where(eq(frameworkRequirements.framework, 'NIS2')))
      .filter((r) => r.reference === '21.2.i');
    await bot.t.db.insert(controlMappings).values({ controlId: control.id, requirementId: req.id });
  });
  afterEach(async () => { await bot.destroy(); });

  const changeApplicability = async () => {
    await bot.t.db.update(controls).set({ applicable: false, justification: 'no such systems' }).where(eq(controls.id, control.id));
  };

  it('submitted, approved, shown with the approval; a changed decision makes it stale and it is submitted again', async () => {
    const submitted = await bot.sayText('lead', '/isms soa submit NIS2', { now: NOW });
    expect(submitted).toContain('is submitted to the management body (APR-0001).');
    expect(await bot.sayText('lead', '/isms soa submit NIS2', { now: NOW })).toContain('already waits for the management body (APR-0001)');
    await bot.say('board', '/isms approve APR-0001', { now: LATER });
    expect(await bot.sayText('board', '/isms soa NIS2', { now: LATER })).toContain('Management-body approval: approved by Bruno Board on 2026-12-03 (APR-0001)');
    expect(toPlainText(await bot.say('lead', '/isms soa submit NIS2', { now: LATER }))).toContain('has not changed since');

    await changeApplicability();
    expect(await bot.sayText('lead', '/isms soa NIS2', { now: LATER })).toContain('but it changed since: submit it again with "/isms soa submit NIS2"');
    const resubmitted = await bot.sayText('lead', '/isms soa submit NIS2', { now: LATER });
    expect(resubmitted).toContain('(APR-0002)');
    expect(await approval(bot, 'APR-0001')).toMatchObject({ status: 'approved', staleAt: LATER, staleReason: 'its applicability decisions changed' });
    const lead = (await bot.outboxFor('lead')).filter((m) => m.kind === 'approval').map((m) => toPlainText(m.reply as Reply));
    expect(lead).toContain('⚠ APR-0001 (the statement of applicability for NIS2 Directive (EU) 2022/2555, Art. 21) no longer covers it: '
      + 'its applicability decisions changed. Ask the management body again when it is ready.');
  });

  it('a statement that changed after it was asked is not decided: the request is renewed as it is now', async () => {
    await bot.say('lead', '/isms soa submit NIS2', { now: NOW });
    await changeApplicability();
    const before = await bot.auditCount();
    const r: Reply = await bot.say('board', '/isms approve APR-0001', { now: LATER });
    expect(toPlainText(r)).toContain('changed after APR-0001 was asked, so APR-0001 no longer describes it and nothing was decided. It is asked again as it is now: APR-0002');
    expect(await approval(bot, 'APR-0001')).toMatchObject({ status: 'withdrawn', decidedBy: null });
    expect(await approval(bot, 'APR-0002')).toMatchObject({ status: 'pending', requestedBy: bot.ids.lead });
    expect(await bot.auditCount()).toBe(before + 2);
    expect(await bot.sayText('board', '/isms approve APR-0002', { now: LATER })).toContain('Approved');
  });
});
