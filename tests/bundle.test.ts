import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'csv-parse/sync';
import { and, asc, eq, gte, lt, sql } from 'drizzle-orm';
import yauzl from 'yauzl';
import yazl from 'yazl';
import type { Db } from '../src/db/client.js';
import { tamperWithStoredFile } from './helpers/tamper.js';
import { attachmentFromBuffer } from '../src/core/attachments.js';
import type { Attachment } from '../src/core/router.js';
import { auditEvents, evidenceItems, people } from '../src/db/schema/index.js';
import { buildRouter } from '../src/commands.js';
import { toActor } from '../src/core/actor.js';
import type { Reply } from '../src/core/reply.js';
import { writeBundle, type BundleIndex } from '../src/domain/exports/bundle.js';
import { bundlePath } from '../src/domain/evidence/file-names.js';
import { verifyBundle } from '../src/domain/exports/bundle-verify.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { Shell } from '../adapters/shell/shell.js';
import { assembleCore } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { addControl, addEvidenceRequest } from './helpers/fixtures.js';
import { freshRegister, runScript, type Register } from './helpers/process.js';

const PERIOD = { from: '2026-03-01', to: '2026-06-30' };
const LATER = new Date('2026-09-01T12:00:00Z');

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Every entry of a zip, by name. Test bundles are small. */
async function readZip(file: string): Promise<Map<string, Buffer>> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true });
  const out = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => { out.set(entry.fileName, Buffer.concat(chunks)); zip.readEntry(); });
        stream.on('error', reject);
      });
    });
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.readEntry();
  });
  return out;
}

/** Writes a zip of these entries, as someone tampering with a bundle would. */
async function writeZip(file: string, entries: Map<string, Buffer>): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const [name, bytes] of entries) zip.addBuffer(bytes, name);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  await writeFile(file, Buffer.concat(chunks));
}

/** A copy of the bundle with its entries edited: return the new entries. */
async function tampered(dir: string, bundle: string, name: string, edit: (entries: Map<string, Buffer>) => void): Promise<string> {
  const entries = await readZip(bundle);
  edit(entries);
  const file = path.join(dir, `${name}.zip`);
  await writeZip(file, entries);
  return file;
}

const problemOf = async (file: string) => {
  const verdict = await verifyBundle(file);
  return verdict.ok ? `ok: ${verdict.summary}` : verdict.problem;
};

interface Submitted { ref: string; name: string; bytes: Buffer }

/** Evidence files before, in and after the period, submitted through the router as people do. */
async function submitEvidence(db: Db, say: (line: string, opts: { now: Date; attachments?: Attachment[] }) => Promise<Reply>, ownerId: number) {
  const control = await addControl(db, { code: 'CTL-AC-01', title: 'Access reviews', ownerId });
  const submit = async (day: string, name: string | undefined, bytes = randomBytes(3000)): Promise<Submitted | undefined> => {
    const request = await addEvidenceRequest(db, { controlId: control.id, ownerId, dueOn: day, cycle: day });
    const now = new Date(`${day}T10:00:00Z`);
    await say(`/isms evidence submit ${request.ref}${name ? '' : ' "reviewed in the meeting"'}`, { now, attachments: name ? [attachmentFromBuffer(name, bytes)] : [] });
    const [item] = await db.select({ ref: evidenceItems.ref }).from(evidenceItems).where(eq(evidenceItems.requestId, request.id));
    return name ? { ref: item.ref, name, bytes } : undefined;
  };
  const before = await submit('2026-01-10', 'old.txt');
  const review = await submit('2026-03-05', 'Access review Q1.pdf', Buffer.from('%PDF-1.4 access review Q1\n'));
  await submit('2026-04-02', undefined);
  const scan = await submit('2026-06-30', 'scan.bin');
  const after = await submit('2026-08-01', 'late.txt');
  return { before: before!, inPeriod: [review!, scan!], after: after! };
}

