import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { FakeSlack, type SlackCall } from './helpers/fake-slack.js';
import { HttpServer } from '../src/http.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { assembleCore, type Core } from '../src/app.js';
import { enqueue } from '../src/core/outbox.js';
import { deliverDue, type ReceiptChatPort } from '../src/core/delivery.js';
import { startDeliveryWorker } from '../src/scheduler/worker.js';
import { replyText } from '../src/core/reply.js';
import { outbox, people, type Role } from '../src/db/schema/index.js';
import { attachSlack, type AttachedSlack } from '../adapters/slack/slack.js';

const CAST = {
  lead: { name: 'Lena Lead', email: 'lena@test.example', roles: ['isms_lead', 'staff'] as Role[], slackUserId: 'ULENA' },
  staff: { name: 'Sam Staff', email: 'sam@test.example', roles: ['staff'] as Role[], slackUserId: 'USAM' },
  owner: { name: 'Olga Owner', email: 'olga@test.example', roles: ['control_owner', 'staff'] as Role[], slackUserId: 'UOLGA' },
  board: { name: 'Bruno Board', email: 'bruno@test.example', roles: ['management_body'] as Role[], slackUserId: 'UBRUNO' },
};
type Who = keyof typeof CAST;

let t: TestDatabase;
let fake: FakeSlack;
let slack: AttachedSlack;
const ids = {} as Record<Who, number>;
const attached: AttachedSlack[] = [];

/** The Slack adapter as the bot starts it: one per bot process. */
async function startSlack(): Promise<AttachedSlack> {
  const config = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-test-bot-token', SLACK_API_URL: fake.apiUrl, SLACK_SIGNING_SECRET: 'test-signing-secret', ISMS_EXAMPLE_ORG: 'false' });
  const core: Core = assembleCore(config, createLogger('silent'), t);
  const started = await attachSlack(core, new HttpServer(() => undefined), { retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 20 } });
  attached.push(started);
  return started;
}

beforeAll(async () => {
  t = await createTestDatabase();
  for (const [key, who] of Object.entries(CAST) as [Who, (typeof CAST)[Who]][]) {
    const [row] = await t.db.insert(people).values(who).returning();
    ids[key] = row.id;
  }
  fake = await FakeSlack.start();
  slack = await startSlack();
});

afterAll(async () => {
  for (const s of attached) await s.stop();
  await fake?.close();
  await t?.destroy();
});

let counter = 0;
async function queue(who: Who, message: string): Promise<string> {
  const key = `test:slack-delivery:${++counter}`;
  // Due a second ago: the database's now() has microseconds, so a row queued in the same millisecond
  // as a worker's JavaScript clock would otherwise not be due yet for it.
  await enqueue(t.db, { recipientId: ids[who], kind: 'test', idempotencyKey: key, reply: replyText(message), notBefore: new Date(Date.now() - 1000) });
  return key;
}

const row = async (key: string) => (await t.db.select().from(outbox).where(eq(outbox.idempotencyKey, key)))[0];

/** Messages Slack took that carry this delivery key. */
const postsWithKey = (key: string) =>
  fake.callsTo('chat.postMessage').filter((c) => c.response?.ok && c.args.metadata?.event_payload?.key === key);

