import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { eq } from 'drizzle-orm';
import { outbox, people } from '../src/db/schema/index.js';
import { enqueue } from '../src/core/outbox.js';
import { replyText } from '../src/core/reply.js';
import { startDeliveryWorker } from '../src/scheduler/worker.js';
import type { ChatPort } from '../src/core/port.js';
import type { Person } from '../src/core/actor.js';
import { FakeConnector } from './helpers/fake-connector.js';
import { exampleRegister, serveBot, type Register } from './helpers/process.js';
import { createTestBot, type TestBot } from './helpers/bot.js';

const LEAD = { email: 'iris@northwind.example', aad: 'aad-iris', teamsId: '29:iris' };


/** A message Iris types to the bot in her personal chat, as Teams delivers it. */
function message(text: string, serviceUrl: string) {
  return {
    type: 'message', id: `m-${Math.random()}`, channelId: 'msteams', text, serviceUrl,
    from: { id: LEAD.teamsId, name: 'Iris', aadObjectId: LEAD.aad },
    recipient: { id: '28:isms-bot', name: 'ISMS' },
    conversation: { id: 'a:personal-iris', conversationType: 'personal', tenantId: 'tenant-1' },
    channelData: { tenant: { id: 'tenant-1' } },
  };
}

describe('a graceful stop on SIGTERM', () => {
  let register: Register;
  let connector: FakeConnector;
  let bot: ChildProcess | undefined;
  beforeEach(async () => {
    register = await exampleRegister();
    connector = await new FakeConnector().start();
    connector.members.set(LEAD.teamsId, { id: LEAD.teamsId, name: 'Iris', aadObjectId: LEAD.aad, email: LEAD.email, userPrincipalName: LEAD.email });
  });
  afterEach(async () => {
    bot?.kill('SIGKILL');
    for (const h of connector.held) h.release();
    await connector.stop();
    await register.dispose();
  });

  it('turns /readyz to 503 at once, refuses new requests, lets the reply still owed arrive, and exits 0', async () => {
    // serveBot's jobs never fire: no run of this morning's missed fire sends Iris more than the reply.
    const serving = await serveBot(register, { TEAMS_ENABLED: 'true', LOG_LEVEL: 'info', ISMS_STOP_TIMEOUT_MS: '20000' });
    bot = serving.child;
    const { base, exited } = serving;

    // The message is answered 200 at once; its reply, held by a slow Bot Connector, is still owed.
    connector.holdPosts = true;
    const accepted = await fetch(`${base}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message('help', connector.url)) });
    expect(accepted.status).toBe(200);
    await vi.waitFor(() => expect(connector.held).toHaveLength(1), { timeout: 30_000, interval: 50 });

    bot.kill('SIGTERM');
    await vi.waitFor(async () => expect((await fetch(`${base}/readyz`)).status).toBe(503), { timeout: 10_000, interval: 50 });
    const late = await fetch(`${base}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message('status', connector.url)) });
    expect(late.status).toBe(503);
    expect(late.headers.get('retry-after')).toBe('5');

    expect(bot.exitCode).toBeNull();
    connector.held[0].release();
    expect(await exited, serving.log()).toBe(0);
    const answered = connector.postedTo('a:personal-iris');
    expect(answered).toHaveLength(1);
    expect(JSON.stringify(answered[0].activity)).toContain('declare ai');
    expect(serving.log()).toContain('"msg":"stopped"');
  }, 120_000);
});

describe('the outbox worker stopping mid-campaign', () => {
  let t: TestBot;
  beforeEach(async () => { t = await createTestBot(); });
  afterEach(async () => { await t.destroy(); });

  it('finishes the sends in hand, hands the rest back to the queue at once, and a new worker sends each message once', async () => {
    const recipients = await t.t.db.select().from(people);
    // Due a second ago: the database stamps a new row in microseconds and the worker reads the clock
    // in milliseconds, so a row queued within the worker's first millisecond would wait for its second
    // batch, which these held sends never let it start.
    const notBefore = new Date(Date.now() - 1000);
    for (const p of recipients) {
      await enqueue(t.t.db, { recipientId: p.id, kind: 'policy_ack', idempotencyKey: `campaign-test:${p.id}`, reply: replyText(`Please acknowledge, ${p.name}`), campaignId: 1, notBefore });
    }
    const sent: number[] = [];
    /** Sends the platform has started on and not yet answered. */
    const inHand: (() => void)[] = [];
    let slow = true;
    const slowPlatform: ChatPort = {
      platform: 'test',
      canReach: () => true,
      async send(person: Person) {
        if (slow) await new Promise<void>((resolve) => { inHand.push(resolve); });
        sent.push(person.id);
      },
    } as ChatPort;
    const worker = startDeliveryWorker(t.t.db, [slowPlatform], { intervalMs: 50, batchSize: 25 });
    await vi.waitFor(async () => {
      expect((await t.t.db.select().from(outbox).where(eq(outbox.status, 'sending'))).length).toBe(recipients.length);
      expect(inHand.length).toBeGreaterThan(0);
    }, { timeout: 30_000 });
    const stopping = worker.stop();
    // The platform answers what it holds, and at once any send the worker had already begun (its
    // record of the attempt written) when it was told to stop.
    slow = false;
    for (const answer of inHand) answer();
    await stopping;

    // Sent once each: the sends in hand; the rest went back to the queue at once, not after the lease.
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.length).toBeLessThan(recipients.length);
    expect(new Set(sent).size).toBe(sent.length);
    const rows = await t.t.db.select().from(outbox);
    expect(rows.filter((r) => r.status === 'sent')).toHaveLength(sent.length);
    expect(rows.filter((r) => r.status === 'queued' && r.leaseUntil === null)).toHaveLength(recipients.length - sent.length);

    const next = startDeliveryWorker(t.t.db, [slowPlatform], { intervalMs: 50, batchSize: 25 });
    await vi.waitFor(() => expect(sent).toHaveLength(recipients.length), { timeout: 30_000 });
    await next.stop();
    expect(new Set(sent).size).toBe(recipients.length);
  });
});
