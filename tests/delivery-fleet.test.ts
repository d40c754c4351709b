import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, testDbKind, type TestDatabase } from './helpers/db.js';
import { FakeSlackApi } from './helpers/fake-slack-api.js';
import { seedCampaign, startWorkerProcess, summaryOf, type WorkerProcess } from './fixtures/campaign.js';
import { SlackWebApiPort } from './fixtures/slack-web-api-port.js';
import { outbox } from '../src/db/schema/index.js';
import { campaignProgress } from '../src/core/delivery.js';
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
      const fake = await fakeSlack({ holdAfterPosts: 50 });
      const env = { WORKER_DATABASE: `pglite:${dir}`, FAKE_SLACK_URL: fake.url, LEASE_MS: '1500' };
      // The first worker creates the register in the directory and queues the campaign.
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
