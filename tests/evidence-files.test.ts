import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Shell } from '../adapters/shell/shell.js';
import { assembleCore } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { MAX_EVIDENCE_FILE_BYTES } from '../src/core/attachments.js';
import type { Attachment } from '../src/core/router.js';
import { evidenceFileChunks, evidenceItems } from '../src/db/schema/index.js';
import { readEvidenceFile } from '../src/domain/evidence/files.js';
import { addDays, readersDay } from '../src/core/time.js';
import { createLogger } from '../src/log.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { addControl } from './helpers/fixtures.js';

const MiB = 1024 * 1024;

/** Runs typed lines through the terminal chat in this process, acting as the ISMS lead; returns what it printed. */
async function inTheTerminal(bot: TestBot, ...lines: string[]): Promise<string> {
  let printed = '';
  const output = new Writable({ write(chunk, _enc, done) { printed += String(chunk); done(); } });
  const input = new PassThrough();
  const shell = new Shell(assembleCore(loadConfig({}), createLogger('silent'), bot.t), { input, output });
  input.end(lines.map((l) => `${l}\n`).join(''));
  await shell.run();
  return printed;
}

const storedRows = async (bot: TestBot) => ({
  items: (await bot.t.db.select({ id: evidenceItems.id }).from(evidenceItems)).length,
  chunks: (await bot.t.db.select({ seq: evidenceFileChunks.seq }).from(evidenceFileChunks)).length,
  events: await bot.auditCount(),
});

