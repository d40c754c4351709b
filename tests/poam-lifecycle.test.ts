import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { and, eq, like, sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import {
  auditEvents, nudgeLog, people, outbox, poamClosureFileChunks, poamClosures, poamExtensions, poamItems, scopeChanges,
} from '../src/db/schema/index.js';
import { attachmentFromBuffer } from '../src/core/attachments.js';
import { findForm, toPlainText, type Block, type Reply } from '../src/core/reply.js';
import { dailyNudges, defaultNudgeSettings } from '../src/scheduler/index.js';
import { loadReferenceData } from '../src/refdata/index.js';
import { findArtefact } from '../src/domain/exports/artefacts.js';
import { verifyRegister } from '../src/core/verify.js';
import type { Attachment } from '../src/core/router.js';
import { createTestBot, type CastKey, type TestBot } from './helpers/bot.js';
import { behindTheTriggers } from './helpers/tamper.js';
import { addAiTool, addControl, auditSeededRows } from './helpers/fixtures.js';

const NOW = new Date('2026-03-10T09:00:00Z');
const at = { now: NOW };
const settings = defaultNudgeSettings({ timezone: 'Europe/Berlin' });
/** 06:00 in Berlin on that day: when the daily run fires by default. */
const morning = (day: string) => DateTime.fromISO(`${day}T06:00`, { zone: 'Europe/Berlin' }).toJSDate();

const listIn = (r: Reply) => r.blocks.find((b): b is Extract<Block, { type: 'list' }> => b.type === 'list')!;
const buttonCommands = (r: Reply) => r.blocks.flatMap((b) => (b.type === 'list' ? b.items.flatMap((i) => i.buttons ?? []) : b.type === 'actions' ? b.buttons : []))
  .map((btn) => btn.command);

/** A refused command: the answer says why, and nothing at all was written. */
async function refusedWithNothingWritten(bot: TestBot, who: CastKey, line: string, reason: string, opts: { now?: Date; attachments?: Attachment[] } = at) {
  const audit = await bot.auditCount();
  const messages = (await bot.t.db.select().from(outbox)).length;
  expect(await bot.sayText(who, line, opts)).toContain(reason);
  expect(await bot.auditCount()).toBe(audit);
  expect((await bot.t.db.select().from(outbox)).length).toBe(messages);
}

describe('POA&M closure: done with evidence, verified or reopened', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    // Opened as a finding opens one: the original due date is recorded without being named.
    await bot.t.db.insert(poamItems).values([
      { ref: 'POAM-0001', weakness: 'No MFA on the VPN', source: 'audit_finding', sourceRef: 'AF-0001', ownerId: bot.ids.owner, dueOn: '2026-04-30' },
      { ref: 'POAM-0002', weakness: 'Admin accounts shared', source: 'risk', ownerId: bot.ids.lead, dueOn: '2026-04-30' },
    ]);
  });
  afterEach(async () => { await bot.destroy(); });

  const item = async (ref: string) => (await bot.t.db.select().from(poamItems).where(eq(poamItems.ref, ref)))[0];
  const closureMessages = async (who: CastKey) => (await bot.outboxFor(who)).filter((m) => m.kind === 'poam_closure');

  it('records the original due date when an item is opened', async () => {
    expect(await item('POAM-0001')).toMatchObject({ dueOn: '2026-04-30', originalDueOn: '2026-04-30' });
  });

  it('takes closure evidence from the owner (text and file, hashed like evidence), asks the lead to verify, and stops escalation', async () => {
    await refusedWithNothingWritten(bot, 'staff', '/isms poam done POAM-0001 patched', 'Only the owner of POAM-0001 (Olga Owner) or the ISMS lead may complete it');
    await refusedWithNothingWritten(bot, 'owner', '/isms poam done POAM-0001 MFA on', 'Attach one file as closure evidence, not 2',
      { now: NOW, attachments: [attachmentFromBuffer('a.txt', Buffer.from('a')), attachmentFromBuffer('b.txt', Buffer.from('b'))] });

    const file = Buffer.from('VPN config export: mfa=required\n');
    const answer = await bot.sayText('owner', '/isms poam done POAM-0001 MFA enforced for every VPN user since 2026-03-09',
      { now: NOW, attachments: [attachmentFromBuffer('vpn-config.txt', file)] });
    expect(answer).toContain('Marked POAM-0001 (No MFA on the VPN) done, awaiting verification (PCL-0001). Lena Lead will verify it or reopen it.');
    const sha256 = createHash('sha256').update(file).digest('hex');
    expect(answer).toContain(`SHA-256: ${sha256}`);
    const [closure] = await bot.t.db.select().from(poamClosures);
    expect(closure).toMatchObject({ ref: 'PCL-0001', text: 'MFA enforced for every VPN user since 2026-03-09', fileName: 'vpn-config.txt', fileSize: file.length, fileSha256: sha256, submittedBy: bot.ids.owner, status: 'awaiting_verification' });
    const chunks = await bot.t.db.select().from(poamClosureFileChunks).where(eq(poamClosureFileChunks.closureId, closure.id));
    expect(Buffer.concat(chunks.map((c) => c.bytes))).toEqual(file);
    expect(await item('POAM-0001')).toMatchObject({ status: 'awaiting_verification', completedAt: null });

    const [ask] = await closureMessages('lead');
    expect(toPlainText(ask.reply as Reply)).toContain('Olga Owner marked POAM-0001 (No MFA on the VPN) done. Please verify it');
    expect(buttonCommands(ask.reply as Reply)).toEqual(['poam verify POAM-0001', 'poam reopen POAM-0001']);
    // The lead's list shows it with the evidence and the buttons; the owner's without buttons.
    const leadList = await bot.say('lead', '/isms poam --all', at);
    expect(toPlainText(leadList)).toContain('1 completed, awaiting verification');
    expect(toPlainText(leadList)).toContain('Closure evidence: PCL-0001 by Olga Owner on 2026-03-10: MFA enforced for every VPN user since 2026-03-09 · file vpn-config.txt');
    expect(buttonCommands(leadList)).toContain('poam verify POAM-0001');
    expect(buttonCommands(await bot.say('owner', '/isms poam', at))).not.toContain('poam verify POAM-0001');

    // Overdue while it waits for verification: no escalation.
    await dailyNudges(bot.t.db, morning('2026-05-02'), settings);
    expect((await item('POAM-0001')).escalationLevel).toBe(0);
    expect((await bot.outboxFor('owner')).filter((m) => m.kind === 'poam_item')).toEqual([]);
  });

  it('asks for the evidence from the "Mark item completed" button, and refuses an empty form', async () => {
    const form = findForm(await bot.say('owner', '/isms poam done POAM-0001', at))!;
    expect(form).toMatchObject({ command: 'poam done', hidden: { via: 'form', item: 'POAM-0001' } });
    expect(form.fields.map((f) => f.name)).toEqual(['done', 'file']);
    const audit = await bot.auditCount();
    const answer = toPlainText(await bot.router.submit('poam done', { item: 'POAM-0001', via: 'form' }, { actor: await bot.actor('owner'), channel: 'test', now: NOW }));
    expect(answer).toContain('Say what was done, give a link, or attach a file');
    expect(await bot.auditCount()).toBe(audit);
  });

  it('lets only an ISMS lead free of the work verify: others are refused with nothing written', async () => {
    await bot.say('owner', '/isms poam done POAM-0001 https://wiki.example.com/vpn-mfa', at);
    for (const who of ['owner', 'staff', 'auditor'] as const) {
      await refusedWithNothingWritten(bot, who, '/isms poam verify POAM-0001', 'Only the ISMS lead or the management body may use "/isms poam verify"');
    }
    await refusedWithNothingWritten(bot, 'board', '/isms poam verify POAM-0001', 'POAM-0001 is for an ISMS lead to decide');
    await refusedWithNothingWritten(bot, 'board', '/isms poam reopen POAM-0001 not yet', 'POAM-0001 is for an ISMS lead to decide');

    const answer = await bot.sayText('lead', '/isms poam verify POAM-0001 "MFA prompt seen on two test accounts"', at);
    expect(answer).toContain('Verified POAM-0001 (No MFA on the VPN) against PCL-0001: it is completed. Olga Owner has been told.');
    expect(await item('POAM-0001')).toMatchObject({ status: 'completed', completedAt: NOW });
    expect((await bot.t.db.select().from(poamClosures))[0]).toMatchObject({ status: 'verified', decidedBy: bot.ids.lead, decisionNote: 'MFA prompt seen on two test accounts', link: 'https://wiki.example.com/vpn-mfa' });
    const told = await closureMessages('owner');
    expect(told).toHaveLength(1);
    expect(toPlainText(told[0].reply as Reply)).toContain('Lena Lead verified POAM-0001 (No MFA on the VPN): it is completed.');
    await refusedWithNothingWritten(bot, 'lead', '/isms poam verify POAM-0001', 'POAM-0001 is completed, not awaiting verification');
    await refusedWithNothingWritten(bot, 'owner', '/isms poam done POAM-0001 again', 'POAM-0001 was already completed on 2026-03-10');
  });

  it('refuses self-verification: the owner, and whoever marked it done; the management body steps in for the only lead', async () => {
    // The lead owns POAM-0002 and marks it done.
    await bot.say('lead', '/isms poam done POAM-0002 "personal admin accounts issued"', at);
    expect(toPlainText((await closureMessages('board'))[0].reply as Reply)).toContain('Lena Lead marked POAM-0002 (Admin accounts shared) done.');
    await refusedWithNothingWritten(bot, 'lead', '/isms poam verify POAM-0002', 'You own POAM-0002, so someone else verifies it');

    // The lead marks Olga's item done: the lead did the closing, so the lead does not verify it either.
    await bot.say('lead', '/isms poam done POAM-0001 "MFA enforced"', at);
    await refusedWithNothingWritten(bot, 'lead', '/isms poam verify POAM-0001', 'You marked POAM-0001 done yourself, so someone else verifies it');
    expect(await bot.sayText('board', '/isms poam verify POAM-0001', at)).toContain('Verified POAM-0001');
    expect((await item('POAM-0001')).status).toBe('completed');
  });

  it('reopens with a reason: back in progress, the owner told once, escalation resumes; marked done again and verified, the history shows it all', async () => {
    await bot.say('owner', '/isms poam done POAM-0001 "MFA enforced"', at);
    // The Reopen button names only the item: the reason is asked for.
    expect(findForm(await bot.say('lead', '/isms poam reopen POAM-0001', at))).toMatchObject({ command: 'poam reopen', hidden: { item: 'POAM-0001' } });
    await refusedWithNothingWritten(bot, 'staff', '/isms poam reopen POAM-0001 no', 'Only the ISMS lead or the management body may use "/isms poam reopen"');

    const answer = await bot.sayText('lead', '/isms poam reopen POAM-0001 contractors still log in with a password alone', at);
    expect(answer).toContain('Reopened POAM-0001 (No MFA on the VPN): it is in progress again, due 2026-04-30. Olga Owner has been told why.');
    expect(await item('POAM-0001')).toMatchObject({ status: 'in_progress', completedAt: null });
    await refusedWithNothingWritten(bot, 'lead', '/isms poam reopen POAM-0001 still no', 'POAM-0001 is in progress, not awaiting verification');
    const told = await closureMessages('owner');
    expect(told).toHaveLength(1);
    expect(toPlainText(told[0].reply as Reply)).toContain('Lena Lead reopened POAM-0001 (No MFA on the VPN); it is in progress again, due 2026-04-30: "contractors still log in with a password alone"');
    expect(buttonCommands(told[0].reply as Reply)).toEqual(['poam done POAM-0001']);

    // In progress again: the ladder climbs (the first step is seven days before the due date).
    await dailyNudges(bot.t.db, morning('2026-04-24'), settings);
    expect((await item('POAM-0001')).escalationLevel).toBe(1);
    expect((await bot.outboxFor('owner')).some((m) => toPlainText(m.reply as Reply).includes('POAM-0001 No MFA on the VPN'))).toBe(true);

    const later = new Date('2026-04-25T09:00:00Z');
    await bot.say('owner', '/isms poam done POAM-0001 "contractor accounts moved to MFA too"', { now: later });
    await bot.say('lead', '/isms poam verify POAM-0001', { now: later });
    const register = toPlainText(await bot.say('auditor', '/isms register poam', { now: later }));
    expect(register).toContain('POAM-0001 No MFA on the VPN — completed');
    expect(register).toContain('Original due date: 2026-04-30');
    expect(register).toContain('History: marked done on 2026-03-10 by Olga Owner (PCL-0001)');
    expect(register).toContain('History: reopened on 2026-03-10 by Lena Lead (PCL-0001): contractors still log in with a password alone');
    expect(register).toContain('History: marked done on 2026-04-25 by Olga Owner (PCL-0002)');
    expect(register).toContain('History: verified on 2026-04-25 by Lena Lead (PCL-0002)');
  });

  it('an auditor in New York reads the POA&M history on their calendar', async () => {
    await bot.t.db.update(people).set({ timezone: 'America/New_York' }).where(eq(people.id, bot.ids.auditor));
    // 01:30 UTC on 11 March: 21:30 on 10 March in New York.
    const evening = { now: new Date('2026-03-11T01:30:00Z') };
    await bot.say('owner', '/isms poam done POAM-0001 "MFA enforced"', evening);
    const register = toPlainText(await bot.say('auditor', '/isms register poam', evening));
    expect(register).toContain('History: marked done on 2026-03-10 by Olga Owner (PCL-0001)');
  });
});

