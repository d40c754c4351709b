import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq, inArray } from 'drizzle-orm';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { auditEvents, outbox, people } from '../src/db/schema/index.js';
import { enqueue } from '../src/core/outbox.js';
import { campaignProgress, deliverDue, POSSIBLE_REPEAT_NOTE } from '../src/core/delivery.js';
import { DeliveryError, type ChatPort } from '../src/core/port.js';
import { replyText, toPlainText, type Reply } from '../src/core/reply.js';
import type { Person } from '../src/core/actor.js';
import { createTestBot } from './helpers/bot.js';

/** A chat platform that records what arrived and fails on request. */
class ScriptedPort implements ChatPort {
  readonly platform = 'test' as const;
  readonly delivered: { personId: number; text: string }[] = [];
  /** Errors to throw, in order, before sends succeed again. */
  failures: Error[] = [];
  reachable: (p: Person) => boolean = () => true;
  canReach(person: Person): boolean { return this.reachable(person); }
  async send(person: Person, message: Reply): Promise<void> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.delivered.push({ personId: person.id, text: toPlainText(message) });
  }
}

const at = (iso: string) => new Date(iso);
const T0 = at('2027-03-01T10:00:00Z');
const plus = (ms: number) => new Date(T0.getTime() + ms);

describe('the delivery worker', () => {
  let t: TestDatabase;
  let ids: number[];
  let port: ScriptedPort;

  beforeEach(async () => {
    t = await createTestDatabase();
    const rows = await t.db.insert(people).values(Array.from({ length: 12 }, (_, i) => ({ name: `Person ${i}`, email: `p${i}@test.example` }))).returning();
    ids = rows.map((r) => r.id);
    port = new ScriptedPort();
  });
  afterEach(async () => { await t.destroy(); });

  const queue = async (personId: number, key: string, extra: { campaignId?: number; notBefore?: Date } = {}) =>
    enqueue(t.db, { recipientId: personId, kind: 'test', idempotencyKey: key, reply: replyText(`message ${key}`), notBefore: extra.notBefore ?? T0, campaignId: extra.campaignId });
  const row = async (key: string) => (await t.db.select().from(outbox).where(eq(outbox.idempotencyKey, key)))[0];

  it('sends a due message once and records it as sent', async () => {
    await queue(ids[0], 'a');
    expect(await deliverDue(t.db, [port], T0)).toMatchObject({ sent: 1, claimed: 1 });
    expect(await deliverDue(t.db, [port], plus(60_000))).toMatchObject({ sent: 0, claimed: 0 });
    expect(port.delivered).toEqual([{ personId: ids[0], text: 'message a' }]);
    expect(await row('a')).toMatchObject({ status: 'sent', attempts: 1, platform: 'test', leaseUntil: null });
  });

  it('does not send before not_before', async () => {
    await queue(ids[0], 'later', { notBefore: plus(3_600_000) });
    expect((await deliverDue(t.db, [port], T0)).sent).toBe(0);
    expect((await deliverDue(t.db, [port], plus(3_600_000))).sent).toBe(1);
  });

  it('retries a passing failure with exponential backoff, then gives up after the last attempt and keeps the error', async () => {
    await queue(ids[0], 'flaky');
    port.failures = [1, 2, 3].map((n) => new DeliveryError(`HTTP 500 number ${n}`));
    const options = { maxAttempts: 3, backoffMs: 1000 };
    await deliverDue(t.db, [port], T0, 50, options);
    expect(await row('flaky')).toMatchObject({ status: 'queued', attempts: 1, lastError: 'HTTP 500 number 1', notBefore: plus(1000) });
    expect((await deliverDue(t.db, [port], plus(999), 50, options)).claimed).toBe(0);
    await deliverDue(t.db, [port], plus(1000), 50, options);
    expect(await row('flaky')).toMatchObject({ status: 'queued', attempts: 2, lastError: 'HTTP 500 number 2', notBefore: plus(1000 + 2000) });
    await deliverDue(t.db, [port], plus(3000), 50, options);
    expect(await row('flaky')).toMatchObject({ status: 'failed', attempts: 3, lastError: 'HTTP 500 number 3' });
    expect((await deliverDue(t.db, [port], plus(3_600_000), 50, options)).claimed).toBe(0);
    expect(port.delivered).toEqual([]);
  });

  it('marks a permanent failure failed at once', async () => {
    await queue(ids[0], 'gone');
    port.failures = [new DeliveryError('user_not_found', undefined, true)];
    expect(await deliverDue(t.db, [port], T0)).toMatchObject({ failed: 1 });
    expect(await row('gone')).toMatchObject({ status: 'failed', lastError: 'user_not_found' });
  });

  it('fails a message at once when the only platform that could find the person refuses the bot for good; a passing failure, or another platform, keeps it waiting', async () => {
    await queue(ids[0], 'unfound');
    let refusal: Error = new Error('connect ECONNRESET');
    const finding: ChatPort = { platform: 'test', canReach: () => { throw refusal; }, send: async () => undefined };
    const other: ChatPort = { platform: 'teams', canReach: () => false, unreachableReason: () => 'Teams: never wrote to the bot', send: async () => undefined };
    expect(await deliverDue(t.db, [finding], T0)).toMatchObject({ failed: 0, waiting: 1 });
    refusal = new DeliveryError('The platform no longer accepts the bot token: reinstall the app', undefined, true);
    expect(await deliverDue(t.db, [finding, other], T0)).toMatchObject({ failed: 0, waiting: 1 });
    expect(await row('unfound')).toMatchObject({ status: 'queued' });
    expect(await deliverDue(t.db, [finding], T0)).toMatchObject({ failed: 1, waiting: 0 });
    expect(await row('unfound')).toMatchObject({ status: 'failed', attempts: 0, lastError: 'The platform no longer accepts the bot token: reinstall the app' });
  });

  it('waits as long as Retry-After says before writing to that person again, without counting it as a failed attempt', async () => {
    await queue(ids[0], 'first');
    await queue(ids[0], 'second');
    port.failures = [new DeliveryError('rate limited', 30_000)];
    const options = { maxAttempts: 1 };
    expect(await deliverDue(t.db, [port], T0, 50, options)).toMatchObject({ retrying: 1, sent: 1 });
    // One of the two went through before the limit; the other waits out the pause.
    const waiting = (await t.db.select().from(outbox).where(eq(outbox.status, 'queued')))[0];
    expect(waiting).toMatchObject({ attempts: 0, lastError: 'rate limited', notBefore: plus(30_000) });
    expect((await deliverDue(t.db, [port], plus(29_999), 50, options)).claimed).toBe(0);
    expect((await deliverDue(t.db, [port], plus(30_000), 50, options)).sent).toBe(1);
    expect(port.delivered.map((d) => d.text).sort()).toEqual(['message first', 'message second']);
  });

  it('reclaims a row left in "sending" by a worker that died, once its lease has run out', async () => {
    await queue(ids[1], 'orphan');
    await t.db.update(outbox).set({ status: 'sending', attempts: 1, claimedAt: T0, leaseUntil: plus(120_000) }).where(eq(outbox.idempotencyKey, 'orphan'));
    expect((await deliverDue(t.db, [port], plus(119_000))).claimed).toBe(0);
    expect((await deliverDue(t.db, [port], plus(120_000))).sent).toBe(1);
    expect(await row('orphan')).toMatchObject({ status: 'sent', attempts: 2 });
    expect(port.delivered).toHaveLength(1);
  });

  it('spreads a platform\'s per-minute budget evenly over the minute instead of sending it at once', async () => {
    for (const id of ids) await queue(id, `even-${id}`);
    const options = { perMinute: { test: 6 } };
    expect((await deliverDue(t.db, [port], T0, 50, options)).sent).toBe(1);
    expect((await deliverDue(t.db, [port], plus(5_000), 50, options)).sent).toBe(0);
    expect((await deliverDue(t.db, [port], plus(10_000), 50, options)).sent).toBe(1);
    // A quiet spell does not bank the minute's budget for one burst later.
    expect((await deliverDue(t.db, [port], plus(60_000), 50, options)).sent).toBe(1);
    expect((await deliverDue(t.db, [port], plus(70_000), 50, options)).sent).toBe(1);
  });

  it('counts only messages the platform took: a 429 leaves its place in the pace for the retry', async () => {
    for (const id of ids.slice(0, 3)) await queue(id, `took-${id}`);
    port.failures = [new DeliveryError('rate limited', 1_000)];
    const options = { perMinute: { test: 6 } };
    expect(await deliverDue(t.db, [port], T0, 50, options)).toMatchObject({ sent: 0, rateLimited: 1 });
    // Without the refused message counting, the next one need not wait the 10 s of a taken one.
    expect((await deliverDue(t.db, [port], plus(1_000), 50, options)).sent).toBe(1);
    expect((await deliverDue(t.db, [port], plus(5_000), 50, options)).sent).toBe(0);
    expect((await deliverDue(t.db, [port], plus(11_000), 50, options)).sent).toBe(1);
    expect(port.delivered).toHaveLength(2);
  });

  it('keeps a platform within its per-minute budget across calls, even when its bucket allows a minute-long burst', async () => {
    for (const id of ids) await queue(id, `budget-${id}`);
    const options = { perMinute: { test: 5 }, burstMs: 60_000 };
    expect((await deliverDue(t.db, [port], T0, 50, options)).sent).toBe(5);
    expect((await deliverDue(t.db, [port], plus(30_000), 50, options)).sent).toBe(0);
    expect((await deliverDue(t.db, [port], plus(60_001), 50, options)).sent).toBe(5);
    expect((await deliverDue(t.db, [port], plus(120_002), 50, options)).sent).toBe(2);
    expect(new Set(port.delivered.map((d) => d.personId)).size).toBe(12);
  });

  it('leaves a second before the next message to the same conversation', async () => {
    await queue(ids[2], 'one');
    await queue(ids[2], 'two');
    const options = { conversationGapMs: 1000 };
    expect((await deliverDue(t.db, [port], T0, 50, options)).sent).toBe(1);
    expect((await deliverDue(t.db, [port], plus(500), 50, options)).sent).toBe(0);
    expect((await deliverDue(t.db, [port], plus(1001), 50, options)).sent).toBe(1);
  });

  it('leaves a message nobody can reach queued, and sends it once someone can (the terminal)', async () => {
    await queue(ids[3], 'for-3');
    await queue(ids[4], 'for-4');
    port.reachable = (p) => p.id === ids[4];
    expect(await deliverDue(t.db, [port], T0)).toMatchObject({ sent: 1, waiting: 1 });
    expect((await row('for-3')).status).toBe('queued');
    port.reachable = (p) => p.id === ids[3];
    expect(await deliverDue(t.db, [port], T0)).toMatchObject({ sent: 1, waiting: 0 });
  });

  it('holds messages to a person on leave until the morning they are back', async () => {
    await t.db.update(people).set({ pausedUntil: at('2027-03-08T00:00:00+01:00'), timezone: 'Europe/Berlin' }).where(eq(people.id, ids[5]));
    await queue(ids[5], 'after-leave');
    const workingTime = { timezone: 'Europe/Berlin', workingHours: { start: 9 * 60, end: 17 * 60 }, workWeekends: false };
    expect((await deliverDue(t.db, [port], T0, 50, { workingTime })).sent).toBe(0);
    expect((await row('after-leave')).notBefore).toEqual(at('2027-03-08T09:00:00+01:00'));
    expect((await deliverDue(t.db, [port], at('2027-03-08T08:59:00+01:00'), 50, { workingTime })).sent).toBe(0);
    expect((await deliverDue(t.db, [port], at('2027-03-08T09:00:00+01:00'), 50, { workingTime })).sent).toBe(1);
  });

  it('reports campaign progress as sent out of total', async () => {
    for (const id of ids.slice(0, 4)) await queue(id, `campaign-${id}`, { campaignId: 77 });
    await deliverDue(t.db, [port], T0, 2);
    expect(await campaignProgress(t.db, [77])).toEqual([{ campaignId: 77, total: 4, sent: 2, failed: 0, queued: 2 }]);
    await deliverDue(t.db, [port], T0);
    expect((await campaignProgress(t.db))[0]).toMatchObject({ campaignId: 77, sent: 4, total: 4 });
  });

  it('never sends one row twice when several workers claim at the same moment', async () => {
    for (const id of ids) await queue(id, `race-${id}`);
    const results = await Promise.all([1, 2, 3].map(() => deliverDue(t.db, [port], T0, 5)));
    const again = await deliverDue(t.db, [port], T0);
    expect(results.reduce((n, r) => n + r.sent, 0) + again.sent).toBe(12);
    expect(port.delivered.map((d) => d.personId).sort()).toEqual([...ids].sort());
    const sent = await t.db.select().from(outbox).where(inArray(outbox.recipientId, ids));
    expect(sent.every((r) => r.status === 'sent' && r.attempts === 1)).toBe(true);
  });

  describe('on a platform that cannot be asked whether a message arrived (Teams)', () => {
    /** The row as a worker killed after the platform took the message, before recording it, leaves it. */
    const interruptedAfterTheCall = (key: string) => t.db.update(outbox)
      .set({ status: 'sending', sentAt: null, leaseUntil: plus(1000) }).where(eq(outbox.idempotencyKey, key));

    it('sends a message interrupted after the call once more, saying so, and records it as a possible repeat', async () => {
      await queue(ids[0], 'crash');
      await deliverDue(t.db, [port], T0);
      await interruptedAfterTheCall('crash');
      const auditBefore = (await t.db.select().from(auditEvents)).length;
      const again = await deliverDue(t.db, [port], plus(60_000));
      expect(again).toMatchObject({ sent: 1, possibleRepeats: [{ recipientId: ids[0], platform: 'test' }] });
      expect(port.delivered).toEqual([
        { personId: ids[0], text: 'message crash' },
        { personId: ids[0], text: `⚠ ${POSSIBLE_REPEAT_NOTE}\nmessage crash` },
      ]);
      expect(await row('crash')).toMatchObject({ status: 'sent', possibleRepeat: true, attempts: 2 });
      const events = (await t.db.select().from(auditEvents)).slice(auditBefore);
      expect(events).toMatchObject([{ action: 'resend_after_interruption', entityRef: `outbox:${(await row('crash')).id}`, actorLabel: 'ISMS delivery' }]);
      // Recorded now: never a third copy.
      expect((await deliverDue(t.db, [port], plus(3_600_000))).sent).toBe(0);
      expect(port.delivered).toHaveLength(2);
    });

    it('sends a message claimed but interrupted before the call once, with no note', async () => {
      await queue(ids[1], 'claimed');
      await t.db.update(outbox).set({ status: 'sending', attempts: 1, claimedAt: T0, leaseUntil: plus(1000) }).where(eq(outbox.idempotencyKey, 'claimed'));
      expect(await deliverDue(t.db, [port], plus(60_000))).toMatchObject({ sent: 1, possibleRepeats: [] });
      expect(port.delivered).toEqual([{ personId: ids[1], text: 'message claimed' }]);
      expect(await row('claimed')).toMatchObject({ status: 'sent', possibleRepeat: false });
    });

    it('sends a message again, saying so, after an error that says it may have arrived (a gateway timeout)', async () => {
      await queue(ids[3], 'timeout');
      port.failures = [new DeliveryError('HTTP 504 gateway timeout', undefined, false, true)];
      const options = { backoffMs: 1000 };
      expect(await deliverDue(t.db, [port], T0, 50, options)).toMatchObject({ retrying: 1, possibleRepeats: [] });
      expect(await row('timeout')).toMatchObject({ status: 'queued', lastError: 'HTTP 504 gateway timeout; it may have reached the person', notBefore: plus(1000) });
      const auditBefore = (await t.db.select().from(auditEvents)).length;
      expect(await deliverDue(t.db, [port], plus(1000), 50, options)).toMatchObject({ sent: 1, possibleRepeats: [{ recipientId: ids[3], platform: 'test' }] });
      expect(port.delivered).toEqual([{ personId: ids[3], text: `⚠ ${POSSIBLE_REPEAT_NOTE}\nmessage timeout` }]);
      expect(await row('timeout')).toMatchObject({ status: 'sent', possibleRepeat: true, attempts: 2 });
      const events = (await t.db.select().from(auditEvents)).slice(auditBefore);
      expect(events).toMatchObject([{ action: 'resend_after_interruption', entityRef: `outbox:${(await row('timeout')).id}` }]);
    });

    it('sends a message again without a note after an error that says it did not arrive (503)', async () => {
      await queue(ids[4], 'unavailable');
      port.failures = [new DeliveryError('HTTP 503 service unavailable')];
      const options = { backoffMs: 1000 };
      await deliverDue(t.db, [port], T0, 50, options);
      expect(await deliverDue(t.db, [port], plus(1000), 50, options)).toMatchObject({ sent: 1, possibleRepeats: [] });
      expect(port.delivered).toEqual([{ personId: ids[4], text: 'message unavailable' }]);
      expect(await row('unavailable')).toMatchObject({ status: 'sent', possibleRepeat: false });
    });

    it('puts one note on a message however many uncertain attempts came before it', async () => {
      await queue(ids[5], 'twice');
      port.failures = [1, 2].map((n) => new DeliveryError(`connection reset ${n}`, undefined, false, true));
      const options = { backoffMs: 1000 };
      await deliverDue(t.db, [port], T0, 50, options);
      await deliverDue(t.db, [port], plus(1000), 50, options);
      expect(await row('twice')).toMatchObject({ status: 'queued', attempts: 2, lastError: 'connection reset 2; it may have reached the person' });
      expect(await deliverDue(t.db, [port], plus(3000), 50, options)).toMatchObject({ sent: 1, possibleRepeats: [{ recipientId: ids[5] }] });
      expect(port.delivered).toEqual([{ personId: ids[5], text: `⚠ ${POSSIBLE_REPEAT_NOTE}\nmessage twice` }]);
    });

    it('records a message failed, with the reason, when a permanent error follows an uncertain one', async () => {
      await queue(ids[6], 'blocked');
      port.failures = [new DeliveryError('HTTP 504', undefined, false, true), new DeliveryError('HTTP 403 the bot was blocked', undefined, true)];
      const options = { backoffMs: 1000 };
      await deliverDue(t.db, [port], T0, 50, options);
      expect(await deliverDue(t.db, [port], plus(1000), 50, options)).toMatchObject({ failed: 1, possibleRepeats: [] });
      expect(await row('blocked')).toMatchObject({ status: 'failed', lastError: 'HTTP 403 the bot was blocked' });
      expect(port.delivered).toEqual([]);
    });

    it('keeps the note when the repeat is first refused with a rate limit', async () => {
      await queue(ids[2], 'limited');
      await deliverDue(t.db, [port], T0);
      await interruptedAfterTheCall('limited');
      port.failures.push(new DeliveryError('rate limited', 1000));
      expect(await deliverDue(t.db, [port], plus(60_000))).toMatchObject({ sent: 0, rateLimited: 1 });
      expect(await deliverDue(t.db, [port], plus(120_000))).toMatchObject({ sent: 1, possibleRepeats: [{ recipientId: ids[2] }] });
      expect(port.delivered.map((d) => d.text)).toEqual(['message limited', `⚠ ${POSSIBLE_REPEAT_NOTE}\nmessage limited`]);
    });
  });
});

