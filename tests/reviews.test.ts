import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asc, eq } from 'drizzle-orm';
import {
  auditEvents, auditFindings, managementReviews, outbox, people, poamItems, reviewDecisions,
} from '../src/db/schema/index.js';
import { findForm, toPlainText, type Block, type Reply } from '../src/core/reply.js';
import { deliverDue } from '../src/core/delivery.js';
import { createTestBot, FakeChatPort, type CastKey, type TestBot } from './helpers/bot.js';
import { loadReferenceData } from '../src/refdata/index.js';

const NOW = new Date('2026-10-01T10:00:00Z');
const at = { now: NOW };

const listIn = (r: Reply) => r.blocks.find((b): b is Extract<Block, { type: 'list' }> => b.type === 'list')!;
const itemFor = (r: Reply, ref: string) => listIn(r).items.find((i) => i.title.startsWith(`${ref} `))!;
const field = (r: Reply, ref: string, label: string) => itemFor(r, ref).fields?.find((f) => f.label === label)?.value;
const buttons = (r: Reply) => listIn(r).items.flatMap((i) => i.buttons ?? []).map((b) => b.command);

const findings = (bot: TestBot) => bot.t.db.select().from(auditFindings).orderBy(asc(auditFindings.id));
const finding = async (bot: TestBot, ref: string) => (await bot.t.db.select().from(auditFindings).where(eq(auditFindings.ref, ref)))[0];
const items = (bot: TestBot) => bot.t.db.select().from(poamItems).orderBy(asc(poamItems.id));
const reviews = (bot: TestBot) => bot.t.db.select().from(managementReviews).orderBy(asc(managementReviews.id));
const decisions = (bot: TestBot) => bot.t.db.select().from(reviewDecisions).orderBy(asc(reviewDecisions.id));
const allOutbox = (bot: TestBot) => bot.t.db.select().from(outbox);
/** The audit events written after the given count, as "entity ref action". */
const auditSince = async (bot: TestBot, before: number) =>
  (await bot.t.db.select().from(auditEvents).orderBy(asc(auditEvents.seq))).slice(before).map((e) => `${e.entity} ${e.entityRef} ${e.action}`);

/** Runs a line and checks it was refused with the message, writing nothing to any of these tables. */
async function refusedWithNothingWritten(bot: TestBot, who: CastKey, line: string, message: string) {
  const before = {
    audit: await bot.auditCount(), findings: (await findings(bot)).length, items: (await items(bot)).length,
    reviews: (await reviews(bot)).length, decisions: (await decisions(bot)).length, outbox: (await allOutbox(bot)).length,
  };
  const answer = await bot.sayText(who, line, at);
  expect(answer, line).toContain(message);
  expect(answer, line).toContain('Nothing was recorded');
  expect({
    audit: await bot.auditCount(), findings: (await findings(bot)).length, items: (await items(bot)).length,
    reviews: (await reviews(bot)).length, decisions: (await decisions(bot)).length, outbox: (await allOutbox(bot)).length,
  }, line).toEqual(before);
}

