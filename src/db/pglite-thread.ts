/**
 * The embedded database on a thread of its own. PGlite executes SQL synchronously in WebAssembly:
 * on the bot's thread every query would hold up every HTTP request, Slack's acks included. Here
 * PGlite runs in a worker_threads Worker; this side speaks the PostgreSQL wire protocol to it, one
 * message at a time, through PGlite's own node-postgres connection (the PGlite "execProtocolStream"
 * interface), so the register is used through node-postgres as a PostgreSQL server would be.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import pg from 'pg';

/**
 * The worker, as CommonJS source run with `eval`: it needs no build step and loads the same way
 * from the TypeScript sources, the compiled bot and the tests.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.module);
const problem = (e) => ({ message: String((e && e.message) || e), code: e && e.code });
// Errors and notices are Error objects: a structured clone would keep only their message.
const plain = (m) => (m instanceof Error ? { ...m, message: m.message, isError: true } : m);
(async () => {
  let db;
  try {
    const options = { startParams: [...PGlite.defaultStartParams, ...workerData.settings.flatMap((s) => ['-c', s])] };
    db = workerData.dataDir ? new PGlite(workerData.dataDir, options) : new PGlite(options);
    await db.waitReady;
  } catch (e) {
    parentPort.postMessage({ ready: false, error: problem(e) });
    return;
  }
  parentPort.postMessage({ ready: true });
  parentPort.on('message', async ({ id, message, close, nice }) => {
    if (nice !== undefined) {
      // A thread's own nice value (Linux): this thread only, not the one that asked.
      try { const os = require('node:os'); os.setPriority(0, Math.max(os.getPriority(0), nice)); } catch {}
      return;
    }
    try {
      if (close) {
        await db.close();
        parentPort.postMessage({ id });
        parentPort.close();
        return;
      }
      // Several frontend messages, each a type byte and a length that counts itself: run one after the other.
      const out = [];
      for (let at = 0; at < message.length;) {
        const end = at + 1 + new DataView(message.buffer, message.byteOffset + at + 1, 4).getInt32(0);
        for (const m of await db.execProtocolStream(message.subarray(at, end), { throwOnError: false })) out.push(plain(m));
        at = end;
      }
      parentPort.postMessage({ id, messages: out });
    } catch (e) {
      parentPort.postMessage({ id, error: problem(e) });
    }
  });
})();
`;

interface Reply { id?: number; ready?: boolean; messages?: Record<string, unknown>[]; error?: { message: string; code?: string } }

/** Parse, Bind, Describe, Execute and Close: answered by a server only at the next Sync or Flush. */
const DEFERRED = new Set(['P', 'B', 'D', 'E', 'C'].map((c) => c.charCodeAt(0)));

const PGLITE_MODULE = createRequire(import.meta.url).resolve('@electric-sql/pglite');

/**
 * Server settings over the data folder's postgresql.conf. initdb sizes shared_buffers at 128 MB, which
 * PGlite allocates and zeroes in its WebAssembly heap at every start: about 130 MB of resident memory and
 * a few hundred milliseconds before the first query. One process with one session needs far less; pages
 * beyond it are read again through the operating system's file cache.
 */
const SETTINGS = ['shared_buffers=32MB'];

/** Creates a register (PGlite's initdb) in the folder given, then exits. CommonJS for `node -e`. */
const CREATE_SOURCE = `
const [module, dir] = process.argv.slice(1);
const { PGlite } = require(module);
(async () => {
  const db = new PGlite(dir);
  await db.waitReady;
  await db.close();
})().catch((e) => {
  process.stderr.write(String((e && e.message) || e));
  process.exit(1);
});
`;

/**
 * Makes `dataDir` a register if it is not one yet. PGlite's initdb grows its WebAssembly heap to about
 * 700 MB, and that heap never shrinks: run on the bot's database thread, a first start would keep that
 * memory for as long as it runs (about 830 MB resident, against about 330 MB for a start on a ready folder).
 * A short-lived process creates it instead and gives the memory back when it exits. It creates it in a
 * folder of its own inside `dataDir` and moves PG_VERSION, what marks a folder as a register, in last, so a
 * creation interrupted halfway is started again at the next start rather than opened half-made.
 */
