import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { FakeSlackApi } from './helpers/fake-slack-api.js';
import { seedCampaign } from './fixtures/campaign.js';
import { SlackWebApiPort } from './fixtures/slack-web-api-port.js';
import { outbox, people } from '../src/db/schema/index.js';
import { enqueue } from '../src/core/outbox.js';
import { replyText } from '../src/core/reply.js';
import { campaignProgress } from '../src/core/delivery.js';
import { startDeliveryWorker } from '../src/scheduler/worker.js';
import { Writable } from 'node:stream';
import { webApi } from '@slack/bolt';
import { createLogger } from '../src/log.js';
import { SlackApi, boltLogger } from '../adapters/slack/api.js';
import { slackPort } from '../adapters/slack/port.js';

const PEOPLE = 60;
const TWICE = 10;

describe('delivery through a Slack Web API that answers 429 with Retry-After and sometimes 500', () => {
  let t: TestDatabase;
  let fake: FakeSlackApi;
  beforeAll(async () => {
    t = await createTestDatabase();
    fake = await new FakeSlackApi({ rateLimitEvery: 7, retryAfterSeconds: 1, failEvery: 10 }).start();
  });
  afterAll(async () => {
    await fake.stop();
    await t.destroy();
  });

  it('delivers everything exactly once, waits out every Retry-After and leaves a second between messages to one person', async () => {
    await seedCampaign(t.db, PEOPLE);
    // Some people also have a second message, so a pause in their conversation holds both.
    const some = (await t.db.select().from(people).orderBy(people.id)).slice(0, TWICE);
    for (const p of some) {
      await enqueue(t.db, { recipientId: p.id, kind: 'triage', idempotencyKey: `second:${p.id}`, reply: replyText('A second message'), notBefore: new Date(Date.now() - 1000) });
    }
    const port = new SlackWebApiPort(fake.url);
    const workers = [1, 2].map(() => startDeliveryWorker(t.db, [port], {
      intervalMs: 25, batchSize: 10, delivery: { conversationGapMs: 1000, backoffMs: 50, perMinute: { slack: 100_000 } },
    }));
    const open = async () => (await t.db.select({ status: outbox.status }).from(outbox)).filter((r) => r.status === 'queued' || r.status === 'sending').length;
    // Bounded, so a worker that ignores Retry-After fails here instead of running forever.
    try {
      await vi.waitFor(async () => expect(await open()).toBe(0), { timeout: 30_000, interval: 50 });
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }

    // Nothing reached a conversation before its Retry-After ran out.
    expect(fake.tooEarly).toEqual([]);
    // The fake did push back, both ways.
    expect(fake.count('chat.postMessage', 429)).toBeGreaterThan(0);
    expect(fake.count('chat.postMessage', 500)).toBeGreaterThan(0);
    // Everyone got theirs, once.
    const perChannel = fake.postsPerChannel();
    expect(perChannel.size).toBe(PEOPLE);
    const twice = new Set(some.map((p) => `D${p.slackUserId}`));
    for (const [channel, n] of perChannel) expect(n).toBe(twice.has(channel) ? 2 : 1);
    // Two messages to one person arrived at least a second apart.
    for (const channel of twice) {
      const [first, second] = fake.requests.filter((r) => r.channel === channel && r.method === 'chat.postMessage' && r.status === 200);
      expect(second.at - first.at).toBeGreaterThanOrEqual(1000);
    }
    expect(await campaignProgress(t.db, [1])).toEqual([{ campaignId: 1, total: PEOPLE, sent: PEOPLE, failed: 0, queued: 0 }]);
  });
});

describe('a campaign through the Slack adapter against Slack\'s documented limits (strict token buckets, 429 with Retry-After)', () => {
  const SIZE = 240;
  let t: TestDatabase;
  let fake: FakeSlackApi;
  beforeAll(async () => {
    t = await createTestDatabase();
    fake = await new FakeSlackApi({ strict: { workspacePerSecond: 20 } }).start();
  });
  afterAll(async () => {
    await fake.stop();
    await t.destroy();
  });

  it('messages everyone exactly once, waits out every 429, and logs them as one counted line instead of an error each', async () => {
    await seedCampaign(t.db, SIZE);
    const lines: { level: number; msg: string; rateLimited?: number }[] = [];
    const log = createLogger('debug', new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } }));
    // The adapter's outbox client: no retries of its own, a 429 comes straight back to the worker.
    const client = new webApi.WebClient('xoxb-test-token', { slackApiUrl: fake.url, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logger: boltLogger(log) });
    const api = new SlackApi(client, log, 'xoxb-test-token');
    const port = slackPort(t.db, api, api);
    // Paced a quarter faster than the workspace takes, so Slack does push back.
    const worker = startDeliveryWorker(t.db, [port], {
      intervalMs: 25, logger: log, reportEveryMs: 1000, delivery: { conversationGapMs: 1000, perMinute: { slack: 25 * 60 } },
    });
    try {
      await vi.waitFor(async () => expect((await campaignProgress(t.db, [1]))[0].queued).toBe(0), { timeout: 120_000, interval: 100 });
    } finally {
      await worker.stop();
    }

    expect(fake.count('chat.postMessage', 429)).toBeGreaterThan(0);
    // Nothing reached a conversation before its Retry-After ran out.
    expect(fake.tooEarly).toEqual([]);
    const perChannel = fake.postsPerChannel();
    expect([...perChannel].filter(([, n]) => n !== 1)).toEqual([]);
    expect(perChannel.size).toBe(SIZE);
    expect(await campaignProgress(t.db, [1])).toEqual([{ campaignId: 1, total: SIZE, sent: SIZE, failed: 0, queued: 0 }]);
    // No 429 became an error or warning line; they were counted in the worker's summary lines.
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    const counted = lines.filter((l) => l.rateLimited !== undefined).reduce((n, l) => n + l.rateLimited!, 0);
    expect(counted).toBeGreaterThan(0);
    expect(lines.filter((l) => l.level === 20 && /rate limited/.test(l.msg)).length).toBe(fake.count('chat.postMessage', 429));
  });
});