describe('POA&M closure in the audit trail', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    await loadReferenceData(bot.t.db);
    await auditSeededRows(bot.t.db);
  });
  afterEach(async () => { await bot.destroy(); });

  it('vouches for every closure, verdict, extension and due date it wrote', async () => {
    await bot.say('auditor', '/isms finding add minor_nc 9.2 "No audit programme" --owner olga@test.example --due 2026-04-30', at); // POAM-0001
    await bot.say('owner', '/isms poam extend POAM-0001 2026-05-31 "auditor availability"', at);
    await bot.say('lead', '/isms poam approve PEX-0001', at);
    await bot.say('owner', '/isms poam done POAM-0001 "programme drafted"', { ...at, attachments: [attachmentFromBuffer('programme.pdf', Buffer.from('%PDF-1.7 programme'))] });
    await bot.say('lead', '/isms poam reopen POAM-0001 "not approved by the management body yet"', at);
    await bot.say('owner', '/isms poam done POAM-0001 https://wiki.example.com/audit-programme-2026', at);
    await bot.say('lead', '/isms poam verify POAM-0001', at);
    expect((await bot.t.db.select().from(poamItems))[0]).toMatchObject({ status: 'completed', dueOn: '2026-05-31', originalDueOn: '2026-04-30' });
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
    const actions = (await bot.t.db.select().from(auditEvents).where(eq(auditEvents.entity, 'poam_closure'))).map((e) => `${e.entityRef} ${e.action}`);
    expect(actions).toEqual(['PCL-0001 submit', 'PCL-0001 reopen', 'PCL-0002 submit', 'PCL-0002 verify']);

    // The closure file is checked against its SHA-256 like evidence files; a changed byte is named.
    const refused = await bot.t.db.execute(sql`update poam_closure_file_chunks set bytes = '\\x00'::bytea`)
      .then(() => 'accepted', (e: Error & { cause?: Error }) => (e.cause ?? e).message);
    expect(refused).toBe('poam_closure_file_chunks is append-only: record a new row instead of changing or deleting one');
    await behindTheTriggers(bot.t.db, 'poam_closure_file_chunks', () => bot.t.db.execute(sql`update poam_closure_file_chunks set bytes = '\\x00'::bytea`));
    const verdict = await verifyRegister(bot.t.db);
    expect(verdict.ok ? '' : verdict.problem).toContain('Closure evidence file of PCL-0001 (programme.pdf) does not match its SHA-256');
  });
});