describe('evidence files of any size cost one chunk of memory', () => {
  let bot: TestBot;
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(path.join(tmpdir(), 'evidence-files-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });
  beforeEach(async () => {
    bot = await createTestBot();
    await addControl(bot.t.db, { code: 'CTL-BK-01', title: 'Backups', ownerId: bot.ids.lead });
  });
  afterEach(async () => { await bot.destroy(); });

  it('stores a 50 MB file given with --file under its SHA-256, reads it back identical, and saves it back out of the terminal', async () => {
    const file = path.join(dir, 'backup-restore.bin');
    const hash = createHash('sha256');
    const out = await open(file, 'w');
    for (let i = 0; i < 50; i++) {
      const part = randomBytes(MiB);
      hash.update(part);
      await out.write(part);
    }
    await out.close();
    const sha256 = hash.digest('hex');

    const printed = await inTheTerminal(bot, `/isms evidence submit CTL-BK-01 --file ${file}`);
    expect(printed).toContain(`File: backup-restore.bin (${50 * MiB} bytes)`);
    expect(printed).toContain(`SHA-256: ${sha256}`);

    const [item] = await bot.t.db.select().from(evidenceItems);
    expect(item).toMatchObject({ fileName: 'backup-restore.bin', fileSize: 50 * MiB, fileSha256: sha256 });
    const readBack = createHash('sha256');
    let size = 0;
    for await (const part of readEvidenceFile(bot.t.db, { id: item.id, ref: item.ref, name: item.fileName!, size: item.fileSize!, sha256 })) {
      expect(part.length).toBeLessThanOrEqual(MiB);
      readBack.update(part);
      size += part.length;
    }
    expect({ size, sha256: readBack.digest('hex') }).toEqual({ size: 50 * MiB, sha256 });

    // And back out through the terminal, into its export folder, byte for byte.
    const exports = path.join(dir, 'exports');
    vi.stubEnv('ISMS_EXPORT_DIR', exports);
    try {
      const saved = await inTheTerminal(bot, `/isms evidence show ${item.ref} --download`);
      expect(saved).toContain(`Saved Evidence ${item.ref}, backup-restore.bin`);
      const retrieved = createHash('sha256');
      for await (const part of createReadStream(path.join(exports, 'backup-restore.bin'))) retrieved.update(part as Buffer);
      expect(retrieved.digest('hex')).toBe(sha256);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('records the same --file given twice in the terminal once, and the second time says which revision has it; a month later it is a new revision', async () => {
    const file = path.join(dir, 'restore-report.txt');
    await writeFile(file, 'restore of db-1: ok\n');
    const printed = await inTheTerminal(bot, `/isms evidence submit CTL-BK-01 --file ${file}`, `/isms evidence submit CTL-BK-01 --file ${file}`);
    const items = await bot.t.db.select().from(evidenceItems);
    expect(items).toHaveLength(1);
    const day = readersDay(items[0].submittedAt, 'Europe/Berlin');
    expect(printed).toContain(`Recorded ${items[0].ref} (revision 1)`);
    expect(printed).toContain(`This is already recorded for CTL-BK-01 as revision 1 (${items[0].ref}, ${day}): the same file, effective ${items[0].effectiveOn}. Nothing was recorded again.`);

    // Recorded a month ago, the same file today shows the backup still restores: a new revision.
    const monthAgo = addDays(items[0].effectiveOn, -30);
    await bot.t.db.update(evidenceItems).set({ effectiveOn: monthAgo, submittedAt: new Date(items[0].submittedAt.getTime() - 30 * 86_400_000) });
    const later = await inTheTerminal(bot, `/isms evidence submit CTL-BK-01 --file ${file}`);
    const [, today] = (await bot.t.db.select().from(evidenceItems)).sort((x, y) => x.revision - y.revision);
    expect(today).toMatchObject({ revision: 2, effectiveOn: items[0].effectiveOn, fileSha256: items[0].fileSha256 });
    expect(later).toContain(`Recorded ${today.ref} (revision 2)`);
    expect(later).toContain(`The same file as revision 1 (${items[0].ref}, effective ${monthAgo}), recorded again as effective ${today.effectiveOn}`);
  });

  it('refuses a file over 100 MB in the terminal by its size on disk, before reading it', async () => {
    // A sparse file: its size is what stat says, without the bytes taking disk space.
    const file = path.join(dir, 'disk-image.raw');
    await (await open(file, 'w')).close();
    await truncate(file, MAX_EVIDENCE_FILE_BYTES + 1);
    const before = await storedRows(bot);
    const printed = await inTheTerminal(bot, `/isms evidence submit CTL-BK-01 --file ${file}`);
    expect(printed).toContain(`✖ The file "${file}" is larger than 100 MB. Nothing was recorded.`);
    expect(await storedRows(bot)).toEqual(before);
  });

  it('refuses a file whose bytes run past the limit though its stated size was small, stops reading there, and records nothing', async () => {
    let pulled = 0;
    const lying: Attachment = {
      name: 'endless.log',
      size: 10,
      // A first chunk that is stored, then one part that takes the file past the limit, then more that must never be asked for.
      open: async function* () {
        for (const size of [MiB, MAX_EVIDENCE_FILE_BYTES, MiB]) {
          pulled++;
          yield Buffer.alloc(size, 'x');
        }
      },
    };
    const before = await storedRows(bot);
    const answer = await bot.sayText('lead', '/isms evidence submit CTL-BK-01', { attachments: [lying] });
    expect(answer).toContain('The file "endless.log" is larger than 100 MB. Nothing was recorded.');
    expect(pulled).toBe(2);
    expect(await storedRows(bot)).toEqual(before);
  });

  it('refuses a file whose stated size is over the limit without opening it', async () => {
    const huge: Attachment = {
      name: 'huge.iso', size: MAX_EVIDENCE_FILE_BYTES + 1,
      open: () => { throw new Error('a file refused by its size must not be read'); },
    };
    const before = await storedRows(bot);
    const answer = await bot.sayText('lead', '/isms evidence submit CTL-BK-01', { attachments: [huge] });
    expect(answer).toContain('The file "huge.iso" is larger than 100 MB. Nothing was recorded.');
    expect(await storedRows(bot)).toEqual(before);
  });
});
