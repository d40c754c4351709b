/**
 * Acknowledgement latency under concurrent load, the bot against a bare app in the same run.
 *
 * Slack: N clients send signed "/isms" slash commands (form-encoded, as Slack posts them) for D seconds
 * to the bot in HTTP mode, cycling through a read (`status`), a write (`declare ai …`), `help` and a
 * command that opens a form (`declare ai` without arguments); the Web API and response_url are a local
 * fake in a process of its own (bench/ack-fakes.ts), as Slack's servers are not the client's. The same load goes to a bare Bolt app that only acks (bench/ack-bare.ts), in turns with the bot
 * (three slices each, see sideBySide) so that other work on the shared machine meets both alike. A figure
 * is the time from sending the request to Slack's HTTP response (the ack). After each of the bot's turns,
 * the time until every accepted command has its answer (response_url post or opened form) is the drain.
 * Teams: the same four commands as Bot Framework message activities to /api/messages, against a bare
 * botbuilder CloudAdapter that answers each with one message before its HTTP response. Two figures: the
 * HTTP exchange (the bot answers a message 200 at once and runs its turn afterwards), and the time from
 * sending until the reply reached the fake Bot Connector; after the load, how long until every
 * accepted activity had its reply.
 * The bot is a child process (through tsx) with both platforms on, on a fresh register holding the
 * example organisation: on PostgreSQL (databaseUrl) in a scratch schema, else PGlite in a fresh folder.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { SlackSender } from '../tests/helpers/slack-sign.js';
import type { AckFakesQuery, AckFakesReady, Sender } from './ack-fakes.js';
import { freePorts, percentile } from './measure.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const SECRET = 'bench-signing-secret';
/** How the bot's database connections name themselves, so their server processes can be found. */
const BOT_APPLICATION_NAME = `isms-bench-bot-${process.pid}`;
const TOKEN = 'xoxb-bench-bot-token';

/**
 * Who sends: the ISMS lead and a staff member of the example organisation, from the Slack accounts the
 * example links them to (any other account showing their email is refused as a second account, and
 * the bench would time that refusal instead of their commands).
 */
const SENDERS: Sender[] = [
  { slack: 'U05A1B2C3D4', teams: '29:lead', aad: 'aad-lead', name: 'Iris Lindqvist', email: 'iris@northwind.example' },
  { slack: 'U05S4M5NV6K', teams: '29:staff', aad: 'aad-staff', name: 'Sam Novak', email: 'sam.novak@northwind.example' },
];

/** The four kinds of command, in turn: a read, a write, help, and one that opens a form. */
function commandText(n: number): string {
  switch (n % 4) {
    case 0: return 'status';
    case 1: return `declare ai BenchTool${n} "benchmark use" --vendor Bench --data internal --users 3`;
    case 2: return 'help';
    default: return 'declare ai';
  }
}

/** The fake Slack Web API and Bot Connector in their own process, asked over IPC what they took. */
interface Fakes extends AckFakesReady {
  ask<T>(query: AckFakesQuery): Promise<T>;
  stop(): Promise<void>;
}