describe('evidence bundles', () => {
  let bot: TestBot;
  let dir: string;
  let bundle: string;
  let fixtures: Awaited<ReturnType<typeof submitEvidence>>;
  beforeAll(async () => {
    bot = await createTestBot();
    dir = await mkdtemp(path.join(tmpdir(), 'isms-bundle-'));
    fixtures = await submitEvidence(bot.t.db, (line, opts) => bot.say('owner', line, opts), bot.ids.owner);
    bundle = path.join(dir, 'bundle.zip');
    await writeBundle(bot.t.db, bundle, { period: PERIOD, now: LATER });
  });
  afterAll(async () => {
    await bot?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('holds exactly the files submitted in the period, byte for byte, indexed with their SHA-256, and the period\'s audit events as stored', async () => {
    const entries = await readZip(bundle);
    const [review, scan] = fixtures.inPeriod;
    expect(bundlePath(review.ref, review.name)).toBe(`evidence/${review.ref}-Access-review-Q1.pdf`);
    expect([...entries.keys()].filter((n) => n.startsWith('evidence/')).sort()).toEqual([`evidence/${review.ref}-Access-review-Q1.pdf`, `evidence/${scan.ref}-scan.bin`]);
    expect(entries.get(`evidence/${scan.ref}-scan.bin`)!.equals(scan.bytes)).toBe(true);

    const index = JSON.parse(entries.get('index.json')!.toString()) as BundleIndex;
    expect(index.period).toEqual(PERIOD);
    expect(index.files).toEqual([review, scan].map((f, i) => expect.objectContaining({
      ref: f.ref, fileName: f.name, size: f.bytes.length, sha256: sha256(f.bytes), control: 'CTL-AC-01 Access reviews',
      submittedBy: 'Olga Owner <olga@test.example>', submittedAt: i === 0 ? '2026-03-05T10:00:00.000Z' : '2026-06-30T10:00:00.000Z',
      path: i === 0 ? `evidence/${f.ref}-Access-review-Q1.pdf` : `evidence/${f.ref}-scan.bin`, revision: 1,
    })));
    const csv = parse(entries.get('index.csv')!) as string[][];
    expect(csv[0]).toEqual(['Reference', 'Request', 'Control', 'Revision', 'Submitted by', 'Submitted at', 'Effective on', 'File name', 'Size (bytes)', 'SHA-256', 'Path in bundle']);
    expect(csv.slice(1).map((r) => [r[0], r[9]])).toEqual([[review.ref, sha256(review.bytes)], [scan.ref, sha256(scan.bytes)]]);

    const stored = await bot.t.db.select().from(auditEvents)
      .where(and(gte(auditEvents.at, '2026-03-01T00:00:00Z'), lt(auditEvents.at, '2026-07-01T00:00:00Z'))).orderBy(asc(auditEvents.seq));
    const lines = entries.get('audit-events.jsonl')!.toString().trim().split('\n').map((l) => JSON.parse(l) as typeof stored[number]);
    expect(lines.map((e) => e.seq)).toEqual(stored.map((e) => e.seq));
    expect(lines.map((e) => ({ ...e, at: Date.parse(e.at) }))).toEqual(stored.map((e) => ({ ...e, at: Date.parse(e.at) })));

    const [last] = await bot.t.db.select().from(auditEvents).orderBy(sql`seq desc`).limit(1);
    expect(JSON.parse(entries.get('chain-head.json')!.toString())).toEqual({ seq: last.seq, hash: last.hash, at: LATER.toISOString() });
    expect(entries.get('README.txt')!.toString()).toContain('npm run isms -- verify-bundle');
  });

  it('verifies: files, events and the head, which is later than the period\'s last event', async () => {
    const lastInPeriod = (await bot.t.db.select().from(auditEvents).where(lt(auditEvents.at, '2026-07-01T00:00:00Z')).orderBy(sql`seq desc`).limit(1))[0];
    const head = (await bot.t.db.select().from(auditEvents).orderBy(sql`seq desc`).limit(1))[0];
    expect(await problemOf(bundle)).toMatch(new RegExp(`^ok: Bundle intact: 2 evidence files \\(\\d+ bytes\\) match index\\.json and their submission events; \\d+ audit events \\(#\\d+–#${lastInPeriod.seq}\\) chain and recompute; period 2026-03-01 to 2026-06-30; chain head #${head.seq} \\(${head.hash.slice(0, 12)}…, ${LATER.toISOString()}\\) is ${head.seq - lastInPeriod.seq} events? later than the period's last event\\.$`));
  });

  it('a bundle that runs to the end holds every event up to the head, and says the head is its last event', async () => {
    const file = path.join(dir, 'to-the-end.zip');
    const summary = await writeBundle(bot.t.db, file, { period: { from: '2026-03-01' }, now: LATER });
    expect(summary.files).toBe(3);
    expect(await problemOf(file)).toMatch(new RegExp(`chain head #${summary.head.seq} \\(.*\\) is the last event\\.$`));
    const cut = await tampered(dir, file, 'cut-tail', (entries) => {
      const lines = entries.get('audit-events.jsonl')!.toString().trim().split('\n');
      entries.set('audit-events.jsonl', Buffer.from(`${lines.slice(0, -1).join('\n')}\n`));
      const index = JSON.parse(entries.get('index.json')!.toString()) as BundleIndex;
      index.auditEvents = { ...index.auditEvents, count: index.auditEvents.count - 1, lastSeq: index.auditEvents.lastSeq! - 1 };
      entries.set('index.json', Buffer.from(JSON.stringify(index)));
    });
    expect(await problemOf(cut)).toBe(`audit events ${summary.head.seq} to ${summary.head.seq} are missing: the period runs to the end, so its last event must be the chain head (event ${summary.head.seq}).`);
  });

  it('names a file whose byte was changed in the zip, a file removed, and an index hash edited', async () => {
    const [review, scan] = fixtures.inPeriod;
    const reviewPath = `evidence/${review.ref}-Access-review-Q1.pdf`;
    const changed = await tampered(dir, bundle, 'byte', (entries) => {
      const bytes = Buffer.from(entries.get(reviewPath)!);
      bytes[5] ^= 1;
      entries.set(reviewPath, bytes);
    });
    expect(await problemOf(changed)).toBe(`${reviewPath} does not match its SHA-256 in index.json.`);

    const removed = await tampered(dir, bundle, 'removed', (entries) => entries.delete(`evidence/${scan.ref}-scan.bin`));
    expect(await problemOf(removed)).toBe(`evidence/${scan.ref}-scan.bin is listed in index.json but missing from the bundle.`);

    const edited = await tampered(dir, bundle, 'index', (entries) => {
      const index = JSON.parse(entries.get('index.json')!.toString()) as BundleIndex;
      index.files[1].sha256 = sha256(Buffer.from('something else'));
      entries.set('index.json', Buffer.from(JSON.stringify(index)));
    });
    expect(await problemOf(edited)).toBe(`evidence/${scan.ref}-scan.bin does not match its SHA-256 in index.json.`);
  });

  it('names a file swapped together with its index entry by its submission event, and a file the index does not list', async () => {
    const [review] = fixtures.inPeriod;
    const reviewPath = `evidence/${review.ref}-Access-review-Q1.pdf`;
    const swapped = await tampered(dir, bundle, 'swapped', (entries) => {
      const forged = Buffer.from('%PDF-1.4 a nicer access review\n');
      entries.set(reviewPath, forged);
      const index = JSON.parse(entries.get('index.json')!.toString()) as BundleIndex;
      Object.assign(index.files[0], { sha256: sha256(forged), size: forged.length });
      entries.set('index.json', Buffer.from(JSON.stringify(index)));
      entries.set('index.csv', Buffer.from(entries.get('index.csv')!.toString().replace(sha256(review.bytes), sha256(forged)).replace(`,${review.bytes.length},`, `,${forged.length},`)));
    });
    expect(await problemOf(swapped)).toMatch(new RegExp(`^${review.ref}'s SHA-256 in index\\.json differs from the one its audit event \\d+ recorded\\.$`));

    const extra = await tampered(dir, bundle, 'extra', (entries) => entries.set('evidence/EV-9999-planted.txt', Buffer.from('planted')));
    expect(await problemOf(extra)).toBe('evidence/EV-9999-planted.txt is in the bundle but not in index.json.');
  });

  it('names an audit event whose text was edited, and one removed from the middle', async () => {
    const lines = (await readZip(bundle)).get('audit-events.jsonl')!.toString().trim().split('\n');
    const middle = JSON.parse(lines[2]) as { seq: number; actorLabel: string };
    const edited = await tampered(dir, bundle, 'event-text', (entries) => {
      entries.set('audit-events.jsonl', Buffer.from(lines.map((l, i) => (i === 2 ? l.replace(middle.actorLabel, 'Someone Else') : l)).join('\n')));
    });
    expect(await problemOf(edited)).toBe(`audit event ${middle.seq} was altered: its hash does not recompute.`);

    const removed = await tampered(dir, bundle, 'event-removed', (entries) => {
      entries.set('audit-events.jsonl', Buffer.from(lines.filter((_, i) => i !== 2).join('\n')));
    });
    expect(await problemOf(removed)).toBe(`audit event ${middle.seq} is missing: event ${middle.seq + 1} follows event ${middle.seq - 1}.`);
  });

  it('"/isms export bundle" answers the auditor with the zip, audited; others are refused; a backward period is refused', async () => {
    const answer = await bot.say('auditor', '/isms export bundle --from 2026-03-01 --to 2026-06-30', { now: LATER });
    const file = answer.blocks.find((b) => b.type === 'file');
    expect(file?.type === 'file' && file.file).toMatchObject({ name: 'evidence-bundle-2026-09-01.zip', mimeType: 'application/zip', title: expect.stringContaining('2026-03-01 to 2026-06-30 (2 files') });
    const zip = file?.type === 'file' ? file.file.path : '';
    expect(zip.startsWith(path.join(tmpdir(), 'isms-exports'))).toBe(true);
    expect(await problemOf(zip)).toMatch(/^ok: Bundle intact: 2 evidence files/);
    const [event] = await bot.t.db.select().from(auditEvents).where(and(eq(auditEvents.action, 'export'), eq(auditEvents.entityRef, 'bundle')));
    expect(event).toMatchObject({ actorLabel: expect.stringContaining('Ada Auditor'), after: { format: 'zip', files: 2, period: PERIOD } });
    await rm(path.dirname(zip), { recursive: true, force: true });

    const before = await bot.auditCount();
    expect(await bot.sayText('staff', '/isms export bundle', { now: LATER })).toContain('Only the ISMS lead, an auditor or the management body may use');
    expect(await bot.sayText('lead', '/isms export bundle --from 2026-06-30 --to 2026-03-01', { now: LATER }))
      .toContain('--from 2026-06-30 is after --to 2026-03-01: the period would be empty. Nothing was recorded.');
    expect(await bot.sayText('lead', '/isms export bundle --from 2026-09-02', { now: LATER })).toContain('--from 2026-09-02 is after today (2026-09-01)');
    expect(await bot.auditCount()).toBe(before);

    const defaulted = await bot.say('board', '/isms export bundle', { now: LATER });
    const last12 = defaulted.blocks.find((b) => b.type === 'file');
    expect(last12?.type === 'file' && last12.file.title).toContain('Evidence bundle 2025-09-02 to now (4 files');
    if (last12?.type === 'file') await rm(path.dirname(last12.file.path), { recursive: true, force: true });
  });
});

describe('a stored file that does not match its SHA-256', () => {
  let bot: TestBot;
  let dir: string;
  beforeAll(async () => {
    bot = await createTestBot();
    dir = await mkdtemp(path.join(tmpdir(), 'isms-bundle-'));
  });
  afterAll(async () => {
    await bot?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stops the bundle, names the reference, and leaves no file behind', async () => {
    const { inPeriod: [review] } = await submitEvidence(bot.t.db, (line, opts) => bot.say('owner', line, opts), bot.ids.owner);
    await tamperWithStoredFile(bot.t.db, review.ref);
    const file = path.join(dir, 'bundle.zip');
    await expect(writeBundle(bot.t.db, file, { period: PERIOD, now: LATER }))
      .rejects.toThrow(`The bundle was not made: the stored file of ${review.ref} (${review.name}) does not match its SHA-256`);
    expect(await readdir(dir)).toEqual([]);
    expect(await bot.sayText('auditor', '/isms export bundle --from 2026-03-01', { now: LATER })).toContain(`the stored file of ${review.ref}`);
  });
});

describe('an evidence bundle made in the terminal', () => {
  it('gives a verify-bundle command with the path the zip was saved to, which works when pasted', async () => {
    const bot = await createTestBot();
    const dir = await mkdtemp(path.join(tmpdir(), 'isms-bundle-shell-'));
    vi.stubEnv('ISMS_EXPORT_DIR', path.join(dir, 'exports'));
    try {
      let screen = '';
      const output = new Writable({ write(chunk, _enc, done) { screen += String(chunk); done(); } });
      const input = new PassThrough();
      const shell = new Shell(assembleCore(loadConfig({}), createLogger('silent'), bot.t), { input, output });
      input.end(['/as auditor', '/isms export bundle', ''].join('\n'));
      await shell.run();
      const [zip] = await readdir(path.join(dir, 'exports'));
      const saved = path.join(dir, 'exports', zip);
      expect(screen).toContain(`"npm run isms -- verify-bundle ${saved}"`);
      expect((await verifyBundle(saved)).ok).toBe(true);
    } finally {
      vi.unstubAllEnvs();
      await bot.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('npm run isms -- bundle and verify-bundle', () => {
  let register: Register;
  let review: Submitted;
  beforeAll(async () => {
    register = await freshRegister();
    review = await register.withDb(async (db) => {
      const { migrate } = await import('../src/db/migrate.js');
      await migrate(db);
      const [owner] = await db.insert(people).values({ name: 'Olga Owner', email: 'olga@test.example', roles: ['control_owner', 'staff'] }).returning();
      const router = buildRouter(db);
      const { inPeriod } = await submitEvidence(db, (line, opts) => router.handle(line, { actor: toActor(owner), channel: 'test', ...opts }), owner.id);
      return inPeriod[0];
    });
  });
  afterAll(async () => { await register?.dispose(); });

  const isms = (...args: string[]) => runScript('src/cli.ts', args, { env: register.env, cwd: register.cwd });

  it('writes a bundle an auditor verifies offline, names a tampered file, and explains usage errors', async () => {
    const made = await isms('bundle', '--from', '2026-03-01', '--to', '2026-06-30', '--out', 'audit/bundle.zip');
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/^Bundled 2 evidence files \(\d+ bytes\) and \d+ audit events for 2026-03-01 to 2026-06-30 into audit\/bundle\.zip; chain head #\d+\./);
    const zip = path.join(register.cwd, 'audit', 'bundle.zip');

    const reviewPath = `evidence/${review.ref}-Access-review-Q1.pdf`;
    const bad = await tampered(register.cwd, zip, 'bad', (entries) => entries.set(reviewPath, Buffer.from('forged')));
    // None of these opens the register, so they may run side by side.
    const [good, named, noFile, backwards] = await Promise.all([
      isms('verify-bundle', zip), isms('verify-bundle', bad), isms('verify-bundle'), isms('bundle', '--from', '2026-06-30', '--to', '2026-03-01'),
    ]);
    expect(good).toMatchObject({ code: 0, stderr: '' });
    expect(good.stdout).toMatch(/^Bundle intact: 2 evidence files .* period 2026-03-01 to 2026-06-30; chain head #\d+ .* later than the period's last event\.\n$/);
    expect(named).toMatchObject({ code: 1, stdout: `${bad}: ${reviewPath} does not match its SHA-256 in index.json.\n` });
    expect(noFile).toMatchObject({ code: 2, stderr: '"verify-bundle" takes one argument: the bundle\'s zip file.\nUsage: npm run isms -- verify-bundle <bundle.zip>\n' });
    expect(backwards).toMatchObject({ code: 2, stderr: '--from 2026-06-30 is after --to 2026-03-01: the period would be empty.\nUsage: npm run isms -- bundle [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--out <file.zip>]\n' });
    expect(existsSync(path.join(register.cwd, 'exports'))).toBe(false);
  }, 120_000);
});
