/**
 * Composition root: config -> database -> migrations -> core -> the chat platforms the environment
 * configures (the terminal when none is). The only file under src/ that knows the adapters exist.
 */
import './compile-cache.js';
import 'dotenv/config';
import type { Logger } from 'pino';
import closeWithGrace from 'close-with-grace';
import os from 'node:os';
import { loadConfig, type Config } from './config.js';
import { explainFailure } from './fatal.js';
import { VERSION } from './paths.js';
import { createLogger } from './log.js';
import { openDatabase, type Database } from './db/client.js';
import { HttpServer, addHealthRoutes, sibling } from './http.js';
import type { ChatPort } from './core/port.js';

const HELP = `ISMS bot ${VERSION}: runs an information security management system in Slack, Microsoft Teams or the terminal.

Usage: npm start [-- --shell]      (the compiled bot: node dist/src/main.js)

  With no Slack or Teams settings, the chat runs in this terminal (on the embedded register, with the
  example organisation when the register is empty). With SLACK_* or MICROSOFT_APP_* / TEAMS_ENABLED set,
  it serves them over HTTP on PORT, with /healthz and /readyz; --shell adds the terminal chat.
  Every setting is an environment variable (or .env): see .env.example and the README.
  Administration (import, verify, export, …): npm run isms -- help

Options:
  --shell      also chat in this terminal while serving Slack or Teams
  --version    print the version and exit
  --help, -h   print this help and exit
`;

async function main(): Promise<number> {
  if (process.argv.includes('--version')) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  const unknown = process.argv.slice(2).filter((a) => a !== '--shell');
  if (unknown.length) {
    process.stderr.write(`Unknown option ${unknown[0]}.\n\n${HELP}`);
    return 2;
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    process.stderr.write(`${explainFailure(e, { what: 'The bot' })}\n`);
    return 1;
  }
  const wantShell = process.argv.includes('--shell') || (!config.slack && !config.teams);
  // In the terminal the log would mix with the chat: keep it to warnings unless asked.
  const logger = createLogger(wantShell && !process.env.LOG_LEVEL ? 'warn' : config.logLevel);
  try {
    return await serve(config, logger, wantShell);
  } catch (e) {
    // One sentence, no stack: a locked data folder or an unreachable database is not a crash.
    process.stderr.write(`${explainFailure(e, { what: 'The bot', logger, database: config.database })}\n`);
    return 1;
  }
}

