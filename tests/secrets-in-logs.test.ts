import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeSlack } from './helpers/fake-slack.js';
import { FakeOpenAi } from './helpers/fake-openai.js';
import { SlackSender } from './helpers/slack-sign.js';
import { exampleRegister, freePort, runScript, serveBot, type Register } from './helpers/process.js';
import { EVENTS_PATH, SLASH_COMMAND } from '../adapters/slack/ids.js';

/** A start costs seconds (tsx, the database); the machine may be busy. */
const TIMEOUT = 180_000;


/** Secrets of every kind the bot is configured with, random so that only a leak could put them in a log. */
function secrets() {
  return {
    signingSecret: randomBytes(16).toString('hex'),
    botToken: `xoxb-${randomBytes(12).toString('hex')}`,
    appPassword: `Qx8~${randomBytes(15).toString('base64url')}`,
    apiKey: `sk-proj-${randomBytes(20).toString('hex')}`,
    dbPassword: `pw${randomBytes(10).toString('hex')}`,
  };
}

/** A PostgreSQL URL with this password in it. */
function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

describe('no secret reaches a log line', () => {
  let register: Register;
  let slack: FakeSlack;
  let openai: FakeOpenAi;
  let bot: ChildProcess | undefined;
  beforeEach(async () => {
    register = await exampleRegister();
    slack = await FakeSlack.start();
    openai = await FakeOpenAi.start();
  }, TIMEOUT);
  afterEach(async () => {
    bot?.kill('SIGKILL');
    await slack.close();
    await openai.close();
    await register.dispose();
  }, TIMEOUT);

  it('a bot with every secret configured, at debug level, through commands, refusals, failures and a stop', async () => {
    const s = secrets();
    // On the embedded database there is no URL: the second test checks a password in one.
    const database: Record<string, string> = register.env.DATABASE_URL ? { DATABASE_URL: withPassword(register.env.DATABASE_URL, s.dbPassword) } : {};
    const serving = await serveBot(register, {
      ...database, LOG_LEVEL: 'debug', ISMS_STOP_TIMEOUT_MS: '20000',
      SLACK_SIGNING_SECRET: s.signingSecret, SLACK_BOT_TOKEN: s.botToken, SLACK_API_URL: slack.apiUrl,
      MICROSOFT_APP_ID: randomUUID(), MICROSOFT_APP_PASSWORD: s.appPassword, TEAMS_ENABLED: 'true',
      OPENAI_API_KEY: s.apiKey, OPENAI_MODEL: 'fake-model', OPENAI_BASE_URL: openai.baseUrl, OPENAI_TIMEOUT_MS: '20000',
    }, 120_000);
    bot = serving.child;
    const { base, exited } = serving;

    slack.users.set('U05A1B2C3D4', { email: 'iris@northwind.example', real_name: 'Iris Lindqvist', tz: 'Europe/Berlin' });
    slack.users.set('USTRANGER', { email: 'stranger@elsewhere.example', real_name: 'A Stranger' });
    const sender = new SlackSender(`${base}${EVENTS_PATH}`, s.signingSecret);
    let n = 0;
    const command = (user: string, text: string) => ({
      token: 'legacy', team_id: 'T0TEST', team_domain: 'test', channel_id: 'CGENERAL', channel_name: 'general', user_id: user, user_name: user.toLowerCase(),
      command: SLASH_COMMAND, text, api_app_id: 'A0TEST', response_url: slack.responseUrl(`r${++n}`), trigger_id: `trigger-${n}`,
    });
    const answered = async (user: string, text: string) => {
      const fields = command(user, text);
      expect((await sender.command(fields)).status).toBe(200);
      return slack.waitForCall('response_url', (c) => c.args.id === `r${n}`, 60_000);
    };

    // Commands that record and read, a refusal, someone outside the register.
    expect(JSON.stringify((await answered('U05A1B2C3D4', 'declare ai Copilot "code completion" --data internal')).args)).toContain('AI-');
    expect(JSON.stringify((await answered('U05A1B2C3D4', 'risk accept R-9999 "x" --until 2030-01-01')).args)).toContain('Nothing was recorded');
    await answered('USTRANGER', 'status');
    // Forged and stale requests.
    expect((await sender.command(command('U05A1B2C3D4', 'status'), { secret: 'not-the-secret' })).status).toBe(401);
    expect((await sender.command(command('U05A1B2C3D4', 'status'), { timestamp: Math.floor(Date.now() / 1000) - 600 })).status).toBe(401);
    // A plain-language message goes to the model: once it fails, once it proposes.
    openai.next({ status: 500 }, FakeOpenAi.proposal({ command: 'declare ai', values: { tool: 'ChatGPT' } }));
    for (const [i, text] of ['we started using ChatGPT', 'we also use ChatGPT for emails'].entries()) {
      const event = { type: 'message', channel: 'DIRIS', channel_type: 'im', user: 'U05A1B2C3D4', text, ts: `${Date.now() / 1000}`, event_ts: `${Date.now() / 1000}` };
      expect((await sender.event(event, `Ev${i}`)).status).toBe(200);
      await vi.waitFor(() => expect(openai.requests.length).toBe(i + 1), { timeout: 60_000 });
    }
    expect(openai.requests[0].authorization).toBe(`Bearer ${s.apiKey}`);
    // Slack failing while the bot answers.
    slack.failNext('chat.postMessage', 500, 3);
    await sender.event({ type: 'message', channel: 'DIRIS', channel_type: 'im', user: 'U05A1B2C3D4', text: '/isms status', ts: `${Date.now() / 1000}` }, 'Ev-fail');
    // Teams requests without a valid Bot Framework token.
    const activity = { type: 'message', id: 'a1', channelId: 'msteams', text: 'status', serviceUrl: 'http://127.0.0.1:1', from: { id: '29:x' }, conversation: { id: 'c1' }, recipient: { id: '28:bot' } };
    expect((await fetch(`${base}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(activity) })).status).toBe(401);
    expect((await fetch(`${base}/api/messages`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${s.appPassword}` }, body: JSON.stringify(activity),
    })).status).toBe(401);

    bot.kill('SIGTERM');
    expect(await exited).toBe(0);
    const log = serving.log();
    expect(log).toMatch(/"level":20/); // debug lines were written
    expect(log).toContain('stopped');
    for (const [name, secret] of Object.entries(s)) expect(log.includes(secret), `${name} in the log`).toBe(false);
  }, TIMEOUT);

  it('a database URL with a password that cannot be reached: the bot says so without the password', async () => {
    const port = await freePort();
    const password = secrets().dbPassword;
    const result = await runScript('src/main.ts', [], {
      env: { ...register.env, DATABASE_URL: `postgres://isms:${password}@127.0.0.1:${port}/isms`, LOG_LEVEL: 'debug', ISMS_DATA_DIR: undefined },
      cwd: register.cwd,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/database|PostgreSQL/i);
    expect(`${result.stdout}${result.stderr}`).not.toContain(password);
  }, TIMEOUT);
});
