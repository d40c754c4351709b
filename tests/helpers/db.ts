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

/** A fresh, migrated database: in-memory PGlite, or its own schema on TEST_DATABASE_URL. */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  let database: Database;
  let url: string | undefined;
  let dropSchema = async () => {};
  if (testDbKind === 'postgres') {
    const base = process.env.TEST_DATABASE_URL;
    if (!base) throw new Error('ISMS_TEST_DB=postgres needs TEST_DATABASE_URL');
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    url = withSearchPath(base, schema);
    database = await openDatabase({ kind: 'postgres', url, poolSize: 5 });
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
    database = { ...shared, close: async () => {} };
    dropSchema = async () => {
      await shared.db.execute(sql.raw(`drop schema ${schema} cascade`));
      await shared.db.execute(sql.raw(`set search_path to public`));
    };
  }
  if (options.migrate !== false) await migrate(database.db);
  return {
    ...database,
    url,
    async destroy() {
      await database.close();
      await dropSchema();
    },
  };
}

/** Adds "-c search_path=<schema>" to a PostgreSQL URL so every connection works in that schema. */
export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}
