import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import * as schema from './schema/index.js';
import { PGliteThread, createRegisterFolder } from './pglite-thread.js';

export type Schema = typeof schema;
/** Either database, or a transaction on it: services accept any of them. */
export type Db = PgDatabase<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Answers when the database does (readiness probes). */
  ping(): Promise<void>;
  /** Schedules the embedded database's thread this much lower (a nice value), as the commands that use it. */
  lowerPriority?(nice: number): void;
  close(): Promise<void>;
}

export type DatabaseTarget =
  | { kind: 'postgres'; url: string; poolSize?: number; timeoutMs?: number }
  | { kind: 'pglite'; dataDir?: string };

/**
 * A connection whose query timed out is dropped rather than reused: its answer may still be on the way,
 * or never come (a black hole), and either would hold up or garble whatever the pool gave it next.
 */
class DroppingClient extends pg.Client {
  constructor(config?: pg.ClientConfig) {
    super(config);
    // A connection lost while a transaction holds it between queries is reported here; unheard, it would
    // end the process. Its next query fails instead, the request is answered as a fault, and the pool drops it.
    this.on('error', () => undefined);
  }

  override query(...args: any[]): any {
    const dropOnTimeout = (e: unknown) => {
      if (e instanceof Error && e.message === 'Query read timeout') (this as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    };
    const callback = typeof args.at(-1) === 'function' ? args.pop() as (e: unknown, r?: unknown) => void : undefined;
    if (callback) {
      return (super.query as (...a: any[]) => unknown)(...args, (e: unknown, r: unknown) => { if (e) dropOnTimeout(e); callback(e, r); });
    }
    const result = (super.query as (...a: any[]) => unknown)(...args);
    if (result instanceof Promise) return result.catch((e: unknown) => { dropOnTimeout(e); throw e; });
    return result;
  }
}

export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  // Only the driver of the database in use is loaded.
  if (target.kind === 'postgres') {
    // A database that stops answering (a black-holed connection, a hung failover) must not hold a request
    // forever: connecting and each query give up after the timeout, and the request is answered as a fault.
    const timeout = target.timeoutMs ?? 15_000;
    const pool = new pg.Pool({
      connectionString: target.url, max: target.poolSize ?? 10, Client: DroppingClient,
      connectionTimeoutMillis: timeout, query_timeout: timeout, keepAlive: true,
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    const db = drizzlePg({ client: pool, schema }) as unknown as Db;
    return {
      db,
      kind: 'postgres',
      ping: async () => { await pool.query('select 1'); },
      close: () => pool.end(),
    };
  }
  const unlock = target.dataDir ? await lockDataDir(target.dataDir) : async () => undefined;
  // PGlite runs on a thread of its own, so its queries never hold up this thread (HTTP, acks, timers).
  let thread: PGliteThread;
  try {
    if (target.dataDir) await createRegisterFolder(target.dataDir);
    thread = new PGliteThread(target.dataDir);
    await thread.waitReady;
  } catch (e) {
    await unlock();
    throw e;
  }
  // One connection, as PGlite has one session: a transaction has it to itself, other queries wait their turn.
  // Its node-postgres glue is loaded here, not with this module: it parses PGlite's whole JavaScript, which
  // a bot on PostgreSQL never needs.
  const { createPgConfig } = await import('@electric-sql/pglite/node-postgres');
  const config = createPgConfig(thread as unknown as PGlite);
  // drizzle hands node-postgres its type parsers as `types`; a Parse message's `types` are parameter
  // type oids, which PostgreSQL's own wire client ignores when they are not a list, and PGlite's throws on.
  const parse = config.connection.parse.bind(config.connection);
  config.connection.parse = (query: { types?: unknown }) => parse({ ...query, types: Array.isArray(query.types) ? query.types : undefined });
  const pool = new pg.Pool({ ...config, max: 1, idleTimeoutMillis: 0 });
  pool.on('error', () => undefined);
  const db = drizzlePg({ client: pool, schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    ping: async () => { await pool.query('select 1'); },
    lowerPriority: (nice) => thread.lowerPriority(nice),
    close: async () => {
      await pool.end();
      await thread.close();
      await unlock();
    },
  };
}

/** A request failed because PostgreSQL could not be reached or stopped answering, not because of what it asked. */
export function isDatabaseUnreachable(e: unknown): boolean {
  const err = e as { code?: string; message?: string; cause?: unknown } | undefined;
  if (!err || typeof err !== 'object') return false;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08006', '08001', '08003'].includes(err.code ?? '')) return true;
  if (/Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error/i.test(err.message ?? '')) return true;
  return err.cause !== undefined && err.cause !== e && isDatabaseUnreachable(err.cause);
}

/**
 * The register cannot be opened or brought up to date for a reason whoever starts the process can
 * fix (data folder in use or not writable, a migration edited after it was applied). Its message
 * says which, in one sentence.
 */
export class DatabaseSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseSetupError';
  }
}

/**
 * PGlite is single-process: a second process writing the same data folder would corrupt it. The lock
 * is a Unix socket (a named pipe on Windows) the holder listens on. The operating system closes it
 * when the holder dies, however it dies, so a lock left behind is recognised by nobody answering it,
 * never by a pid, which a restarted container gives the next process too. isms.lock names the holder.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (e) {
    throw unusableDataDir(dataDir, e);
  }
  const address = lockAddress(dataDir);
  for (let attempt = 0; attempt < 2; attempt++) {
    // The holder answers whoever asks with its pid, for the refusal's message.
    const server = net.createServer((socket) => socket.end(String(process.pid)));
    try {
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(address, resolve));
      server.unref();
      writeFileSync(path.join(dataDir, 'isms.lock'), `${process.pid}\n`);
      return () => new Promise<void>((resolve) => server.close(() => resolve()));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw unusableDataDir(dataDir, e);
      const holder = await askHolder(address);
      if (holder !== undefined) {
        throw new DatabaseSetupError(`The data folder ${dataDir} is in use by another process${holder ? ` (pid ${holder})` : ''}: `
          + 'stop it first, or use PostgreSQL (DATABASE_URL) to run several processes on one register.');
      }
      // Nobody answers: the holder died and left its socket file behind.
      if (process.platform !== 'win32') rmSync(address, { force: true });
    }
  }
  throw new DatabaseSetupError(`Could not lock the data folder ${dataDir}: another process keeps taking it; stop the others first.`);
}

/** The lock's socket: in the data folder, unless its path is too long for a socket (about 100 bytes). */
function lockAddress(dataDir: string): string {
  const id = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  if (process.platform === 'win32') return `\\\\.\\pipe\\isms-${id}`;
  const inFolder = path.join(dataDir, 'isms.lock.sock');
  return Buffer.byteLength(inFolder) < 100 ? inFolder : path.join(tmpdir(), `isms-${id}.sock`);
}

/** The pid the lock's holder answers with ('' when it says nothing), or undefined when nobody holds it. */
function askHolder(address: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = net.connect(address);
    socket.setTimeout(2000, () => socket.destroy());
    socket.on('data', (d) => { answer += d; });
    socket.on('end', () => resolve(answer.trim()));
    socket.on('error', () => resolve(undefined));
    socket.on('close', () => resolve(answer.trim()));
  });
}

