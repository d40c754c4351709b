import cron, { type ScheduledTask } from 'node-cron';
import { DateTime } from 'luxon';
import { CronExpressionParser } from 'cron-parser';
import type { Core } from '../app.js';
import type { ChatPort } from '../core/port.js';
import type { DeliveryOptions } from '../core/delivery.js';
import { JOBS, fireTime, runScheduledJob, type JobSpec } from './jobs/index.js';
import type { DeliverySettings, NudgeSettings } from './settings.js';
import { startDeliveryWorker } from './worker.js';

export * from './jobs/index.js';
export { startDeliveryWorker, type DeliveryWorker, type DeliveryWorkerOptions } from './worker.js';
export { NudgeBatch, deliveryTime, groupedReply, type Nudge } from './batch.js';
export { LADDER, LADDER_TOP, defaultNudgeSettings, defaultDeliverySettings, type NudgeSettings, type DeliverySettings } from './settings.js';
export { nextWorkingMoment } from '../core/time.js';

export interface SchedulerOptions {
  /** Overrides of the configured nudge settings. */
  nudges?: Partial<NudgeSettings>;
  /** Overrides of the configured delivery settings. */
  delivery?: Partial<DeliverySettings>;
  /** Jobs to schedule; all of them by default. */
  jobs?: JobSpec[];
  /** The time a fire stands for; node-cron's own time by default (tests inject a clock). */
  clock?: () => Date;
  /** Whether a start runs each job's latest missed fire (see catchUpWithin); true by default. */
  catchUp?: boolean;
  /** How long after each failure a failed fire is tried again; RETRY_DELAYS_MS by default. */
  retryDelaysMs?: number[];
}

export interface RunningScheduler {
  stop(): Promise<void>;
  /** Fires a job now, as node-cron would at its time (for operators and tests). */
  fire(job: string): Promise<void>;
  /** When node-cron fires the job next. */
  nextRun(job: string): Date | null;
  /** Settles once the start has tried each job's latest missed fire (its retries may follow later). */
  caughtUp: Promise<void>;
}

/** A failed fire is tried again after each of these, then left to the job's next fire. */
export const RETRY_DELAYS_MS = [2, 5, 15, 30].map((minutes) => minutes * 60_000);

/**
 * The job's latest fire (its cron expression in the organisation's time zone) at or before `now` and not
 * before the start of the current hour, day or week on the organisation's calendar.
 */
export function latestMissedFire(expression: string, within: JobSpec['catchUpWithin'], now: Date, timezone: string): Date | undefined {
  const since = DateTime.fromJSDate(now).setZone(timezone).startOf(within).toMillis();
  // prev() is strictly before its start: a fire in this very minute counts as missed too (its claim runs it once).
  const latest = CronExpressionParser.parse(expression, { currentDate: new Date(now.getTime() + 1), tz: timezone }).prev().toDate();
  return latest.getTime() >= since ? latest : undefined;
}

/** How long a person no platform can reach keeps their nudges queued before they are marked failed. */
export const UNREACHABLE_GIVE_UP_MS = 3 * 24 * 3600_000;

/** How the delivery worker paces itself, from the settings. */
export function deliveryOptions(delivery: DeliverySettings, nudges: NudgeSettings, ports: ChatPort[] = []): DeliveryOptions {
  // The terminal reaches whoever acts next ("/as"), so there nobody is unreachable for long.
  const terminal = ports.some((p) => p.platform === 'shell');
  return {
    leaseMs: delivery.leaseMs,
    maxAttempts: delivery.maxAttempts,
    backoffMs: delivery.backoffMs,
    perMinute: delivery.perMinute,
    conversationGapMs: delivery.conversationGapMs,
    unreachableRetryMs: terminal ? 0 : 10 * 60_000,
    // Long enough for an admin to act on the digest's list of unreachable people; then the nudge fails, saying why.
    unreachableGiveUpMs: terminal ? 0 : UNREACHABLE_GIVE_UP_MS,
    workingTime: { timezone: nudges.timezone, workingHours: nudges.workingHours, workWeekends: nudges.workWeekends },
  };
}

/**
 * Schedules the jobs with node-cron (each fire runs once across replicas) and runs the delivery
 * worker that sends the outbox through the ports.
 */