describe('POA&M extensions: escalation restarts from the new due date, the original stays', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    // Sam's item, due 2026-03-01; Sam's manager is Olga.
    await bot.t.db.insert(poamItems).values({ ref: 'POAM-0001', weakness: 'Backups never restored', source: 'risk', ownerId: bot.ids.staff, dueOn: '2026-03-01' });
  });
  afterEach(async () => { await bot.destroy(); });

  const item = async () => (await bot.t.db.select().from(poamItems).where(eq(poamItems.ref, 'POAM-0001')))[0];
  /** The escalation ladder's messages about POAM-0001 to someone, oldest first. */
  const poamNudges = async (who: CastKey) => (await bot.outboxFor(who)).sort((a, b) => a.id - b.id)
    .filter((m) => m.kind === 'poam_item').map((m) => toPlainText(m.reply as Reply)).filter((t) => t.includes('POAM-0001'));

  it('sends no escalation for the old due date after an approved extension, and climbs afresh from the new one', async () => {
    await dailyNudges(bot.t.db, morning('2026-02-22'), settings); // seven days ahead: step 0
    await dailyNudges(bot.t.db, morning('2026-03-02'), settings); // a day late: step 1
    expect((await item()).escalationLevel).toBe(2);
    expect(await poamNudges('staff')).toHaveLength(2);

    await bot.say('staff', '/isms poam extend POAM-0001 2026-04-30 "restore test needs the new backup server"', { now: morning('2026-03-03') });
    expect(await bot.sayText('lead', '/isms poam approve PEX-0001', { now: morning('2026-03-03') })).toContain('POAM-0001 is now due on 2026-04-30 (was 2026-03-01)');
    expect(await item()).toMatchObject({ dueOn: '2026-04-30', originalDueOn: '2026-03-01', escalationLevel: 0 });

    // A week after the old date the manager would have been told: nothing now, for anyone.
    const before = (await bot.t.db.select().from(outbox)).length;
    await dailyNudges(bot.t.db, morning('2026-03-08'), settings);
    await dailyNudges(bot.t.db, morning('2026-03-15'), settings);
    expect((await bot.t.db.select().from(outbox)).length).toBe(before);
    expect(await poamNudges('owner')).toEqual([]);

    // Seven days before the new date the ladder starts again, naming the new date.
    await dailyNudges(bot.t.db, morning('2026-04-23'), settings);
    const nudges = await poamNudges('staff');
    expect(nudges).toHaveLength(3);
    expect(nudges[2]).toContain('due in 7 days (2026-04-30)');
    expect((await item()).escalationLevel).toBe(1);
    const keys = (await bot.t.db.select().from(nudgeLog).where(like(nudgeLog.key, 'poam_item:POAM-0001:%'))).map((n) => n.key).sort();
    expect(keys).toEqual([
      `poam_item:POAM-0001:${bot.ids.staff}:2026-03-01:step0`,
      `poam_item:POAM-0001:${bot.ids.staff}:2026-03-01:step1`,
      `poam_item:POAM-0001:${bot.ids.staff}:2026-04-30:step0`,
    ]);
  });

  it('shows the original and current due dates and the extension history in the register and the export', async () => {
    await bot.say('staff', '/isms poam extend POAM-0001 2026-04-30 "new backup server"', at);
    await bot.say('lead', '/isms poam approve PEX-0001', at);
    await bot.say('staff', '/isms poam extend POAM-0001 2026-05-31 "server delivery late"', at);
    await bot.say('lead', '/isms poam reject PEX-0002 "restore onto the old server instead"', at);
    const register = toPlainText(await bot.say('board', '/isms register poam', at));
    expect(register).toContain('Due: 2026-04-30');
    expect(register).toContain('Original due date: 2026-03-01');
    expect(register).toContain('History: extended 2026-03-01 → 2026-04-30 (PEX-0001, approved by Lena Lead on 2026-03-10)');
    expect(register).toContain('History: extension 2026-04-30 → 2026-05-31 rejected (PEX-0002 by Lena Lead on 2026-03-10)');

    const [{ row }] = await findArtefact('poam')!.page(bot.t.db, 0, 10, {});
    expect(row).toMatchObject({
      ref: 'POAM-0001', dueOn: '2026-04-30', originalDueOn: '2026-03-01',
      history: 'extended 2026-03-01 → 2026-04-30 (PEX-0001, approved by Lena Lead on 2026-03-10); extension 2026-04-30 → 2026-05-31 rejected (PEX-0002 by Lena Lead on 2026-03-10)',
    });
    expect((await bot.t.db.select().from(poamExtensions)).map((e) => e.status)).toEqual(['approved', 'rejected']);
  });
});

