import { sql, type SQL } from 'drizzle-orm';

/** Keys of the advisory locks the register takes, one per kind of work that must not run twice at once. */
export const LOCK_KEYS = {
  migration: 727_001,
  /** The audit chain: each event holds the previous one's hash. */
  audit: 727_002,
  referenceData: 727_003,
  exampleOrganisation: 727_004,
  /** Claims across workers, so per-minute budgets and the shared pace are counted exactly. */
  deliveryClaim: 727_005,
} as const;

/**
 * Takes an advisory lock until the transaction ends, scoped to the register's schema: advisory locks
 * belong to the whole database, and registers kept in other schemas of it must not wait on each other.
 * A string key is a name (hashed by the database).
 */
export async function lockRegister(tx: { execute(query: SQL): Promise<unknown> }, key: number | string): Promise<void> {
  const first = typeof key === 'number' ? sql`${key}::int` : sql`hashtext(${key})`;
  // coalesce: before its schema exists current_schema() is null, and the lock function would then take nothing.
  await tx.execute(sql`select pg_advisory_xact_lock(${first}, hashtext(coalesce(current_schema(), '')))`);
}
