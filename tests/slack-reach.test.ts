import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { createTestBot, type CastKey, type TestBot } from './helpers/bot.js';
import { FakeSlack } from './helpers/fake-slack.js';
import { HttpServer } from '../src/http.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { assembleCore } from '../src/app.js';
import { enqueue, enqueueMany } from '../src/core/outbox.js';
import type { ChatPort } from '../src/core/port.js';
import type { Person } from '../src/core/actor.js';
import { countingStatements } from './helpers/statements.js';
import { deliverDue } from '../src/core/delivery.js';
import { replyText, toPlainText, type Reply } from '../src/core/reply.js';
import { auditEvents, outbox, people, unreachablePeople } from '../src/db/schema/index.js';
import { UNREACHABLE_GIVE_UP_MS, defaultNudgeSettings, weeklyDigest } from '../src/scheduler/index.js';
import { attachSlack, type AttachedSlack } from '../adapters/slack/slack.js';
import { DateTime } from 'luxon';

/** A moment as a wall clock in the zone shows it, as chat answers give it. */
const onClock = (at: Date, zone: string) => `${DateTime.fromJSDate(at, { zone }).toFormat('yyyy-MM-dd HH:mm')} ${zone}`;

let bot: TestBot;
let fake: FakeSlack;
let slack: AttachedSlack;

beforeAll(async () => {
  bot = await createTestBot();
  // The lead and the board are linked already; owner, staff and auditor are only in the register by email.
  await bot.t.db.update(people).set({ slackUserId: 'ULENA' }).where(eq(people.id, bot.ids.lead));
  await bot.t.db.update(people).set({ slackUserId: 'UBRUNO' }).where(eq(people.id, bot.ids.board));
  fake = await FakeSlack.start();
  fake.users.set('ULENA', { email: 'lena@test.example', real_name: 'Lena Lead' });
  fake.users.set('UBRUNO', { email: 'bruno@test.example', real_name: 'Bruno Board' });
  // Slack keeps the email as the person typed it; the register's is lower case.
  fake.users.set('UOLGA', { email: 'Olga@Test.Example', real_name: 'Olga Owner' });
  fake.users.set('USAM', { email: 'sam@test.example', real_name: 'Sam Staff' });
  const config = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-test-bot-token', SLACK_API_URL: fake.apiUrl, SLACK_SIGNING_SECRET: 'test-signing-secret', ISMS_EXAMPLE_ORG: 'false' });
  const core = assembleCore(config, createLogger('silent'), bot.t);
  slack = await attachSlack(core, new HttpServer(() => undefined), { retryConfig: { retries: 0 } });
});

afterAll(async () => {
  await slack?.stop();
  await fake?.close();
  await bot?.destroy();
});

let counter = 0;
async function queue(recipientId: number, message: string): Promise<string> {
  const key = `test:slack-reach:${++counter}`;
  await enqueue(bot.t.db, { recipientId, kind: 'test', idempotencyKey: key, reply: replyText(message), notBefore: new Date(Date.now() - 1000) });
  return key;
}

const row = async (key: string) => (await bot.t.db.select().from(outbox).where(eq(outbox.idempotencyKey, key)))[0];
const person = async (who: CastKey) => (await bot.t.db.select().from(people).where(eq(people.id, bot.ids[who])))[0];
const lookupsFor = (email: string) => fake.callsTo('users.lookupByEmail').filter((c) => c.args.email === email);

/** The other platform a board member uses: it reaches only the people it was told of. */
class OtherPlatform implements ChatPort {
  readonly platform = 'teams' as const;
  readonly members = new Set<number>();
  readonly delivered: number[] = [];
  canReach(p: Person): boolean { return this.members.has(p.id); }
  unreachableReason(): string { return 'Microsoft Teams: never wrote to the bot in Teams'; }
  async send(p: Person): Promise<void> { this.delivered.push(p.id); }
}

