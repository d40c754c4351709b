import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { auditEvents, evidenceItems, evidenceRequests } from '../src/db/schema/index.js';
import { findForm, type Reply } from '../src/core/reply.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { addControl, addEvidenceRequest, storedFileBytes } from './helpers/fixtures.js';
import { attachmentFromBuffer } from '../src/core/attachments.js';

const NOW = new Date('2026-06-15T09:00:00Z');
const at = { now: NOW };

const itemsOf = async (bot: TestBot, requestId: number) =>
  (await bot.t.db.select().from(evidenceItems).where(eq(evidenceItems.requestId, requestId))).sort((a, b) => a.revision - b.revision);
const requestById = async (bot: TestBot, id: number) =>
  (await bot.t.db.select().from(evidenceRequests).where(eq(evidenceRequests.id, id)))[0];
const allItems = async (bot: TestBot) => bot.t.db.select().from(evidenceItems);
const buttons = (r: Reply) => r.blocks.flatMap((b) => (b.type === 'list' ? b.items.flatMap((i) => i.buttons ?? []) : b.type === 'actions' ? b.buttons : []));

describe('evidence', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  it('"/isms evidence" lists my open requests, each with a Submit evidence button, and not other people\'s', async () => {
    const mine = await addControl(bot.t.db, { code: 'CTL-LS-01', title: 'Logging', ownerId: bot.ids.owner });
    const theirs = await addControl(bot.t.db, { code: 'CTL-LS-02', title: 'Clock sync', ownerId: bot.ids.staff });
    const open = await addEvidenceRequest(bot.t.db, { controlId: mine.id, ownerId: bot.ids.owner, dueOn: '2026-06-01' });
    const other = await addEvidenceRequest(bot.t.db, { controlId: theirs.id, ownerId: bot.ids.staff, dueOn: '2026-07-01' });

    const answer = await bot.say('owner', '/isms evidence', at);
    const plain = await bot.sayText('owner', '/isms evidence', at);
    expect(plain).toContain(`${open.ref} — CTL-LS-01 Logging`);
    expect(plain).toContain('due 2026-06-01 (overdue)');
    expect(plain).not.toContain(other.ref);
    expect(buttons(answer)).toContainEqual(expect.objectContaining({ label: 'Submit evidence', command: `evidence submit ${open.ref}` }));

    expect(await bot.sayText('auditor', '/isms evidence', at)).toContain('You have no open evidence requests.');
  });

  it('"/isms evidence" with nothing open says so once', async () => {
    const plain = await bot.sayText('auditor', '/isms evidence', at);
    expect(plain).toContain('You have no open evidence requests.');
    expect(plain).not.toContain('Nothing to submit');
  });

  it('records a link against a request as revision 1, marks the request submitted, and audits both', async () => {
    const control = await addControl(bot.t.db, { code: 'CTL-AC-01', title: 'Access reviews', ownerId: bot.ids.owner });
    const request = await addEvidenceRequest(bot.t.db, { controlId: control.id, ownerId: bot.ids.owner, dueOn: '2026-06-30' });
    const before = await bot.auditCount();

    const answer = await bot.sayText('owner', `/isms evidence submit ${request.ref} https://wiki.example.com/access-review-q2`, at);

    const [item] = await itemsOf(bot, request.id);
    expect(answer).toContain(`Recorded ${item.ref} (revision 1) for ${request.ref}, CTL-AC-01 Access reviews.`);
    expect(item).toMatchObject({
      revision: 1, controlId: control.id, submittedBy: bot.ids.owner, effectiveOn: '2026-06-15',
      link: 'https://wiki.example.com/access-review-q2', text: null, fileName: null, fileSha256: null, channel: 'test',
    });
    expect(item.ref).toMatch(/^EV-\d{4}$/);
    expect(item.submittedAt.toISOString()).toBe(NOW.toISOString());
    expect((await requestById(bot, request.id)).status).toBe('submitted');
    expect(await bot.auditCount()).toBe(before + 2);
  });

  it('stores a file exactly (name, size, SHA-256, bytes); a second submission is revision 2 and leaves the first intact', async () => {
    const control = await addControl(bot.t.db, { code: 'CTL-BK-01', title: 'Backups', ownerId: bot.ids.owner });
    const request = await addEvidenceRequest(bot.t.db, { controlId: control.id, ownerId: bot.ids.owner, dueOn: '2026-06-30' });
    await bot.say('owner', `/isms evidence submit ${request.ref} "Restore test passed for all databases" --effective 2026-06-10`, at);
    const [first] = await itemsOf(bot, request.id);

    const bytes = Buffer.concat([randomBytes(4096), Buffer.from([0, 255, 0, 10, 13])]);
    const expectedSha = createHash('sha256').update(bytes).digest('hex');
    const answer = await bot.sayText('owner', `/isms evidence submit ${request.ref}`, { ...at, attachments: [attachmentFromBuffer('restore-log.bin', bytes)] });

    expect(answer).toContain('(revision 2)');
    expect(answer).toContain(expectedSha);
    const items = await itemsOf(bot, request.id);
    expect(items.map((i) => i.revision)).toEqual([1, 2]);
    expect(items[0]).toEqual(first);
    expect(items[0].text).toBe('Restore test passed for all databases');
    expect(items[0].effectiveOn).toBe('2026-06-10');
    expect(items[1]).toMatchObject({ fileName: 'restore-log.bin', fileSize: bytes.length, fileSha256: expectedSha, text: null, link: null });
    expect(Buffer.compare(await storedFileBytes(bot.t.db, items[1]), bytes)).toBe(0);
    expect(items[1].ref).not.toBe(items[0].ref);
  });

  it('the same file and text as the latest revision record nothing and say which revision has them, on the reader\'s day; a file like an older revision\'s is a new revision', async () => {
    const control = await addControl(bot.t.db, { code: 'CTL-BK-02', title: 'Backup restores', ownerId: bot.ids.owner });
    const request = await addEvidenceRequest(bot.t.db, { controlId: control.id, ownerId: bot.ids.owner, dueOn: '2026-06-30' });
    const log = Buffer.from('restore of db-1: ok\n');
    const other = Buffer.from('restore of db-2: ok\n');
    const submit = (bytes: Buffer | undefined, words: string, now = NOW) => bot.sayText('owner', `/isms evidence submit ${request.ref} ${words}`,
      { now, attachments: bytes ? [attachmentFromBuffer('restore.log', bytes)] : [] });
    // 22:30 UTC on 14 June is already 15 June in Berlin, where the owner is.
    await submit(log, '"Restore test"', new Date('2026-06-14T22:30:00Z'));
    const [first] = await itemsOf(bot, request.id);
    const before = await bot.auditCount();

    const again = await submit(log, '"Restore test"');
    expect(again).toContain(`This is already recorded for ${request.ref} as revision 1 (${first.ref}, 2026-06-15): the same text and file, effective 2026-06-15. Nothing was recorded again.`);
    expect(await itemsOf(bot, request.id)).toEqual([first]);
    expect(await bot.auditCount()).toBe(before);

    // Another file, then the first one again: someone may hand in an earlier file anew, and it counts.
    await submit(other, '"Restore test"');
    expect(await submit(log, '"Restore test"')).toContain('(revision 3)');
    // The same file with other words is new too, and a text alone is told apart from what came before it.
    expect(await submit(log, '"Restore test, all databases"')).toContain('(revision 4)');
    expect(await submit(undefined, 'https://wiki.example.com/restore-q2')).toContain('(revision 5)');
    const [, , , , linked] = await itemsOf(bot, request.id);
    expect(await submit(undefined, 'https://wiki.example.com/restore-q2'))
      .toContain(`This is already recorded for ${request.ref} as revision 5 (${linked.ref}, 2026-06-15): the same link, effective 2026-06-15. Nothing was recorded again.`);
    // The same link with a corrected effective day is a new revision; given again with that day, nothing is.
    expect(await submit(undefined, 'https://wiki.example.com/restore-q2 --effective 2026-06-01')).toContain('(revision 6)');
    expect(await submit(undefined, 'https://wiki.example.com/restore-q2 --effective 2026-06-01')).toContain('as revision 6');
    // Left out, the day is today's: the link still holds today, a new revision too.
    const [, , , , , corrected] = await itemsOf(bot, request.id);
    const today = await submit(undefined, 'https://wiki.example.com/restore-q2');
    expect(today).toContain('(revision 7)');
    expect(today).toContain(`The same link as revision 6 (${corrected.ref}, effective 2026-06-01), recorded again as effective 2026-06-15: it shows the evidence holds on that day.`);
    const items = await itemsOf(bot, request.id);
    expect(items.map((i) => i.revision)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(items.map((i) => i.effectiveOn).slice(5)).toEqual(['2026-06-01', '2026-06-15']);
    expect(items[2].fileSha256).toBe(items[0].fileSha256);
  });

  it('the same file for a control without a request, sent again a month later, is a new revision (audited) that says so; sent twice that day, it is recorded once', async () => {
    const control = await addControl(bot.t.db, { code: 'CTL-AC-07', title: 'Access reviews', ownerId: bot.ids.owner });
    const accessReview = () => [attachmentFromBuffer('access-review.csv', Buffer.from('account,access,still needed\nolga,admin,yes\n'))];
    const submit = (now: Date) => bot.sayText('owner', '/isms evidence submit CTL-AC-07', { now, attachments: accessReview() });
    const ofControl = async () => (await allItems(bot)).filter((i) => i.controlId === control.id).sort((a, b) => a.revision - b.revision);
    await submit(new Date('2026-05-15T09:00:00Z'));
    const [may] = await ofControl();
    const before = await bot.auditCount();

    const answer = await submit(NOW);
    const [, june] = await ofControl();
    expect(june).toMatchObject({ revision: 2, requestId: null, effectiveOn: '2026-06-15', fileSha256: may.fileSha256 });
    expect(answer).toContain(`Recorded ${june.ref} (revision 2) for CTL-AC-07 Access reviews.`);
    expect(answer).toContain(`The same file as revision 1 (${may.ref}, effective 2026-05-15), recorded again as effective 2026-06-15: it shows the evidence holds on that day.`);
    const events = await bot.t.db.select().from(auditEvents).where(eq(auditEvents.entityRef, june.ref));
    expect(events).toMatchObject([{ action: 'submit', entity: 'evidence_item', actorId: bot.ids.owner }]);
    expect(await bot.auditCount()).toBe(before + 1);

    // Sent again later that day (the owner's day), the same file is a message sent twice: nothing more.
    const twice = await submit(new Date('2026-06-15T20:00:00Z'));
    expect(twice).toContain(`This is already recorded for CTL-AC-07 as revision 2 (${june.ref}, 2026-06-15): the same file, effective 2026-06-15. Nothing was recorded again.`);
    expect(await ofControl()).toEqual([may, june]);
    expect(await bot.auditCount()).toBe(before + 1);
  });

  it('the same file again after it was sent back records nothing, and says a correction is what the request waits for', async () => {
    const control = await addControl(bot.t.db, { code: 'CTL-BK-04', title: 'Backup logs', ownerId: bot.ids.owner });
    const request = await addEvidenceRequest(bot.t.db, { controlId: control.id, ownerId: bot.ids.owner, dueOn: '2026-06-30' });
    const file = () => [attachmentFromBuffer('backup.log', Buffer.from('backup ok\n'))];
    await bot.say('owner', `/isms evidence submit ${request.ref}`, { ...at, attachments: file() });
    expect(await bot.sayText('lead', `/isms evidence return ${request.ref} the log shows one day only`, at)).not.toContain('Nothing was recorded');
    const again = await bot.sayText('owner', `/isms evidence submit ${request.ref}`, { ...at, attachments: file() });
    expect(again).toContain(`This is already recorded for ${request.ref} as revision 1`);
    expect(again).toContain(`${request.ref} was sent back after it: to hand in a correction, submit the changed file or text.`);
    expect((await requestById(bot, request.id)).status).toBe('open');
    expect(await itemsOf(bot, request.id)).toHaveLength(1);
  });

  it('two files sent again together, as they were last, record nothing and name both revisions', async () => {
    const control = await addControl(bot.t.db, { code: 'CTL-BK-03', title: 'Backup reports', ownerId: bot.ids.owner });
    const request = await addEvidenceRequest(bot.t.db, { controlId: control.id, ownerId: bot.ids.owner, dueOn: '2026-06-30' });
    const files = () => [attachmentFromBuffer('june.csv', Buffer.from('job,ok\n')), attachmentFromBuffer('july.csv', Buffer.from('job,failed\n'))];
    await bot.say('owner', `/isms evidence submit ${request.ref}`, { ...at, attachments: files() });
    const [june, july] = await itemsOf(bot, request.id);
    const again = await bot.sayText('owner', `/isms evidence submit ${request.ref}`, { ...at, attachments: files() });
    expect(again).toContain(`This is already recorded for ${request.ref} as revisions 1–2 (${june.ref}, ${july.ref}, 2026-06-15): the same files, effective 2026-06-15. Nothing was recorded again.`);
    expect(await itemsOf(bot, request.id)).toHaveLength(2);
  });

  it('takes a file posted in a request\'s thread (the command with attachments and no text), as the chat adapters send it', async () => {
    const control = await addControl(bot.t.db, { code: 'CTL-VM-01', title: 'Vulnerability scans', ownerId: bot.ids.owner });
    const request = await addEvidenceRequest(bot.t.db, { controlId: control.id, ownerId: bot.ids.owner, dueOn: '2026-06-30' });
    const bytes = Buffer.from('scan report: 0 critical, 2 high\n');
    const answer = await bot.sayText('owner', `evidence submit ${request.ref}`, {
      ...at, attachments: [attachmentFromBuffer('scan.txt', bytes)], idempotencyKey: 'slack-file-F123',
    });
    expect(answer).toContain(createHash('sha256').update(bytes).digest('hex'));
    const [item] = await itemsOf(bot, request.id);
    expect(item).toMatchObject({ fileName: 'scan.txt', fileSize: bytes.length, revision: 1 });
  });

  it('a control id resolves to that control\'s open request', async () => {
    const control = await addControl(bot.t.db, { code: 'CTL-NW-01', title: 'Firewall rules', ownerId: bot.ids.owner });
    const request = await addEvidenceRequest(bot.t.db, { controlId: control.id, ownerId: bot.ids.owner, dueOn: '2026-06-30' });
    const answer = await bot.sayText('owner', '/isms evidence submit ctl-nw-01 "Firewall rule review signed off"', at);
    expect(answer).toContain(`for ${request.ref}, CTL-NW-01 Firewall rules`);
    const [item] = await itemsOf(bot, request.id);
    expect(item.text).toBe('Firewall rule review signed off');
  });

  it('a control without an open request gets the evidence recorded against the control, and says so', async () => {
    const control = await addControl(bot.t.db, { code: 'CTL-PH-01', title: 'Badge access', ownerId: bot.ids.owner });
    const answer = await bot.sayText('owner', '/isms evidence submit CTL-PH-01 https://drive.example.com/badge-log', at);
    expect(answer).toContain('CTL-PH-01 has no open evidence request, so the evidence is recorded against the control without a request.');
    const rows = (await allItems(bot)).filter((i) => i.controlId === control.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ requestId: null, revision: 1, link: 'https://drive.example.com/badge-log' });
  });

  it('refuses someone who is neither the owner nor the ISMS lead, names the owner, and writes nothing; the ISMS lead may submit', async () => {
    const control = await addControl(bot.t.db, { code: 'CTL-HR-01', title: 'Screening', ownerId: bot.ids.owner });
    const request = await addEvidenceRequest(bot.t.db, { controlId: control.id, ownerId: bot.ids.owner, dueOn: '2026-06-30' });
    const before = await bot.auditCount();

    const answer = await bot.sayText('staff', `/isms evidence submit ${request.ref} "I did it"`, at);
    expect(answer).toContain(`${request.ref} belongs to Olga Owner <olga@test.example>: only they or the ISMS lead can submit evidence for it.`);
    expect(answer).toContain('Nothing was recorded');
    expect(await itemsOf(bot, request.id)).toHaveLength(0);
    expect((await requestById(bot, request.id)).status).toBe('open');
    expect(await bot.auditCount()).toBe(before);

    // The button does not even open the form for them.
    expect(findForm(await bot.say('staff', `evidence submit ${request.ref}`, at))).toBeUndefined();

    expect(await bot.sayText('lead', `/isms evidence submit ${request.ref} "Screening records checked"`, at)).toContain('(revision 1)');
    expect((await itemsOf(bot, request.id))[0].submittedBy).toBe(bot.ids.lead);
  });

  it('names a bad or future effective date, an unknown request and an unknown control, and writes nothing', async () => {
    const control = await addControl(bot.t.db, { code: 'CTL-CR-01', title: 'Encryption', ownerId: bot.ids.owner });
    const request = await addEvidenceRequest(bot.t.db, { controlId: control.id, ownerId: bot.ids.owner, dueOn: '2026-06-30' });
    const itemsBefore = (await allItems(bot)).length;
    const before = await bot.auditCount();

    const badDate = await bot.sayText('owner', `/isms evidence submit ${request.ref} "keys rotated" --effective 2026-02-30`, at);
    expect(badDate).toContain('effective: must be a date written YYYY-MM-DD');
    expect(badDate).toContain('Nothing was recorded');

    const future = await bot.sayText('owner', `/isms evidence submit ${request.ref} "keys rotated" --effective 2026-07-01`, at);
    expect(future).toContain('The effective date 2026-07-01 is in the future.');

    const unknownRequest = await bot.sayText('owner', '/isms evidence submit EVR-0999 "keys rotated"', at);
    expect(unknownRequest).toContain('EVR-0999 does not exist.');
    expect(unknownRequest).toContain('"/isms evidence" lists your open evidence requests');

    const unknownControl = await bot.sayText('owner', '/isms evidence submit CTL-CR-10 "keys rotated"', at);
    expect(unknownControl).toContain('There is no control "CTL-CR-10". Did you mean CTL-CR-01?');

    expect((await allItems(bot)).length).toBe(itemsBefore);
    expect((await requestById(bot, request.id)).status).toBe('open');
    expect(await bot.auditCount()).toBe(before);
  });

  it('the Submit evidence button opens a form for that request; an empty form is refused; a form with a file is recorded', async () => {
    const control = await addControl(bot.t.db, { code: 'CTL-SD-01', title: 'Secure development', ownerId: bot.ids.owner });
    const request = await addEvidenceRequest(bot.t.db, { controlId: control.id, ownerId: bot.ids.owner, dueOn: '2026-06-30' });

    const form = findForm(await bot.say('owner', `evidence submit ${request.ref}`, at));
    expect(form?.title).toBe(`Submit evidence for ${request.ref}`);
    expect(form?.hidden).toMatchObject({ target: request.ref });
    expect(form?.fields.map((f) => [f.name, f.type])).toEqual([['text', 'textarea'], ['effective', 'date'], ['file', 'file']]);

    const owner = await bot.actor('owner');
    const before = await bot.auditCount();
    const empty = await bot.router.submit(form!.command, { ...form!.hidden, text: '' }, { actor: owner, channel: 'test', now: NOW });
    expect(JSON.stringify(empty)).toContain('There is nothing to record: give a text, a link or a file.');
    expect(await itemsOf(bot, request.id)).toHaveLength(0);
    expect(await bot.auditCount()).toBe(before);

    const bytes = Buffer.from('%PDF-1.7 code review checklist');
    const filled = await bot.router.submit(form!.command, { ...form!.hidden, file: 'checklist.pdf', effective: '2026-06-14' },
      { actor: owner, channel: 'slack', now: NOW, attachments: [attachmentFromBuffer('checklist.pdf', bytes)] });
    expect(JSON.stringify(filled)).toContain('(revision 1)');
    const [item] = await itemsOf(bot, request.id);
    expect(item).toMatchObject({ fileName: 'checklist.pdf', effectiveOn: '2026-06-14', channel: 'slack' });
  });

  it('without arguments asks for request/control, text or link, effective date and file', async () => {
    const form = findForm(await bot.say('owner', '/isms evidence submit', at));
    expect(form?.fields.map((f) => [f.name, f.type])).toEqual([['target', 'text'], ['text', 'textarea'], ['effective', 'date'], ['file', 'file']]);
  });

  it('a delivery repeated by the platform (same idempotency key) is recorded once', async () => {
    const control = await addControl(bot.t.db, { code: 'CTL-IR-01', title: 'Incident drills', ownerId: bot.ids.owner });
    const request = await addEvidenceRequest(bot.t.db, { controlId: control.id, ownerId: bot.ids.owner, dueOn: '2026-06-30' });
    const line = `/isms evidence submit ${request.ref} "Tabletop exercise held on 2026-06-12"`;
    const first = await bot.say('owner', line, { ...at, idempotencyKey: 'evt-ev-1' });
    const before = await bot.auditCount();
    const again = await bot.say('owner', line, { ...at, idempotencyKey: 'evt-ev-1' });
    expect(again).toEqual(first);
    expect(await itemsOf(bot, request.id)).toHaveLength(1);
    expect(await bot.auditCount()).toBe(before);
  });
});

