/**
 * Start-up to ready and graceful stop, measured on the real process: the bot is spawned serving Teams
 * (local mode) and timed from spawn to its first 200 on /readyz, then from SIGTERM to its exit. From
 * the TypeScript sources through tsx and, when `npm run build` made one, from the compiled dist/.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from './measure.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** How long the bot is left alone after it is ready before its idle memory is read. */
const IDLE_SETTLE_MS = 2000;

interface Timed { readyMs: number; stopMs: number; exitCode: number | null; readyRssMb: number; idleRssMb: number; peakRssMb: number }

/** The child's resident set (VmRSS) and its peak so far (VmHWM) in MB, from /proc (Linux). */
function rssOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
}

/** One start: spawn, poll /readyz every 20 ms until 200, read its memory once idle, SIGTERM, wait for the exit. */
async function startOnce(args: string[], env: Record<string, string>): Promise<Timed> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env, PORT: String(port), LOG_LEVEL: 'error' }, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let readyMs = NaN;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the bot exited with ${child.exitCode} before it was ready`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    if (ok) { readyMs = performance.now() - t0; break; }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const atReady = rssOf(child.pid!);
  await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_MS));
  const idle = rssOf(child.pid!);
  const s0 = performance.now();
  child.kill('SIGTERM');
  const exitCode = await exited;
  return { readyMs: Math.round(readyMs), stopMs: Math.round(performance.now() - s0), exitCode, readyRssMb: atReady.rss, idleRssMb: idle.rss, peakRssMb: idle.peak };
}

/** A stand-in for Slack's Web API that accepts the token check the bot makes before it serves. */
async function fakeSlackApi(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ ok: true, url: 'https://bench.slack.com/', team: 'Bench', user: 'isms', team_id: 'T0BENCH', user_id: 'U0BENCH', bot_id: 'B0BENCH' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/api/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * A first start (on PGlite an empty register, so the migrations run) and warm starts on the same
 * register, for each way of running the bot (tsx, compiled) and each platform (Teams in local mode;
 * Slack against a local stand-in for its Web API): each loads only its own platform's SDK.
 * `databaseUrl`: that PostgreSQL; else a fresh PGlite folder. Idle RSS is read IDLE_SETTLE_MS after ready.
 */
export async function startupSection(warmRuns: number, databaseUrl?: string) {
  const ways: Record<string, string[]> = { source: ['--import', TSX, 'src/main.ts'] };
  if (existsSync(path.join(ROOT, 'dist/src/main.js'))) ways.compiled = ['dist/src/main.js'];
  const slackApi = await fakeSlackApi();
  const platforms: Record<string, Record<string, string>> = {
    teams: { TEAMS_ENABLED: 'true' },
    slack: { SLACK_BOT_TOKEN: 'xoxb-bench', SLACK_SIGNING_SECRET: 'bench-secret', SLACK_API_URL: slackApi.url },
  };
  const out: Record<string, { first: Timed; warm: Timed[]; warmReadyMsMedian: number; warmIdleRssMbMedian: number }> = {};
  try {
    for (const [way, args] of Object.entries(ways)) {
      for (const [platform, platformEnv] of Object.entries(platforms)) {
        const dataDir = mkdtempSync(path.join(tmpdir(), 'isms-bench-start-'));
        const env: Record<string, string> = { ...platformEnv, ISMS_EXAMPLE_ORG: 'false', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { ISMS_DATA_DIR: dataDir }) };
        try {
          const first = await startOnce(args, env);
          const warm: Timed[] = [];
          for (let i = 0; i < warmRuns; i++) warm.push(await startOnce(args, env));
          out[`${way}-${platform}`] = { first, warm, warmReadyMsMedian: median(warm.map((w) => w.readyMs)), warmIdleRssMbMedian: median(warm.map((w) => w.idleRssMb)) };
        } finally {
          rmSync(dataDir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    await slackApi.close();
  }
  return { idleSettleMs: IDLE_SETTLE_MS, rssMethod: 'VmRSS of the bot process from /proc at ready and IDLE_SETTLE_MS later; peakRssMb its VmHWM then', ...out };
}
