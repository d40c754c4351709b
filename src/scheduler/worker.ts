import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import type { ChatPort } from '../core/port.js';
import { campaignProgress, deliverDue, type DeliveryOptions, type DeliveryResult } from '../core/delivery.js';

export interface DeliveryWorkerOptions {
  /** Pause between polls when nothing was due. */
  intervalMs: number;
  /** Rows claimed per batch. */
  batchSize?: number;
  delivery?: DeliveryOptions;
  logger?: Pick<Logger, 'info' | 'warn'>;
  /** How often progress and rate-limit counts are logged (one line each per interval). */
  reportEveryMs?: number;
}

/** A batch claims what its platform's pace lets start within this long, and waits for each turn. */
const AHEAD_MS = 2000;
/** Sends in flight at once: a platform's round trip is longer than the gap its rate leaves. */
const CONCURRENCY = 4;
const REPORT_EVERY_MS = 60_000;

export interface DeliveryWorker {
  /** Finishes the send in hand, hands the rest of its batch back to the queue, then stops. */
  stop(): Promise<void>;
}

/**
 * Sends the outbox: claims and sends batches back to back while there is work, then polls every
 * intervalMs. Any number of these may run against one database (each row is sent once).
 */
export function startDeliveryWorker(db: Db, ports: ChatPort[], options: DeliveryWorkerOptions): DeliveryWorker {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const delivery: DeliveryOptions = { aheadMs: AHEAD_MS, concurrency: CONCURRENCY, ...options.delivery, stopping: () => stopped };
  const report = progressReport(db, options);
  const loop = async () => {
    while (!stopped) {
      let moreWaiting = false;
      try {
        const result = await deliverDue(db, ports, undefined, options.batchSize ?? 50, delivery);
        // Another worker took the rows this one looked at: look again at once rather than sleep.
        moreWaiting = result.claimed > 0 || result.takenByOthers > 0;
        await report(result);
      } catch (e) {
        options.logger?.warn({ err: e }, 'delivery failed; trying again shortly');
      }
      if (!moreWaiting && !stopped) {
        await new Promise<void>((resolve) => {
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
      if (timer) clearTimeout(timer);
      wake?.();
      await running;
    },
  };
}

/**
 * Logs campaign progress and the platforms' 429s as one line each per interval (and a campaign's
 * last line when it is done): a large campaign sends for minutes, and a 429 is expected traffic,
 * answered by waiting, not an error worth a line of its own.
 */
function progressReport(db: Db, options: DeliveryWorkerOptions): (result: DeliveryResult) => Promise<void> {
  const every = options.reportEveryMs ?? REPORT_EVERY_MS;
  /** Per campaign: when its progress was last logged, and how many rows were still queued then. */
  const lastShown = new Map<number, { at: number; queued: number }>();
  const window = { since: Date.now(), sent: 0, rateLimited: 0, retrying: 0 };
  return async (result) => {
    const logger = options.logger;
    if (!logger) return;
    const now = Date.now();
    // Rare (only after a crash), and the person may hold two copies: one line each, for the operator.
    for (const r of result.possibleRepeats) {
      logger.warn({ outboxId: r.outboxId, recipientId: r.recipientId, platform: r.platform },
        'message sent again after an interrupted attempt the platform cannot confirm; marked for the person as a possible repeat');
    }
    window.sent += result.sent;
    window.rateLimited += result.rateLimited;
    window.retrying += result.retrying - result.rateLimited;
    if (now - window.since >= every) {
      if (window.rateLimited > 0) {
        logger.info({ sent: window.sent, rateLimited: window.rateLimited, otherRetries: window.retrying, seconds: Math.round((now - window.since) / 1000) },
          'delivery paced: the platform asked to wait; those messages are queued again');
      }
      Object.assign(window, { since: now, sent: 0, rateLimited: 0, retrying: 0 });
    }
    // Near its end a campaign is looked at after every batch, so its last line (nothing queued) is not missed.
    const due = result.campaigns.filter((id) => now - (lastShown.get(id)?.at ?? 0) >= every || (lastShown.get(id)?.queued ?? Infinity) <= 2 * (options.batchSize ?? 50));
    if (due.length === 0) return;
    for (const p of await campaignProgress(db, due)) {
      const shown = lastShown.get(p.campaignId);
      const logNow = !shown || now - shown.at >= every || p.queued === 0;
      lastShown.set(p.campaignId, { at: logNow ? now : shown.at, queued: p.queued });
      if (logNow) logger.info({ campaignId: p.campaignId, sent: p.sent, total: p.total, failed: p.failed }, 'campaign progress');
    }
  };
}