describe('/isms finding add', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    await loadReferenceData(bot.t.db); // findings name clauses and controls of the loaded framework
  });
  afterEach(async () => { await bot.destroy(); });
  /** The findings recorded before, in order: AF-0001 (an observation), AF-0002 (with POAM-0001), AF-0003 (with POAM-0002). */
  const EARLIER_FINDINGS: [CastKey, string][] = [
    ['auditor', '/isms finding add observation a.5.15 "Access reviews are documented in three different ways" --root-cause "no template"'],
    ['lead', '/isms finding add Minor-NC 9.2 "No internal audit programme for 2026" --owner olga@test.example --due 2026-12-31'],
    ['auditor', '/isms finding add major_nc A.8.8 "Critical patches applied after 90 days" --owner sam@test.example --due 2026-11-15'],
  ];
  const recordEarlierFindings = async (count: number) => {
    for (const [who, line] of EARLIER_FINDINGS.slice(0, count)) await bot.say(who, line, at);
  };

  it('records an observation with its clause and root cause, raised by the auditor, with no POA&M item', async () => {
    const audit = await bot.auditCount();
    const answer = await bot.sayText('auditor', '/isms finding add observation a.5.15 "Access reviews are documented in three different ways" --root-cause "no template"', at);
    expect(answer).toContain('✔ Recorded AF-0001: observation against A.5.15.');
    expect(answer).toContain('Root cause: no template');
    expect(await findings(bot)).toMatchObject([{
      ref: 'AF-0001', type: 'observation', clause: 'A.5.15', description: 'Access reviews are documented in three different ways',
      rootCause: 'no template', status: 'open', raisedBy: bot.ids.auditor, correctiveAction: null,
    }]);
    expect(await items(bot)).toEqual([]);
    expect(await auditSince(bot, audit)).toEqual(['audit_finding AF-0001 raise']);
    expect(await allOutbox(bot)).toEqual([]);
  });

  it('opens a linked POA&M item for a nonconformity, and its owner is told and sees it in "/isms poam"', async () => {
    await recordEarlierFindings(1);
    const audit = await bot.auditCount();
    const answer = await bot.sayText('lead',
      '/isms finding add Minor-NC 9.2 "No internal audit programme for 2026" --owner olga@test.example --due 2026-12-31', at);
    expect(answer).toContain('✔ Recorded AF-0002: minor nonconformity against 9.2. Its corrective action is POAM-0001, owned by Olga Owner, due 2026-12-31. Olga Owner has been told.');
    expect(await finding(bot, 'AF-0002')).toMatchObject({ type: 'minor_nc', clause: '9.2', status: 'open', raisedBy: bot.ids.lead, rootCause: null });
    expect(await items(bot)).toMatchObject([{
      ref: 'POAM-0001', source: 'audit_finding', sourceRef: 'AF-0002', ownerId: bot.ids.owner, dueOn: '2026-12-31', status: 'open',
      weakness: 'Minor nonconformity against 9.2 (AF-0002): No internal audit programme for 2026',
    }]);
    expect(await auditSince(bot, audit)).toEqual(['audit_finding AF-0002 raise', 'poam_item POAM-0001 open']);

    const [message] = await bot.outboxFor('owner');
    expect(message).toMatchObject({ kind: 'poam_item', idempotencyKey: `audit-finding:AF-0002:poam:POAM-0001:owner:${bot.ids.owner}` });
    expect((await allOutbox(bot)).length).toBe(1);
    const port = new FakeChatPort();
    await deliverDue(bot.t.db, [port]);
    const [received] = port.textsFor('olga@test.example');
    expect(received).toContain('Lena Lead recorded a minor nonconformity against 9.2 (AF-0002). You own its corrective action, POAM-0001, due 2026-12-31.');
    expect(received).toContain('[Mark completed] /isms poam done POAM-0001');
    expect(port.sent[0].message.about).toBe('POAM-0001');
    expect(await bot.sayText('owner', '/isms poam', at)).toContain('POAM-0001 — Minor nonconformity against 9.2 (AF-0002): No internal audit programme for 2026 — due 2026-12-31 · open');
  });

  it('names a clause that does not look like an ISO clause or Annex A control, and writes nothing', async () => {
    await refusedWithNothingWritten(bot, 'auditor', '/isms finding add observation "section nine" "Something"',
      'clause: must be an ISO 27001 clause such as 9.2 or an Annex A control such as A.5.15, not "section nine"');
    await refusedWithNothingWritten(bot, 'auditor', '/isms finding add observation 2026-10-01 "Something"', 'clause: must be an ISO 27001 clause');
  });

  it('names a finding type it does not know, and a missing description', async () => {
    await refusedWithNothingWritten(bot, 'auditor', '/isms finding add critical 9.2 "Something"',
      'type: must be one of major_nc, minor_nc, observation, ofi');
    await refusedWithNothingWritten(bot, 'auditor', '/isms finding add ofi 9.2', 'description: describe what the auditor found');
  });

  it('asks a nonconformity for its owner and a due date in the future, and checks the owner is in the register', async () => {
    await refusedWithNothingWritten(bot, 'lead', '/isms finding add major_nc 8.1 "No change control"',
      'A major nonconformity opens a POA&M item for its corrective action, so it needs --owner <email, name or @handle> and --due YYYY-MM-DD.');
    // The hint's example names the asker, someone in the register, and a date after today.
    await refusedWithNothingWritten(bot, 'lead', '/isms finding add major_nc 8.1 "No change control"',
      'Name who owns the corrective action and when it is due, e.g. --owner lena@test.example --due 2027-01-01.');
    await refusedWithNothingWritten(bot, 'lead', '/isms finding add major_nc 8.1 "No change control" --owner olga@test.example',
      'so it needs --due YYYY-MM-DD.');
    await refusedWithNothingWritten(bot, 'lead', '/isms finding add major_nc 8.1 "No change control" --owner olga@test.example --due 2026-10-01',
      'due: 2026-10-01 is not in the future (today is 2026-10-01); give a later date.');
    await refusedWithNothingWritten(bot, 'lead', '/isms finding add major_nc 8.1 "No change control" --owner olga@test.example --due 2026-02-30',
      'due: must be a date written YYYY-MM-DD');
    await refusedWithNothingWritten(bot, 'lead', '/isms finding add major_nc 8.1 "No change control" --owner nobody@test.example --due 2026-12-01',
      'owner: nobody in the register matches "nobody@test.example".');
    await refusedWithNothingWritten(bot, 'lead', '/isms finding add major_nc 8.1 "No change control" --owner Oleg --due 2026-12-01',
      'owner: nobody in the register matches "Oleg".');
    await refusedWithNothingWritten(bot, 'lead', '/isms finding add ofi 8.1 "Could automate" --owner olga@test.example',
      'An opportunity for improvement does not open a POA&M item, so it takes no --owner or --due.');
  });

  it('refuses staff, owners and the management body, writing nothing', async () => {
    for (const who of ['staff', 'owner', 'board'] as const) {
      await refusedWithNothingWritten(bot, who, '/isms finding add observation 9.2 "Something"', 'Only the ISMS lead or an auditor may use "/isms finding add"');
    }
  });

  it('asks for everything in a form when given nothing, and the submitted form records the finding', async () => {
    await recordEarlierFindings(2);
    await bot.say('lead', '/isms finding add major_nc 8.1 "No change control" --owner nobody@test.example --due 2026-12-01', at); // refused
    const form = findForm(await bot.say('auditor', '/isms finding add', at))!;
    expect(form.command).toBe('finding add');
    expect(form.fields.map((f) => [f.name, f.required ?? false])).toEqual([
      ['type', true], ['clause', true], ['description', true], ['root-cause', false], ['owner', false], ['due', false],
    ]);
    const answer = toPlainText(await bot.router.submit('finding add', {
      type: 'major_nc', clause: 'A.8.8', description: 'Critical patches applied after 90 days', 'root-cause': 'no patch window',
      owner: 'sam@test.example', due: '2026-11-15',
    }, { actor: await bot.actor('auditor'), channel: 'test', now: NOW }));
    // The refusals above took no reference: the numbering has no gaps.
    expect(answer).toContain('Recorded AF-0003: major nonconformity against A.8.8. Its corrective action is POAM-0002, owned by Sam Staff, due 2026-11-15.');
    expect(await finding(bot, 'AF-0003')).toMatchObject({ rootCause: 'no patch window', raisedBy: bot.ids.auditor });
    expect((await bot.outboxFor('staff')).length).toBe(1);
  });

  it('records a repeated delivery once and answers it with the first reply', async () => {
    await recordEarlierFindings(3);
    const audit = await bot.auditCount();
    const line = '/isms finding add minor_nc 7.2 "Two admins lack security training" --owner olga@test.example --due 2026-12-01';
    const first = await bot.say('lead', line, { ...at, idempotencyKey: 'slack-event-41' });
    const again = await bot.say('lead', line, { ...at, idempotencyKey: 'slack-event-41' });
    expect(again).toEqual(first);
    expect(toPlainText(first)).toContain('Recorded AF-0004');
    expect((await findings(bot)).filter((f) => f.clause === '7.2')).toHaveLength(1);
    expect((await items(bot)).filter((i) => i.sourceRef === 'AF-0004')).toHaveLength(1);
    expect((await bot.outboxFor('owner')).filter((m) => m.idempotencyKey.includes('AF-0004'))).toHaveLength(1);
    expect(await bot.auditCount()).toBe(audit + 2);
  });
});