export async function createRegisterFolder(dataDir: string): Promise<void> {
  const staging = path.join(dataDir, '.creating');
  // What a creation stopped after moving PG_VERSION in, or before anything, left behind.
  rmSync(staging, { recursive: true, force: true });
  if (existsSync(path.join(dataDir, 'PG_VERSION'))) return;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CREATE_SOURCE, PGLITE_MODULE, staging], { stdio: ['ignore', 'ignore', 'pipe'] });
    let said = '';
    child.stderr.on('data', (d: Buffer) => { said += d.toString(); });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`Could not create the register in ${dataDir}: ${said.trim() || `the process creating it ended (${signal ?? `exit code ${code}`})`}`));
    });
  });
  const entries = readdirSync(staging).filter((e) => e !== 'PG_VERSION');
  for (const entry of [...entries, 'PG_VERSION']) {
    // Whatever an interrupted creation left under that name is replaced.
    rmSync(path.join(dataDir, entry), { recursive: true, force: true });
    renameSync(path.join(staging, entry), path.join(dataDir, entry));
  }
  rmSync(staging, { recursive: true, force: true });
}

function failure(error: { message: string; code?: string }): Error {
  return Object.assign(new Error(error.message), error.code ? { code: error.code } : {});
}

/** Back to what node-postgres expects: errors and notices as pg's DatabaseError. */
function revive(m: Record<string, unknown>): unknown {
  if (!m.isError) return m;
  const { isError: _, message, length, name, ...fields } = m;
  return Object.assign(new pg.DatabaseError(String(message), Number(length), name as 'error' | 'notice'), fields);
}

export class PGliteThread {
  readonly waitReady: Promise<void>;
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private gone?: Error;
  private deferred: Uint8Array[] = [];

  /** `dataDir`: the data folder; in memory without one. */
  constructor(dataDir?: string) {
    // No execArgv: the worker is plain JavaScript and needs none of this process's loaders or -e script.
    this.worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { module: PGLITE_MODULE, dataDir, settings: SETTINGS } });
    this.waitReady = new Promise<void>((resolve, reject) => {
      this.worker.once('message', (r: Reply) => {
        if (!r.ready) return reject(failure(r.error ?? { message: 'the embedded database did not start' }));
        this.worker.on('message', (reply: Reply) => this.settle(reply));
        // Idle, the thread does not keep the process alive; a query under way does (see call()).
        this.worker.unref();
        resolve();
      });
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`the embedded database stopped (exit code ${code})`)));
    });
    this.worker.on('error', (e) => this.end(e));
    this.worker.on('exit', (code) => this.end(new Error(`the embedded database stopped (exit code ${code})`)));
  }

  /**
   * One protocol message to PGlite; the backend messages it produced, parsed. What PGlite's
   * node-postgres connection calls, message by message. As a PostgreSQL server answers only at a
   * Sync or Flush, the steps of an extended query (Parse, Bind, Describe, Execute, Close) are kept
   * and sent with the Sync, so a query costs one trip to the thread and back, not five.
   */
  async execProtocolStream(message: Uint8Array): Promise<unknown[]> {
    if (DEFERRED.has(message[0])) {
      this.deferred.push(message);
      return [];
    }
    const batch = this.deferred.length ? Buffer.concat([...this.deferred, message]) : message;
    this.deferred = [];
    const reply = await this.call({ message: batch });
    return (reply.messages ?? []).map(revive);
  }

  /** Schedules the thread this much lower (a nice value), as the commands whose queries it runs. */
  lowerPriority(nice: number): void {
    if (!this.gone) this.worker.postMessage({ nice });
  }

  async close(): Promise<void> {
    if (this.gone) return;
    await this.call({ close: true });
    await this.worker.terminate();
  }

  private call(request: { message?: Uint8Array; close?: boolean }): Promise<Reply> {
    if (this.gone) return Promise.reject(this.gone);
    const id = this.nextId++;
    if (this.pending.size === 0) this.worker.ref();
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, ...request });
    });
  }

  private settle(reply: Reply): void {
    const waiting = reply.id === undefined ? undefined : this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id!);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.error) waiting.reject(failure(reply.error));
    else waiting.resolve(reply);
  }

  private end(e: Error): void {
    this.gone ??= e;
    for (const waiting of this.pending.values()) waiting.reject(e);
    this.pending.clear();
  }
}
