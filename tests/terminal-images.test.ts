/**
 * The terminal cannot show a picture: a message's images (the review pack's charts) are saved into
 * the export folder like files, and the person is told where.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Shell } from '../adapters/shell/shell.js';
import { assembleCore } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { MAX_IMAGE_BYTES, imageBlock, notificationText, reply, toPlainText } from '../src/core/reply.js';
import { CHART_HEIGHT, CHART_WIDTH } from '../src/domain/reviews/charts.js';
import { createLogger } from '../src/log.js';
import { createTestBot, type TestBot } from './helpers/bot.js';

let bot: TestBot;
let dir: string;

beforeAll(async () => {
  bot = await createTestBot();
  dir = await mkdtemp(path.join(tmpdir(), 'terminal-images-'));
  vi.stubEnv('ISMS_EXPORT_DIR', dir);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await bot.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe('images in the terminal', () => {
  it('saves the review pack charts the board member is sent into the export folder and says where, keeping the lead\'s pack files of the same names', async () => {
    let printed = '';
    const output = new Writable({ write(chunk, _enc, done) { printed += String(chunk); done(); } });
    const input = new PassThrough();
    const shell = new Shell(assembleCore(loadConfig({}), createLogger('silent'), bot.t), { input, output });
    input.end(['/as lena@test.example', '/isms review prepare', '/as bruno@test.example', ''].join('\n'));
    await shell.run();

    expect(printed).toContain('New message for you');
    const charts = [
      'review-pack-RP-0001-evidence-freshness', 'review-pack-RP-0001-poam-open-closed',
      'review-pack-RP-0001-policy-training', 'review-pack-RP-0001-risks-appetite',
    ];
    // The lead who prepared it saved the pack's files (📎) into the same folder first: the board member's pictures (🖼) sit beside them.
    expect((await readdir(dir)).filter((f) => f.endsWith('.png')).sort()).toEqual(charts.flatMap((c) => [`${c}-2.png`, `${c}.png`]));
    const pictures = printed.split('\n').filter((l) => l.startsWith('🖼 Saved'));
    expect(pictures).toHaveLength(4);
    for (const chart of charts) {
      expect(pictures.some((l) => l.endsWith(`to ${path.join(dir, `${chart}-2.png`)} (${path.join(dir, `${chart}.png`)} from before is kept)`))).toBe(true);
      for (const name of [`${chart}.png`, `${chart}-2.png`]) {
        const png = await readFile(path.join(dir, name));
        expect({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) }).toEqual({ width: CHART_WIDTH, height: CHART_HEIGHT });
      }
    }
  });
});

describe('an image block', () => {
  const image = (bytes: number) => imageBlock({ title: 'Risks against appetite', alt: 'Three risks, one above the appetite', fileName: 'risks.png', png: Buffer.alloc(bytes, 1) });

  it('reads as its title where it cannot be shown, and its alt text in plain text', () => {
    expect(notificationText(reply(image(100)))).toBe('Risks against appetite');
    expect(toPlainText(reply(image(100)))).toBe('🖼 Risks against appetite — Three risks, one above the appetite');
  });

  it('larger than 1 MB becomes a sentence saying so, not a picture', () => {
    expect(image(MAX_IMAGE_BYTES).type).toBe('image');
    expect(image(MAX_IMAGE_BYTES + 1)).toEqual({
      type: 'text', tone: 'warning',
      text: 'Risks against appetite: the picture is too large to show here (1025 KB, at most 1024 KB); Three risks, one above the appetite',
    });
  });
});
