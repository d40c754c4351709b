import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openDatabase, type Db } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { loadExampleOrganisation } from '../../src/import/example.js';
import { TEST_DATABASE_TIMEOUT_MS, createTestDatabase, testDbKind } from './db.js';
import { expect, vi } from 'vitest';
import { freePort } from '../../bench/measure.js';
import { copyRegister } from './data-folders.js';

export { freePort };

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** For `node --import <this> src/…ts`: a bot that gets signals itself, as `node dist/src/main.js` does, run from any folder. */
export const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * How to start one of the project's entry points ('src/cli.ts') as a child process: its JavaScript from
 * the run's build (tests/global-setup.ts) when there is one, else the source through tsx.
 */
export function entryArgs(script: string): string[] {
  const built = process.env.ISMS_TEST_BUILD;
  return built ? [path.join(built, script.replace(/\.ts$/, '.js'))] : ['--import', TSX_LOADER, path.join(ROOT, script)];
}

export interface RunResult { code: number | null; stdout: string; stderr: string }

/** Runs a TypeScript entry point of the project as a child process, feeding stdin and collecting output. */
export function runScript(script: string, args: string[], options: { env?: Record<string, string | undefined>; stdin?: string; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: undefined, DATABASE_URL: undefined, ...options.env };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    const child = spawn(process.execPath, [...entryArgs(script), ...args], { cwd: options.cwd ?? ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

/**
 * Where a bot started as a child process keeps its register: a PGlite data dir in a fresh working
 * directory, or a fresh schema on the test PostgreSQL. The working directory holds nothing else, so no
 * .env of the checkout leaks into the bot's configuration, and no chat platform is configured.
 */
export interface Register {
  env: Record<string, string | undefined>;
  cwd: string;
  /** Runs `use` on the register's database: to prepare it or look into it, on PGlite only while no bot runs on it. */
  withDb<T>(use: (db: Db) => Promise<T>): Promise<T>;
  dispose(): Promise<void>;
}

/** A register with nothing in it: PGlite's folder as a new one is created (copied), nothing migrated. */
export function freshRegister(): Promise<Register> {
  return newRegister('empty');
}

async function newRegister(contents: 'empty' | 'example'): Promise<Register> {
  const cwd = await mkdtemp(path.join(tmpdir(), 'isms-register-'));
  const platformOff = { SLACK_BOT_TOKEN: undefined, SLACK_SIGNING_SECRET: undefined, SLACK_APP_TOKEN: undefined, MICROSOFT_APP_ID: undefined, TEAMS_ENABLED: undefined, ISMS_EXAMPLE_ORG: undefined };
  if (testDbKind === 'postgres') {
    const database = await createTestDatabase({ migrate: false });
    return {
      // A start on PostgreSQL never loads the example by itself: these registers ask for it, as a trial would.
      env: { ...platformOff, DATABASE_URL: database.url, DATABASE_TIMEOUT_MS: String(TEST_DATABASE_TIMEOUT_MS), ISMS_EXAMPLE_ORG: 'true' },
      cwd,
      withDb: (use) => use(database.db),
      async dispose() {
        await database.destroy();
        await rm(cwd, { recursive: true, force: true });
      },
    };
  }
  const dataDir = path.join(cwd, 'data');
  await copyRegister(contents, dataDir);
  return {
    env: { ...platformOff, ISMS_DATA_DIR: dataDir },
    cwd,
    async withDb(use) {
      const database = await openDatabase({ kind: 'pglite', dataDir });
      try {
        return await use(database.db);
      } finally {
        await database.close();
      }
    },
    dispose: () => rm(cwd, { recursive: true, force: true }),
  };
}

/** A fresh register holding the example organisation, migrated, for commands run as child processes. */
export async function exampleRegister(): Promise<Register> {
  if (testDbKind === 'pglite' && process.env.ISMS_TEST_EXAMPLE_DATA) return newRegister('example');
  const register = await freshRegister();
  await register.withDb(async (db) => {
    await migrate(db);
    await loadExampleOrganisation(db);
  });
  return register;
}

/** Lines typed into the terminal's stdin. */
export const session = (...lines: string[]) => `${lines.join('\n')}\n`;

/** What the piped terminal printed in answer to one typed line (up to the next echoed line). */
export function answerTo(transcript: string, line: string, from = 0): string {
  const start = transcript.indexOf(`> ${line}\n`, from);
  if (start === -1) throw new Error(`The terminal never echoed "${line}":\n${transcript}`);
  const rest = transcript.slice(start + line.length + 3);
  const end = rest.indexOf('\n> ');
  return end === -1 ? rest : rest.slice(0, end);
}

/** A terminal session on a register: these lines piped in; returns what it printed once it exits with status 0 at end of input. */
export async function pipedSession(register: Register, ...lines: string[]): Promise<string> {
  const result = await runScript('src/main.ts', [], { env: register.env, cwd: register.cwd, stdin: session(...lines) });
  if (result.code !== 0) throw new Error(`The terminal exited with status ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}


export interface ServingBot {
  child: ChildProcess;
  /** http://127.0.0.1:<port> */
  base: string;
  /** Everything it wrote to stdout and stderr so far. */
  log(): string;
  /** Its exit code, once it exits. */
  exited: Promise<number | null>;
}

/** A cron expression that does not fire near any test day (29 February, midnight). */
export const CRON_NEVER = '0 0 29 2 *';

/**
 * The bot as `npm start` runs it, serving HTTP on a free port with these settings; resolves once /readyz
 * answers 200. Its scheduled jobs never fire unless `env` sets their times: a start runs the day's missed
 * fire, which would make what it sends depend on the hour the test runs.
 */
export async function serveBot(register: Register, env: Record<string, string>, readyWithinMs = 90_000): Promise<ServingBot> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const scheduledNever = { ISMS_NUDGE_CRON: CRON_NEVER, ISMS_DIGEST_CRON: CRON_NEVER, ISMS_WITNESS_CRON: CRON_NEVER };
  const child = spawn(process.execPath, entryArgs('src/main.ts'), {
    cwd: register.cwd, env: { ...process.env, ...register.env, ...scheduledNever, PORT: String(port), ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d) => { log += d; });
  child.stderr!.on('data', (d) => { log += d; });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await vi.waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`the bot stopped: ${log}`);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  }, { timeout: readyWithinMs, interval: 200 });
  return { child, base, log: () => log, exited };
}
