/**
 * Campaign fan-out: an acknowledgement campaign to N people, started with a signed `/isms campaign`
 * slash command to the bot running as its own process (Slack over HTTP, on the given database), sent
 * by its delivery worker to a fake Slack Web API in another process that enforces Slack's documented
 * limits on chat.postMessage (workspace-wide token bucket, one message a second per channel, 429
 * with Retry-After). Side by side, a bare client that only posts the same number of messages at
 * the ceiling's pace, with no database, shows what this machine lets any sender reach.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { webApi } from '@slack/bolt';
import { openDatabase, type Db } from '../src/db/client.js';
import { migrate, rows } from '../src/db/migrate.js';
import { buildRouter } from '../src/commands.js';
import { people } from '../src/db/schema/index.js';
import { toActor } from '../src/core/actor.js';
import { toPlainText } from '../src/core/reply.js';
import { sign } from '../tests/helpers/slack-sign.js';
import type { FakeStats } from './fake-slack-server.js';
import { freePort, mb } from './measure.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/**
 * The workspace's ceiling for chat.postMessage in the fake, messages per second: Slack's 20 unless
 * BENCH_CAMPAIGN_CEILING raises it (a quicker run for the memory figures; the rate figures then read against it).
 */
const CEILING = Number(process.env.BENCH_CAMPAIGN_CEILING ?? 20);
const SIGNING_SECRET = 'bench-signing-secret';
const LEAD = 'UBENCHLEAD';

interface FakeProcess {
  child: ChildProcess;
  url: string;
  respondBase: string;
  responses: Map<string, number>;
  stats(channels: string[]): Promise<FakeStats>;
  stop(): Promise<void>;
}

async function startFake(): Promise<FakeProcess> {
  const child = fork(path.join(ROOT, 'bench/fake-slack-server.ts'), [String(CEILING)], { execArgv: ['--import', TSX], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const responses = new Map<string, number>();
  let statsWaiter: ((s: FakeStats) => void) | undefined;
  const started = new Promise<{ url: string; respond: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the fake Slack API exited with ${code}`)));
    child.on('message', (m: { url?: string; respond?: string; response?: { id: string; at: number }; stats?: FakeStats }) => {
      if (m.url) resolve({ url: m.url, respond: m.respond! });
      if (m.response) responses.set(m.response.id, m.response.at);
      if (m.stats) statsWaiter?.(m.stats);
    });
  });
  const { url, respond } = await started;
  return {
    child, url, respondBase: respond, responses,
    stats: (channels) => new Promise((resolve) => { statsWaiter = resolve; child.send({ stats: channels }); }),
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.disconnect();
      await exited;
    },
  };
}

/** A fresh scratch schema (PostgreSQL) for one run: its URL and how to drop it. */
async function scratchDatabase(databaseUrl: string): Promise<{ url: string; db: Db; drop: () => Promise<void> }> {
  const schema = `campaign_${randomBytes(4).toString('hex')}`;
  const admin = await openDatabase({ kind: 'postgres', url: databaseUrl, poolSize: 1 });
  await admin.db.execute(sql.raw(`create schema ${schema}`));
  const u = new URL(databaseUrl);
  u.searchParams.set('options', `-c search_path=${schema}`);
  const database = await openDatabase({ kind: 'postgres', url: u.toString(), poolSize: 2 });
  return {
    url: u.toString(), db: database.db,
    drop: async () => {
      await database.close();
      await admin.db.execute(sql.raw(`drop schema ${schema} cascade`));
      await admin.close();
    },
  };
}

/** N staff on Slack (U000001, ...), an ISMS lead and a management-body member, and an approved policy. */
async function seed(db: Db, size: number): Promise<string[]> {
  await db.execute(sql`insert into people (name, email, slack_user_id, roles)
    select 'Colleague ' || g, 'colleague' || g || '@bench.example', 'U' || lpad(g::text, 6, '0'), '{staff}'
    from generate_series(1, ${size}::int) g`);
  const [lead] = await db.insert(people).values({ name: 'Bench Lead', email: 'lead@bench.example', slackUserId: LEAD, roles: ['isms_lead'] }).returning();
  const [board] = await db.insert(people).values({ name: 'Bench Board', email: 'board@bench.example', slackUserId: 'UBENCHBOARD', roles: ['management_body'] }).returning();
  const router = buildRouter(db);
  const say = async (who: typeof lead, line: string) => {
    const answer = await router.handle(line, { actor: toActor(who), channel: 'shell' });
    if (answer.outcome === 'fault' || answer.outcome === 'refused' || answer.outcome === 'form') throw new Error(`${line}: ${toPlainText(answer)}`);
  };
  await say(lead, '/isms policy add Acceptable use --text "Use company devices with care."');
  await say(board, '/isms approve APR-0001');
  // Only the campaign goes through the fake: the set-up's own notifications count as delivered.
  await db.execute(sql`update outbox set status = 'sent', sent_at = now() where status = 'queued'`);
  return Array.from({ length: size }, (_, i) => `U${String(i + 1).padStart(6, '0')}`);
}

interface Bot { child: ChildProcess; port: number; logLines: Record<string, number>; errors: string[]; exited: Promise<number | null> }

async function startBot(databaseUrl: string, slackApiUrl: string): Promise<Bot> {
  const port = await freePort();
  const child = spawn(process.execPath, botArgs(), {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env, DATABASE_URL: databaseUrl, SLACK_BOT_TOKEN: 'xoxb-bench-token', SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slackApiUrl,
      PORT: String(port), LOG_LEVEL: 'info', ISMS_EXAMPLE_ORG: 'false', ISMS_SLACK_PER_MINUTE: String(CEILING * 60), ISMS_DELIVERY_INTERVAL_MS: '250',
    },
  });
  // Log lines (stderr) by level (pino's numbers: 30 info, 40 warn, 50 error), counted as they come.
  const logLines: Record<string, number> = {};
  const errors: string[] = [];
  let partial = '';
  let stderr = '';
  child.stdout!.resume();
  child.stderr!.on('data', (d) => {
    stderr = (stderr + String(d)).slice(-4000);
    const lines = (partial + String(d)).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const level = /"level":(\d+)/.exec(line)?.[1] ?? 'other';
      logLines[level] = (logLines[level] ?? 0) + 1;
      if (Number(level) >= 50 && errors.length < 3) errors.push(/"msg":"([^"]*)"/.exec(line)?.[1] ?? line.slice(0, 200));
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the bot exited with ${child.exitCode}: ${stderr}`);
    if (await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, port, logLines, errors, exited };
}

/** The compiled bot when `npm run build` made one (as it runs in production), else the sources through tsx. */
const botArgs = () => (existsSync(path.join(ROOT, 'dist/src/main.js')) ? ['dist/src/main.js'] : ['--import', TSX, 'src/main.ts']);

/** The process's current and peak resident set size (Linux /proc), in MB. */
function rssOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rssMb: mb(kb('VmRSS') * 1024), peakMb: mb(kb('VmHWM') * 1024) };
}

