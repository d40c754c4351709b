/**
 * Composition root: config -> database -> migrations -> core -> the chat platforms the environment
 * configures (the terminal when none is). The only file under src/ that knows the adapters exist.
 */
import 'dotenv/config';
import { loadConfig, ConfigError } from './config.js';
import { createLogger } from './log.js';
import { startCore } from './app.js';
import { Shell } from '../adapters/shell/shell.js';

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\nFix the variable(s) above in the environment or .env, then start again.\n`);
      return 1;
    }
    throw e;
  }
  const wantShell = process.argv.includes('--shell') || (!config.slack && !config.teams);
  // In the terminal the log would mix with the chat: keep it to warnings unless asked.
  const logger = createLogger(wantShell && !process.env.LOG_LEVEL ? 'warn' : config.logLevel);
  const core = await startCore(config, logger);
  if (core.loadedExample) {
    process.stdout.write('The register was empty, so the example organisation (Northwind Payments GmbH) was loaded.\n');
  }
  const stops: (() => Promise<void>)[] = [];
  const shutdown = async () => {
    for (const stop of stops.reverse()) await stop().catch((e) => logger.warn({ err: e }, 'stop failed'));
    await core.database.close();
  };
  if (wantShell) {
    await new Shell(core, { input: process.stdin, output: process.stdout }).run();
    await shutdown();
    return 0;
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void shutdown().then(() => process.exit(0)));
  }
  return new Promise<number>(() => undefined);
}

main().then((code) => process.exit(code), (e) => {
  process.stderr.write(`The bot could not start: ${(e as Error).message}\n`);
  process.exit(1);
});
