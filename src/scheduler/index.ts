import cron, { type ScheduledTask } from 'node-cron';
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
}

export interface RunningScheduler {
  stop(): Promise<void>;
  /** Fires a job now, as node-cron would at its time (for operators and tests). */
  fire(job: string): Promise<void>;
  /** When node-cron fires the job next. */
  nextRun(job: string): Date | null;
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
  const onFire = async (spec: JobSpec, at: Date) => {
    const fireAt = fireTime(options.clock?.() ?? at);
    try {
      const outcome = await runScheduledJob(db, spec, fireAt, nudges);
      if (outcome.ran) logger.info({ job: spec.name, fireAt, ...outcome.summary }, 'scheduled job ran');
      else logger.debug({ job: spec.name, fireAt }, 'scheduled job already ran on another replica');
    } catch (e) {
      logger.error({ err: e, job: spec.name, fireAt }, 'scheduled job failed');
    }
  };
  const tasks = new Map<string, ScheduledTask>(jobs.map((spec) => [spec.name, cron.schedule(spec.cron(nudges),
    (context) => onFire(spec, context.date), { name: spec.name, timezone: nudges.timezone, noOverlap: true })]));
  const worker = startDeliveryWorker(db, ports, { intervalMs: delivery.intervalMs, delivery: deliveryOptions(delivery, nudges, ports), logger });
  const jobNamed = (name: string) => {
    const spec = jobs.find((j) => j.name === name);
    if (!spec) throw new Error(`No scheduled job is named "${name}"; there are ${jobs.map((j) => j.name).join(', ')}.`);
    return spec;
  };
  return {
    async stop() {
      for (const task of tasks.values()) await task.destroy();
      await worker.stop();
    },
    fire: (name) => onFire(jobNamed(name), new Date()),
    nextRun: (name) => tasks.get(jobNamed(name).name)?.getNextRun() ?? null,
  };
}