/** The slash command as Slack sends it, signed; resolves with the time until the HTTP answer (the ack). */
async function slashCommand(botPort: number, typed: string, responseUrl: string): Promise<{ status: number; ackMs: number }> {
  const body = new URLSearchParams({
    token: 'legacy', team_id: 'TFAKE', team_domain: 'bench', channel_id: 'CBENCH', channel_name: 'bench', user_id: LEAD, user_name: 'lead',
    command: '/isms', text: typed, api_app_id: 'ABENCH', response_url: responseUrl, trigger_id: `trigger-${Date.now()}`,
  }).toString();
  const timestamp = Math.floor(Date.now() / 1000);
  const t0 = performance.now();
  const response = await fetch(`http://127.0.0.1:${botPort}/slack/events`, {
    method: 'POST', body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': sign(body, SIGNING_SECRET, timestamp) },
  });
  await response.text();
  return { status: response.status, ackMs: Math.round(performance.now() - t0) };
}

async function campaignOpen(db: Db): Promise<{ open: number; sent: number; failed: number }> {
  const [r] = rows<{ open: number; sent: number; failed: number }>(await db.execute(sql`
    select count(*) filter (where status in ('queued', 'sending'))::int as open, count(*) filter (where status = 'sent')::int as sent,
      count(*) filter (where status = 'failed')::int as failed
    from outbox where campaign_id is not null`));
  return r;
}

/** The bare client: posts `count` messages to distinct channels at exactly the ceiling's pace, no database. */
async function bareRun(count: number): Promise<{ messages: number; perSecond: number; ratioToCeiling: number; rateLimited: number }> {
  const fake = await startFake();
  try {
    const client = new webApi.WebClient('xoxb-bench-token', { slackApiUrl: fake.url, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true });
    const channels = Array.from({ length: count }, (_, i) => `B${String(i + 1).padStart(6, '0')}`);
    const t0 = performance.now();
    const posts: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      const due = t0 + (i * 1000) / CEILING;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      posts.push(client.chat.postMessage({ channel: channels[i], text: 'bare' }).catch(() => undefined));
    }
    await Promise.all(posts);
    const s = await fake.stats(channels);
    const perSecond = s.accepted > 1 ? (s.accepted - 1) / ((s.lastAcceptedAt - s.firstAcceptedAt) / 1000) : 0;
    return { messages: s.accepted, perSecond: round(perSecond), ratioToCeiling: round(perSecond / CEILING), rateLimited: s.rateLimited };
  } finally {
    await fake.stop();
  }
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