async function startFakes(): Promise<Fakes> {
  const child = fork(path.join(ROOT, 'bench/ack-fakes.ts'), [JSON.stringify(SENDERS)], { execArgv: ['--import', TSX], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const waiting = new Map<number, (result: unknown) => void>();
  let next = 0;
  const ready = await new Promise<AckFakesReady>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the fake Slack API and Bot Connector exited with ${code}`)));
    child.on('message', (m: { ready?: AckFakesReady; id?: number; result?: unknown }) => {
      if (m.ready) resolve(m.ready);
      if (m.id !== undefined) {
        waiting.get(m.id)?.(m.result);
        waiting.delete(m.id);
      }
    });
  });
  return {
    ...ready,
    ask: <T>(query: AckFakesQuery) => new Promise<T>((resolve) => {
      const id = next++;
      waiting.set(id, resolve as (result: unknown) => void);
      child.send({ id, ...query });
    }),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.disconnect();
      await exited;
    },
  };
}

/** Now as epoch milliseconds, comparable with the fakes' process. */
const epochNow = () => performance.timeOrigin + performance.now();

interface Child { process: ChildProcess; exited: Promise<number | null>; stderr: () => string; profileDir?: string }

function startChild(args: string[], env: Record<string, string | undefined>): Child {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  // The log (stdout, errors only) and stderr, the end of each kept for the result.
  child.stdout!.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  child.stderr!.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  return { process: child, exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))), stderr: () => stderr };
}

async function waitUntil(url: string, child: Child, ok: (status: number) => boolean): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) throw new Error(`${url}: the process exited with ${child.process.exitCode}: ${child.stderr()}`);
    const status = await fetch(url).then((r) => r.status, () => 0);
    if (ok(status)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} did not answer within 3 minutes`);
}

/** The child's peak resident set size (Linux /proc), before it stops. */
function peakRssMb(child: Child): number | undefined {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.process.pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU ms (user + system) a process has used so far (Linux /proc; 0 once it is gone). */
function cpuMsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()!.split(' ');
    // utime and stime, fields 14 and 15 of stat (11 and 12 after the command name), in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/**
 * The CPU the bot and, on PostgreSQL, its database connections (server processes found by their
 * application_name) use while it is loaded and drains: what a command costs the machine, whatever else
 * runs on it, where wall times swing with the machine's load.
 */
interface CpuMeter { start(): Promise<void>; stop(): Promise<void>; totals(): { botMs: number; databaseMs?: number } }

function cpuMeter(botPid: number, databaseUrl: string | undefined): CpuMeter {
  let botMs = 0;
  let databaseMs = 0;
  let botAt = 0;
  const backendAt = new Map<number, number>();
  const backends = async (): Promise<number[]> => {
    if (!databaseUrl) return [];
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    try {
      return (await admin.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [BOT_APPLICATION_NAME])).rows.map((r) => r.pid);
    } finally {
      await admin.end();
    }
  };
  return {
    async start() {
      botAt = cpuMsOf(botPid);
      backendAt.clear();
      for (const pid of await backends()) backendAt.set(pid, cpuMsOf(pid));
    },
    async stop() {
      botMs += cpuMsOf(botPid) - botAt;
      // Connections opened during the turn count from nothing; one closed during it is missed (rare under load).
      for (const pid of new Set([...backendAt.keys(), ...await backends()])) databaseMs += Math.max(0, cpuMsOf(pid) - (backendAt.get(pid) ?? 0));
    },
    totals: () => ({ botMs, ...(databaseUrl ? { databaseMs } : {}) }),
  };
}

async function stop(child: Child): Promise<void> {
  if (child.process.exitCode !== null) return;
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => child.process.kill('SIGKILL'), 30_000);
  await child.exited;
  clearTimeout(timer);
}

interface Load {
  sent: number; ok: number; failed: number; statuses: Record<string, number>; ms: number[]; seconds: number;
  /** This process's event-loop utilisation while the side was loaded (the fakes answering the bot run in their own process). */
  elu: { idle: number; active: number; utilization: number };
}

const emptyLoad = (): Load => ({ sent: 0, ok: 0, failed: 0, statuses: {}, ms: [], seconds: 0, elu: { idle: 0, active: 0, utilization: 0 } });

/**
 * `clients` loops, each sending one request after the other for `seconds`; each request's time to its
 * HTTP response, added to `into` (requests numbered on from its count).
 */
async function load(into: Load, clients: number, seconds: number, send: (n: number) => Promise<number>): Promise<void> {
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const elu0 = performance.eventLoopUtilization();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < end) {
      const n = into.sent++;
      const s = performance.now();
      const status = await send(n).catch(() => 0);
      into.ms.push(performance.now() - s);
      into.statuses[status] = (into.statuses[status] ?? 0) + 1;
      if (status >= 200 && status < 300) into.ok++;
      else into.failed++;
    }
  }));
  into.seconds += (performance.now() - t0) / 1000;
  // Summed over the side's turns: a figure near 1 means the load generator, not the server, set the pace.
  const elu = performance.eventLoopUtilization(elu0);
  into.elu.idle += elu.idle;
  into.elu.active += elu.active;
  into.elu.utilization = into.elu.active / (into.elu.active + into.elu.idle);
}

/** Slices per platform: bare and bot take turns, so a change in the shared machine's load meets both alike. */
const SLICES = 3;

/**
 * `seconds` of load on each side, in SLICES turns of bare then bot (the order alternating). After each
 * of the bot's turns `settled` waits until it owes nothing more (so its leftover work never lands in the
 * bare app's turn) and says how long that took; drainMs is the longest.
 */
