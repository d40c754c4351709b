import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { eq } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Shell } from '../adapters/shell/shell.js';
import { assembleCore } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { tamperWithStoredFile } from './helpers/tamper.js';
import { attachmentFromBuffer } from '../src/core/attachments.js';
import { auditEvents, controls, evidenceItems, evidenceRequests, outbox, people } from '../src/db/schema/index.js';
import { findForm, toPlainText, type Block, type FileOut, type Reply } from '../src/core/reply.js';
import { verifyRegister } from '../src/core/verify.js';
import { createTestBot, type CastKey, type TestBot } from './helpers/bot.js';
import { addControl, addEvidenceRequest, auditSeededRows } from './helpers/fixtures.js';
import { expectPagesOf, listIn, refsIn } from './helpers/paging.js';

const NOW = new Date('2026-06-15T09:00:00Z');
const at = { now: NOW };

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const fileOf = (r: Reply): FileOut | undefined => r.blocks.find((b): b is Extract<Block, { type: 'file' }> => b.type === 'file')?.file;
const listItems = (r: Reply) => r.blocks.flatMap((b) => (b.type === 'list' ? b.items : []));
const pageOf = (r: Reply) => r.blocks.flatMap((b) => (b.type === 'list' && b.page ? [b.page] : []))[0];

