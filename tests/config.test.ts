import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { loadConfig, ConfigError } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { runScript } from './helpers/process.js';

describe('configuration', () => {
  it('defaults to the embedded database in ./data and the terminal', () => {
    const config = loadConfig({});
    expect(config.database).toEqual({ kind: 'pglite', dataDir: './data' });
    expect(config.slack).toBeUndefined();
    expect(config.teams).toBeUndefined();
  });

  it('loads the fictional example organisation only for a trial in the terminal on the embedded register, unless told', () => {
    expect(loadConfig({}).loadExampleOrg).toBe(true);
    expect(loadConfig({ DATABASE_URL: 'postgres://isms@db/isms' }).loadExampleOrg).toBe(false);
    expect(loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' }).loadExampleOrg).toBe(false);
    expect(loadConfig({ TEAMS_ENABLED: 'true' }).loadExampleOrg).toBe(false);
    expect(loadConfig({ MICROSOFT_APP_ID: 'app', MICROSOFT_APP_PASSWORD: 'pw' }).loadExampleOrg).toBe(false);
    expect(loadConfig({ DATABASE_URL: 'postgres://isms@db/isms', ISMS_EXAMPLE_ORG: 'true' }).loadExampleOrg).toBe(true);
    expect(loadConfig({ ISMS_EXAMPLE_ORG: 'false' }).loadExampleOrg).toBe(false);
  });

  it('names each bad variable', () => {
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x' });
      expect.unreachable('bad configuration was accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const message = (e as Error).message;
      expect(message).toContain('PORT');
      expect(message).toContain('DATABASE_URL must be a postgres:// URL');
    }
  });

  it('names the missing partner of a Slack token', () => {
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow('SLACK_SIGNING_SECRET is required when SLACK_BOT_TOKEN is set');
  });

  it('stops start-up with a message naming the variable', async () => {
    const result = await runScript('src/main.ts', [], { env: { ISMS_DEFAULT_TIMEZONE: 'Mars/Olympus' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ISMS_DEFAULT_TIMEZONE must be an IANA time zone');
  });
});

describe('logging', () => {
  it('never writes tokens, secrets or passwords', () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    const logger = createLogger('info', sink);
    logger.info({ config: { slack: { botToken: 'xoxb-123-secret', signingSecret: 'shh-signing' } } }, 'starting');
    logger.info({ headers: { authorization: 'Bearer abc.def' } }, 'request');
    logger.error(new Error('call failed with token xoxb-999-leak'), 'Slack said no to xapp-1-abc');
    logger.info('connecting to postgres://bot:hunter2@db.example/isms');
    const out = lines.join('');
    for (const secret of ['xoxb-123-secret', 'shh-signing', 'abc.def', 'xoxb-999-leak', 'xapp-1-abc', 'hunter2']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('[redacted]');
  });
});