async function serve(config: Config, logger: Logger, wantShell: boolean): Promise<number> {
  // The register starts opening first (PGlite on a thread of its own, PostgreSQL over the network); the
  // rest of the bot loads meanwhile. Each platform's SDK is loaded only when it is configured (the Teams
  // SDK alone takes about a second and 100 MB).
  const database = quiet(openDatabase(config.database));
  const app = quiet(import('./app.js'));
  const scheduling = quiet(import('./scheduler/index.js'));
  const slackModule = config.slack ? quiet(import('../adapters/slack/slack.js')) : undefined;
  const teamsModule = config.teams ? quiet(import('../adapters/teams/teams.js')) : undefined;
  const shellModule = wantShell ? quiet(import('../adapters/shell/shell.js')) : undefined;
  const core = await (await app).startCore(config, logger, database);
  const { startScheduler } = await scheduling;
  if (core.loadedExample) {
    process.stdout.write('The register was empty, so the example organisation (Northwind Payments GmbH) was loaded.\n');
  }
  const stops: (() => Promise<void>)[] = [];
  const shutdown = async () => {
    for (const stop of stops.reverse()) await stop().catch((e) => logger.warn({ err: e }, 'stop failed'));
    await core.database.close();
  };
  const ports: ChatPort[] = [];
  let http: HttpServer | undefined;
  if (config.slack || config.teams) {
    http = new HttpServer((e) => logger.error({ err: e }, 'HTTP request failed'));
    addHealthRoutes(http, core.database.ping);
    if (slackModule) {
      const { attachSlack } = await slackModule;
      const slack = await attachSlack(core, http);
      ports.push(slack.port);
      stops.push(slack.stop);
    }
    if (teamsModule) {
      const { attachTeams } = await teamsModule;
      const teams = await attachTeams(core, http);
      ports.push(teams.port);
      stops.push(teams.stop);
    }
    // Teams without credentials authenticates nobody: then only this machine may talk to it.
    const host = config.teams && !config.teams.appId ? '127.0.0.1' : '0.0.0.0';
    const port = await http.listen(config.port, host, {
      frontDoor: sibling(import.meta.url, '../adapters/front-door-thread'),
      // Without its front door the bot cannot take requests: stop, so that the platform starts it again.
      frontDoorLost: (e) => {
        logger.fatal({ err: e }, 'the thread that takes HTTP requests stopped; stopping');
        process.kill(process.pid, 'SIGTERM');
      },
    });
    // The front door acknowledges; this thread runs the commands, the scheduler and the outbox. On Linux
    // a nice value is a thread's own: lowering this one leaves the front door's where it was.
    if (http.frontDoorOpen && config.commandNice) lowerPriority(config.commandNice, core.database, logger);
    const server = http;
    stops.push(() => server.close());
    logger.info({ port, host, slack: Boolean(config.slack), teams: Boolean(config.teams) }, 'serving chat platforms');
  }
  if (shellModule) {
    const { Shell } = await shellModule;
    const shell = new Shell(core, { input: process.stdin, output: process.stdout });
    // The terminal delivers its own nudges after each command; the scheduler creates them. A session at the
    // keyboard runs what fires while it is open, not the morning's run it was not open for (the service does).
    const scheduler = startScheduler(core, [...ports, shell.port], { catchUp: false });
    stops.push(scheduler.stop);
    try {
      await shell.run();
    } finally {
      // Also when the terminal cannot start: let go of the data folder before saying why.
      await shutdown();
    }
    return 0;
  }
  const scheduler = startScheduler(core, ports);
  stops.push(scheduler.stop);
  stopGracefully(config, logger, async () => {
    // Readiness fails at once and new requests get 503, so the platform retries them elsewhere or later;
    // what was accepted finishes and answers, then the outbox worker hands back what it has not sent.
    http?.drain();
    const deadline = Date.now() + config.stopTimeoutMs * 0.8;
    const answered = (await http?.inFlight.settled(deadline - Date.now()) ?? true) && await core.inFlight.settled(deadline - Date.now());
    if (!answered) logger.warn({ requests: http?.inFlight.size, commands: core.inFlight.size }, 'stopping with work still in flight');
    await shutdown();
    logger.info('stopped');
  });
  return new Promise<number>(() => undefined);
}

function lowerPriority(nice: number, database: Database, logger: Logger): void {
  // The embedded database's thread runs the commands' queries: it yields to the front door too.
  database.lowerPriority?.(nice);
  try {
    os.setPriority(0, Math.max(os.getPriority(0), nice));
  } catch (e) {
    logger.warn({ err: e }, 'could not lower the priority of the thread running commands (ISMS_COMMAND_NICE)');
  }
}

/** The promise, marked as handled: awaited later, its failure is reported then, not as an unhandled rejection meanwhile. */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** SIGTERM and SIGINT stop the bot once, within ISMS_STOP_TIMEOUT_MS; a second signal or the timeout exits at once. */
function stopGracefully(config: Config, logger: Logger, stop: () => Promise<void>): void {
  closeWithGrace({
    delay: config.stopTimeoutMs,
    logger: { error: (message: unknown) => logger.error({ err: message instanceof Error ? message : undefined }, String(message)) },
  }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'stopping after an unexpected error');
    else logger.info({ signal }, 'stopping');
    await stop();
  });
}

main().then((code) => process.exit(code), () => {
  process.stderr.write('The bot stopped because of an unexpected error.\n');
  process.exit(1);
});
