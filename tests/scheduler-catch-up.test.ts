import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Writable } from 'node:stream';
import { eq, sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { createTestBot, FakeChatPort, type TestBot } from './helpers/bot.js';
import { controls, schedulerRuns } from '../src/db/schema/index.js';
import { ABANDONED_CLAIM_MS, startScheduler, type RunningScheduler, type SchedulerOptions } from '../src/scheduler/index.js';
import { loadConfig } from '../src/config.js';
import type { JobSpec } from '../src/scheduler/jobs/index.js';
import { createLogger } from '../src/log.js';
import { assembleCore } from '../src/app.js';

/** That day in Berlin, the organisation's zone; the daily run fires at 06:00 by default, the digest on Mondays at 07:00. */
const berlin = (isoDay: string, time: string) => DateTime.fromISO(`${isoDay}T${time}`, { zone: 'Europe/Berlin' }).toJSDate();
const MONDAY = '2027-05-03';

describe('a starting bot catches up the fires it missed', () => {
  let bot: TestBot;
  let logLines: Record<string, unknown>[];
  const started: RunningScheduler[] = [];

  beforeEach(async () => {
    bot = await createTestBot();
    logLines = [];
    // Olga's control has evidence due this month: the daily run creates its request and tells her, once.
    await bot.t.db.insert(controls).values({ code: 'CTL-OPS-01', title: 'Change approval', ownerId: bot.ids.owner, evidenceFrequency: 'monthly' });
  });
  afterEach(async () => {
    for (const scheduler of started.splice(0)) await scheduler.stop();
    await bot.t.db.execute(sql`drop trigger if exists refuse_once on outbox`);
    await bot.destroy();
  });

  /** A bot's scheduler started at that moment of the organisation's day (its clock stays there). */
  const start = (at: Date, options: SchedulerOptions = {}) => {
    const logs = new Writable({ write(chunk, _encoding, done) { logLines.push(...String(chunk).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)); done(); } });
    const core = { ...assembleCore(loadConfig({}), createLogger('debug', logs), bot.t), router: bot.router };
    const scheduler = startScheduler(core, [new FakeChatPort()], {
      nudges: { evidenceLeadDays: 31, timezone: 'Europe/Berlin' }, delivery: { intervalMs: 50 }, clock: () => at, ...options,
    });
    started.push(scheduler);
    return scheduler;
  };
  const olgasMessages = async () => (await bot.outboxFor('owner')).length;
  const runsOf = async (job: string) => bot.t.db.select().from(schedulerRuns).where(eq(schedulerRuns.job, job));

  it('runs today\'s nudges once when started after their time, as the 06:00 fire; a second start that day runs nothing', async () => {
    await start(berlin(MONDAY, '06:30')).caughtUp;
    expect(await olgasMessages()).toBe(1);
    const [run] = await runsOf('daily-nudges');
    expect(run).toMatchObject({ fireAt: berlin(MONDAY, '06:00'), summary: expect.objectContaining({ 'evidence requests created': 1, messages: 1 }) });
    expect(logLines).toContainEqual(expect.objectContaining({ level: 30, job: 'daily-nudges', late: 'missed at start', fireAt: berlin(MONDAY, '06:00').toISOString() }));

    await start(berlin(MONDAY, '09:00')).caughtUp;
    expect(await olgasMessages()).toBe(1);
    expect(await runsOf('daily-nudges')).toHaveLength(1);
  });

  it('catches up only what still matters: this week\'s digest and this hour\'s pruning, not yesterday\'s nudges', async () => {
    // Friday 05:20: the daily run (06:00) and the witness (05:30) have not fired today yet; the pruning fired at 05:17.
    await start(berlin('2027-05-07', '05:20')).caughtUp;
    const runs = await bot.t.db.select().from(schedulerRuns);
    expect(runs.map((r) => [r.job, r.fireAt]).sort()).toEqual([
      ['prune-processed-events', berlin('2027-05-07', '05:17')],
      ['weekly-digest', berlin(MONDAY, '07:00')],
    ]);
    expect(await olgasMessages()).toBe(0);
  });

  it('retries a run the database refused, after its backoff, and sends its messages once', async () => {
    // The database refuses the run's first message, as a lost connection would; it answers again afterwards.
    await bot.t.db.execute(sql.raw(`
      create sequence refusals;
      create or replace function refuse_once() returns trigger as $$
      begin if nextval('refusals') = 1 then raise exception 'the database refused'; end if; return new; end; $$ language plpgsql;
      create trigger refuse_once before insert on outbox for each row execute function refuse_once()`));
    const scheduler = start(berlin(MONDAY, '06:30'), { retryDelaysMs: [10, 10] });
    await scheduler.caughtUp;
    await vi.waitFor(async () => expect((await runsOf('daily-nudges'))[0]?.summary).toBeTruthy(), { timeout: 30_000, interval: 50 });
    expect(await olgasMessages()).toBe(1);
    const fireAt = berlin(MONDAY, '06:00').toISOString();
    expect(logLines).toContainEqual(expect.objectContaining({ level: 40, job: 'daily-nudges', fireAt, retry: 1, of: 2, msg: 'scheduled job failed; its fire is tried again later' }));
    expect(logLines).toContainEqual(expect.objectContaining({ level: 30, job: 'daily-nudges', fireAt, late: 'retry', messages: 1 }));
  });

  it('takes over the claim of a run whose process died once its lease is out, not before', async () => {
    const fireAt = berlin(MONDAY, '06:00');
    // A replica claimed this morning's run five minutes ago and died before it sent anything.
    await bot.t.db.insert(schedulerRuns).values({ job: 'daily-nudges', fireAt, ranAt: new Date(Date.now() - 5 * 60_000) });
    const early = start(berlin(MONDAY, '06:30'));
    await early.caughtUp;
    expect(await olgasMessages()).toBe(0);
    expect((await runsOf('daily-nudges'))[0].summary).toBeNull();
    await early.stop();

    await bot.t.db.update(schedulerRuns).set({ ranAt: new Date(Date.now() - ABANDONED_CLAIM_MS - 60_000) }).where(eq(schedulerRuns.job, 'daily-nudges'));
    await start(berlin(MONDAY, '07:30')).caughtUp;
    expect(await olgasMessages()).toBe(1);
    expect(await runsOf('daily-nudges')).toEqual([expect.objectContaining({ fireAt, summary: expect.objectContaining({ messages: 1 }) })]);
  });

  it('a bot started while a claim is still within its lease runs that fire when the lease runs out', async () => {
    await bot.t.db.insert(schedulerRuns).values({ job: 'daily-nudges', fireAt: berlin(MONDAY, '06:00'), ranAt: new Date(Date.now() - ABANDONED_CLAIM_MS + 1500) });
    start(berlin(MONDAY, '06:30'));
    await vi.waitFor(async () => expect((await runsOf('daily-nudges'))[0].summary).toBeTruthy(), { timeout: 30_000, interval: 50 });
    expect(await olgasMessages()).toBe(1);
    expect(logLines).toContainEqual(expect.objectContaining({ level: 30, job: 'daily-nudges', late: 'claim abandoned' }));
  });

  it('a replica whose fire finds the run claimed by another, which then dies, runs it once the claim is abandoned', async () => {
    // Another replica claimed this morning's 06:00 run at its time and died (stopped for good) before it finished.
    await bot.t.db.insert(schedulerRuns).values({ job: 'daily-nudges', fireAt: berlin(MONDAY, '06:00'), ranAt: new Date(Date.now() - ABANDONED_CLAIM_MS + 1500) });
    const replica = start(berlin(MONDAY, '06:00'), { catchUp: false });
    await replica.fire('daily-nudges');
    expect(await olgasMessages()).toBe(0);
    await vi.waitFor(async () => expect((await runsOf('daily-nudges'))[0].summary).toBeTruthy(), { timeout: 30_000, interval: 50 });
    expect(await olgasMessages()).toBe(1);
    expect(logLines).toContainEqual(expect.objectContaining({ level: 30, job: 'daily-nudges', late: 'claim abandoned' }));
  });

  it('a stop waits for the run in progress, which records its fire, instead of cutting it off', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => { release = resolve; });
    let began!: () => void;
    const begun = new Promise<void>((resolve) => { began = resolve; });
    const slow: JobSpec = {
      name: 'slow-run', cron: () => '0 6 * * *', catchUpWithin: 'day',
      run: async (db) => {
        began();
        await released;
        // What is left of the run when the stop is asked for: many statements, each a trip to the database.
        for (let i = 0; i < 50; i++) await db.execute(sql`select ${i}`);
        return { steps: 50 };
      },
    };
    const scheduler = start(berlin(MONDAY, '06:30'), { jobs: [slow] });
    await begun;
    const stopping = scheduler.stop();
    release();
    await stopping;
    expect(await runsOf('slow-run')).toEqual([expect.objectContaining({ fireAt: berlin(MONDAY, '06:00'), summary: { steps: 50 } })]);
    expect(logLines.filter((l) => Number(l.level) >= 50)).toEqual([]);
  });

  it('two replicas starting together run the missed fire once', async () => {
    const at = berlin(MONDAY, '06:30');
    await Promise.all([start(at).caughtUp, start(at).caughtUp]);
    expect(await olgasMessages()).toBe(1);
    expect(await runsOf('daily-nudges')).toHaveLength(1);
  });
});