describe('/isms finding add checks the clause or control against ISO/IEC 27001:2022', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  it('refuses every clause while the reference data is not loaded, saying how to load it', async () => {
    await refusedWithNothingWritten(bot, 'auditor', '/isms finding add ofi A.5.15 "Use the HR leaver feed"',
      'clause: the ISO/IEC 27001:2022 reference data is not loaded; run "npm run isms -- load-reference" first');
  });

  it('accepts a known clause, a parent clause and a control; an unknown one is refused with the nearest', async () => {
    await loadReferenceData(bot.t.db);
    await refusedWithNothingWritten(bot, 'auditor', '/isms finding add ofi A.5.99 "Something"',
      'clause: ISO27001:2022 has no requirement "A.5.99"; references look like A.5.1 or 6.1.2. Did you mean "A.5.9"?');
    await refusedWithNothingWritten(bot, 'lead', '/isms finding add minor_nc 11.1 "Something" --owner olga@test.example --due 2026-12-31',
      'clause: ISO27001:2022 has no requirement "11.1"; references look like A.5.1 or 6.1.2. Did you mean "10.1"?');
    await refusedWithNothingWritten(bot, 'auditor', '/isms finding add ofi A.9.1 "Something"', 'clause: ISO27001:2022 has no requirement "A.9.1"');
    expect(await bot.sayText('auditor', '/isms finding add ofi a.5.15 "Use the HR leaver feed"', at)).toContain('Recorded AF-0001: opportunity for improvement against A.5.15.');
    expect(await bot.sayText('auditor', '/isms finding add observation 9.2 "Audit programme undated"', at)).toContain('Recorded AF-0002: observation against 9.2.');
    expect(await bot.sayText('auditor', '/isms finding add observation 9.2.1 "Audit criteria missing"', at)).toContain('Recorded AF-0003');
  });
});