async function oneCampaign(databaseUrl: string, size: number) {
  const scratch = await scratchDatabase(databaseUrl);
  await migrate(scratch.db);
  const channels = await seed(scratch.db, size);
  const fake = await startFake();
  let bot: Bot | undefined;
  try {
    bot = await startBot(scratch.url, fake.url);
    const idle = rssOf(bot.child.pid!);
    const t0 = Date.now();
    const command = await slashCommand(bot.port, 'campaign POL-0001 role:staff', `${fake.respondBase}campaign`);
    if (command.status !== 200) throw new Error(`the campaign command was answered HTTP ${command.status}`);
    let peakSampledMb = idle.rssMb;
    const deadline = Date.now() + (size / CEILING) * 4_000 + 180_000;
    let progress = await campaignOpen(scratch.db);
    let peakAtAnswerMb: number | undefined;
    while (progress.sent + progress.failed < size || progress.open > 0) {
      if (Date.now() > deadline) throw new Error(`the campaign did not finish in time: ${JSON.stringify(progress)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      peakSampledMb = Math.max(peakSampledMb, rssOf(bot.child.pid!).rssMb);
      if (peakAtAnswerMb === undefined && fake.responses.has('campaign')) peakAtAnswerMb = rssOf(bot.child.pid!).peakMb;
      progress = await campaignOpen(scratch.db);
    }
    const answeredAt = fake.responses.get('campaign');
    const s = await fake.stats(channels);
    const peak = rssOf(bot.child.pid!);
    const sustained = s.accepted > 1 ? (s.accepted - 1) / ((s.lastAcceptedAt - s.firstAcceptedAt) / 1000) : 0;
    const endToEnd = s.accepted / ((s.lastAcceptedAt - t0) / 1000);
    return {
      people: size,
      ceilingPerSecond: CEILING,
      sustainedPerSecond: round(sustained),
      sustainedRatioToCeiling: round(sustained / CEILING),
      commandToLastPerSecond: round(endToEnd),
      commandToLastRatioToCeiling: round(endToEnd / CEILING),
      seconds: round((s.lastAcceptedAt - t0) / 1000, 1),
      duplicates: s.duplicates,
      missing: s.missing,
      outbox: progress,
      answered429: s.rateLimited,
      requestsBeforeRetryAfter: s.tooEarly,
      commandAckMs: command.ackMs,
      commandAnswerMs: answeredAt ? answeredAt - t0 : null,
      botIdleRssMb: idle.rssMb,
      botPeakRssMb: peak.peakMb,
      botPeakRssSampledMb: peakSampledMb,
      botPeakRssByAnswerMb: peakAtAnswerMb ?? null,
      botLogLinesByLevel: bot.logLines,
      botErrorLines: bot.errors,
    };
  } finally {
    if (bot) {
      bot.child.kill('SIGTERM');
      await bot.exited;
    }
    await fake.stop();
    await scratch.drop();
  }
}

/**
 * Runs the campaign at each size on PostgreSQL (the bot needs a database it can open as its own
 * process); on PGlite it is left out, saying why.
 */
export async function campaignSection(sizes: number[], databaseUrl?: string) {
  if (!databaseUrl) return { skipped: 'needs DATABASE_URL: the bot runs as its own process on the database' };
  const bare = await bareRun(Math.min(1000, Math.max(...sizes)));
  const runs = [];
  for (const size of sizes) runs.push(await oneCampaign(databaseUrl, size));
  return {
    meaning: {
      sustainedPerSecond: 'messages Slack took per second between the first and the last it took (the fake counts them)',
      commandToLastPerSecond: 'messages per second from sending the slash command to the last message taken, so it includes queueing the campaign',
      ratioToCeiling: `achieved rate over the fake workspace's ${CEILING} msg/s token bucket (target >= 0.95)`,
      duplicates: 'extra chat.postMessage calls Slack took for a person already messaged (target 0)',
      missing: 'people in the audience Slack has no message for (target 0)',
      answered429: 'chat.postMessage calls the fake answered 429 (expected traffic; never logged at error level)',
      commandAckMs: 'HTTP answer (the ack) to the signed /isms campaign slash command',
      commandAnswerMs: 'from sending the command to the answer posted to its response_url',
      botPeakRssByAnswerMb: 'the bot\'s peak RSS once the command had answered (queueing the campaign), before most sending',
      botPeakRssMb: 'the bot process\'s peak resident set size (VmHWM in /proc), start-up included (target < 250 MB)',
      bare: 'a client posting the same kind of calls at exactly the ceiling\'s pace with no database, in the same run: what this machine allows any sender',
    },
    bot: botArgs().at(-1),
    bare,
    runs,
  };
}