describe('/isms nudges after an interrupted send', () => {
  it('tells the ISMS lead how many messages went out again, possibly as a second copy', async () => {
    const bot = await createTestBot();
    try {
      const now = new Date('2027-03-01T10:00:00Z');
      await enqueue(bot.t.db, { recipientId: bot.ids.staff, kind: 'policy_ack', idempotencyKey: 'again', reply: replyText('please acknowledge'), notBefore: now });
      const port: ChatPort = { platform: 'test', canReach: () => true, send: async () => undefined };
      await deliverDue(bot.t.db, [port], now);
      // As a worker killed after the platform took the message, before it recorded it, leaves the row.
      await bot.t.db.update(outbox).set({ status: 'sending', sentAt: null, leaseUntil: now }).where(eq(outbox.idempotencyKey, 'again'));
      expect((await deliverDue(bot.t.db, [port], new Date(now.getTime() + 60_000))).possibleRepeats).toHaveLength(1);
      const answer = await bot.sayText('lead', '/isms nudges', { now: new Date(now.getTime() + 120_000) });
      expect(answer).toContain('1 message was sent again after the bot was interrupted mid-send on a platform that cannot confirm delivery (Teams)');
    } finally {
      await bot.destroy();
    }
  });

  it('does not count a repeat that the platform then refused for good: nobody holds two copies of it', async () => {
    const bot = await createTestBot();
    try {
      const now = new Date('2027-03-01T10:00:00Z');
      await enqueue(bot.t.db, { recipientId: bot.ids.staff, kind: 'policy_ack', idempotencyKey: 'refused', reply: replyText('please acknowledge'), notBefore: now });
      let refuse = false;
      const port: ChatPort = {
        platform: 'test', canReach: () => true,
        send: async () => { if (refuse) throw new DeliveryError('HTTP 403 the bot was blocked', undefined, true); },
      };
      await deliverDue(bot.t.db, [port], now);
      await bot.t.db.update(outbox).set({ status: 'sending', sentAt: null, leaseUntil: now }).where(eq(outbox.idempotencyKey, 'refused'));
      refuse = true;
      expect(await deliverDue(bot.t.db, [port], new Date(now.getTime() + 60_000))).toMatchObject({ failed: 1, possibleRepeats: [] });
      const answer = await bot.sayText('lead', '/isms nudges', { now: new Date(now.getTime() + 120_000) });
      expect(answer).toContain('1 failed');
      expect(answer).not.toContain('sent again after the bot was interrupted');
    } finally {
      await bot.destroy();
    }
  });
});
