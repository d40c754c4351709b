import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, testDbKind, type TestDatabase } from './helpers/db.js';
import { FakeSlackApi } from './helpers/fake-slack-api.js';
import { FakeConnector } from './helpers/fake-connector.js';
import { cardOf, cardText } from './helpers/teams.js';
import { serveBot, type ServingBot } from './helpers/process.js';
import { seedCampaign, seedTeamsCampaign, startWorkerProcess, summaryOf, type WorkerProcess } from './fixtures/campaign.js';
import { SlackWebApiPort } from './fixtures/slack-web-api-port.js';
import { copyRegister } from './helpers/data-folders.js';
import { chatAddresses, outbox } from '../src/db/schema/index.js';
import { campaignProgress, POSSIBLE_REPEAT_NOTE } from '../src/core/delivery.js';
import { startDeliveryWorker } from '../src/scheduler/worker.js';

const CAMPAIGN = 300;
/** Smaller where every commit goes to a PGlite data directory on disk. */
const ON_DISK_CAMPAIGN = 150;

/** Every one of `size` people got exactly one message, counted where Slack would count it. */
function expectOneMessageEach(fake: FakeSlackApi, size: number): void {
  const perChannel = fake.postsPerChannel();
  expect([...perChannel].filter(([, n]) => n !== 1)).toEqual([]);
  expect(perChannel.size).toBe(size);
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

function track(worker: WorkerProcess): WorkerProcess {
  cleanups.push(() => { if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL'); });
  return worker;
}

async function fakeSlack(options: ConstructorParameters<typeof FakeSlackApi>[0] = {}): Promise<FakeSlackApi> {
  const fake = await new FakeSlackApi(options).start();
  cleanups.push(() => fake.stop());
  return fake;
}

if (testDbKind === 'postgres') {
  // Child processes on a shared 2-core machine: generous limits, the assertions are about counts, not speed.
  describe('bot worker processes on one PostgreSQL', { timeout: 180_000 }, () => {
    async function campaignDatabase(): Promise<TestDatabase> {
      const t = await createTestDatabase();
      cleanups.push(() => t.destroy());
      await seedCampaign(t.db, CAMPAIGN);
      return t;
    }

    it('three workers send a campaign of 300 people exactly one message each', async () => {
      const t = await campaignDatabase();
      const fake = await fakeSlack();
      const workers = [1, 2, 3].map(() => track(startWorkerProcess({ WORKER_DATABASE: t.url!, FAKE_SLACK_URL: fake.url })));
      const exits = await Promise.all(workers.map((w) => w.exited));
      expect(exits.map((e) => e.code)).toEqual([0, 0, 0]);
      expectOneMessageEach(fake, CAMPAIGN);
      expect(await campaignProgress(t.db, [1])).toEqual([{ campaignId: 1, total: CAMPAIGN, sent: CAMPAIGN, failed: 0, queued: 0 }]);
    });

    it('a worker killed with SIGKILL in the middle of a send, and restarted: one message each, none missing', async () => {
      const t = await campaignDatabase();
      // The 100th message reaches Slack, but its sender never hears back: it is killed while waiting.
      const fake = await fakeSlack({ holdAfterPosts: 100 });
      const env = { WORKER_DATABASE: t.url!, FAKE_SLACK_URL: fake.url, LEASE_MS: '1500' };
      const workers = [track(startWorkerProcess(env)), track(startWorkerProcess(env))];
      const held = await fake.held;
      const victim = workers.find((w) => String(w.child.pid) === held.worker)!;
      victim.child.kill('SIGKILL');
      expect((await victim.exited).signal).toBe('SIGKILL');
      const restarted = track(startWorkerProcess(env));
      const survivor = workers.find((w) => w !== victim)!;
      const exits = await Promise.all([restarted.exited, survivor.exited]);
      expect(exits.map((e) => e.code)).toEqual([0, 0]);
      expectOneMessageEach(fake, CAMPAIGN);
      // The message that arrived unrecorded was looked up in Slack instead of being sent again.
      expect(fake.requests.some((r) => r.method === 'conversations.history' && r.channel === held.channel)).toBe(true);
      const rows = await t.db.select().from(outbox);
      expect(rows.filter((r) => r.status === 'sent')).toHaveLength(CAMPAIGN);
    });
  });

  describe('two workers under one workspace rate limit', { timeout: 240_000 }, () => {
    it('share the per-minute rate through the database instead of each taking all of it', async () => {
      const size = 150;
      const t = await createTestDatabase();
      cleanups.push(() => t.destroy());
      await seedCampaign(t.db, size);
      // Slack's limit as a strict bucket of 10 messages a second; each worker is told the same 600 a minute.
      const fake = await fakeSlack({ strict: { workspacePerSecond: 10, channelPerSecond: 1 } });
      const env = { WORKER_DATABASE: t.url!, FAKE_SLACK_URL: fake.url, LEASE_MS: '10000', PER_MINUTE: '600' };
      const workers = [track(startWorkerProcess(env)), track(startWorkerProcess(env))];
      const exits = await Promise.all(workers.map((w) => w.exited));
      expect(exits.map((e) => e.code)).toEqual([0, 0]);
      expectOneMessageEach(fake, size);
      // Two workers each pacing at the whole rate would offer twice what Slack takes, and half would come back 429.
      // Paced together at exactly Slack's rate, a few meet an empty bucket when a busy machine delays one send and
      // the next follows close behind (up to 7 of 150 seen in CI): a tenth tells the two cases apart.
      expect(fake.count('chat.postMessage', 429)).toBeLessThan(size / 10);
    });
  });

  /**
   * The bot itself (src/main.ts, Teams on, no Slack) as replicas on one PostgreSQL, sending a campaign
   * through a local Bot Connector. Teams cannot be asked afterwards whether a message arrived, so a
   * message in flight when its bot is killed is sent again once, with a note saying so.
   */
  describe('Teams bots on one PostgreSQL, killed with SIGKILL mid-campaign', { timeout: 240_000 }, () => {
    const TEAMS_CAMPAIGN = 60;
    /** The post held unanswered, as if the bot died right after the Bot Connector took it. */
    const HELD_AT = 20;

    async function teamsCampaign(): Promise<{ t: TestDatabase; connector: FakeConnector; start: () => Promise<ServingBot> }> {
      const t = await createTestDatabase();
      cleanups.push(() => t.destroy());
      const connector = await new FakeConnector({ rateLimitEvery: 9, holdAfterPosts: HELD_AT }).start();
      cleanups.push(() => connector.stop());
      await seedTeamsCampaign(t.db, TEAMS_CAMPAIGN, connector.url);
      const cwd = await mkdtemp(path.join(os.tmpdir(), 'isms-teams-bot-'));
      cleanups.push(() => rm(cwd, { recursive: true, force: true }));
      const register = {
        cwd, withDb: <T>(use: (db: TestDatabase['db']) => Promise<T>) => use(t.db), dispose: async () => undefined,
        env: {
          DATABASE_URL: t.url, TEAMS_ENABLED: 'true', ISMS_EXAMPLE_ORG: 'false', LOG_LEVEL: 'warn',
          SLACK_BOT_TOKEN: undefined, SLACK_SIGNING_SECRET: undefined, SLACK_APP_TOKEN: undefined, MICROSOFT_APP_ID: undefined,
        },
      };
      const settings = { ISMS_DELIVERY_LEASE_MS: '3000', ISMS_DELIVERY_INTERVAL_MS: '50', ISMS_TEAMS_PER_MINUTE: '3000' };
      const start = async () => {
        const bot = await serveBot(register, settings);
        cleanups.push(() => { if (bot.child.exitCode === null && bot.child.signalCode === null) bot.child.kill('SIGKILL'); });
        return bot;
      };
      return { t, connector, start };
    }

    async function killed(bots: ServingBot[]): Promise<void> {
      for (const bot of bots) bot.child.kill('SIGKILL');
      await Promise.all(bots.map((b) => b.exited));
    }

    /**
     * Every person got the message; the held one and at most the others in flight at the kill (4 sends
     * at once per bot) got it twice, the second copy saying so; nobody more than twice; every row recorded sent.
     */
    async function expectEveryoneReached(t: TestDatabase, connector: FakeConnector, heldIn: string, bots: ServingBot[]): Promise<void> {
      await vi.waitFor(async () => expect((await campaignProgress(t.db, [1]))[0]).toMatchObject({ sent: TEAMS_CAMPAIGN, queued: 0 }), { timeout: 150_000, interval: 200 });
      for (const bot of bots) bot.child.kill('SIGTERM');
      await Promise.all(bots.map((b) => b.exited));
      const texts = new Map<string, string[]>();
      for (const p of connector.posted) texts.set(p.conversationId, [...texts.get(p.conversationId) ?? [], cardText(cardOf(p.activity))]);
      expect(texts.size).toBe(TEAMS_CAMPAIGN);
      const twice = [...texts].filter(([, copies]) => copies.length > 1);
      expect(twice.filter(([, copies]) => copies.length > 2)).toEqual([]);
      expect(twice.map(([id]) => id)).toContain(heldIn);
      for (const [, [first, second]] of twice) {
        expect(first).not.toContain(POSSIBLE_REPEAT_NOTE);
        expect(second).toContain(POSSIBLE_REPEAT_NOTE);
      }
      const rows = await t.db.select().from(outbox);
      expect(rows.filter((r) => r.status !== 'sent')).toEqual([]);
      // Every marked copy is on record for the operator, and only those in flight at the kill are marked. One
      // killed after the row was stamped but before its request left arrives once, marked: the bot cannot tell.
      const conversationOf = new Map((await t.db.select().from(chatAddresses)).map((a) => [a.personId, JSON.parse(a.address).conversation.id as string]));
      const repeats = new Set(rows.filter((r) => r.possibleRepeat).map((r) => conversationOf.get(r.recipientId)));
      const marked = [...texts].filter(([, copies]) => copies.some((c) => c.includes(POSSIBLE_REPEAT_NOTE))).map(([id]) => id);
      expect(marked.filter((id) => !repeats.has(id))).toEqual([]);
      expect(repeats.size).toBeLessThanOrEqual(4 * bots.length);
      for (const [id] of twice) expect(repeats).toContain(id);
      expect(connector.rateLimited).toBeGreaterThan(0);
    }

    it('one bot killed mid-campaign and restarted: everyone reached, the message in flight sent again once, marked', async () => {
      const { t, connector, start } = await teamsCampaign();
      const bot = await start();
      const held = await connector.heldPost;
      await killed([bot]);
      const restarted = await start();
      await expectEveryoneReached(t, connector, held.conversationId, [restarted]);
    });

    it('two bots killed at once mid-campaign and restarted: everyone reached, those in flight sent again once, marked', async () => {
      const { t, connector, start } = await teamsCampaign();
      const bots = [await start(), await start()];
      const held = await connector.heldPost;
      await killed(bots);
      const restarted = [await start(), await start()];
      await expectEveryoneReached(t, connector, held.conversationId, restarted);
    });
  });
} else {
  describe('several workers on one PGlite', { timeout: 180_000 }, () => {
    it('three concurrent workers send a campaign of 300 people exactly one message each', async () => {
      const t = await createTestDatabase();
      cleanups.push(() => t.destroy());
      await seedCampaign(t.db, CAMPAIGN);
      const fake = await fakeSlack();
      const port = new SlackWebApiPort(fake.url);
      const workers = [1, 2, 3].map(() => startDeliveryWorker(t.db, [port], {
        intervalMs: 25, batchSize: 10, delivery: { conversationGapMs: 1000, perMinute: { slack: 100_000 }, backoffMs: 50 },
      }));
      try {
        await vi.waitFor(async () => expect((await campaignProgress(t.db, [1]))[0].queued).toBe(0), { timeout: 150_000, interval: 50 });
      } finally {
        await Promise.all(workers.map((w) => w.stop()));
      }
      expectOneMessageEach(fake, CAMPAIGN);
      expect(await campaignProgress(t.db, [1])).toEqual([{ campaignId: 1, total: CAMPAIGN, sent: CAMPAIGN, failed: 0, queued: 0 }]);
    });

    it('a worker process on a PGlite data directory killed with SIGKILL mid-send and restarted: one message each, none missing', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'isms-worker-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      await copyRegister('empty', dir);
      const fake = await fakeSlack({ holdAfterPosts: 50 });
      const env = { WORKER_DATABASE: `pglite:${dir}`, FAKE_SLACK_URL: fake.url, LEASE_MS: '1500' };
      // The first worker migrates the register in the directory and queues the campaign.
      const first = track(startWorkerProcess({ ...env, SEED_CAMPAIGN: String(ON_DISK_CAMPAIGN) }));
      await fake.held;
      first.child.kill('SIGKILL');
      expect((await first.exited).signal).toBe('SIGKILL');
      const second = track(startWorkerProcess(env));
      const done = await second.exited;
      expect(done.code).toBe(0);
      expectOneMessageEach(fake, ON_DISK_CAMPAIGN);
      expect(summaryOf(done.stdout)).toEqual({ sent: ON_DISK_CAMPAIGN });
    });
  });
}
