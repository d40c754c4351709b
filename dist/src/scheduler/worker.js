import { campaignProgress, deliverDue } from '../core/delivery.js';
/**
 * Sends the outbox: claims and sends batches back to back while there is work, then polls every
 * intervalMs. Any number of these may run against one database (each row is sent once).
 */
export function startDeliveryWorker(db, ports, options) {
    let stopped = false;
    let timer;
    let wake;
    const loop = async () => {
        while (!stopped) {
            let moreWaiting = false;
            try {
                const result = await deliverDue(db, ports, undefined, options.batchSize ?? 25, { ...options.delivery, stopping: () => stopped });
                // Another worker took the rows this one looked at: look again at once rather than sleep.
                moreWaiting = result.claimed > 0 || result.takenByOthers > 0;
                if (result.campaigns.length && options.logger) {
                    for (const p of await campaignProgress(db, result.campaigns)) {
                        options.logger.info({ campaignId: p.campaignId, sent: p.sent, total: p.total, failed: p.failed }, 'campaign progress');
                    }
                }
            }
            catch (e) {
                options.logger?.warn({ err: e }, 'delivery failed; trying again shortly');
            }
            if (!moreWaiting && !stopped) {
                await new Promise((resolve) => {
                    wake = resolve;
                    timer = setTimeout(resolve, options.intervalMs);
                });
            }
        }
    };
    const running = loop();
    return {
        async stop() {
            stopped = true;
            if (timer)
                clearTimeout(timer);
            wake?.();
            await running;
        },
    };
}
//# sourceMappingURL=worker.js.map