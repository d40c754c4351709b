import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { openDatabase, type Database } from '../src/db/client.js';
import { migrate, rows } from '../src/db/migrate.js';
import { copyRegister } from './helpers/data-folders.js';

describe('the embedded database folder', () => {
  let dir: string | undefined;
  const open: Database[] = [];
  afterEach(async () => {
    for (const d of open.splice(0)) await d.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses a second opener while the first holds it, and opens again once it is closed', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'isms-lock-'));
    await copyRegister('empty', dir);
    const first = await openDatabase({ kind: 'pglite', dataDir: dir });
    await expect(openDatabase({ kind: 'pglite', dataDir: dir })).rejects.toThrow(`The data folder ${dir} is in use by another process (pid ${process.pid})`);
    await first.close();
    const second = await openDatabase({ kind: 'pglite', dataDir: dir });
    open.push(second);
    await second.ping();
  });

  it('takes over the lock of a process killed outright, even when the new process has the same pid (a restarted container)', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'isms-lock-'));
    await copyRegister('empty', dir);
    // A holder that dies without cleaning up: it opens the register in a child process and is killed with SIGKILL.
    const holder = spawn(process.execPath, ['--import', 'tsx', '-e', `
      const { openDatabase } = await import(${JSON.stringify(pathToFileURL(path.resolve('src/db/client.ts')).href)});
      await openDatabase({ kind: 'pglite', dataDir: ${JSON.stringify(dir)} });
      process.stdout.write('locked');
      setInterval(() => undefined, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let said = '';
    holder.stdout.on('data', (d) => { said += d; });
    // The child starts PGlite (WebAssembly): seconds, and more on a busy machine.
    await vi.waitFor(() => expect(said).toBe('locked'), { timeout: 60_000, interval: 50 });
    await expect(openDatabase({ kind: 'pglite', dataDir: dir })).rejects.toThrow(`is in use by another process (pid ${holder.pid})`);
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    holder.kill('SIGKILL');
    await exited;
    // What a restarted container finds: the old lock naming the very pid the new process has.
    await writeFile(path.join(dir, 'isms.lock'), `${process.pid}\n`);
    const db = await openDatabase({ kind: 'pglite', dataDir: dir });
    open.push(db);
    await db.ping();
  }, 120_000);

  it('makes a new folder a register that the next start opens with what was written', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'isms-new-'));
    const first = await openDatabase({ kind: 'pglite', dataDir: path.join(dir, 'data') });
    await migrate(first.db);
    await first.db.execute(sql`create table kept (note text)`);
    await first.db.execute(sql`insert into kept values ('written on the first start')`);
    await first.close();
    expect(await readdir(path.join(dir, 'data'))).not.toContain('.creating');
    const second = await openDatabase({ kind: 'pglite', dataDir: path.join(dir, 'data') });
    open.push(second);
    expect(rows(await second.db.execute(sql`select note from kept`))).toEqual([{ note: 'written on the first start' }]);
  }, 120_000);

  it('creates the register again when a first start was stopped while creating it', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'isms-interrupted-'));
    // What a first start killed halfway leaves: part of a register moved in, the rest still in the staging
    // folder, and no PG_VERSION in the data folder.
    const staging = path.join(dir, '.creating');
    if (!await copyRegister('empty', staging)) {
      const maker = await openDatabase({ kind: 'pglite', dataDir: staging });
      await maker.close();
      await rm(path.join(staging, 'isms.lock'), { force: true });
    }
    for (const entry of ['base', 'global', 'pg_wal']) await rename(path.join(staging, entry), path.join(dir, entry));
    await rm(path.join(staging, 'PG_VERSION'));
    await writeFile(path.join(dir, 'base', 'half-written'), 'left by the stopped start');
    const db = await openDatabase({ kind: 'pglite', dataDir: dir });
    open.push(db);
    await migrate(db.db);
    expect(rows(await db.db.execute(sql`select count(*)::int as n from people`))).toEqual([{ n: 0 }]);
    const entries = await readdir(dir);
    expect(entries).toContain('PG_VERSION');
    expect(entries).not.toContain('.creating');
  }, 120_000);
});