describe('a triage batch to the ISMS leads and the management body', () => {
  it('reaches 49 leads on Slack and a board member without a Slack account on another platform, in at most one statement per message and a few more, '
    + 'never listing the board member as unreachable', async () => {
    const leads = await bot.t.db.insert(people).values(Array.from({ length: 49 }, (_, i) => ({
      name: `Lead ${i}`, email: `lead${i}@test.example`, roles: ['isms_lead' as const], slackUserId: `ULEAD${i}`,
    }))).returning();
    for (const l of leads) fake.users.set(l.slackUserId!, { email: l.email, real_name: l.name });
    const [berta] = await bot.t.db.insert(people).values({ name: 'Berta Board', email: 'berta@test.example', roles: ['management_body'] }).returning();
    const other = new OtherPlatform();
    other.members.add(berta.id);
    await enqueueMany(bot.t.db, [...leads, berta].map((p) => ({
      recipientId: p.id, kind: 'triage', idempotencyKey: `test:triage:AI-0001:${p.id}`, reply: replyText('Please triage AI-0001.'), notBefore: new Date(Date.now() - 1000),
    })));

    const { value, statements } = await countingStatements(() => deliverDue(bot.t.db, [slack.port, other]));
    expect(value).toMatchObject({ sent: 50, waiting: 0, failed: 0 });
    expect(fake.callsTo('chat.postMessage').map((c) => c.args.channel).sort()).toEqual(leads.map((l) => l.slackUserId).sort());
    expect(other.delivered).toEqual([berta.id]);
    // Slack was asked and does not know her; the other platform reaches her, so she is neither written down as unreachable nor cleared again.
    expect(lookupsFor('berta@test.example')).toHaveLength(1);
    expect(statements.filter((q) => /unreachable_people/.test(q) && !/^\s*select/i.test(q))).toEqual([]);
    // Each send is recorded on its own (nothing is sent twice after a crash); claiming the batch and the rest take a few statements in all.
    expect(statements.length).toBeLessThanOrEqual(50 + 10);

    expect(await bot.sayText('lead', '/isms nudges')).not.toContain('Berta Board');
    expect((await bot.t.db.select().from(outbox).where(eq(outbox.recipientId, berta.id)))[0]).toMatchObject({ status: 'sent', platform: 'teams', attempts: 1 });
  });
});