describe('/isms findings and /isms finding close', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    await loadReferenceData(bot.t.db);
    await bot.say('auditor', '/isms finding add minor_nc 9.2 "No internal audit programme" --owner olga@test.example --due 2026-12-31', at);
    await bot.say('auditor', '/isms finding add ofi A.5.15 "Use the HR leaver feed for access reviews"', at);
  });
  afterEach(async () => { await bot.destroy(); });
  const closeTheNonconformity = async () => {
    await bot.say('owner', '/isms poam done POAM-0001 "audit programme approved"', at);
    await bot.say('lead', '/isms poam verify POAM-0001', at);
    await bot.say('lead', '/isms finding close af-1 "Audit programme for 2026 approved and the first audit held"', at);
  };
  const closeTheOfi = () => bot.say('lead', '/isms finding close AF-0002 "Leaver feed wired into the quarterly review"', at);

  it('lists open findings with type, clause, status and the linked POA&M item with its status', async () => {
    for (const who of ['lead', 'auditor', 'board'] as const) {
      const answer = await bot.say(who, '/isms findings', at);
      expect(toPlainText(answer), who).toContain('Open audit findings: 2.');
      expect(itemFor(answer, 'AF-0001')).toMatchObject({ title: 'AF-0001 Minor nonconformity — 9.2', detail: 'No internal audit programme' });
      expect(field(answer, 'AF-0001', 'Type')).toBe('minor nonconformity');
      expect(field(answer, 'AF-0001', 'Clause')).toBe('9.2');
      expect(field(answer, 'AF-0001', 'Status')).toBe('open');
      expect(field(answer, 'AF-0001', 'POA&M item')).toBe('POAM-0001 — open, due 2026-12-31');
      expect(field(answer, 'AF-0001', 'Raised by')).toBe('Ada Auditor on 2026-10-01');
      expect(field(answer, 'AF-0002', 'POA&M item')).toBe('not needed');
    }
    // The lead and auditors close, and only what can be closed now.
    expect(buttons(await bot.say('lead', '/isms findings', at))).toEqual(['finding close AF-0002']);
    expect(buttons(await bot.say('auditor', '/isms findings', at))).toEqual(['finding close AF-0002']);
    expect(buttons(await bot.say('board', '/isms findings', at))).toEqual([]);
  });

  it('refuses the list to staff and owners', async () => {
    for (const who of ['staff', 'owner'] as const) {
      expect(await bot.sayText(who, '/isms findings', at)).toContain('Only the ISMS lead, an auditor or the management body may use "/isms findings"');
    }
  });

  it('refuses to close a nonconformity while its POA&M item is open, naming the item, and writes nothing', async () => {
    await refusedWithNothingWritten(bot, 'lead', '/isms finding close AF-0001 "Audit programme approved"',
      'AF-0001 is a minor nonconformity and its POA&M item POAM-0001 is still open (owner Olga Owner, due 2026-12-31); it can be closed once POAM-0001 is completed.');
    expect(await bot.sayText('lead', '/isms finding close AF-0001 "Audit programme approved"', at))
      .toContain('Olga Owner marks it completed with "/isms poam done POAM-0001".');
    // The Close button's bare reference is refused the same way, before asking for the corrective action.
    expect(findForm(await bot.say('lead', '/isms finding close AF-0001', at))).toBeUndefined();
    expect((await finding(bot, 'AF-0001')).status).toBe('open');
  });

  it('closes the nonconformity once the owner completes its POA&M item and the lead verifies it', async () => {
    expect(await bot.sayText('owner', '/isms poam done POAM-0001 "audit programme approved"', at)).toContain('Marked POAM-0001');
    expect(await bot.sayText('lead', '/isms finding close AF-0001 "Audit programme approved"', at))
      .toContain('POAM-0001 is still completed, awaiting verification (owner Olga Owner, due 2026-12-31)');
    expect(await bot.sayText('lead', '/isms poam verify POAM-0001', at)).toContain('Verified POAM-0001');
    expect(field(await bot.say('lead', '/isms findings', at), 'AF-0001', 'POA&M item')).toBe('POAM-0001 — completed, due 2026-12-31');
    const audit = await bot.auditCount();
    const answer = await bot.sayText('lead', '/isms finding close af-1 "Audit programme for 2026 approved and the first audit held"', at);
    expect(answer).toContain('✔ Closed AF-0001 (minor nonconformity against 9.2).');
    expect(await finding(bot, 'AF-0001')).toMatchObject({ status: 'closed', correctiveAction: 'Audit programme for 2026 approved and the first audit held' });
    expect(await auditSince(bot, audit)).toEqual(['audit_finding AF-0001 close']);
    const [event] = (await bot.t.db.select().from(auditEvents).orderBy(asc(auditEvents.seq))).slice(audit);
    expect(event.before).toMatchObject({ status: 'open' });
    expect(event.after).toMatchObject({ status: 'closed' });

    const open = await bot.sayText('auditor', '/isms findings', at);
    expect(open).toContain('Open audit findings: 1.');
    expect(open).not.toContain('AF-0001');
    const all = await bot.say('auditor', '/isms findings --all', at);
    expect(field(all, 'AF-0001', 'Status')).toBe('closed');
    expect(field(all, 'AF-0001', 'Corrective action')).toBe('Audit programme for 2026 approved and the first audit held');
  });

  it('with every finding closed, says so and tells those who record findings how, not the management body', async () => {
    await closeTheNonconformity();
    await closeTheOfi();
    const lead = await bot.sayText('lead', '/isms findings', at);
    expect(lead).toContain('There are no open audit findings.');
    expect(lead).toContain('An audit\'s findings are recorded with "/isms finding add".');
    expect(await bot.sayText('board', '/isms findings', at)).not.toContain('finding add');
  });

  it('asks for the corrective action when the Close button gives only the reference, and closes an OFI at once', async () => {
    const form = findForm(await bot.say('lead', '/isms finding close AF-0002', at))!;
    expect(form).toMatchObject({ command: 'finding close', hidden: { finding: 'AF-0002' } });
    expect(form.fields.map((f) => f.name)).toEqual(['action']);
    const answer = toPlainText(await bot.router.submit('finding close', { ...form.hidden, action: 'Leaver feed wired into the quarterly review' },
      { actor: await bot.actor('lead'), channel: 'test', now: NOW }));
    expect(answer).toContain('Closed AF-0002 (opportunity for improvement against A.5.15).');
    expect((await finding(bot, 'AF-0002')).status).toBe('closed');
  });

  it('offers the open findings to choose in its form, oldest first, and asks for the reference as text past a hundred', async () => {
    const findingField = async () => findForm(await bot.say('auditor', '/isms finding close', at))!.fields.find((f) => f.name === 'finding')!;
    expect((await findingField()).options).toEqual([
      { value: 'AF-0001', label: 'AF-0001 — minor nonconformity, 9.2' }, { value: 'AF-0002', label: 'AF-0002 — opportunity for improvement, A.5.15' },
    ]);
    const more = (from: number, n: number, status: 'open' | 'closed') => bot.t.db.insert(auditFindings).values(Array.from({ length: n }, (_, i) => ({
      ref: `AF-${String(from + i).padStart(4, '0')}`, type: 'observation' as const, clause: '6.1', description: `Observation ${from + i}`, status, raisedBy: bot.ids.auditor,
    })));
    await more(100, 98, 'open');
    await more(300, 5, 'closed');
    const hundred = await findingField();
    expect(hundred.type).toBe('select');
    expect(hundred.options).toHaveLength(100);
    expect(hundred.options?.at(-1)?.value).toBe('AF-0197');
    await more(400, 1, 'open');
    const typed = await findingField();
    expect(typed.type).toBe('text');
    expect(typed.options).toBeUndefined();
    expect(typed.hint).toBe('The finding to close, e.g. AF-0001 (more than 100 to choose from: type it)');
    // Typed, it closes as chosen.
    expect(await bot.sayText('auditor', '/isms finding close AF-0400 "Criteria dated"', at)).toContain('Closed AF-0400');
  });

  it('names unknown, malformed and already closed references, and refuses everyone but the ISMS lead and auditors', async () => {
    await closeTheNonconformity();
    await refusedWithNothingWritten(bot, 'lead', '/isms finding close AF-0099 "done"', 'AF-0099 does not exist.');
    await refusedWithNothingWritten(bot, 'lead', '/isms finding close POAM-0001 "done"', 'finding: must be a reference like AF-0001, not "POAM-0001"');
    await refusedWithNothingWritten(bot, 'lead', '/isms finding close AF-0001 "again"', 'AF-0001 was already closed');
    await bot.say('auditor', '/isms finding add observation 6.1 "Risk criteria undated"', at);
    for (const who of ['owner', 'staff'] as const) {
      await refusedWithNothingWritten(bot, who, '/isms finding close AF-0003 "fixed"', 'Only the ISMS lead, an auditor or the management body may use "/isms finding close"');
    }
    await refusedWithNothingWritten(bot, 'board', '/isms finding close AF-0003 "fixed"', 'AF-0003 is for an ISMS lead to decide');
  });

  it('pages the list ten at a time', async () => {
    await closeTheNonconformity();
    await closeTheOfi();
    await bot.say('auditor', '/isms finding add observation 6.1 "Risk criteria undated"', at); // AF-0003, open
    for (let i = 1; i <= 10; i++) await bot.say('auditor', `/isms finding add ofi A.8.${i} "Improvement ${i}"`, at);
    const first = await bot.say('lead', '/isms findings', at);
    expect(listIn(first).items).toHaveLength(10);
    expect(listIn(first).page).toMatchObject({ number: 1, total: 2, next: 'findings --page 2' });
    const second = await bot.say('lead', '/isms findings --page 2', at);
    expect(listIn(second).items.map((i) => i.title.split(' ')[0])).toEqual(['AF-0013']);
    expect(listIn(await bot.say('lead', '/isms findings --all --page 2', at)).page).toMatchObject({ previous: 'findings --all --page 1' });
    expect(await bot.sayText('lead', '/isms findings --page 3', at)).toContain('there is no page 3');
  });
});

