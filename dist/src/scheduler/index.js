import cron from 'node-cron';
import { JOBS, fireTime, runScheduledJob } from './jobs/index.js';
import { startDeliveryWorker } from './worker.js';
export * from './jobs/index.js';
export { startDeliveryWorker } from './worker.js';
export { NudgeBatch, deliveryTime, groupedReply } from './batch.js';
export { LADDER, LADDER_TOP, defaultNudgeSettings, defaultDeliverySettings } from './settings.js';
export { nextWorkingMoment } from '../core/time.js';
/** How the delivery worker paces itself, from the settings. */
export function deliveryOptions(delivery, nudges, ports = []) {
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
export function startScheduler(core, ports, options = {}) {
    const db = core.database.db;
    const nudges = { ...core.config.nudges, ...options.nudges };
    const delivery = { ...core.config.delivery, ...options.delivery };
    const logger = core.logger.child({ component: 'scheduler' });
    const jobs = options.jobs ?? JOBS;
    const onFire = async (spec, at) => {
        const fireAt = fireTime(options.clock?.() ?? at);
        try {
            const outcome = await runScheduledJob(db, spec, fireAt, nudges);
            if (outcome.ran)
                logger.info({ job: spec.name, fireAt, ...outcome.summary }, 'scheduled job ran');
            else
                logger.debug({ job: spec.name, fireAt }, 'scheduled job already ran on another replica');
        }
        catch (e) {
            logger.error({ err: e, job: spec.name, fireAt }, 'scheduled job failed');
        }
    };
    const tasks = new Map(jobs.map((spec) => [spec.name, cron.schedule(spec.cron(nudges), (context) => onFire(spec, context.date), { name: spec.name, timezone: nudges.timezone, noOverlap: true })]));
    const worker = startDeliveryWorker(db, ports, { intervalMs: delivery.intervalMs, delivery: deliveryOptions(delivery, nudges, ports), logger });
    const jobNamed = (name) => {
        const spec = jobs.find((j) => j.name === name);
        if (!spec)
            throw new Error(`No scheduled job is named "${name}"; there are ${jobs.map((j) => j.name).join(', ')}.`);
        return spec;
    };
    return {
        async stop() {
            for (const task of tasks.values())
                await task.destroy();
            await worker.stop();
        },
        fire: (name) => onFire(jobNamed(name), new Date()),
        nextRun: (name) => tasks.get(jobNamed(name).name)?.getNextRun() ?? null,
    };
}
//# sourceMappingURL=index.js.map