import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asc, eq } from 'drizzle-orm';
import { FakeSlack } from './helpers/fake-slack.js';
import { freshRegister, runScript, type Register } from './helpers/process.js';
import { migrate } from '../src/db/migrate.js';
import { auditEvents, people } from '../src/db/schema/index.js';

let fake: FakeSlack;
let register: Register;

const REGISTER = [
  { name: 'Lena Lead', email: 'lena@test.example', slackUserId: 'ULENA' },
  { name: 'Olga Owner', email: 'olga@test.example' },
  { name: 'Sam Staff', email: 'sam@test.example' },
  { name: 'Dora Departed', email: 'dora@test.example' },
  { name: 'Nina Nowhere', email: 'nina@test.example' },
];

beforeAll(async () => {
  fake = await FakeSlack.start();
  fake.users.set('ULENA', { email: 'lena@test.example', real_name: 'Lena Lead' });
  fake.users.set('USAM', { email: 'sam@test.example', real_name: 'Sam Staff' });
  // A workspace larger than one page of 200: Olga comes on the second page, with her email as she typed it.
  for (let i = 1; i <= 210; i++) fake.users.set(`UFILL${i}`, { email: `colleague${i}@elsewhere.example`, real_name: `Colleague ${i}` });
  fake.users.set('UOLGA', { email: 'Olga@Test.Example', real_name: 'Olga Owner' });
  // Deactivated accounts and bots are never linked, whatever email they show.
  fake.users.set('UDORA', { email: 'dora@test.example', real_name: 'Dora Departed', deleted: true });
  fake.users.set('BNINA', { email: 'nina@test.example', real_name: 'Nina Bot', is_bot: true });
  register = await freshRegister();
  await register.withDb(async (db) => {
    await migrate(db);
    await db.insert(people).values(REGISTER.map((p) => ({ ...p, roles: ['staff' as const] })));
  });
});

afterAll(async () => {
  await register?.dispose();
  await fake?.close();
});

const sync = (args: string[], env: Record<string, string | undefined> = {}) => runScript('src/cli.ts', args, {
  env: { ...register.env, SLACK_BOT_TOKEN: 'xoxb-test-bot-token', SLACK_SIGNING_SECRET: 'test-signing-secret', SLACK_API_URL: fake.apiUrl, ...env }, cwd: register.cwd,
});

describe('npm run isms -- sync slack', () => {
  it('links the register to Slack by email over every page of users.list, within Slack\'s rate limit, and names who is unmatched', async () => {
    fake.rateLimit('users.list', 1);
    let result;
    try {
      result = await sync(['sync', 'slack']);
    } finally {
      fake.clearFailures();
    }
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe('Read 2 pages of Slack members: 2 matched and linked now, 1 already linked, 2 unmatched.');
    expect(lines.slice(1)).toEqual([
      '  linked: Olga Owner <olga@test.example> -> UOLGA',
      '  linked: Sam Staff <sam@test.example> -> USAM',
      '  unmatched: Dora Departed <dora@test.example>: no active Slack member has this email',
      '  unmatched: Nina Nowhere <nina@test.example>: no active Slack member has this email',
    ]);

    const calls = fake.callsTo('users.list');
    expect(calls.map((c) => c.status)).toEqual([429, 200, 200]);
    expect(calls.map((c) => Number(c.args.limit))).toEqual([200, 200, 200]);
    expect(calls[1].args.cursor).toBeUndefined();
    expect(calls[2].args.cursor).toBe(calls[1].response!.response_metadata.next_cursor);
    expect(calls[1].at).toBeGreaterThanOrEqual(calls[0].at + 1000);

    await register.withDb(async (db) => {
      const linked = await db.select({ email: people.email, slack: people.slackUserId }).from(people).orderBy(asc(people.email));
      expect(linked).toEqual([
        { email: 'dora@test.example', slack: null },
        { email: 'lena@test.example', slack: 'ULENA' },
        { email: 'nina@test.example', slack: null },
        { email: 'olga@test.example', slack: 'UOLGA' },
        { email: 'sam@test.example', slack: 'USAM' },
      ]);
      const events = await db.select().from(auditEvents).where(eq(auditEvents.action, 'link_slack_user')).orderBy(asc(auditEvents.seq));
      expect(events.map((e) => [e.entityRef, e.after])).toEqual([['olga@test.example', { slackUserId: 'UOLGA' }], ['sam@test.example', { slackUserId: 'USAM' }]]);
      expect(events[0].actorLabel).toMatch(/ via command line$/);
    });

    // A second run finds them linked and writes nothing.
    const again = await sync(['sync', 'slack']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('0 matched and linked now, 3 already linked, 2 unmatched.');
  }, 120_000);

  it('links the members of every workspace of an org-wide (Enterprise Grid) install, naming each workspace to users.list as Slack requires', async () => {
    fake.users.set('UWILL', { email: 'will@test.example', real_name: 'Will West', team: 'T0WEST' });
    fake.orgInstall = { enterpriseId: 'E0ORG', teams: [{ id: 'T0TEST', name: 'Test' }, { id: 'T0WEST', name: 'West' }] };
    await register.withDb((db) => db.insert(people).values({ name: 'Will West', email: 'will@test.example', roles: ['staff'] }));
    const before = fake.callsTo('users.list').length;
    let result;
    try {
      result = await sync(['sync', 'slack']);
    } finally {
      fake.orgInstall = undefined;
      fake.users.delete('UWILL');
    }
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('of Slack members in 2 workspaces of the organisation: 1 matched and linked now');
    expect(result.stdout).toContain('  linked: Will West <will@test.example> -> UWILL');
    const calls = fake.callsTo('users.list').slice(before);
    expect(calls.every((c) => c.response?.ok)).toBe(true);
    expect([...new Set(calls.map((c) => c.args.team_id))]).toEqual(['T0TEST', 'T0WEST']);
  }, 120_000);

  it('says what is wrong: a usage mistake exits 2, a missing token or a missing scope exits 1 in one sentence', async () => {
    const usage = await sync(['sync']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('"sync" needs the platform to sync with: slack.');
    expect(usage.stderr).toContain('Usage: npm run isms -- sync slack');

    const missing = await sync(['sync', 'slack'], { SLACK_BOT_TOKEN: undefined, SLACK_SIGNING_SECRET: undefined });
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('SLACK_BOT_TOKEN is not set: "sync slack" needs the Slack app\'s Bot User OAuth Token (xoxb-...) in the environment or .env.');

    fake.on('users.list', () => ({ ok: false, error: 'missing_scope', needed: 'users:read', provided: 'chat:write,commands' }));
    let refused;
    try {
      refused = await sync(['sync', 'slack']);
    } finally {
      fake.off('users.list');
    }
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe('Slack refused users.list (missing_scope): add the bot scopes users:read and users:read.email to the Slack app and reinstall it.');
    expect(refused.stdout).toBe('');
  }, 120_000);
});
