/**
 * Once per run:
 * - compiles the bot's TypeScript to JavaScript as `npm run build` does (esbuild, the transform tsx runs on every start) in
 *   .test-build/, so the many tests that start the bot or the CLI as a child process run it the way
 *   `node dist/src/main.js` does, without transforming every file again on every start;
 * - makes two embedded registers, one as PGlite creates it in an empty folder and one holding the example
 *   organisation (loaded by the built CLI, as a first start does), which tests copy instead of having
 *   each child process create its database and load the example: that was most of a terminal test's time;
 * - names the run, so the PostgreSQL schemas its test files make can be told from another run's on the
 *   same database, and drops those the files left behind (a file's reusable registers live until its
 *   worker exits).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openDatabase } from '../src/db/client.js';
import { compile } from '../scripts/build.js';
import { withoutLock } from './helpers/data-folders.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function setup(): Promise<() => Promise<void>> {
  const run = `${process.pid}`;
  process.env.ISMS_TEST_RUN = run;
  // Its own folder per run: two runs at once (a watch and a CI run) must not replace each other's files.
  const outdir = path.join(ROOT, '.test-build', run);
  await compile(outdir, 'inline');
  process.env.ISMS_TEST_BUILD = outdir;
  // PGlite's initdb takes seconds on every new folder: done once here, then copied.
  const emptyData = path.join(outdir, 'empty-data');
  await (await openDatabase({ kind: 'pglite', dataDir: emptyData })).close();
  const exampleData = path.join(outdir, 'example-data');
  cpSync(emptyData, exampleData, { recursive: true, filter: withoutLock });
  // An empty working folder: no .env of the checkout reaches the CLI.
  const cwd = mkdtempSync(path.join(tmpdir(), 'isms-example-'));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, ISMS_DATA_DIR: exampleData, LOG_LEVEL: 'warn' };
    delete env.DATABASE_URL;
    execFileSync(process.execPath, [path.join(outdir, 'src/cli.js'), 'load-example'], { cwd, env, stdio: ['ignore', 'ignore', 'inherit'] });
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
  process.env.ISMS_TEST_EMPTY_DATA = emptyData;
  process.env.ISMS_TEST_EXAMPLE_DATA = exampleData;
  return async () => {
    rmSync(outdir, { recursive: true, force: true });
    const url = process.env.TEST_DATABASE_URL;
    if (!url) return;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const left = await client.query<{ name: string }>(`select nspname as name from pg_namespace where nspname like $1`, [`t\\_${run}\\_%`]);
      for (const { name } of left.rows) await client.query(`drop schema if exists "${name}" cascade`);
    } finally {
      await client.end();
    }
  };
}