async function sideBySide(clients: number, seconds: number, bare: (n: number) => Promise<number>, bot: (n: number) => Promise<number>,
  settled: (owed: number) => Promise<number>, meters: { bot: CpuMeter; bare: CpuMeter }): Promise<{ bare: Load; bot: Load; drainMs: number }> {
  const sides = { bare: emptyLoad(), bot: emptyLoad() };
  let drainMs = 0;
  for (let i = 0; i < SLICES; i++) {
    for (const side of i % 2 ? ['bot', 'bare'] as const : ['bare', 'bot'] as const) {
      await meters[side].start();
      await load(sides[side], clients, seconds / SLICES, side === 'bare' ? bare : bot);
      if (side === 'bot') drainMs = Math.max(drainMs, await settled(sides.bot.ok));
      await meters[side].stop();
    }
  }
  sides.bare.ms.sort((a, b) => a - b);
  sides.bot.ms.sort((a, b) => a - b);
  return { ...sides, drainMs };
}

const r1 = (x: number) => Math.round(x * 10) / 10;

function figures(l: Load) {
  return {
    requests: l.sent, ok: l.ok, failed: l.failed, statuses: l.statuses,
    p50Ms: r1(percentile(l.ms, 50)), p99Ms: r1(percentile(l.ms, 99)), maxMs: r1(l.ms[l.ms.length - 1] ?? 0),
    perSecond: r1(l.ok / l.seconds), loadGeneratorBusy: Math.round(l.elu.utilization * 100) / 100,
  };
}

function compare(bot: Load, bare: Load) {
  const b = figures(bot);
  const a = figures(bare);
  return { bot: b, bare: a, ratio: { p50: r1(b.p50Ms / a.p50Ms), p99: r1(b.p99Ms / a.p99Ms), max: r1(b.maxMs / a.maxMs) } };
}