describe('/isms evidence show', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  /** A request owned by Olga with three revisions: a text, a file and a link (newest). */
  async function requestWithRevisions(file = Buffer.from('%PDF-1.7 access review, 42 accounts, 0 findings\n')) {
    const control = await addControl(bot.t.db, { code: 'CTL-AC-01', title: 'Access reviews', ownerId: bot.ids.owner });
    const request = await addEvidenceRequest(bot.t.db, { controlId: control.id, ownerId: bot.ids.owner, dueOn: '2026-06-30' });
    await bot.say('owner', `/isms evidence submit ${request.ref} "Review started" --effective 2026-06-10`, { now: new Date('2026-06-12T08:00:00Z') });
    await bot.say('owner', `/isms evidence submit ${request.ref}`, { ...at, channel: 'slack', attachments: [attachmentFromBuffer('access-review.pdf', file)] });
    await bot.say('lead', `/isms evidence submit ${request.ref} https://wiki.example.com/access-review`, at);
    const items = await bot.t.db.select({ ref: evidenceItems.ref, revision: evidenceItems.revision }).from(evidenceItems)
      .where(eq(evidenceItems.requestId, request.id)).orderBy(evidenceItems.revision);
    return { control, request, file, refs: items.map((i) => i.ref) };
  }

  it('the request\'s owner, the ISMS lead and an auditor see every revision, newest first, with who, when, what and the file', async () => {
    const { request, file, refs } = await requestWithRevisions();
    for (const who of ['owner', 'lead', 'auditor'] as CastKey[]) {
      const answer = await bot.say(who, `/isms evidence show ${request.ref}`, at);
      expect(answer.outcome).toBe('info');
      expect(listItems(answer).map((i) => i.title)).toEqual([`${refs[2]} — revision 3`, `${refs[1]} — revision 2`, `${refs[0]} — revision 1`]);
    }
    const plain = await bot.sayText('auditor', `/isms evidence show ${request.ref.toLowerCase()}`, at);
    expect(plain).toContain(`3 revisions submitted for ${request.ref}, CTL-AC-01 Access reviews (request submitted), newest first.`);
    expect(plain).toContain('Submitted by: Lena Lead <lena@test.example>');
    expect(plain).toContain('Link: https://wiki.example.com/access-review');
    expect(plain).toContain('Submitted by: Olga Owner <olga@test.example>');
    // On the reader's clock (the cast lives in Europe/Berlin, the submitter too).
    expect(plain).toContain('Submitted at: 2026-06-15 11:00 Europe/Berlin\n');
    expect(plain).toContain(`File: access-review.pdf (${file.length} bytes)`);
    expect(plain).toContain(`SHA-256: ${sha256(file)}`);
    expect(plain).toContain('Sent in: Slack\n');
    expect(plain).not.toContain('Channel:');
    expect(plain).toContain('Text: Review started');
    expect(plain).toContain('Effective: 2026-06-10');

    // Only the revision with a file offers it.
    const buttons = listItems(await bot.say('owner', `/isms evidence show ${request.ref}`, at)).map((i) => i.buttons ?? []);
    expect(buttons).toEqual([[], [{ label: 'Send me the file', command: `evidence show ${refs[1]} --download` }], []]);
  });

  it('a reader in America/New_York sees when a revision came in on their own clock and day, and on the submitter\'s', async () => {
    await bot.t.db.update(people).set({ timezone: 'America/New_York' }).where(eq(people.id, bot.ids.auditor));
    const control = await addControl(bot.t.db, { code: 'CTL-AC-01', title: 'Access reviews', ownerId: bot.ids.owner });
    const request = await addEvidenceRequest(bot.t.db, { controlId: control.id, ownerId: bot.ids.owner, dueOn: '2026-06-30' });
    // 01:30 UTC on 16 June: 03:30 in Berlin, still the evening of 15 June in New York.
    await bot.say('owner', `/isms evidence submit ${request.ref} "Quarterly access review"`, { now: new Date('2026-06-16T01:30:00Z') });
    const plain = await bot.sayText('auditor', `/isms evidence show ${request.ref}`, at);
    expect(plain).toContain('Submitted at: 2026-06-15 21:30 America/New_York (2026-06-16 03:30 Europe/Berlin for Olga Owner)');
    expect(plain).not.toContain('2026-06-16T01:30');
  });

  it('shows one revision by its EV reference, and a control\'s whole history with the request of each revision', async () => {
    const { refs, request } = await requestWithRevisions(Buffer.alloc(1_100_000, 7));
    const one = await bot.sayText('owner', `/isms evidence show ${refs[1]}`, at);
    expect(one).toContain(`Evidence ${refs[1]} of ${request.ref}, CTL-AC-01 Access reviews (request submitted).`);
    expect(one).toContain('File: access-review.pdf (1.1 MB, 1,100,000 bytes)');
    expect(one).not.toContain(refs[0]);

    await bot.say('owner', '/isms evidence submit CTL-AC-01 "Out-of-cycle review after the incident"', at);
    const history = await bot.say('auditor', '/isms evidence show ctl-ac-01', at);
    const titles = listItems(history).map((i) => i.title);
    expect(titles).toHaveLength(4);
    expect(titles.slice(1)).toEqual([`${refs[2]} — revision 3 of ${request.ref}`, `${refs[1]} — revision 2 of ${request.ref}`, `${refs[0]} — revision 1 of ${request.ref}`]);
    expect(toPlainText(history)).toContain('4 revisions submitted for CTL-AC-01 Access reviews, newest first.');
  });

  it('pages a request with many revisions', async () => {
    const control = await addControl(bot.t.db, { code: 'CTL-LG-01', title: 'Log review', ownerId: bot.ids.owner });
    const request = await addEvidenceRequest(bot.t.db, { controlId: control.id, ownerId: bot.ids.owner, dueOn: '2026-06-30' });
    const attachments = Array.from({ length: 12 }, (_, n) => attachmentFromBuffer(`day-${n + 1}.log`, Buffer.from(`log of day ${n + 1}\n`)));
    await bot.say('owner', `/isms evidence submit ${request.ref}`, { ...at, attachments });

    const first = await bot.say('owner', `/isms evidence show ${request.ref}`, at);
    expect(listItems(first)).toHaveLength(10);
    expect(listItems(first)[0].title).toMatch(/— revision 12$/);
    expect(pageOf(first)).toMatchObject({ number: 1, total: 2, next: `evidence show ${request.ref} --page 2` });
    const second = await bot.say('owner', `/isms evidence show ${request.ref} --page 2`, at);
    expect(listItems(second).map((i) => i.title.replace(/^EV-\d+ — /, ''))).toEqual(['revision 2', 'revision 1']);
    expect(await bot.sayText('owner', `/isms evidence show ${request.ref} --page 3`, at)).toContain(`The evidence of ${request.ref} has 2 pages, so there is no page 3.`);
  });

  it('pages a control\'s long history newest first, the same pages by Next, Previous and page number; a revision added since makes a middle page\'s button say so', async () => {
    const control = await addControl(bot.t.db, { code: 'CTL-LG-02', title: 'Log retention', ownerId: bot.ids.owner });
    const requests = [
      await addEvidenceRequest(bot.t.db, { controlId: control.id, ownerId: bot.ids.owner, dueOn: '2026-06-30', cycle: '2026-Q2' }),
      await addEvidenceRequest(bot.t.db, { controlId: control.id, ownerId: bot.ids.owner, dueOn: '2026-09-30', cycle: '2026-Q3' }),
    ];
    // 125 revisions, the two requests' interleaved: 13 pages, the middle ones far from both ends.
    const revision = (k: number) => ({
      ref: `EV-${String(k + 1).padStart(4, '0')}`, requestId: requests[k % 2].id, controlId: control.id, revision: Math.floor(k / 2) + 1,
      submittedBy: bot.ids.owner, submittedAt: NOW, effectiveOn: '2026-06-01', text: `Log export ${k + 1}`, channel: 'slack',
    });
    await bot.t.db.insert(evidenceItems).values(Array.from({ length: 125 }, (_, k) => revision(k)));
    const newestFirst = Array.from({ length: 125 }, (_, k) => `EV-${String(125 - k).padStart(4, '0')}`);
    const pages = await expectPagesOf(bot, 'owner', `evidence show ${control.code}`, newestFirst);
    expect(pages[6].title).toBe(`Evidence of ${control.code} (page 7 of 13)`);
    expect(pages[12].refs).toEqual(['EV-0005', 'EV-0004', 'EV-0003', 'EV-0002', 'EV-0001']);

    // A new revision comes first: the Next button shown before it no longer starts page 7, and says which page to type.
    const next = listIn(await bot.say('owner', `/isms evidence show ${control.code} --page 6`, at)).page!.next!;
    expect(next).toMatch(/--page 7 --after \d+$/);
    await bot.t.db.insert(evidenceItems).values({ ...revision(125), ref: 'EV-0126' });
    const stale = await bot.sayText('owner', `/isms ${next}`, at);
    expect(stale).toContain(`That page button no longer matches the evidence of ${control.code}: entries were added or removed before its position`);
    expect(stale).toContain(`"/isms evidence show ${control.code} --page 7" shows page 7 as it is now.`);
    expect(refsIn(await bot.say('owner', `/isms evidence show ${control.code} --page 7`, at))).toEqual(['EV-0066', ...newestFirst.slice(60, 69)]);
  });

  it('refuses other staff, names whom to ask, and writes nothing; the person who submitted still sees it', async () => {
    const { request, refs } = await requestWithRevisions();
    const before = await bot.auditCount();
    for (const target of [request.ref, refs[1], 'CTL-AC-01']) {
      const answer = await bot.say('staff', `/isms evidence show ${target}`, at);
      expect(answer.outcome).toBe('refused');
      const plain = toPlainText(answer);
      expect(plain).toContain(`${target} belongs to Olga Owner <olga@test.example>`);
      expect(plain).toContain('the ISMS lead or an auditor can see its evidence. Nothing was recorded.');
      expect(plain).toContain('Ask Olga Owner <olga@test.example> or the ISMS lead (Lena Lead <lena@test.example>)');
      expect(fileOf(await bot.say('staff', `/isms evidence show ${target} --download`, at))).toBeUndefined();
    }
    expect(await bot.auditCount()).toBe(before);
    expect(await bot.t.db.select().from(outbox).where(eq(outbox.kind, 'evidence_file_mismatch'))).toEqual([]);

    // The request and control move to someone else: Olga, who submitted, still sees her revisions.
    await bot.t.db.update(evidenceRequests).set({ ownerId: bot.ids.board }).where(eq(evidenceRequests.id, request.id));
    await bot.t.db.update(controls).set({ ownerId: bot.ids.board }).where(eq(controls.code, 'CTL-AC-01'));
    expect(await bot.sayText('owner', `/isms evidence show ${refs[1]}`, at)).toContain('access-review.pdf');
    expect(await bot.sayText('owner', `/isms evidence show ${request.ref}`, at)).toContain('3 revisions');
    expect(await bot.sayText('owner', '/isms evidence show CTL-AC-01', at)).toContain('CTL-AC-01 belongs to Bruno Board <bruno@test.example>');
  });

  it('names an unknown reference, suggests the control meant, and asks for the reference when none is given', async () => {
    await requestWithRevisions();
    expect(await bot.sayText('lead', '/isms evidence show EV-0999', at)).toContain('There is no evidence EV-0999. Nothing was recorded.');
    expect(await bot.sayText('lead', '/isms evidence show EVR-0999', at)).toContain('EVR-0999 does not exist.');
    expect(await bot.sayText('lead', '/isms evidence show CTL-AC-10', at)).toContain('There is no control "CTL-AC-10". Did you mean CTL-AC-01?');
    expect(findForm(await bot.say('lead', '/isms evidence show', at))?.fields.map((f) => f.name)).toEqual(['target']);
  });

  it('--download hands out the file with the bytes and SHA-256 submitted, as an audited read', async () => {
    const { refs, file } = await requestWithRevisions(Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from([0, 255, 13, 10]), Buffer.alloc(70_000, 0x41)]));
    const before = await bot.auditCount();
    const answer = await bot.say('auditor', `/isms evidence show ${refs[1]} --download`, at);
    const out = fileOf(answer)!;
    expect(out).toMatchObject({ name: 'access-review.pdf', mimeType: 'application/pdf', title: `Evidence ${refs[1]}, access-review.pdf (70.0 kB), SHA-256 ${sha256(file).slice(0, 12)}…` });
    expect(path.dirname(path.dirname(out.path))).toBe(path.join(tmpdir(), 'isms-exports'));
    const copied = await readFile(out.path);
    expect(sha256(copied)).toBe(sha256(file));
    expect(Buffer.compare(copied, file)).toBe(0);
    await rm(path.dirname(out.path), { recursive: true, force: true });

    expect(await bot.auditCount()).toBe(before + 1);
    const [event] = await bot.t.db.select().from(auditEvents).where(eq(auditEvents.action, 'retrieve'));
    expect(event).toMatchObject({ entity: 'evidence_item', entityRef: refs[1], actorLabel: 'Ada Auditor <ada@test.example> via test',
      after: { retrieved: { file: 'access-review.pdf', bytes: file.length, sha256: sha256(file) } } });
    // The read is in the trail without disturbing what the trail says of the register (whose
    // people and control the test seeded directly, without the events the bot would have written).
    await auditSeededRows(bot.t.db);
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
  });

  it('--download names a request or a revision without a file as having nothing to send', async () => {
    const { request, refs } = await requestWithRevisions();
    expect(await bot.sayText('owner', `/isms evidence show ${request.ref} --download`, at))
      .toContain(`"--download" sends the file of one revision, and ${request.ref} stands for all of its revisions.`);
    expect(await bot.sayText('owner', `/isms evidence show ${refs[2]} --download`, at)).toContain(`${refs[2]} has no file: it was submitted as a link.`);
  });

  it('a stored file changed in the database is refused by reference, nothing is handed out, and the ISMS lead is told once', async () => {
    const { refs } = await requestWithRevisions();
    await tamperWithStoredFile(bot.t.db, refs[1], 5);
    // A temporary folder of this test's own, to see that nothing is left behind.
    const temp = await mkdtemp(path.join(tmpdir(), 'isms-evidence-show-'));
    vi.stubEnv('TMPDIR', temp);

    const answer = await bot.say('auditor', `/isms evidence show ${refs[1]} --download`, at);
    expect(answer.outcome).toBe('refused');
    expect(fileOf(answer)).toBeUndefined();
    const plain = toPlainText(answer);
    expect(plain).toContain(`The file of ${refs[1]} (access-review.pdf) does not match the SHA-256 recorded when it was submitted, so I can't hand it out.`);
    expect(plain).toContain('The register should be checked with "npm run isms -- verify". The ISMS lead (Lena Lead) has been told.');
    vi.unstubAllEnvs();
    expect(await readdir(path.join(temp, 'isms-exports'))).toEqual([]);
    await rm(temp, { recursive: true, force: true });

    const told = (await bot.outboxFor('lead')).filter((m) => m.kind === 'evidence_file_mismatch');
    expect(told).toHaveLength(1);
    expect(toPlainText(told[0].reply as Reply)).toContain(`The stored file of ${refs[1]} (access-review.pdf) no longer matches the SHA-256 recorded when it was submitted. Ada Auditor asked for it`);
    const [event] = await bot.t.db.select().from(auditEvents).where(eq(auditEvents.action, 'refuse_retrieve'));
    expect(event).toMatchObject({ entity: 'evidence_item', entityRef: refs[1] });

    // Asking again refuses again without repeating the alarm.
    expect(toPlainText(await bot.say('owner', `/isms evidence show ${refs[1]} --download`, at))).toContain(`The file of ${refs[1]}`);
    expect((await bot.outboxFor('lead')).filter((m) => m.kind === 'evidence_file_mismatch')).toHaveLength(1);
  });

  it('the evidence register offers "Show evidence" for requests with revisions', async () => {
    const { request } = await requestWithRevisions();
    const open = await addEvidenceRequest(bot.t.db, { controlId: (await addControl(bot.t.db, { code: 'CTL-BK-01', ownerId: bot.ids.owner })).id, ownerId: bot.ids.owner, dueOn: '2026-06-30' });
    const items = listItems(await bot.say('auditor', '/isms register evidence', at));
    expect(items.find((i) => i.title.startsWith(request.ref))?.buttons).toEqual([{ label: 'Show evidence', command: `evidence show ${request.ref}` }]);
    expect(items.find((i) => i.title.startsWith(open.ref))?.buttons).toEqual([]);
  });
});