function unusableDataDir(dataDir: string, e: unknown): DatabaseSetupError {
  const code = (e as NodeJS.ErrnoException).code;
  return new DatabaseSetupError(`Cannot use ${dataDir} as the data folder (${FS_REASONS[code ?? ''] ?? code ?? 'unknown error'}): `
    + 'set ISMS_DATA_DIR to a folder this process may write, or DATABASE_URL to use PostgreSQL.');
}

const FS_REASONS: Record<string, string> = {
  EEXIST: 'a file of that name is in the way',
  ENOTDIR: 'part of the path is a file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
};

/** What went wrong with a PostgreSQL connection, by Node's or PostgreSQL's error code, and what to check. */
const CONNECTION_PROBLEMS: Record<string, (server: Server) => string> = {
  ECONNREFUSED: (s) => `Cannot reach PostgreSQL at ${s.address} (connection refused): check DATABASE_URL and that the database server is running.`,
  ENOTFOUND: (s) => `Cannot reach PostgreSQL at ${s.address} (no such host): check the host name in DATABASE_URL.`,
  EAI_AGAIN: (s) => `Cannot reach PostgreSQL at ${s.address} (the host name could not be looked up): check the host name in DATABASE_URL and the network.`,
  ETIMEDOUT: (s) => `Cannot reach PostgreSQL at ${s.address} (no answer): check DATABASE_URL and the network.`,
  EHOSTUNREACH: (s) => `Cannot reach PostgreSQL at ${s.address} (host unreachable): check DATABASE_URL and the network.`,
  ENETUNREACH: (s) => `Cannot reach PostgreSQL at ${s.address} (network unreachable): check DATABASE_URL and the network.`,
  ECONNRESET: (s) => `PostgreSQL at ${s.address} closed the connection: check that the server is running and accepts this client.`,
  '28P01': (s) => `PostgreSQL at ${s.address} refused the login of ${s.user}: check the user name and password in DATABASE_URL.`,
  '28000': (s) => `PostgreSQL at ${s.address} refused the login of ${s.user}: check the user name and password in DATABASE_URL.`,
  '3D000': (s) => `PostgreSQL at ${s.address} has no database ${s.database}: check the database name in DATABASE_URL, or create it.`,
  '57P03': (s) => `PostgreSQL at ${s.address} is starting up or shutting down: try again in a moment.`,
  '53300': (s) => `PostgreSQL at ${s.address} has no connection to spare: try again later, or raise its max_connections.`,
};

interface Server { address: string; user: string; database: string }

/**
 * One sentence for a failure to connect to PostgreSQL found anywhere in an error's causes (drizzle
 * wraps the driver's error), or undefined for any other error. Names the server, never the password.
 */
export function explainConnectionError(e: unknown, url: string): string | undefined {
  let cause = e;
  for (let depth = 0; cause instanceof Error && depth < 5; depth++) {
    const { code } = cause as NodeJS.ErrnoException;
    const problem = code ? CONNECTION_PROBLEMS[code] : undefined;
    if (problem) return problem(server(url));
    // pg's own words when the server asks for a password the URL does not have.
    if (/client password must be a string/.test(cause.message)) return CONNECTION_PROBLEMS['28P01'](server(url));
    if (/^Connection terminated/.test(cause.message)) return CONNECTION_PROBLEMS.ECONNRESET(server(url));
    cause = cause.cause;
  }
  return undefined;
}

function server(url: string): Server {
  try {
    const u = new URL(url);
    return {
      address: `${u.hostname || 'localhost'}:${u.port || 5432}`,
      user: u.username ? `"${decodeURIComponent(u.username)}"` : 'the default user',
      database: `"${decodeURIComponent(u.pathname.slice(1) || u.username)}"`,
    };
  } catch {
    return { address: 'the server in DATABASE_URL', user: 'its user', database: 'of that name' };
  }
}
