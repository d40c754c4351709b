/**
 * Answering a platform delivery once: chat platforms deliver an event again when they think the first
 * delivery timed out, sometimes while it still runs. The first delivery claims the key; the others
 * are dropped. A delivery that fails before it answered gives its claim back, so a later one may answer.
 */
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { processedEvents } from '../db/schema/index.js';

/**
 * True for the one delivery that claims the key first; concurrent and later ones get false. With
 * `renewAfterSeconds`, a claim older than that is taken anew: a later request, not a repeat of the first.
 */
export async function claimOnce(db: Db, key: string, renewAfterSeconds?: number): Promise<boolean> {
  const insert = db.insert(processedEvents).values({ key });
  const claimed = await (renewAfterSeconds === undefined ? insert.onConflictDoNothing() : insert.onConflictDoUpdate({
    target: processedEvents.key, set: { at: sql`now()` },
    setWhere: sql`${processedEvents.at} < now() - make_interval(secs => ${renewAfterSeconds})`,
  })).returning({ key: processedEvents.key });
  return claimed.length > 0;
}

/** Gives a claim back: the work it was for did not get done. */
export async function releaseClaim(db: Db, key: string): Promise<void> {
  await db.delete(processedEvents).where(eq(processedEvents.key, key));
}

/**
 * Runs `answer` once per key: false (and nothing run) when another delivery claimed it; when `answer`
 * throws, the claim is given back and the error passes on, unless `mayHaveArrived` says the answer
 * may have reached the person anyway: answering again could show it twice. `renewAfterSeconds` as for claimOnce.
 */
export async function answerOnce(db: Db, key: string | undefined, answer: () => Promise<void>, mayHaveArrived: (e: unknown) => boolean = () => false,
  renewAfterSeconds?: number): Promise<boolean> {
  if (key && !await claimOnce(db, key, renewAfterSeconds)) return false;
  try {
    await answer();
    return true;
  } catch (e) {
    if (key && !mayHaveArrived(e)) await releaseClaim(db, key);
    throw e;
  }
}
