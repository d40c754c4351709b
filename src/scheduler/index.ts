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
}

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
    workingTime: { timezone: nudges.timezone, workingHours: nudges.workingHours, workWeekends: nudges.workWeekends },
  };
}

/**
 * Schedules the jobs with node-cron (each fire runs once across replicas) and runs the delivery
 * worker that sends the outbox through the ports.
 */
export function startScheduler(core: Core, ports: ChatPort[], options: SchedulerOptions = {}): { stop(): Promise<void> } {
  const db = core.database.db;
  const nudges: NudgeSettings = { ...core.config.nudges, ...options.nudges };
  const delivery: DeliverySettings = { ...core.config.delivery, ...options.delivery };
  const logger = core.logger.child({ component: 'scheduler' });
  const tasks: ScheduledTask[] = (options.jobs ?? JOBS).map((spec) => cron.schedule(spec.cron(nudges), async (context) => {
    const fireAt = fireTime(context.date);
    try {
      const outcome = await runScheduledJob(db, spec, fireAt, nudges);
      if (outcome.ran) logger.info({ job: spec.name, fireAt, ...outcome.summary }, 'scheduled job ran');
      else logger.debug({ job: spec.name, fireAt }, 'scheduled job already ran on another replica');
    } catch (e) {
      logger.error({ err: e, job: spec.name, fireAt }, 'scheduled job failed');
    }
  }, { name: spec.name, timezone: nudges.timezone, noOverlap: true }));
  const worker = startDeliveryWorker(db, ports, { intervalMs: delivery.intervalMs, delivery: deliveryOptions(delivery, nudges, ports), logger });
  return {
    async stop() {
      for (const task of tasks) await task.destroy();
      await worker.stop();
    },
  };
}