describe('evidence show --download in the terminal', () => {
  let bot: TestBot;
  let workDir: string;
  beforeEach(async () => {
    bot = await createTestBot();
    workDir = await mkdtemp(path.join(tmpdir(), 'isms-evidence-show-'));
    vi.stubEnv('ISMS_EXPORT_DIR', path.join(workDir, 'exports'));
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await bot.destroy();
    await rm(workDir, { recursive: true, force: true });
  });

  it('saves the file into the export folder with the SHA-256 submitted', async () => {
    const control = await addControl(bot.t.db, { code: 'CTL-AC-01', title: 'Access reviews', ownerId: bot.ids.owner });
    const request = await addEvidenceRequest(bot.t.db, { controlId: control.id, ownerId: bot.ids.owner, dueOn: '2099-06-30' });
    const bytes = Buffer.concat([Buffer.from('account,reviewed\n'), Buffer.alloc(3000, 0x2c), Buffer.from([0, 1, 2, 255])]);
    await writeFile(path.join(workDir, 'access review.csv'), bytes);

    let screen = '';
    const output = new Writable({ write(chunk, _enc, done) { screen += String(chunk); done(); } });
    const input = new PassThrough();
    const shell = new Shell(assembleCore(loadConfig({}), createLogger('silent'), bot.t), { input, output });
    input.end([
      `/isms evidence submit ${request.ref} --file "${path.join(workDir, 'access review.csv')}"`,
      '/isms evidence show EV-0001 --download',
      '',
    ].join('\n'));
    await shell.run();

    const saved = path.join(workDir, 'exports', 'access review.csv');
    expect(screen).toContain(`📎 Saved Evidence EV-0001, access review.csv (3.0 kB), SHA-256 ${sha256(bytes).slice(0, 12)}… to ${saved}`);
    expect(sha256(await readFile(saved))).toBe(sha256(bytes));
  });
});