describe('/isms triage for the management body', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    await addAiTool(bot.t.db, { name: 'ChatGPT', dataCategories: ['internal'], declaredBy: bot.ids.staff }); // SC-0001
    await addAiTool(bot.t.db, { name: 'Copilot', dataCategories: ['internal'], declaredBy: bot.ids.lead }); // SC-0002
  });
  afterEach(async () => { await bot.destroy(); });

  it('shows the board the whole list, with buttons only where every ISMS lead had a part; staff are refused', async () => {
    const board = await bot.say('board', '/isms triage', at);
    const items = listIn(board).items;
    expect(items.map((i) => i.title.split(' ')[0])).toEqual(['SC-0001', 'SC-0002']);
    expect(items[0].detail).toContain('declared by Sam Staff on');
    expect(items[0].detail).toContain('for an ISMS lead to decide');
    expect(items[0].buttons ?? []).toEqual([]);
    expect(items[1].buttons).toEqual([
      { label: 'Accept', command: 'triage accept SC-0002', style: 'primary' },
      { label: 'Reject', command: 'triage reject SC-0002', style: 'danger' },
    ]);
    // The buttons it shows work; the ones it withholds would be refused.
    expect(await bot.sayText('board', '/isms triage accept SC-0002 "fine for internal drafts"', at)).toContain('SC-0002');
    expect((await bot.t.db.select().from(scopeChanges).where(eq(scopeChanges.ref, 'SC-0002')))[0].status).toBe('accepted');
    await refusedWithNothingWritten(bot, 'board', '/isms triage accept SC-0001', 'is for an ISMS lead to decide');

    // The lead still gets buttons on the others' items.
    expect(buttonCommands(await bot.say('lead', '/isms triage', at))).toEqual(['triage accept SC-0001', 'triage reject SC-0001']);
    for (const who of ['staff', 'owner', 'auditor'] as const) {
      await refusedWithNothingWritten(bot, who, '/isms triage', 'Only the ISMS lead or the management body may use "/isms triage"');
    }
  });
});

