/**
 * Start-up to ready and graceful stop, measured on the real process: the bot is spawned serving Teams
 * (local mode) and timed from spawn to its first 200 on /readyz, then from SIGTERM to its exit. From
 * the TypeScript sources through tsx and, when `npm run build` made one, from the compiled dist/.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from './measure.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

interface Timed { readyMs: number; stopMs: number; exitCode: number | null }

/** One start: spawn, poll /readyz every 20 ms until 200, SIGTERM, wait for the exit. */
async function startOnce(args: string[], env: Record<string, string>): Promise<Timed> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env, PORT: String(port), TEAMS_ENABLED: 'true', LOG_LEVEL: 'error' }, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let readyMs = NaN;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the bot exited with ${child.exitCode} before it was ready`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    if (ok) { readyMs = performance.now() - t0; break; }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const s0 = performance.now();
  child.kill('SIGTERM');
  const exitCode = await exited;
  return { readyMs: Math.round(readyMs), stopMs: Math.round(performance.now() - s0), exitCode };
}

/**
 * A first start (on PGlite an empty register, so the migrations run) and warm starts on the same
 * register, for each way of running the bot. `databaseUrl`: that PostgreSQL; else a fresh PGlite folder.
 */
export async function startupSection(warmRuns: number, databaseUrl?: string) {
  const ways: Record<string, string[]> = { source: ['--import', TSX, 'src/main.ts'] };
  if (existsSync(path.join(ROOT, 'dist/src/main.js'))) ways.compiled = ['dist/src/main.js'];
  const out: Record<string, { first: Timed; warm: Timed[]; warmReadyMsMedian: number }> = {};
  for (const [way, args] of Object.entries(ways)) {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'isms-bench-start-'));
    const env: Record<string, string> = databaseUrl ? { DATABASE_URL: databaseUrl, ISMS_EXAMPLE_ORG: 'false' } : { ISMS_DATA_DIR: dataDir, ISMS_EXAMPLE_ORG: 'false' };
    try {
      const first = await startOnce(args, env);
      const warm: Timed[] = [];
      for (let i = 0; i < warmRuns; i++) warm.push(await startOnce(args, env));
      const sorted = warm.map((w) => w.readyMs).sort((a, b) => a - b);
      out[way] = { first, warm, warmReadyMsMedian: sorted[Math.floor(sorted.length / 2)] };
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return out;
}
