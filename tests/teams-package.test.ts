import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import JSZip from 'jszip';
import { PNG } from 'pngjs';
import { buildTeamsPackage } from '../scripts/teams-package.js';
import { buildRouter } from '../src/commands.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

const run = promisify(execFile);
const APP_ID = '6f1c2a9e-3d4b-4c5a-9e8f-0a1b2c3d4e5f';
const ENV = { MICROSOFT_APP_ID: APP_ID, TEAMS_DEVELOPER_URL: 'https://isms.example.com' };
const TSX = path.resolve('node_modules/.bin/tsx');
const SCRIPT = path.resolve('scripts/teams-package.ts');

describe('npm run teams:package', () => {
  let zip: JSZip;
  let manifest: Record<string, any>;
  let t: TestDatabase;
  let tmp: string;

  beforeAll(async () => {
    zip = await JSZip.loadAsync(await buildTeamsPackage(ENV));
    manifest = JSON.parse(await zip.file('manifest.json')!.async('string'));
    t = await createTestDatabase({ migrate: false });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'teams-package-'));
  });
  afterAll(async () => {
    await t.destroy();
    await rm(tmp, { recursive: true, force: true });
  });

  it('fills the ids and developer details into a manifest with nothing left to fill', async () => {
    expect(Object.keys(zip.files).sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    expect(await zip.file('manifest.json')!.async('string')).not.toContain('${{');
    expect(manifest).toMatchObject({
      manifestVersion: '1.17', id: APP_ID, version: '0.1.0',
      developer: { name: 'isms.example.com', websiteUrl: 'https://isms.example.com', privacyUrl: 'https://isms.example.com/privacy', termsOfUseUrl: 'https://isms.example.com/terms' },
      icons: { color: 'color.png', outline: 'outline.png' },
    });
    expect(manifest.bots[0]).toMatchObject({ botId: APP_ID, supportsFiles: true, scopes: ['personal', 'team', 'groupChat'] });
    expect(manifest.description.short.length).toBeLessThanOrEqual(80);
  });

  it('lists commands in the bot menu that the bot really has', () => {
    const router = buildRouter(t.db);
    const titles: string[] = manifest.bots[0].commandLists.flatMap((l: { commands: { title: string }[] }) => l.commands.map((c) => c.title));
    expect(titles).toEqual(['help', 'declare ai', 'evidence', 'policies', 'training', 'poam', 'status', 'triage']);
    for (const title of titles) expect(router.find(title), title).toBeDefined();
  });

  it('ships a 192x192 colour icon and a 32x32 outline icon that is white on transparent', async () => {
    const color = PNG.sync.read(await zip.file('color.png')!.async('nodebuffer'));
    expect([color.width, color.height]).toEqual([192, 192]);
    const outline = PNG.sync.read(await zip.file('outline.png')!.async('nodebuffer'));
    expect([outline.width, outline.height]).toEqual([32, 32]);
    let transparent = 0;
    let drawn = 0;
    for (let i = 0; i < outline.data.length; i += 4) {
      const [r, g, b, a] = outline.data.subarray(i, i + 4);
      if (a === 0) transparent++;
      else {
        drawn++;
        expect([r, g, b]).toEqual([255, 255, 255]);
      }
    }
    expect(transparent).toBeGreaterThan(0);
    expect(drawn).toBeGreaterThan(0);
  });

  it('writes the zip from the command line', async () => {
    const out = path.join(tmp, 'teams-app.zip');
    const { stdout } = await run(TSX, [SCRIPT, out], { cwd: tmp, env: { ...process.env, ...ENV } });
    expect(stdout).toContain(out);
    const written = await JSZip.loadAsync(await readFile(out));
    expect(JSON.parse(await written.file('manifest.json')!.async('string')).bots[0].botId).toBe(APP_ID);
  });

  it('refuses to build without a usable bot id or website, naming each variable', async () => {
    const env = { ...process.env, MICROSOFT_APP_ID: 'not-a-guid', TEAMS_DEVELOPER_URL: '' };
    const failure = await run(TSX, [SCRIPT, path.join(tmp, 'bad.zip')], { cwd: tmp, env }).catch((e: { code: number; stderr: string }) => e);
    expect(failure).toMatchObject({ code: 1 });
    const { stderr } = failure as { stderr: string };
    expect(stderr).toContain('MICROSOFT_APP_ID "not-a-guid" is not a GUID');
    expect(stderr).toContain('TEAMS_DEVELOPER_URL is not set');
  });
});
