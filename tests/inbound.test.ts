import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { eq } from 'drizzle-orm';
import { InboundPipeline, FAULT_TEXT, type PlatformProfile, type PlatformUser } from '../src/core/inbound.js';
import { invalid } from '../src/core/errors.js';
import { toPlainText } from '../src/core/reply.js';
import { auditEvents, evidenceItems, outbox, people } from '../src/db/schema/index.js';
import { createLogger } from '../src/log.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { addControl, addEvidenceRequest } from './helpers/fixtures.js';
import { createTestDatabase } from './helpers/db.js';
import { buildRouter } from '../src/commands.js';

/** A platform account whose profile lookups are counted, as users.info or getMember would be. */
function account(platform: 'slack' | 'teams', id: string | undefined, profile: PlatformProfile | undefined) {
  const lookups = vi.fn(async () => profile);
  const user: PlatformUser = { platform, id, profile: lookups };
  return { user, lookups };
}

describe('inbound pipeline (every platform)', () => {
  let bot: TestBot;
  let pipeline: InboundPipeline;
  let logged: string;

  beforeEach(async () => {
    bot = await createTestBot();
    logged = '';
    const sink = new Writable({ write(chunk, _enc, done) { logged += String(chunk); done(); } });
    pipeline = new InboundPipeline(bot.t.db, bot.router, createLogger('info', sink));
  });
  afterEach(async () => { await bot.destroy(); });

  const person = async (email: string) => (await bot.t.db.select().from(people).where(eq(people.email, email)))[0];
  const auditActions = async () => (await bot.t.db.select().from(auditEvents)).map((e) => e.action);

  it('finds a person by the platform id already linked, without asking the platform', async () => {
    await bot.t.db.update(people).set({ slackUserId: 'U0SAM' }).where(eq(people.id, bot.ids.staff));
    const { user, lookups } = account('slack', 'U0SAM', { email: 'someone-else@test.example' });

    const answer = await pipeline.handle({ from: { user }, channel: 'slack', request: { line: '/isms status' } });

    expect(answer.person?.email).toBe('sam@test.example');
    expect(answer.reply.outcome).toBe('info');
    expect(lookups).not.toHaveBeenCalled(); // Sam has a timezone already: nothing to ask
  });

  it('links a Slack account found by its email once, with one audit event, and takes its timezone', async () => {
    await bot.t.db.update(people).set({ timezone: null }).where(eq(people.id, bot.ids.owner));
    const { user, lookups } = account('slack', 'U0OLGA', { email: 'OLGA@test.example', timezone: 'America/New_York' });

    const first = await pipeline.handle({ from: { user }, channel: 'slack', request: { line: 'help' } });
    const second = await pipeline.handle({ from: { user }, channel: 'slack', request: { line: 'help' } });

    expect(first.person?.id).toBe(bot.ids.owner);
    expect(second.person?.id).toBe(bot.ids.owner);
    expect(await person('olga@test.example')).toMatchObject({ slackUserId: 'U0OLGA', timezone: 'America/New_York' });
    expect((await auditActions()).filter((a) => a === 'link_slack_user')).toHaveLength(1);
    expect(lookups).toHaveBeenCalledTimes(1);
  });

  it('links a Teams account by its AAD object id the same way', async () => {
    const { user } = account('teams', 'aad-bruno', { email: 'bruno@test.example' });

    const answer = await pipeline.handle({ from: { user }, channel: 'teams', request: { line: 'help' } });

    expect(answer.person?.id).toBe(bot.ids.board);
    expect((await person('bruno@test.example')).teamsAadObjectId).toBe('aad-bruno');
    expect(await auditActions()).toContain('link_teams_account');
  });

  it('refuses someone who is not in the register with one wording that names whom to ask, and writes nothing', async () => {
    const before = await bot.auditCount();
    const { user } = account('slack', 'U0STRANGER', { email: 'stranger@elsewhere.example' });

    const answer = await pipeline.handle({ from: { user }, channel: 'slack', request: { line: '/isms declare ai ChatGPT' } });

    expect(answer.person).toBeUndefined();
    expect(answer.reply).toMatchObject({ outcome: 'refused', visibility: 'private' });
    const said = toPlainText(answer.reply);
    expect(said).toContain('You are not in the ISMS register (nobody there has the email stranger@elsewhere.example)');
    expect(said).toContain('Ask Lena Lead (lena@test.example), the ISMS lead, to add you');
    expect(await bot.auditCount()).toBe(before);
  });

  describe('someone the platform did not say who they are', () => {
    const cases: [string, PlatformUser, RegExp | undefined][] = [
      ['a Slack profile without an email', account('slack', 'U0NOMAIL', { timezone: 'Europe/Berlin' }).user, /users:read\.email scope/],
      ['a Teams profile without an email', account('teams', 'aad-nomail', {}).user, undefined],
      ['a failed Slack look-up', { platform: 'slack', id: 'U0DOWN', profile: () => Promise.reject(Object.assign(new Error('An API error occurred: fatal_error'), { code: 'slack_webapi_platform_error', data: { error: 'fatal_error' } })) }, undefined],
      ['a failed Teams look-up', { platform: 'teams', id: 'aad-down', profile: () => Promise.reject(Object.assign(new Error('bad gateway for ada@test.example'), { statusCode: 502 })) }, undefined],
    ];
    for (const [situation, user, scope] of cases) {
      it(`is told the platform did not say who they are after ${situation}, not that they are outside the register, and nothing is written`, async () => {
        const before = await bot.auditCount();

        const answer = await pipeline.handle({ from: { user }, channel: user.platform, request: { line: 'declare ai ChatGPT' } });

        expect(answer.person).toBeUndefined();
        expect(answer.reply).toMatchObject({ outcome: 'refused', visibility: 'private' });
        const said = toPlainText(answer.reply);
        expect(said).not.toContain('not in the ISMS register');
        expect(said).toContain(`${user.platform === 'slack' ? 'Slack' : 'Microsoft Teams'} did not say who you are`);
        expect(said).toMatch(/Nothing was recorded.*Try again in a minute; if it keeps happening, tell the ISMS lead \(Lena Lead/s);
        if (scope) expect(said).toMatch(scope);
        else expect(said).not.toContain('users:read.email');
        expect(await bot.auditCount()).toBe(before);
        const warnings = logged.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((l) => l.level === 40);
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatchObject({ platform: user.platform });
        expect(JSON.stringify(warnings[0])).not.toMatch(/U0|aad-|@/);
      });
    }

    it('keeps "not in the register" for an account the platform says it does not know (Slack user_not_found)', async () => {
      const { user } = account('slack', 'U0GONE', undefined);

      const answer = await pipeline.handle({ from: { user }, channel: 'slack', request: { line: 'status' } });

      expect(toPlainText(answer.reply)).toContain('You are not in the ISMS register');
    });
  });

  it('treats a deactivated account as not in the register, even with a register email', async () => {
    const { user } = account('slack', 'U0GONE', { email: 'sam@test.example', inactive: true });

    const answer = await pipeline.handle({ from: { user }, channel: 'slack', request: { line: 'status' } });

    expect(answer.reply.outcome).toBe('refused');
    expect((await person('sam@test.example')).slackUserId).toBeNull();
  });

  it('refuses a second account that shows the email of an already linked person, keeps the link, and tells the ISMS lead once', async () => {
    await bot.t.db.update(people).set({ slackUserId: 'U0LENA' }).where(eq(people.id, bot.ids.lead));
    const { user } = account('slack', 'U0IMPOSTOR', { email: 'lena@test.example' });

    const answer = await pipeline.handle({ from: { user }, channel: 'slack', request: { line: '/isms triage' } });
    await pipeline.handle({ from: { user }, channel: 'slack', request: { line: '/isms triage' } });

    expect(answer.person).toBeUndefined();
    expect(answer.reply.outcome).toBe('refused');
    expect(toPlainText(answer.reply)).toContain('already linked to another Slack account');
    expect((await person('lena@test.example')).slackUserId).toBe('U0LENA');
    const told = await bot.t.db.select().from(outbox).where(eq(outbox.kind, 'identity_conflict'));
    expect(told).toHaveLength(1);
    expect(told[0].recipientId).toBe(bot.ids.lead);
    expect(toPlainText(told[0].reply as never)).toContain('U0IMPOSTOR');
    expect((await auditActions()).filter((a) => a === 'refuse_second_account')).toHaveLength(1);
  });

  it('sets the outcome from what happened, never from the tone: recorded, refused, form, info', async () => {
    const sam = await person('sam@test.example');
    const as = (line: string) => pipeline.handle({ from: { person: sam }, channel: 'shell', request: { line } });

    expect((await as('/isms declare ai ChatGPT "drafting" --vendor OpenAI --data internal --users 3')).reply.outcome).toBe('recorded');
    expect((await as('/isms declare ai')).reply.outcome).toBe('form');
    expect((await as('/isms status')).reply.outcome).toBe('info');
    expect((await as('/isms triage')).reply.outcome).toBe('refused'); // staff may not triage
    expect((await as('/isms declare ai ChatGPT --users many')).reply.outcome).toBe('refused');
    expect((await as('/isms no such thing')).reply.outcome).toBe('refused');
  });

  it('answers privately unless a command says otherwise', async () => {
    const lena = await person('lena@test.example');
    for (const line of ['/isms risks', '/isms status', '/isms help', '/isms register ai']) {
      const { reply } = await pipeline.handle({ from: { person: lena }, channel: 'shell', request: { line } });
      expect(reply.visibility, line).toBe('private');
    }
  });

  it('runs a submitted form through the same validation, and names the field of a bad value', async () => {
    const sam = await person('sam@test.example');
    const before = await bot.auditCount();

    const answer = await pipeline.handle({
      from: { person: sam }, channel: 'slack',
      request: { command: 'declare ai', values: { tool: 'Otter\u0000', purpose: 'meeting notes' } },
    });

    expect(answer.reply.outcome).toBe('refused');
    expect(answer.reply.fieldErrors?.tool).toMatch(/control character/);
    expect(await bot.auditCount()).toBe(before);
  });

  it('turns a fault into one wording that says nothing was recorded, and logs it', async () => {
    const sam = await person('sam@test.example');

    const answer = await pipeline.handle({
      from: { person: sam }, channel: 'teams', request: { line: 'status' },
      attachments: async () => { throw new Error('connect ECONNREFUSED 10.0.0.7:5432 select * from people'); },
      logContext: { platform: 'teams', activity: 'a-1' },
    });

    expect(answer.reply.outcome).toBe('fault');
    expect(toPlainText(answer.reply)).toBe(`✖ ${FAULT_TEXT}`);
    expect(toPlainText(answer.reply)).not.toContain('select');
    expect(logged).toContain('request failed');
    expect(logged).toContain('"activity":"a-1"');
  });

  it('refuses with the loader\'s own words when a file cannot be taken', async () => {
    const sam = await person('sam@test.example');

    const answer = await pipeline.handle({
      from: { person: sam }, channel: 'slack', request: { line: 'status' },
      attachments: async () => { throw invalid('The file "scan.pdf" is larger than 100 MB.'); },
    });

    expect(answer.reply.outcome).toBe('refused');
    expect(toPlainText(answer.reply)).toContain('The file "scan.pdf" is larger than 100 MB.');
  });

  describe('a reply in a thread', () => {
    it('is evidence when the thread is an evidence request, recorded once per delivery', async () => {
      const control = await addControl(bot.t.db, { code: 'CTL-AC-01', title: 'Access reviews', ownerId: bot.ids.owner });
      const request = await addEvidenceRequest(bot.t.db, { controlId: control.id, ownerId: bot.ids.owner, dueOn: '2026-12-31' });
      const olga = await person('olga@test.example');
      const ask = {
        from: { person: olga }, channel: 'slack' as const, idempotencyKey: 'slack:event:Ev001',
        request: { threadReply: { about: request.ref, text: 'Q4 review done, see "--the sheet--"' } },
      };

      const first = await pipeline.handle(ask);
      const again = await pipeline.handle(ask);

      expect(first.reply.outcome).toBe('recorded');
      expect(again.reply.outcome).toBe('recorded');
      const items = await bot.t.db.select().from(evidenceItems).where(eq(evidenceItems.requestId, request.id));
      expect(items).toHaveLength(1);
      expect(items[0].text).toBe('Q4 review done, see "--the sheet--"');
    });

    it('is not evidence in the thread of anything else: a hint, and nothing written', async () => {
      const olga = await person('olga@test.example');
      const before = await bot.auditCount();

      for (const [channel, about] of [['slack', 'POL-0001'], ['teams', undefined]] as const) {
        const answer = await pipeline.handle({ from: { person: olga }, channel, request: { threadReply: { about, text: 'done' } } });
        expect(answer.reply.outcome).toBe('info');
        const said = toPlainText(answer.reply);
        expect(said).toContain('reply with the file or text in the thread of my evidence request');
        expect(said).toContain(channel === 'teams' ? '"help" lists them' : '"/isms help" lists them');
      }
      expect(await bot.auditCount()).toBe(before);
    });
  });
});

describe('a fresh install with nobody in the register', () => {
  it('tells the first person who writes how the organisation gets in, and writes nothing', async () => {
    const t = await createTestDatabase();
    try {
      const pipeline = new InboundPipeline(t.db, buildRouter(t.db), createLogger('silent'));
      const { user } = account('slack', 'U0FIRST', { email: 'first@newco.example' });
      const answer = await pipeline.handle({ from: { user }, channel: 'slack', request: { line: '/isms help' } });
      expect(answer.reply).toMatchObject({ outcome: 'refused', visibility: 'private' });
      const said = toPlainText(answer.reply);
      expect(said).toContain('The ISMS register is empty: nobody is in it yet');
      expect(said).toContain('"npm run isms -- import your-org.yaml"');
      expect(await t.db.select().from(auditEvents)).toEqual([]);
    } finally {
      await t.destroy();
    }
  });
});
