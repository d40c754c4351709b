import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { aiTools, processedEvents } from '../src/db/schema/index.js';
import { JOBS, defaultNudgeSettings, runScheduledJob } from '../src/scheduler/index.js';
import { loadConfig } from '../src/config.js';
import { createTestBot, type TestBot } from './helpers/bot.js';

const HOUR = 3_600_000;
const settings = defaultNudgeSettings({ processedEventsRetentionHours: 48 });
const prune = JOBS.find((j) => j.name === 'prune-processed-events')!;

/** The moment the database holds as now: the claim's `at` comes from the database clock. */
async function dbNow(bot: TestBot): Promise<Date> {
  const [{ now }] = (await bot.t.db.execute(sql`select now()::text as now`) as unknown as { rows: { now: string }[] }).rows;
  return new Date(now);
}

const keys = async (bot: TestBot) => (await bot.t.db.select({ key: processedEvents.key }).from(processedEvents)).map((r) => r.key).sort();

describe('handled platform deliveries are kept for the retention window', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  it('keeps a week by default, and a bad value names the variable', () => {
    expect(loadConfig({}).nudges.processedEventsRetentionHours).toBe(168);
    expect(() => loadConfig({ ISMS_PROCESSED_EVENTS_RETENTION_HOURS: '0' })).toThrow(/ISMS_PROCESSED_EVENTS_RETENTION_HOURS/);
  });

  it('prunes deliveries older than the window and keeps the recent ones', async () => {
    const now = await dbNow(bot);
    await bot.t.db.insert(processedEvents).values([
      { key: 'slack:event:old-1', reply: { outcome: 'recorded' }, at: new Date(now.getTime() - 72 * HOUR) },
      { key: 'teams:activity:old-2', at: new Date(now.getTime() - 49 * HOUR) },
      { key: 'slack:event:recent', reply: { outcome: 'recorded' }, at: new Date(now.getTime() - 47 * HOUR) },
      { key: 'slack:event:new', at: now },
    ]);
    const run = await runScheduledJob(bot.t.db, prune, now, settings);
    expect(run).toEqual({ ran: true, summary: { 'processed events pruned': 2 } });
    expect(await keys(bot)).toEqual(['slack:event:new', 'slack:event:recent']);
  });

  it('works off a backlog larger than one batch', async () => {
    const now = await dbNow(bot);
    await bot.t.db.execute(sql`insert into processed_events (key, at) select 'old-' || g, ${new Date(now.getTime() - 100 * HOUR).toISOString()}::timestamptz from generate_series(1, 12000) g`);
    const run = await runScheduledJob(bot.t.db, prune, now, settings);
    expect(run).toEqual({ ran: true, summary: { 'processed events pruned': 12000 } });
    expect(await keys(bot)).toEqual([]);
  });

  it('answers a retry within the window once, and forgets the delivery after it', async () => {
    const line = '/isms declare ai Perplexity';
    const first = await bot.say('staff', line, { idempotencyKey: 'slack:event:Ev42' });
    const now = await dbNow(bot);
    await runScheduledJob(bot.t.db, prune, new Date(now.getTime() + 47 * HOUR), settings);
    const again = await bot.say('staff', line, { idempotencyKey: 'slack:event:Ev42' });
    expect(again).toEqual(first);
    expect(await bot.t.db.select().from(aiTools).where(eq(aiTools.name, 'Perplexity'))).toHaveLength(1);

    await runScheduledJob(bot.t.db, prune, new Date(now.getTime() + 49 * HOUR), settings);
    expect(await keys(bot)).toEqual([]);
  });

  it('keeps no answer for a read: a retry of it is answered again', async () => {
    const first = await bot.say('lead', '/isms register ai', { idempotencyKey: 'slack:event:Read1' });
    expect(first.outcome).toBe('info');
    expect(await keys(bot)).toEqual([]);
    const again = await bot.say('lead', '/isms register ai', { idempotencyKey: 'slack:event:Read1' });
    expect(again).toEqual(first);
  });
});