describe('reaching people the register knows only by email', () => {
  it('finds them with users.lookupByEmail the first time a message must reach them, and stores their Slack id once, audited', async () => {
    const first = await queue(bot.ids.owner, 'Please hand in evidence for CTL-AC-01.');
    expect(await deliverDue(bot.t.db, [slack.port])).toMatchObject({ sent: 1, waiting: 0 });
    expect(fake.callsTo('chat.postMessage').at(-1)!.args).toMatchObject({ channel: 'UOLGA', text: 'Please hand in evidence for CTL-AC-01.' });
    expect(await row(first)).toMatchObject({ status: 'sent' });
    expect((await person('owner')).slackUserId).toBe('UOLGA');

    const second = await queue(bot.ids.owner, 'Policy POL-0003 needs your acknowledgement.');
    expect(await deliverDue(bot.t.db, [slack.port])).toMatchObject({ sent: 1 });
    expect(await row(second)).toMatchObject({ status: 'sent' });
    expect(lookupsFor('olga@test.example')).toHaveLength(1);
    const links = await bot.t.db.select().from(auditEvents)
      .where(and(eq(auditEvents.action, 'link_slack_user'), eq(auditEvents.entityRef, 'olga@test.example')));
    expect(links).toHaveLength(1);
    expect(links[0]).toMatchObject({ actorLabel: 'ISMS bot via Slack users.lookupByEmail', after: { slackUserId: 'UOLGA' } });
  });

  it('reaches someone at their new Slack account once the lead cleared the link to the old one the bot had found by email', async () => {
    const [mia] = await bot.t.db.insert(people).values({ name: 'Mia Mover', email: 'mia@test.example', roles: ['staff'] }).returning();
    fake.users.set('UMIA', { email: 'mia@test.example', real_name: 'Mia Mover' });
    const first = await queue(mia.id, 'Please acknowledge POL-0001.');
    expect(await deliverDue(bot.t.db, [slack.port])).toMatchObject({ sent: 1 });
    expect(fake.callsTo('chat.postMessage').at(-1)!.args).toMatchObject({ channel: 'UMIA' });
    expect(await row(first)).toMatchObject({ status: 'sent' });
    // Mia moved to a new account that shows her email; the lead cleared the old link ("person unlink").
    fake.users.delete('UMIA');
    fake.users.set('UMIA2', { email: 'mia@test.example', real_name: 'Mia Mover' });
    await bot.t.db.update(people).set({ slackUserId: null }).where(eq(people.id, mia.id));

    const second = await queue(mia.id, 'Please acknowledge POL-0002.');
    expect(await deliverDue(bot.t.db, [slack.port])).toMatchObject({ sent: 1 });
    expect(await row(second)).toMatchObject({ status: 'sent' });
    expect(fake.callsTo('chat.postMessage').at(-1)!.args).toMatchObject({ channel: 'UMIA2', text: 'Please acknowledge POL-0002.' });
    expect((await bot.t.db.select().from(people).where(eq(people.id, mia.id)))[0].slackUserId).toBe('UMIA2');
  });

  it('reports someone Slack does not know to the ISMS lead with why, asks Slack again only hours later, and finally fails their nudge saying why', async () => {
    const start = new Date();
    const key = await queue(bot.ids.auditor, 'Your audit plan review is due.');
    expect(await deliverDue(bot.t.db, [slack.port], start, 50, { unreachableRetryMs: 10 * 60_000 })).toMatchObject({ sent: 0, waiting: 1 });
    expect(lookupsFor('ada@test.example').map((c) => c.response)).toEqual([{ ok: false, error: 'users_not_found' }]);
    const [unreachable] = await bot.t.db.select().from(unreachablePeople).where(eq(unreachablePeople.personId, bot.ids.auditor));
    expect(unreachable.reason).toBe('Slack: no Slack account has the email ada@test.example');

    // The next polls do not ask Slack again.
    const later = new Date(start.getTime() + 11 * 60_000);
    expect(await deliverDue(bot.t.db, [slack.port], later, 50, { unreachableRetryMs: 10 * 60_000 })).toMatchObject({ sent: 0, waiting: 1 });
    expect(lookupsFor('ada@test.example')).toHaveLength(1);
    expect(await row(key)).toMatchObject({ status: 'queued' });

    const nudges = await bot.sayText('lead', '/isms nudges', { now: later });
    expect(nudges).toContain('1 person cannot be reached on any chat platform');
    expect(nudges).toContain(`Ada Auditor <ada@test.example> — Slack: no Slack account has the email ada@test.example (since ${onClock(start, 'Europe/Berlin')}; messages 1 waiting)`);

    // The digest shows the moment on the lead's own clock.
    await bot.t.db.update(people).set({ timezone: 'Asia/Tokyo' }).where(eq(people.id, bot.ids.lead));
    await weeklyDigest(bot.t.db, later, defaultNudgeSettings());
    const digest = (await bot.outboxFor('lead')).find((m) => m.kind === 'digest')!;
    const digestText = toPlainText(digest.reply as Reply);
    expect(digestText).toContain('1 person cannot be reached on any chat platform, so their nudges do not arrive.');
    expect(digestText).toContain(`Ada Auditor <ada@test.example> — Slack: no Slack account has the email ada@test.example (since ${onClock(start, 'Asia/Tokyo')}`);

    // After the retry window the nudge fails with the reason instead of waiting for ever.
    const afterWindow = new Date(start.getTime() + UNREACHABLE_GIVE_UP_MS + 60_000);
    expect(await deliverDue(bot.t.db, [slack.port], afterWindow, 50, { unreachableRetryMs: 10 * 60_000, unreachableGiveUpMs: UNREACHABLE_GIVE_UP_MS }))
      .toMatchObject({ failed: 1, waiting: 0 });
    expect(await row(key)).toMatchObject({ status: 'failed', lastError: 'Could not reach Ada Auditor on any chat platform: Slack: no Slack account has the email ada@test.example' });
    const failedList = await bot.sayText('lead', '/isms nudges', { now: afterWindow });
    expect(failedList).toContain('Could not reach Ada Auditor on any chat platform: Slack: no Slack account has the email ada@test.example');
    expect(failedList).toContain('messages 1 failed');
  });

  it('waits out a 429 on users.lookupByEmail as long as Retry-After says, for everyone it still has to look up', async () => {
    const [rita] = await bot.t.db.insert(people).values({ name: 'Rita Remote', email: 'rita@test.example', roles: ['staff'] }).returning();
    fake.users.set('URITA', { email: 'rita@test.example', real_name: 'Rita Remote' });
    const retryAfterSeconds = 1;
    fake.rateLimit('users.lookupByEmail', retryAfterSeconds);
    const samKey = await queue(bot.ids.staff, 'Training SEC-101 expires soon.');
    const ritaKey = await queue(rita.id, 'Welcome: please acknowledge POL-0001.');
    const from = fake.calls.length;
    try {
      expect(await deliverDue(bot.t.db, [slack.port])).toMatchObject({ sent: 0, waiting: 2 });
      // One look-up was refused; the other person was not looked up during the pause.
      expect(fake.calls.slice(from).filter((c) => c.method === 'users.lookupByEmail').map((c) => c.status)).toEqual([429]);
      await vi.waitFor(async () => {
        await deliverDue(bot.t.db, [slack.port]);
        expect((await row(samKey)).status).toBe('sent');
        expect((await row(ritaKey)).status).toBe('sent');
      }, { timeout: 10_000, interval: 100 });
    } finally {
      fake.clearFailures();
    }
    const [refused, ...later] = fake.calls.slice(from).filter((c) => c.method === 'users.lookupByEmail');
    expect(refused.status).toBe(429);
    expect(later.map((c) => c.status)).toEqual([200, 200]);
    for (const call of later) expect(call.at).toBeGreaterThanOrEqual(refused.at + retryAfterSeconds * 1000);
    expect((await person('staff')).slackUserId).toBe('USAM');
    // A rate limit says nothing about the person: nobody was reported unreachable for it.
    expect(await bot.t.db.select().from(unreachablePeople).where(eq(unreachablePeople.personId, rita.id))).toEqual([]);
  });
});