describe('management reviews', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });
  const ATTENDED = '--attendees "bruno@test.example, lena@test.example" --chair bruno@test.example';
  const recordFirstReview = () => bot.say('lead', `/isms review record 2026-09-15 "Internal audit results, risk register status, ISMS objectives" ${ATTENDED}`, at); // MR-0001
  const recordSecondReview = () => bot.say('lead', `/isms review record 2026-09-30 "Follow-up on MFA funding" ${ATTENDED}`, at); // MR-0002
  const decideMfaFunding = () => bot.say('lead', '/isms review decide MR-0001 olga@test.example 2026-12-31 "Fund MFA for all remote access"', at);

  it('records a review with the attendees named and its chair, as they are that day', async () => {
    const audit = await bot.auditCount();
    const answer = await bot.sayText('lead', `/isms review record 2026-09-15 "Internal audit results, risk register status, ISMS objectives" ${ATTENDED}`, at);
    expect(answer).toContain('✔ Recorded the management review held on 2026-09-15 as MR-0001.');
    expect(answer).toContain('Attendees: Bruno Board (management body); Lena Lead (ISMS lead, staff)');
    expect(answer).toContain('Chair: Bruno Board');
    expect(await reviews(bot)).toMatchObject([{
      ref: 'MR-0001', heldOn: '2026-09-15', inputs: 'Internal audit results, risk register status, ISMS objectives', chairId: bot.ids.board, status: 'open',
      attendees: [
        { personId: bot.ids.board, name: 'Bruno Board', roles: ['management_body'] },
        { personId: bot.ids.lead, name: 'Lena Lead', roles: ['isms_lead', 'staff'] },
      ],
    }]);
    expect(await auditSince(bot, audit)).toEqual(['management_review MR-0001 record']);
  });

  it('adds a decision with an owner and due date, and the owner is told', async () => {
    await recordFirstReview();
    const audit = await bot.auditCount();
    const answer = await bot.sayText('lead', '/isms review decide MR-0001 olga@test.example 2026-12-31 "Fund MFA for all remote access"', at);
    expect(answer).toContain('✔ Added decision 1 to MR-0001, tracked as POAM-0001: owned by Olga Owner, due 2026-12-31. Olga Owner has been told.');
    expect(await decisions(bot)).toMatchObject([{ decision: 'Fund MFA for all remote access', ownerId: bot.ids.owner, dueOn: '2026-12-31', status: 'open' }]);
    expect(await items(bot)).toMatchObject([{ ref: 'POAM-0001', source: 'management_review', sourceRef: 'MR-0001/1', ownerId: bot.ids.owner, dueOn: '2026-12-31' }]);
    expect(await auditSince(bot, audit)).toEqual(['review_decision MR-0001/1 decide', 'poam_item POAM-0001 open']);
    const messages = await bot.outboxFor('owner');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ kind: 'review_decision', idempotencyKey: `review-decision:MR-0001/1:owner:${bot.ids.owner}` });
    expect(toPlainText(messages[0].reply as Reply)).toContain('The management review MR-0001 of 2026-09-15 decided something you own, due 2026-12-31:');
    expect(toPlainText(messages[0].reply as Reply)).toContain('Decision 1: Fund MFA for all remote access');
  });

  it('lists reviews with their decisions for the lead, the management body and auditors', async () => {
    await recordFirstReview();
    await decideMfaFunding();
    for (const who of ['lead', 'board', 'auditor'] as const) {
      const answer = await bot.say(who, '/isms reviews', at);
      expect(itemFor(answer, 'MR-0001').title).toBe('MR-0001 — held 2026-09-15');
      expect(field(answer, 'MR-0001', 'Inputs')).toBe('Internal audit results, risk register status, ISMS objectives');
      expect(field(answer, 'MR-0001', 'Decision 1')).toBe('Fund MFA for all remote access — owner Olga Owner, due 2026-12-31, open (POAM-0001)');
      expect(field(answer, 'MR-0001', 'Chair')).toBe('Bruno Board');
    }
    expect(buttons(await bot.say('lead', '/isms reviews', at))).toEqual(['review decide MR-0001']);
    // The management body decides too; the chair closes.
    expect(buttons(await bot.say('board', '/isms reviews', at))).toEqual(['review decide MR-0001', 'review close MR-0001']);
    expect(buttons(await bot.say('auditor', '/isms reviews', at))).toEqual([]);
    for (const who of ['staff', 'owner'] as const) {
      expect(await bot.sayText(who, '/isms reviews', at)).toContain('Only the ISMS lead, the management body or an auditor may use "/isms reviews"');
    }
  });

  it('keeps the attendees\' names and roles as they were after a person is renamed and their roles change', async () => {
    await recordFirstReview();
    await decideMfaFunding();
    await bot.t.db.update(people).set({ name: 'Bruno Brandt', roles: ['staff'] }).where(eq(people.id, bot.ids.board));
    await bot.t.db.update(people).set({ roles: ['isms_lead', 'management_body'] }).where(eq(people.id, bot.ids.lead));
    await bot.t.db.insert(people).values({ name: 'Mia Manager', email: 'mia@test.example', roles: ['management_body'] });

    expect(field(await bot.say('lead', '/isms reviews', at), 'MR-0001', 'Attendees'))
      .toBe('Bruno Board (management body); Lena Lead (ISMS lead, staff)');
    expect((await reviews(bot))[0].attendees.map((a) => a.name)).toEqual(['Bruno Board', 'Lena Lead']);

    // A review recorded now copies the people as they are now.
    await bot.say('lead', '/isms review record 2026-09-30 "Follow-up on MFA funding" --attendees "lena@test.example, Mia Manager" --chair mia@test.example', at);
    const answer = await bot.say('lead', '/isms reviews', at);
    expect(listIn(answer).items.map((i) => i.title.split(' ')[0])).toEqual(['MR-0002', 'MR-0001']);
    expect(field(answer, 'MR-0002', 'Attendees')).toBe('Lena Lead (ISMS lead, management body); Mia Manager (management body)');
    expect(field(answer, 'MR-0001', 'Attendees')).toBe('Bruno Board (management body); Lena Lead (ISMS lead, staff)');
  });

  it('names a bad or future date, an unknown review, a past due date and an unknown owner, writing nothing', async () => {
    await recordFirstReview();
    await refusedWithNothingWritten(bot, 'lead', '/isms review record 2026-09-31 "inputs"', 'date: must be a date written YYYY-MM-DD');
    await refusedWithNothingWritten(bot, 'lead', '/isms review record 2026-10-02 "inputs"',
      'date: 2026-10-02 is in the future (today is 2026-10-01); record a management review once it has been held.');
    await refusedWithNothingWritten(bot, 'lead', '/isms review record 2026-09-15', 'attendees: name who actually attended');
    await refusedWithNothingWritten(bot, 'lead', `/isms review record 2026-09-15 ${ATTENDED}`, 'inputs: list what the review looked at');
    await refusedWithNothingWritten(bot, 'lead', '/isms review decide MR-0042 olga@test.example 2026-12-31 "x"', 'MR-0042 does not exist.');
    await refusedWithNothingWritten(bot, 'lead', '/isms review decide AF-0001 olga@test.example 2026-12-31 "x"', 'review: must be a reference like MR-0001, not "AF-0001"');
    await refusedWithNothingWritten(bot, 'lead', '/isms review decide MR-0001 olga@test.example 2026-09-01 "x"', 'due: 2026-09-01 is not in the future');
    await refusedWithNothingWritten(bot, 'lead', '/isms review decide MR-0001 olga@test.example 31.12.2026 "x"', 'due: must be a date written YYYY-MM-DD');
    await refusedWithNothingWritten(bot, 'lead', '/isms review decide MR-0001 nobody@test.example 2026-12-31 "x"', 'owner: nobody in the register matches "nobody@test.example".');
    await refusedWithNothingWritten(bot, 'lead', '/isms review decide MR-0001 olga@test.example 2026-12-31', 'decision: say what was decided after the due date.');
  });

  it('refuses recording to everyone but the ISMS lead, and deciding to everyone but the lead and the management body, writing nothing', async () => {
    await recordFirstReview();
    for (const who of ['board', 'auditor', 'owner', 'staff'] as const) {
      await refusedWithNothingWritten(bot, who, `/isms review record 2026-09-20 "inputs" ${ATTENDED}`, 'Only the ISMS lead may use "/isms review record"');
    }
    for (const who of ['auditor', 'owner', 'staff'] as const) {
      await refusedWithNothingWritten(bot, who, '/isms review decide MR-0001 olga@test.example 2026-12-31 "x"', 'Only the ISMS lead or the management body may use "/isms review decide"');
    }
  });

  it('asks for a review in a form, and for a decision in a form carrying the review from the "Add a decision" button', async () => {
    await recordFirstReview();
    await recordSecondReview();
    const record = findForm(await bot.say('lead', '/isms review record', at))!;
    expect(record.command).toBe('review record');
    expect(record.fields.map((f) => f.name)).toEqual(['date', 'inputs', 'attendees', 'chair', 'pack']);
    const blank = findForm(await bot.say('lead', '/isms review decide', at))!;
    expect(blank.fields.map((f) => f.name)).toEqual(['review', 'owner', 'due', 'decision']);
    expect(blank.fields[0].options?.map((o) => o.value)).toEqual(['MR-0002', 'MR-0001']);

    const form = findForm(await bot.say('lead', '/isms review decide MR-0002', at))!;
    expect(form).toMatchObject({ command: 'review decide', hidden: { review: 'MR-0002' } });
    expect(form.fields.map((f) => f.name)).toEqual(['owner', 'due', 'decision']);
    const answer = toPlainText(await bot.router.submit('review decide',
      { ...form.hidden, owner: 'lena@test.example', due: '2026-11-30', decision: 'Report MFA rollout to the board monthly' },
      { actor: await bot.actor('lead'), channel: 'test', now: NOW }));
    // The lead owns it: nobody else to tell.
    expect(answer).toContain('Added decision 1 to MR-0002, tracked as POAM-0001: owned by Lena Lead, due 2026-11-30.');
    expect(answer).not.toContain('has been told');
    expect(await bot.outboxFor('lead')).toEqual([]);
  });

  it('records a repeated delivery of a decision once', async () => {
    await recordFirstReview();
    await recordSecondReview();
    const audit = await bot.auditCount();
    const line = '/isms review decide MR-0002 sam@test.example 2026-12-15 "Run a phishing exercise"';
    const first = await bot.say('lead', line, { ...at, idempotencyKey: 'teams-activity-7' });
    const again = await bot.say('lead', line, { ...at, idempotencyKey: 'teams-activity-7' });
    expect(again).toEqual(first);
    expect((await decisions(bot)).filter((d) => d.decision === 'Run a phishing exercise')).toHaveLength(1);
    expect(await bot.outboxFor('staff')).toHaveLength(1);
    expect(await bot.auditCount()).toBe(audit + 2);
  });
});

describe('a management review without a management body', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    await bot.t.db.update(people).set({ roles: ['staff'] }).where(eq(people.id, bot.ids.board));
  });
  afterEach(async () => { await bot.destroy(); });

  it('is refused: top management holds the review', async () => {
    await refusedWithNothingWritten(bot, 'lead', '/isms review record 2026-09-15 "inputs"',
      'No one in the register has the management body role, and a management review is held by top management (ISO 27001 9.3).');
  });
});