describe('/isms request', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  it('the ISMS lead asks the control owner for evidence: a request due in 14 days and a message with a Submit evidence button', async () => {
    const control = await addControl(bot.t.db, { code: 'CTL-AC-02', title: 'Privileged access', ownerId: bot.ids.owner });
    const before = await bot.auditCount();

    const answer = await bot.sayText('lead', '/isms request CTL-AC-02', at);

    const [request] = await bot.t.db.select().from(evidenceRequests).where(eq(evidenceRequests.controlId, control.id));
    expect(answer).toContain(`Asked Olga Owner for evidence for CTL-AC-02 Privileged access: ${request.ref}, due 2026-06-29.`);
    expect(request).toMatchObject({ ownerId: bot.ids.owner, dueOn: '2026-06-29', cycle: 'adhoc-2026-06-15', status: 'open', requestedBy: bot.ids.lead });
    expect(request.ref).toMatch(/^EVR-\d{4}$/);
    expect(await bot.auditCount()).toBe(before + 1);

    const [message] = await bot.outboxFor('owner');
    expect(message.kind).toBe('evidence_request');
    const sent = message.reply as Reply;
    expect(sent.about).toBe(request.ref);
    expect(buttons(sent)).toEqual([expect.objectContaining({ label: 'Submit evidence', command: `evidence submit ${request.ref}` })]);

    // The owner now sees it, and the button's command records evidence on it.
    expect(await bot.sayText('owner', '/isms evidence', at)).toContain(request.ref);
    // The period reads as the day it was asked for, not as the stored "adhoc-2026-06-15".
    expect(answer).toMatch(/Period: requested on 2026-06-15$/m);
    expect(await bot.sayText('owner', '/isms evidence', at)).toContain('Period: requested on 2026-06-15\n');
    expect(await bot.sayText('owner', '/isms status', at)).toContain('due 2026-06-29 · requested on 2026-06-15\n');
    expect(await bot.sayText('lead', '/isms register evidence', at)).toContain('Period: requested on 2026-06-15\n');
    expect(`${answer}${await bot.sayText('owner', '/isms evidence', at)}`).not.toContain('adhoc');
  });

  it('takes a due date, refuses one in the past and a second open request for the same control', async () => {
    await addControl(bot.t.db, { code: 'CTL-AC-03', title: 'Joiners and leavers', ownerId: bot.ids.owner });
    const before = await bot.auditCount();
    const past = await bot.sayText('lead', '/isms request CTL-AC-03 2026-06-14', at);
    expect(past).toContain('The due date 2026-06-14 is in the past.');
    expect(past).toContain('Nothing was recorded');
    const badDate = await bot.sayText('lead', '/isms request CTL-AC-03 30.06.2026', at);
    expect(badDate).toContain('due: must be a date written YYYY-MM-DD');
    expect(await bot.auditCount()).toBe(before);

    expect(await bot.sayText('lead', '/isms request CTL-AC-03 2026-07-10', at)).toContain('due 2026-07-10');
    const twice = await bot.sayText('lead', '/isms request CTL-AC-03', at);
    expect(twice).toContain('CTL-AC-03 already has an open evidence request');
    expect(await bot.auditCount()).toBe(before + 1);
  });

  it('refuses anyone but the ISMS lead, a control without owner, and an unknown control, writing nothing', async () => {
    await addControl(bot.t.db, { code: 'CTL-OR-01', title: 'Orphan control' });
    const before = await bot.auditCount();
    const requestsBefore = (await bot.t.db.select().from(evidenceRequests)).length;

    expect(await bot.sayText('owner', '/isms request CTL-AC-02', at)).toContain('Only the ISMS lead may use "/isms request"');
    expect(await bot.sayText('lead', '/isms request CTL-OR-01', at)).toContain('CTL-OR-01 has no owner, so there is nobody to ask for evidence.');
    expect(await bot.sayText('lead', '/isms request CTL-XX-99', at)).toContain('There is no control "CTL-XX-99".');

    expect((await bot.t.db.select().from(evidenceRequests)).length).toBe(requestsBefore);
    expect(await bot.auditCount()).toBe(before);
  });
});
