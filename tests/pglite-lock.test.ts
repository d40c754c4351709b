import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../src/db/client.js';

describe('the embedded database folder', () => {
  let dir: string | undefined;
  const open: Database[] = [];
  afterEach(async () => {
    for (const d of open.splice(0)) await d.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses a second opener while the first holds it, and opens again once it is closed', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'isms-lock-'));
    const first = await openDatabase({ kind: 'pglite', dataDir: dir });
    await expect(openDatabase({ kind: 'pglite', dataDir: dir })).rejects.toThrow(`The data folder ${dir} is in use by another process (pid ${process.pid})`);
    await first.close();
    const second = await openDatabase({ kind: 'pglite', dataDir: dir });
    open.push(second);
    await second.ping();
  });

  it('takes over a lock left by a process that died', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'isms-lock-'));
    await mkdir(dir, { recursive: true });
    // Pids are capped far below this, so no live process has it.
    await writeFile(path.join(dir, 'isms.lock'), '999999999');
    const db = await openDatabase({ kind: 'pglite', dataDir: dir });
    open.push(db);
    await db.ping();
  });
});
