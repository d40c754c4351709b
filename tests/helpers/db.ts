import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { openDatabase, type Database } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';

/**
 * Which database this test run uses. The suite always runs on in-memory PGlite; vitest's
 * "postgres" project runs it again on real PostgreSQL when TEST_DATABASE_URL is set.
 */
let sharedPglite: Promise<Database> | undefined;

/** Every schema this run makes starts so: the run's global teardown drops whatever a test file left (tests/global-setup.ts). */
export const SCHEMA_PREFIX = `t_${process.env.ISMS_TEST_RUN ?? 'x'}_`;

/** The database timeout of test registers and of the bots tests start on them (see DATABASE_TIMEOUT_MS). */
export const TEST_DATABASE_TIMEOUT_MS = 120_000;

export const testDbKind: 'pglite' | 'postgres' = process.env.ISMS_TEST_DB === 'postgres' ? 'postgres' : 'pglite';

// PGlite takes seconds to start (a minute on a loaded machine): start it while the test file loads,
// not inside the first hook, whose timeout is meant for the test's own setup.
if (testDbKind === 'pglite') await (sharedPglite = openDatabase({ kind: 'pglite' }));

export interface TestDatabase extends Database {
  /** Connection URL for child processes (postgres only; undefined on PGlite). */
  url?: string;
  /** Drops the schema (postgres) or closes the in-memory database. */
  destroy(): Promise<void>;
}

/**
 * Migrated registers a test of this file has finished with, emptied and ready for the next: running the
 * migrations costs a second or more per test, emptying the tables a fraction of that.
 */
const spare: { database: Database; schema: string; url?: string; drop: () => Promise<void> }[] = [];

/**
 * Drops the registers this file's tests finished with (tests/setup-file.ts calls it after each file): a
 * file that left work running must not find its way into another file's register.
 */
export async function dropSpareRegisters(): Promise<void> {
  for (const s of spare.splice(0)) {
    await s.database.close();
    await s.drop();
  }
}

/**
 * Empties a register in place: every table but the migrations' own, every sequence back to its start.
 * The append-only triggers would refuse the TRUNCATE; replica mode leaves them out for this one transaction.
 */
async function empty(db: Database['db'], schema: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql.raw('set local session_replication_role = replica'));
    const tables = await tx.execute(sql`select quote_ident(tablename) as name from pg_tables where schemaname = ${schema} and tablename <> 'isms_migrations'`);
    const names = (tables as unknown as { rows: { name: string }[] }).rows.map((r) => `${schema}.${r.name}`);
    if (names.length) await tx.execute(sql.raw(`truncate ${names.join(', ')} restart identity cascade`));
    await tx.execute(sql`select setval(c.oid, s.seqstart, false) from pg_sequence s join pg_class c on c.oid = s.seqrelid
      join pg_namespace n on n.oid = c.relnamespace where n.nspname = ${schema}`);
  });
}

/** A fresh, migrated database: in-memory PGlite, or its own schema on TEST_DATABASE_URL. */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const reusable = options.migrate !== false;
  const reused = reusable ? spare.pop() : undefined;
  if (reused) return handOut(reused);
  let database: Database;
  let url: string | undefined;
  let dropSchema = async () => {};
  if (testDbKind === 'postgres') {
    const base = process.env.TEST_DATABASE_URL;
    if (!base) throw new Error('ISMS_TEST_DB=postgres needs TEST_DATABASE_URL');
    const schema = `${SCHEMA_PREFIX}${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    url = withSearchPath(base, schema);
    // Every test register is a schema of one database, whose server the whole suite shares: on a busy
    // machine a query can outlast the production timeout without anything being wrong.
    database = await openDatabase({ kind: 'postgres', url, poolSize: 5, timeoutMs: TEST_DATABASE_TIMEOUT_MS });
    dropSchema = async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    };
  } else {
    // Starting PGlite costs seconds, a schema costs milliseconds: one instance per test file, a schema per database.
    const shared = await (sharedPglite ??= openDatabase({ kind: 'pglite' }));
    const schema = `t_${randomBytes(6).toString('hex')}`;
    await shared.db.execute(sql.raw(`create schema ${schema}`));
    await shared.db.execute(sql.raw(`set search_path to ${schema}`));
    database = { ...shared, close: async () => {}, schema } as Database;
    dropSchema = async () => {
      await shared.db.execute(sql.raw(`drop schema ${schema} cascade`));
      await shared.db.execute(sql.raw(`set search_path to public`));
    };
  }
  if (!reusable) {
    return {
      ...database,
      url,
      async destroy() {
        await database.close();
        await dropSchema();
      },
    };
  }
  await migrate(database.db);
  return handOut({ database, schema: schemaOf(url, database), url, drop: dropSchema });
}

/** The schema a register lives in, as its search path says. */
function schemaOf(url: string | undefined, database: Database): string {
  return url ? new URL(url).searchParams.get('options')!.replace('-c search_path=', '') : (database as Database & { schema: string }).schema;
}

/** A migrated register for one test; destroying it empties it for the next test of the file. */
async function handOut(entry: (typeof spare)[number]): Promise<TestDatabase> {
  if (entry.database.kind === 'pglite') await entry.database.db.execute(sql.raw(`set search_path to ${entry.schema}`));
  let destroyed = false;
  return {
    ...entry.database,
    url: entry.url,
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      try {
        await empty(entry.database.db, entry.schema);
        spare.push(entry);
      } catch {
        // A register a test left unusable (closed, broken) is dropped instead.
        await entry.database.close().catch(() => undefined);
        await entry.drop().catch(() => undefined);
      }
    },
  };
}

/** Adds "-c search_path=<schema>" to a PostgreSQL URL so every connection works in that schema. */
export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}
