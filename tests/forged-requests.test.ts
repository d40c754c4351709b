import { generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthenticationConstants } from 'botframework-connector';
import { eq } from 'drizzle-orm';
import { aiTools } from '../src/db/schema/index.js';
import { sign } from './helpers/slack-sign.js';
import { SECRET, SlackWorkspace, submission, unique } from './helpers/fake-slack-workspace.js';
import { fieldBlockId } from '../adapters/slack/ids.js';
import { personalMessage, startTeamsStack, type TeamsStack } from './helpers/teams.js';

/**
 * Requests someone other than Slack made, or a copy of one Slack made, sent again: what was forged
 * runs nothing, and what is replayed within Slack's five minutes is recorded once.
 * (A wrong secret and a timestamp older than five minutes are in slack.test.ts.)
 */
const WAIT = { timeout: 30_000, interval: 50 };

describe('Slack: forged and replayed requests', () => {
  let w: SlackWorkspace;
  beforeAll(async () => { w = await SlackWorkspace.start(); });
  afterAll(async () => { await w?.close(); });

  const toolsNamed = async (name: string) => w.t.db.select().from(aiTools).where(eq(aiTools.name, name));
  const post = (body: string, headers: Record<string, string>) => fetch(w.sender.url, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body,
  });
  const slashBody = (typed: string) => new URLSearchParams(w.slashCommand('USAM', typed, unique('r'))).toString();

  it('refuses a request without a signature, and one whose body was changed after it was signed, and runs nothing', async () => {
    const before = await w.auditCount();
    const now = Math.floor(Date.now() / 1000);
    const unsigned = await post(slashBody('declare ai Unsigned'), { 'x-slack-request-timestamp': String(now) });
    const signedBody = slashBody('declare ai Harmless');
    const tampered = await post(signedBody.replace('Harmless', 'Tampered'), {
      'x-slack-request-timestamp': String(now), 'x-slack-signature': sign(signedBody, SECRET, now),
    });
    // The signature of one moment, sent with another timestamp: what is signed is "v0:<timestamp>:<body>".
    const retimed = await post(signedBody, { 'x-slack-request-timestamp': String(now + 1), 'x-slack-signature': sign(signedBody, SECRET, now) });
    expect([unsigned.status, tampered.status, retimed.status]).toEqual([401, 401, 401]);
    expect(await toolsNamed('Unsigned')).toHaveLength(0);
    expect(await toolsNamed('Tampered')).toHaveLength(0);
    expect(await toolsNamed('Harmless')).toHaveLength(0);
    expect(await w.auditCount()).toBe(before);
  });

  it('records a slash command replayed byte for byte within five minutes once, however often and however fast it comes', async () => {
    const fields = w.slashCommand('USAM', 'declare ai Replayed "summaries"', unique('r'));
    const timestamp = Math.floor(Date.now() / 1000) - 60;
    const first = await w.sender.command(fields, { timestamp });
    const copies = await Promise.all([1, 2, 3].map(() => w.sender.command(fields, { timestamp })));
    expect([first, ...copies].map((r) => r.status)).toEqual([200, 200, 200, 200]);
    await vi.waitFor(async () => expect(await toolsNamed('Replayed')).toHaveLength(1), WAIT);
    const audits = await w.auditCount();
    await w.sender.command(fields, { timestamp });
    await vi.waitFor(() => expect(w.fake.callsTo('response_url').filter((c) => c.args.id === fields.response_url.split('/').pop()).length).toBeGreaterThan(0), WAIT);
    expect(await toolsNamed('Replayed')).toHaveLength(1);
    expect(await w.auditCount()).toBe(audits);
  });

  it('records a form submission replayed byte for byte once', async () => {
    const view = await w.formOf('USAM', 'declare ai');
    const payload = submission('USAM', view, { [fieldBlockId('tool')]: { value: 'Resubmitted' } });
    const timestamp = Math.floor(Date.now() / 1000);
    const answers = await Promise.all([0, 1, 2].map(() => w.sender.interaction(payload, { timestamp })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    await vi.waitFor(async () => expect(await toolsNamed('Resubmitted')).toHaveLength(1), WAIT);
    const audits = await w.auditCount();
    expect((await w.sender.interaction(payload, { timestamp })).status).toBe(200);
    expect(await toolsNamed('Resubmitted')).toHaveLength(1);
    expect(await w.auditCount()).toBe(audits);
  });
});

/**
 * A Bot Framework channel of our own: an OpenID configuration and signing key on 127.0.0.1 that the
 * real botbuilder authentication trusts in place of login.botframework.com, so that tokens can be
 * signed properly and only one claim at a time made wrong.
 */
class FakeBotFrameworkChannel {
  readonly kid = 'test-key';
  private readonly keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  private constructor(private readonly server: Server, readonly metadataUrl: string) {}

  static async start(): Promise<FakeBotFrameworkChannel> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const channel = new FakeBotFrameworkChannel(server, `${base}/v1/.well-known/openidconfiguration`);
    server.on('request', (req, res) => {
      const body = req.url === '/v1/.well-known/openidconfiguration'
        ? { issuer: 'https://api.botframework.com', jwks_uri: `${base}/v1/keys`, id_token_signing_alg_values_supported: ['RS256'] }
        : { keys: [{ ...channel.keys.publicKey.export({ format: 'jwk' }), kid: channel.kid, use: 'sig', endorsements: ['msteams'] }] };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    return channel;
  }

  /** A token as the channel signs one, with these claims changed; `key` signs it with another key instead. */
  token(claims: Record<string, unknown>, key: KeyObject = this.keys.privateKey): string {
    const now = Math.floor(Date.now() / 1000);
    const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const unsigned = `${part({ alg: 'RS256', typ: 'JWT', kid: this.kid })}.${part({ iss: 'https://api.botframework.com', nbf: now - 60, iat: now - 60, exp: now + 3600, ...claims })}`;
    return `${unsigned}.${cryptoSign('RSA-SHA256', Buffer.from(unsigned), key).toString('base64url')}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('Teams: forged and replayed activities', () => {
  const APP_ID = '6f1c2a9e-3d4b-4c5a-9e8f-0a1b2c3d4e5f';
  let channel: FakeBotFrameworkChannel;
  let stack: TeamsStack;
  // Read when the adapter is made: pointing it here makes botbuilder fetch the keys from the fake channel.
  const constants = AuthenticationConstants as { ToBotFromChannelOpenIdMetadataUrl: string };
  const trusted = constants.ToBotFromChannelOpenIdMetadataUrl;
  beforeAll(async () => {
    channel = await FakeBotFrameworkChannel.start();
    constants.ToBotFromChannelOpenIdMetadataUrl = channel.metadataUrl;
    stack = await startTeamsStack({ MICROSOFT_APP_ID: APP_ID, MICROSOFT_APP_PASSWORD: 'not-a-real-secret' });
  });
  afterAll(async () => {
    constants.ToBotFromChannelOpenIdMetadataUrl = trusted;
    await stack?.stop();
    await channel?.close();
  });

  const activity = (text: string, id = unique('activity')) => ({ ...personalMessage('staff', text), id, serviceUrl: stack.connector.url });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const tools = async (name: string) => stack.h.t.db.select().from(aiTools).where(eq(aiTools.name, name));

  it('refuses a properly signed token for another bot, from another issuer, expired, for another service URL, or signed by another key, and records nothing', async () => {
    const before = await stack.h.auditCount();
    const serviceurl = stack.connector.url;
    const forged: [string, string][] = [
      ['another audience', channel.token({ aud: 'another-bot-app-id', serviceurl })],
      ['another issuer', channel.token({ aud: APP_ID, iss: 'https://login.evil.example', serviceurl })],
      ['expired', channel.token({ aud: APP_ID, serviceurl, nbf: 1_600_000_000, iat: 1_600_000_000, exp: 1_600_003_600 })],
      ['another service URL', channel.token({ aud: APP_ID, serviceurl: 'https://smba.evil.example/' })],
      ['another key', channel.token({ aud: APP_ID, serviceurl }, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)],
    ];
    for (const [what, token] of forged) {
      expect((await stack.server.post(activity('declare ai Forged'), bearer(token))).status, what).toBe(401);
    }
    expect(await tools('Forged')).toHaveLength(0);
    expect(stack.connector.posted).toHaveLength(0);
    // Each is a refusal the operator reads as one warning, not a failure of the bot.
    const lines = stack.h.logs.map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(lines.filter((l) => /refused a request to \/api\/messages without a valid Bot Framework token/.test(l.msg))).toHaveLength(forged.length);
    expect(await stack.h.auditCount()).toBe(before);
  });

  it('takes a properly signed activity, and records one delivered again with the same id once', async () => {
    const token = channel.token({ aud: APP_ID, serviceurl: stack.connector.url });
    const first = activity('declare ai Signed "summaries"');
    const res = await stack.server.post(first, bearer(token));
    expect(res.status).not.toBe(401);
    await vi.waitFor(async () => expect(await tools('Signed')).toHaveLength(1), WAIT);
    const audits = await stack.h.auditCount();
    const again = await Promise.all([0, 1].map(() => stack.server.post(first, bearer(token))));
    expect(again.map((r) => r.status)).not.toContain(401);
    expect(await tools('Signed')).toHaveLength(1);
    expect(await stack.h.auditCount()).toBe(audits);
  });
});