export function startScheduler(core: Core, ports: ChatPort[], options: SchedulerOptions = {}): RunningScheduler {
  const db = core.database.db;
  const nudges: NudgeSettings = { ...core.config.nudges, ...options.nudges };
  const delivery: DeliverySettings = { ...core.config.delivery, ...options.delivery };
  const logger = core.logger.child({ component: 'scheduler' });
  const jobs = options.jobs ?? JOBS;
  const retryDelays = options.retryDelaysMs ?? RETRY_DELAYS_MS;
  let stopped = false;
  /** Per fire, the one later try waiting: a retry after a failure, or a look at a claim once its lease is out. */
  const later = new Map<string, NodeJS.Timeout>();
  /**
   * The fires running now: a stop waits for them (within the process's stop timeout), so a run is not cut
   * off with the database closed under it, its claim left held for an hour and its fire logged as failed.
   */
  const inProgress = new Set<Promise<void>>();
  const tryLater = (spec: JobSpec, fireAt: Date, ms: number, attempt: () => Promise<void>) => {
    if (stopped) return;
    const key = `${spec.name} ${fireAt.toISOString()}`;
    clearTimeout(later.get(key));
    later.set(key, setTimeout(() => { later.delete(key); void attempt(); }, ms));
  };
  /**
   * Runs one fire (claimed once across replicas). `late` says why it runs after its time: a start that
   * missed it, a retry after a failure, or a claim whose process died. A failure is tried again after
   * each of retryDelays; a claim held by another run is looked at again when its lease runs out.
   */
  const runFire = (spec: JobSpec, fireAt: Date, late?: 'missed at start' | 'retry' | 'claim abandoned', failures = 0): Promise<void> => {
    const running = attemptFire(spec, fireAt, late, failures);
    inProgress.add(running);
    const forget = () => { inProgress.delete(running); };
    running.then(forget, forget);
    return running;
  };
  const attemptFire = async (spec: JobSpec, fireAt: Date, late: 'missed at start' | 'retry' | 'claim abandoned' | undefined, failures: number): Promise<void> => {
    try {
      const outcome = await runScheduledJob(db, spec, fireAt, nudges);
      if (outcome.ran) {
        if (late) logger.info({ job: spec.name, fireAt, late, ...outcome.summary }, `scheduled job ran late for its fire of ${fireAt.toISOString()}`);
        else logger.info({ job: spec.name, fireAt, ...outcome.summary }, 'scheduled job ran');
      } else if (outcome.heldUntil) {
        // Its run may die with its process (a replica stopped for good, a node lost): take it over once the claim
        // is abandoned; it finds nothing to do if that run finished.
        logger.debug({ job: spec.name, fireAt, heldUntil: outcome.heldUntil }, 'scheduled fire is being run by another replica');
        tryLater(spec, fireAt, Math.max(0, outcome.heldUntil.getTime() - Date.now()) + 1000, () => runFire(spec, fireAt, 'claim abandoned'));
      } else {
        logger.debug({ job: spec.name, fireAt }, 'scheduled job already ran on another replica');
      }
    } catch (e) {
      const delay = retryDelays[failures];
      if (delay === undefined || stopped) {
        logger.error({ err: e, job: spec.name, fireAt, tries: failures + 1 }, 'scheduled job failed; it runs again at its next fire');
        return;
      }
      logger.warn({ err: e, job: spec.name, fireAt, retry: failures + 1, of: retryDelays.length, inSeconds: Math.round(delay / 1000) },
        'scheduled job failed; its fire is tried again later');
      tryLater(spec, fireAt, delay, () => runFire(spec, fireAt, 'retry', failures + 1));
    }
  };
  const onFire = (spec: JobSpec, at: Date) => runFire(spec, fireTime(options.clock?.() ?? at));
  const tasks = new Map<string, ScheduledTask>(jobs.map((spec) => [spec.name, cron.schedule(spec.cron(nudges),
    (context) => onFire(spec, context.date), { name: spec.name, timezone: nudges.timezone, noOverlap: true })]));
  // A fire missed while no replica ran (or whose run died or failed) runs once on start, as the fire it stands for.
  const catchUp = async () => {
    const now = options.clock?.() ?? new Date();
    for (const spec of jobs) {
      let missed: Date | undefined;
      try {
        missed = latestMissedFire(spec.cron(nudges), spec.catchUpWithin, now, nudges.timezone);
      } catch (e) {
        // An expression node-cron takes but the parser does not: the job still fires on time, only no catch-up.
        logger.warn({ err: e, job: spec.name, cron: spec.cron(nudges) }, 'cannot tell when this job last fired; a missed fire is not run at start');
      }
      if (missed && !stopped) await runFire(spec, missed, 'missed at start');
    }
  };
  const caughtUp = options.catchUp === false ? Promise.resolve() : catchUp();
  const worker = startDeliveryWorker(db, ports, { intervalMs: delivery.intervalMs, delivery: deliveryOptions(delivery, nudges, ports), logger });
  const jobNamed = (name: string) => {
    const spec = jobs.find((j) => j.name === name);
    if (!spec) throw new Error(`No scheduled job is named "${name}"; there are ${jobs.map((j) => j.name).join(', ')}.`);
    return spec;
  };
  return {
    async stop() {
      stopped = true;
      for (const timer of later.values()) clearTimeout(timer);
      for (const task of tasks.values()) await task.destroy();
      while (inProgress.size) await Promise.allSettled([...inProgress]);
      await worker.stop();
    },
    fire: (name) => onFire(jobNamed(name), new Date()),
    nextRun: (name) => tasks.get(jobNamed(name).name)?.getNextRun() ?? null,
    caughtUp,
  };
}