async function waitUntil(done: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const give = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > give) throw new Error(`not done within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The port of a worker process that stops for good in the middle of sending: after Slack took the
 * message, or just before posting it. Nothing after that point runs, so its row stays 'sending'.
 */
function dyingWorkerPort(port: ReceiptChatPort, postsFirst: boolean, died: () => void): ReceiptChatPort {
  return {
    platform: port.platform,
    canReach: (person) => port.canReach(person),
    send: (person, message) => port.send(person, message),
    wasDelivered: (person, key, since) => port.wasDelivered(person, key, since),
    async sendWithKey(person, message, key) {
      if (postsFirst) await port.sendWithKey(person, message, key);
      died();
      return new Promise<void>(() => undefined);
    },
  };
}

/** Lets a worker claim a row and die with it; resolves once it has died. */
async function workerDiesSending(postsFirst: boolean): Promise<Date> {
  const claimedAt = new Date();
  let died!: () => void;
  const dead = new Promise<void>((resolve) => { died = resolve; });
  const finished = deliverDue(t.db, [dyingWorkerPort(slack.port, postsFirst, died)], claimedAt).then((result) => {
    throw new Error(`the worker finished without claiming the message: ${JSON.stringify(result)}`);
  });
  await Promise.race([dead, finished]);
  return claimedAt;
}

/** Later than the default lease (120 s) of a claim made at `claimedAt`. */
const afterLease = (claimedAt: Date) => new Date(claimedAt.getTime() + 121_000);

describe('outbox messages through the Slack adapter', () => {
  it('carries the delivery key in the message metadata', async () => {
    const key = await queue('staff', 'Please hand in evidence for CTL-AC-01.');
    expect(await deliverDue(t.db, [slack.port])).toMatchObject({ sent: 1 });
    const [post] = postsWithKey(key);
    expect(post.args).toMatchObject({ channel: 'USAM', text: 'Please hand in evidence for CTL-AC-01.' });
    expect(post.args.metadata).toEqual({ event_type: 'isms_outbox', event_payload: { key } });
    expect(await row(key)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('does not send again a message that reached Slack before its worker died, and records it as sent', async () => {
    const key = await queue('owner', 'Policy POL-0003 needs your acknowledgement.');
    const claimedAt = await workerDiesSending(true);
    expect(postsWithKey(key)).toHaveLength(1);
    expect(await row(key)).toMatchObject({ status: 'sending', attempts: 1 });

    // A restarted bot process: its adapter has not talked to Olga yet.
    const restarted = await startSlack();
    const result = await deliverDue(t.db, [restarted.port], afterLease(claimedAt));
    expect(result).toMatchObject({ claimed: 1, sent: 1, failed: 0, retrying: 0 });
    expect(postsWithKey(key)).toHaveLength(1);
    expect(fake.callsTo('chat.postMessage').filter((c) => c.args.text === 'Policy POL-0003 needs your acknowledgement.')).toHaveLength(1);
    expect(await row(key)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('sends a message whose worker died before posting it, once', async () => {
    const key = await queue('board', 'The management review is due on Friday.');
    const claimedAt = await workerDiesSending(false);
    expect(postsWithKey(key)).toHaveLength(0);

    const restarted = await startSlack();
    const result = await deliverDue(t.db, [restarted.port], afterLease(claimedAt));
    expect(result).toMatchObject({ claimed: 1, sent: 1 });
    const posts = postsWithKey(key);
    expect(posts).toHaveLength(1);
    expect(posts[0].args).toMatchObject({ channel: 'UBRUNO', text: 'The management review is due on Friday.' });
    expect(await row(key)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('waits out a 429 on one conversation as long as Retry-After says, while other people get theirs', async () => {
    const retryAfterSeconds = 2;
    const from = fake.calls.length;
    fake.rateLimitConversation('ULENA', retryAfterSeconds);
    const lenaKey = await queue('lead', 'Weekly digest: 3 items need you.');
    const samKey = await queue('staff', 'Reminder: evidence for CTL-AC-01 is due.');
    const worker = startDeliveryWorker(t.db, [slack.port], { intervalMs: 50 });
    try {
      await waitUntil(async () => (await row(lenaKey)).status === 'sent' && (await row(samKey)).status === 'sent');
    } finally {
      await worker.stop();
      fake.clearFailures();
    }
    const since = (c: SlackCall) => fake.calls.indexOf(c) >= from;
    const lena = fake.callsIn('ULENA').filter(since);
    const [refused, ...later] = lena;
    expect(refused).toMatchObject({ method: 'chat.postMessage', status: 429 });
    // Measured where Slack would see it: nothing more reached Lena's conversation before Retry-After ran out.
    expect(later.length).toBeGreaterThan(0);
    for (const call of later) expect(call.at).toBeGreaterThanOrEqual(refused.at + retryAfterSeconds * 1000);
    expect(later.map((c) => [c.method, c.status])).toEqual([['chat.postMessage', 200]]);
    // Sam's message did not wait behind Lena's pause.
    const [samPost] = postsWithKey(samKey);
    expect(fake.calls.indexOf(samPost)).toBeLessThan(fake.calls.indexOf(postsWithKey(lenaKey)[0]));
    // A rate limit is not a failed attempt.
    expect(await row(lenaKey)).toMatchObject({ status: 'sent', attempts: 1 });
  });
});