/** A register for the bot: a scratch schema on PostgreSQL, else a fresh PGlite folder. */
async function register(databaseUrl: string | undefined): Promise<{ env: Record<string, string>; dispose(): Promise<void> }> {
  if (!databaseUrl) {
    const dir = mkdtempSync(path.join(tmpdir(), 'isms-bench-ack-'));
    return { env: { ISMS_DATA_DIR: path.join(dir, 'data') }, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = `bench_ack_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const u = new URL(databaseUrl);
  u.searchParams.set('options', `-c search_path=${schema}`);
  u.searchParams.set('application_name', BOT_APPLICATION_NAME);
  return {
    env: { DATABASE_URL: u.toString() },
    dispose: async () => {
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    },
  };
}

export interface AckOptions {
  seconds: number;
  clients: number;
  databaseUrl?: string;
  /** Environment for the bot (e.g. ISMS_MAX_IN_FLIGHT). */
  botEnv?: Record<string, string>;
  /** A folder for the bot's CPU profile (node --cpu-prof). */
  profileDir?: string;
}

export async function ackSection({ seconds, clients, databaseUrl, botEnv = {}, profileDir }: AckOptions) {
  const fakes = await startFakes();
  const reg = await register(databaseUrl);
  // Chosen together: the bot and the bare apps bind theirs only as they start.
  const [port, bareSlack, bareTeams] = await freePorts(3);
  const prof = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const bot = startChild([...prof, '--import', TSX, 'src/main.ts'], {
    ...reg.env, ...botEnv, PORT: String(port), LOG_LEVEL: 'error', ISMS_EXAMPLE_ORG: 'true', TEAMS_ENABLED: 'true',
    SLACK_BOT_TOKEN: TOKEN, SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: fakes.slackApiUrl,
    // The scheduler stays quiet during the run: no sweeps mixed into the figures.
    ISMS_NUDGE_CRON: '0 0 1 1 *', ISMS_DIGEST_CRON: '0 0 1 1 *', ISMS_WITNESS_CRON: '0 0 1 1 *',
  });
  const barePorts = { slack: bareSlack, teams: bareTeams };
  const bare = {
    slack: startChild(['--import', TSX, 'bench/ack-bare.ts', 'slack'], { PORT: String(barePorts.slack), SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: TOKEN }),
    teams: startChild(['--import', TSX, 'bench/ack-bare.ts', 'teams'], { PORT: String(barePorts.teams) }),
  };
  try {
    const readyStart = performance.now();
    await waitUntil(`http://127.0.0.1:${port}/readyz`, bot, (s) => s === 200);
    const botReadyMs = Math.round(performance.now() - readyStart);
    await waitUntil(`http://127.0.0.1:${barePorts.slack}/slack/events`, bare.slack, (s) => s > 0);
    await waitUntil(`http://127.0.0.1:${barePorts.teams}/`, bare.teams, (s) => s > 0);

    const busyAcks = new Set<number>();
    const slackCommand = (url: string) => {
      const sender = new SlackSender(url, SECRET);
      return async (n: number) => {
        const who = SENDERS[n % 3 === 0 ? 0 : 1];
        const r = await sender.command({
          token: 'legacy', team_id: 'T0TEST', team_domain: 'test', channel_id: 'CBENCH', channel_name: 'general',
          user_id: who.slack, user_name: who.name, command: '/isms', text: commandText(n), api_app_id: 'A0TEST',
          response_url: `${fakes.respondPrefix}c${n}`, trigger_id: `t${n}`,
        });
        // A busy answer rides on the acknowledgement.
        if (r.body.includes('busy')) busyAcks.add(n);
        return r.status;
      };
    };
    /** When each Teams activity was sent, by its id ("<run>-<n>"): its reply names it as replyToId. */
    const teamsSent = new Map<string, number>();
    const teamsMessage = (url: string, run: string) => async (n: number) => {
      const who = SENDERS[n % 3 === 0 ? 0 : 1];
      const id = `${run}-${n}`;
      teamsSent.set(id, epochNow());
      const r = await fetch(url, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'message', id, channelId: 'msteams', serviceUrl: fakes.connectorUrl, text: commandText(n),
          from: { id: who.teams, name: who.name, aadObjectId: who.aad },
          recipient: { id: '28:isms-bot', name: 'ISMS' },
          conversation: { id: `a:personal-${who.aad}`, conversationType: 'personal', tenantId: 'tenant-1', isGroup: false },
          channelData: { tenant: { id: 'tenant-1' } },
        }),
      });
      await r.arrayBuffer();
      return r.status;
    };

    // A few commands first, so both sides are warm (modules loaded, people linked).
    for (let n = 0; n < 8; n++) {
      await slackCommand(`http://127.0.0.1:${port}/slack/events`)(n);
      await slackCommand(`http://127.0.0.1:${barePorts.slack}/slack/events`)(n);
      await teamsMessage(`http://127.0.0.1:${port}/api/messages`, 'warm-bot')(n);
      await teamsMessage(`http://127.0.0.1:${barePorts.teams}/`, 'warm-bare')(n);
    }

    const offset = 1_000_000;
    // Every acked command owes an answer: after each of the bot's turns, how long until the last one arrived.
    const answeredNow = async () => (await answeredSet(fakes, offset, busyAcks)).size;
    const botCommand = slackCommand(`http://127.0.0.1:${port}/slack/events`);
    const slackCpu = { bot: cpuMeter(bot.process.pid!, databaseUrl), bare: cpuMeter(bare.slack.process.pid!, undefined) };
    const teamsCpu = { bot: cpuMeter(bot.process.pid!, databaseUrl), bare: cpuMeter(bare.teams.process.pid!, undefined) };
    const slack = await sideBySide(clients, seconds, slackCommand(`http://127.0.0.1:${barePorts.slack}/slack/events`),
      (n) => botCommand(offset + n), (owed) => until(async () => (await answeredNow()) >= owed), slackCpu);
    const slackBot = slack.bot;
    const slackBare = slack.bare;
    const owed = slackBot.ok;
    const got = await answeredNow();
    const drainMs = slack.drainMs;
    const unanswered = unansweredKinds(await answeredSet(fakes, offset, busyAcks), offset, offset + slackBot.sent);
    const busyAnswers = busyAcks.size + await fakes.ask<number>({ op: 'slackBusy' });

    // Replies still owed when a turn of load stopped: how long until the last came.
    const teams = await sideBySide(clients, seconds, teamsMessage(`http://127.0.0.1:${barePorts.teams}/`, 'bare'),
      teamsMessage(`http://127.0.0.1:${port}/api/messages`, 'bot'), (owed) => until(async () => (await fakes.ask<number>({ op: 'teamsAnswered', run: 'bot' })) >= owed), teamsCpu);
    const teamsBot = teams.bot;
    const teamsBare = teams.bare;
    const teamsDrainMs = teams.drainMs;
    const teamsReplies = { bot: await repliesOf(fakes, teamsSent, 'bot'), bare: await repliesOf(fakes, teamsSent, 'bare') };
    const teamsBusy = await fakes.ask<number>({ op: 'teamsBusy' });
    const botPeakRssMb = peakRssMb(bot);

    return {
      seconds, clients, botReadyMs, botPeakRssMb,
      botEnv,
      meaning: 'Slack: ms from sending a signed slash command to its HTTP response (the ack); Teams: ms of the '
        + 'POST /api/messages exchange (the bot answers a message at once, the bare adapter after its one reply). bare = an app '
        + 'that only acks/answers, same load, same run. ratio = bot / bare. drainMs: after the load stopped, until every acked '
        + 'command had its answer. teams.replies: ms from sending an activity until its first reply reached the fake Bot Connector '
        + '(replyRatio = bot / bare; under this overload most of the bot\'s are "busy"). cpu: CPU ms the bot process and (PostgreSQL) '
        + 'its database connections\' server processes used during its turns and drains (bareMs: the bare app\'s, its turns); ran = commands that ran (not answered busy); '
        + 'per1000Requests and perCommandRan divide the CPU by those counts: figures that hold whatever the machine\'s load.',
      slack: { ...compare(slackBot, slackBare), answers: { owed, answered: got, drainMs, busy: busyAnswers, unanswered }, cpu: cpuFigures(slackCpu, slackBot.sent, slackBot.ok - busyAnswers, slackBare.sent) },
      teams: {
        ...compare(teamsBot, teamsBare), busy: teamsBusy, cpu: cpuFigures(teamsCpu, teamsBot.sent, teamsBot.ok - teamsBusy, teamsBare.sent),
        replies: {
          bot: teamsReplies.bot.figures, bare: teamsReplies.bare.figures,
          replyRatio: { p50: r1(teamsReplies.bot.figures.p50Ms / teamsReplies.bare.figures.p50Ms), p99: r1(teamsReplies.bot.figures.p99Ms / teamsReplies.bare.figures.p99Ms) },
          owed: teamsBot.ok, answered: teamsReplies.bot.answered, drainMs: teamsDrainMs,
        },
      },
      botLogTail: bot.stderr().split('\n').filter(Boolean).slice(-5),
    };
  } finally {
    await Promise.all([stop(bot), stop(bare.slack), stop(bare.teams)]);
    await reg.dispose();
    await fakes.stop();
  }
}