describe('/isms evidence show: the review verdict of each revision', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    await addControl(bot.t.db, { code: 'CTL-AC-01', title: 'Access review', ownerId: bot.ids.owner });
    await auditSeededRows(bot.t.db);
  });
  afterEach(async () => { await bot.destroy(); });

  it('names who returned or accepted which revision, when, and why', async () => {
    await bot.say('lead', '/isms request CTL-AC-01', at); // EVR-0001
    await bot.say('owner', '/isms evidence submit EVR-0001 "first export"', at); // EV-0001
    const returnedAt = new Date('2026-03-11T10:00:00Z');
    await bot.say('lead', '/isms evidence return EVR-0001 "the export does not show the review date"', { now: returnedAt });
    await bot.say('owner', '/isms evidence submit EVR-0001 "export with dates"', { now: returnedAt }); // EV-0002
    const shown = await bot.say('owner', '/isms evidence show EVR-0001', { now: returnedAt });
    const [second, first] = listIn(shown).items;
    expect(second.fields).toContainEqual({ label: 'Review', value: 'not reviewed' });
    // On the reader's clock (Berlin), not in UTC.
    expect(first.fields).toContainEqual({ label: 'Review', value: 'returned by Lena Lead on 2026-03-11 11:00 Europe/Berlin: the export does not show the review date' });

    const acceptedAt = new Date('2026-03-12T08:30:00Z');
    await bot.say('lead', '/isms evidence accept EV-0002 "dates visible"', { now: acceptedAt });
    await bot.t.db.update(people).set({ timezone: 'America/New_York' }).where(eq(people.id, bot.ids.auditor));
    const one = listIn(await bot.say('auditor', '/isms evidence show EV-0002', { now: acceptedAt })).items[0];
    expect(one.fields).toContainEqual({ label: 'Review', value: 'accepted by Lena Lead on 2026-03-12 04:30 America/New_York: dates visible' });
    const events = await bot.t.db.select().from(auditEvents).where(and(eq(auditEvents.entity, 'evidence_request'), eq(auditEvents.action, 'accept')));
    expect(events).toHaveLength(1);
  });
});
