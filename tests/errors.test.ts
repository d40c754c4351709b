import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client.js';
import { migrate, rows } from '../src/db/migrate.js';
import { freshRegister, runScript, type Register, type RunResult } from './helpers/process.js';
import { copyRegister } from './helpers/data-folders.js';

/** A start costs a few seconds (tsx, and PGlite where the register is reached). */
const START_TIMEOUT = 180_000;

const UNREACHABLE = 'postgres://isms:s3cret-pw@127.0.0.1:1/isms';

/** What a person reads when the bot or the CLI stops on an expected error: a clear message, no stack, no SQL. */
function expectClearStop(result: RunResult, message: string): void {
  expect(result.code, result.stdout).not.toBe(0);
  expect(result.stderr.trim()).toBe(message);
  expect(result.stderr).not.toMatch(/^\s+at /m);
}

describe('expected errors at start-up and in the CLI: one clear message, no stack trace', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'isms-errors-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  const run = (script: string, args: string[], env: Record<string, string | undefined>) =>
    runScript(script, args, { env: { ISMS_EXAMPLE_ORG: undefined, SLACK_BOT_TOKEN: undefined, SLACK_SIGNING_SECRET: undefined, SLACK_APP_TOKEN: undefined, MICROSOFT_APP_ID: undefined, TEAMS_ENABLED: undefined, ...env }, cwd: dir });

  it('an unreachable database, for the bot and for the CLI, without the password', async () => {
    const said = 'Cannot reach PostgreSQL at 127.0.0.1:1 (connection refused): check DATABASE_URL and that the database server is running.';
    const [bot, cli] = await Promise.all([
      run('src/main.ts', [], { DATABASE_URL: UNREACHABLE }),
      run('src/cli.ts', ['verify-audit'], { DATABASE_URL: UNREACHABLE }),
    ]);
    expectClearStop(bot, said);
    expectClearStop(cli, said);
    expect(bot.stderr + cli.stderr).not.toContain('s3cret-pw');
  }, START_TIMEOUT);

  it('a data folder another process holds, for the bot and for the CLI', async () => {
    const dataDir = path.join(dir, 'data');
    await copyRegister('empty', dataDir);
    const holder = await openDatabase({ kind: 'pglite', dataDir });
    try {
      const said = `The data folder ${dataDir} is in use by another process (pid ${process.pid}): `
        + 'stop it first, or use PostgreSQL (DATABASE_URL) to run several processes on one register.';
      const [bot, cli] = await Promise.all([
        run('src/main.ts', [], { ISMS_DATA_DIR: dataDir }),
        run('src/cli.ts', ['import', 'examples/example-org.yaml'], { ISMS_DATA_DIR: dataDir }),
      ]);
      expectClearStop(bot, said);
      expectClearStop(cli, said);
    } finally {
      await holder.close();
    }
  }, START_TIMEOUT);

  it('a data folder that is a file, and a bad setting in the CLI', async () => {
    const blocked = path.join(dir, 'not-a-folder');
    await writeFile(blocked, 'a file');
    const [bot, cli] = await Promise.all([
      run('src/main.ts', [], { ISMS_DATA_DIR: blocked }),
      run('src/cli.ts', ['verify-audit'], { DATABASE_URL: 'mysql://isms@db.example.org/isms' }),
    ]);
    expectClearStop(bot, `Cannot use ${blocked} as the data folder (a file of that name is in the way): `
      + 'set ISMS_DATA_DIR to a folder this process may write, or DATABASE_URL to use PostgreSQL.');
    expectClearStop(cli, 'Invalid configuration:\n  - DATABASE_URL must be a postgres:// URL\n'
      + 'Fix the variable(s) above in the environment or .env, then try again.');
  }, START_TIMEOUT);
});

describe('expected and unexpected errors on a register', () => {
  let register: Register;
  beforeEach(async () => { register = await freshRegister(); });
  afterEach(async () => { await register.dispose(); });

  const run = (script: string, args: string[], env: Record<string, string | undefined> = {}) =>
    runScript(script, args, { env: { ...register.env, ...env }, cwd: register.cwd });

  it('a YAML alias bomb ("billion laughs") is refused at once, naming the file and line, and imports nothing', async () => {
    const lol = (c: string, of: string) => `${c}: &${c} [${Array(9).fill(`*${of}`).join(', ')}]`;
    const levels = 'abcdefghi'.split('');
    await writeFile(path.join(register.cwd, 'laughs.yaml'), [
      'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
      ...levels.slice(1).map((c, i) => lol(c, levels[i])),
      '',
    ].join('\n'));

    const result = await run('src/cli.ts', ['import', 'laughs.yaml']);

    expectClearStop(result, 'laughs.yaml:2: the aliases (such as *a) expand to too much data; write the entries out instead of nesting aliases\n'
      + 'Nothing was imported. Fix the file and import it again.');
  }, START_TIMEOUT);

  it('a register without people stops the terminal with what to do', async () => {
    const result = await run('src/main.ts', [], { ISMS_EXAMPLE_ORG: 'false' });
    expectClearStop(result, 'The register has no people yet: import some with "npm run isms -- import <file.yaml>", then start again.');
  }, START_TIMEOUT);

  it('a migration edited after it was applied is named', async () => {
    const tag = await register.withDb(async (db) => {
      await migrate(db);
      const [first] = rows<{ tag: string }>(await db.execute(sql`select tag from isms_migrations order by tag limit 1`));
      await db.execute(sql`update isms_migrations set sha256 = 'edited' where tag = ${first.tag}`);
      return first.tag;
    });
    const result = await run('src/cli.ts', ['verify-audit']);
    expectClearStop(result, `Migration ${tag} was edited after it was applied; add a new migration instead.`);
  }, START_TIMEOUT);

  it('an unexpected error says where to find the details, shows no SQL, and shows them at LOG_LEVEL=debug', async () => {
    // A table in the way of the first migration: the database answers with an error about SQL.
    await register.withDb((db) => db.execute(sql`create table people (squatter text)`));

    const [quiet, debug] = [await run('src/cli.ts', ['verify-audit']), await run('src/cli.ts', ['verify-audit'], { LOG_LEVEL: 'debug' })];

    expectClearStop(quiet, '"npm run isms -- verify-audit" stopped because of an unexpected error; run it again with LOG_LEVEL=debug to see the details.');
    expect(quiet.stderr).not.toMatch(/create table|people/i);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toContain('already exists');
  }, START_TIMEOUT);
});
