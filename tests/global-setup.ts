/**
 * Once per run:
 * - compiles the bot's TypeScript to JavaScript (esbuild, the transform tsx runs on every start) in
 *   .test-build/, so the many tests that start the bot or the CLI as a child process run it the way
 *   `node dist/src/main.js` does, without transforming every file again on every start;
 * - names the run, so the PostgreSQL schemas its test files make can be told from another run's on the
 *   same database, and drops those the files left behind (a file's reusable registers live until its
 *   worker exits).
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import pg from 'pg';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function setup(): Promise<() => Promise<void>> {
  const run = `${process.pid}`;
  process.env.ISMS_TEST_RUN = run;
  // Its own folder per run: two runs at once (a watch and a CI run) must not replace each other's files.
  const outdir = path.join(ROOT, '.test-build', run);
  await build({
    entryPoints: ['src/**/*.ts', 'adapters/**/*.ts', 'scripts/**/*.ts'].map((p) => path.join(ROOT, p)),
    outdir, outbase: ROOT, format: 'esm', platform: 'node', target: 'node20', sourcemap: 'inline', logLevel: 'error',
  });
  process.env.ISMS_TEST_BUILD = outdir;
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