function cpuFigures(meters: { bot: CpuMeter; bare: CpuMeter }, requests: number, ran: number, bareRequests: number) {
  const { botMs, databaseMs } = meters.bot.totals();
  const bareMs = meters.bare.totals().botMs;
  const per = (ms: number | undefined, n: number) => (ms === undefined || n <= 0 ? undefined : Math.round((ms / n) * 100) / 100);
  return {
    botMs, databaseMs, requests, ran, bareMs, bareRequests,
    per1000Requests: { botMs: per(botMs * 1000, requests), databaseMs: per(databaseMs && databaseMs * 1000, requests), bareMs: per(bareMs * 1000, bareRequests) },
    perCommandRan: { botMs: per(botMs, ran), databaseMs: per(databaseMs, ran) },
  };
}

/** Waits (up to 5 minutes) until `done` holds; how many ms that took. */
async function until(done: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  while (!(await done()) && performance.now() - start < 300_000) await new Promise((resolve) => setTimeout(resolve, 100));
  return Math.round(performance.now() - start);
}

/** The first reply to each activity of one run ("<run>-<n>") that reached the connector, and how long after sending it came. */
async function repliesOf(fakes: Fakes, sent: Map<string, number>, run: string) {
  const first = await fakes.ask<[string, number][]>({ op: 'teamsFirstReplies', run });
  const ms = first.map(([id, at]) => at - (sent.get(id) ?? at)).sort((a, b) => a - b);
  return {
    answered: first.length,
    figures: { replies: ms.length, p50Ms: r1(percentile(ms, 50)), p99Ms: r1(percentile(ms, 99)), maxMs: r1(ms[ms.length - 1] ?? 0) },
  };
}

/** How many commands of each kind in [from, to) never got their answer. */
function unansweredKinds(done: Set<number>, from: number, to: number): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (let n = from; n < to; n++) {
    if (done.has(n)) continue;
    const kind = commandText(n).split(' ').slice(0, 2).join(' ') + (n % 4 === 3 ? ' (form)' : '');
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  return kinds;
}

/** Commands numbered from `from` on that have their answer: on the acknowledgement, a response_url post or an opened form. */
async function answeredSet(fakes: Fakes, from: number, onAck: Set<number>): Promise<Set<number>> {
  const done = new Set<number>([...onAck].filter((n) => n >= from));
  for (const n of await fakes.ask<number[]>({ op: 'slackAnswered', from })) done.add(n);
  return done;
}
