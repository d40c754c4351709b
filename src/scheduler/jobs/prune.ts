import { sql } from 'drizzle-orm';
import { processedEvents } from '../../db/schema/index.js';
import { rows } from '../../db/migrate.js';
import type { Job } from './run.js';

/** Rows deleted per statement: small enough to keep each statement short, large enough to catch up. */
export const PRUNE_BATCH = 5_000;
/** Statements per fire: a large backlog (after an upgrade) is worked off over several fires. */
export const PRUNE_MAX_BATCHES = 40;

/**
 * Forgets platform deliveries older than the retention window: by then no platform retries them,
 * so their claim and stored answer are no longer needed. Oldest first, in batches, by the `at` index.
 */
export const pruneProcessedEvents: Job = async (db, now, settings) => {
  const cutoff = new Date(now.getTime() - settings.processedEventsRetentionHours * 3_600_000);
  let deleted = 0;
  for (let i = 0; i < PRUNE_MAX_BATCHES; i++) {
    const result = await db.execute(sql`
      with old as (select key from ${processedEvents} where at < ${cutoff.toISOString()}::timestamptz order by at limit ${PRUNE_BATCH}),
        gone as (delete from ${processedEvents} where key in (select key from old) returning 1)
      select count(*)::int as n from gone`);
    const n = rows<{ n: number }>(result)[0].n;
    deleted += n;
    if (n < PRUNE_BATCH) break;
  }
  return { 'processed events pruned': deleted };
};
