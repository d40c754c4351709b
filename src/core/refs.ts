import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { rows } from '../db/migrate.js';

/** Next gapless register reference for a prefix ("AI" -> "AI-0007"), taken inside the caller's transaction. */
export async function nextRef(tx: Db, prefix: string): Promise<string> {
  const result = await tx.execute<{ last: number }>(sql`
    insert into ref_counters (prefix, last) values (${prefix}, 1)
    on conflict (prefix) do update set last = ref_counters.last + 1
    returning last`);
  const n = rows<{ last: number }>(result)[0].last;
  return `${prefix}-${String(n).padStart(4, '0')}`;
}

/**
 * The next reference of each prefix, in one statement ("AI", "SC" -> "AI-0007", "SC-0012"): a command
 * that records several kinds of row asks the register once. The counters are taken in the order given,
 * as one nextRef after another would take them.
 */
export async function nextRefsOf(tx: Db, ...prefixes: string[]): Promise<string[]> {
  // A prefix twice would be two updates of one counter in a statement, which PostgreSQL refuses.
  if (new Set(prefixes).size !== prefixes.length) throw new Error(`nextRefsOf: prefixes repeat (${prefixes.join(', ')})`);
  if (prefixes.length === 0) return [];
  const result = await tx.execute<{ prefix: string; last: number }>(sql`
    insert into ref_counters (prefix, last) values ${sql.join(prefixes.map((p) => sql`(${p}, 1)`), sql`, `)}
    on conflict (prefix) do update set last = ref_counters.last + 1
    returning prefix, last`);
  const last = new Map(rows<{ prefix: string; last: number }>(result).map((r) => [r.prefix, r.last]));
  return prefixes.map((p) => `${p}-${String(last.get(p)).padStart(4, '0')}`);
}

/** `n` consecutive gapless references for a prefix in one statement, in order ("EVR-0008", "EVR-0009", ...). */
export async function nextRefs(tx: Db, prefix: string, n: number): Promise<string[]> {
  if (n <= 0) return [];
  const result = await tx.execute<{ last: number }>(sql`
    insert into ref_counters (prefix, last) values (${prefix}, ${n})
    on conflict (prefix) do update set last = ref_counters.last + ${n}
    returning last`);
  const last = rows<{ last: number }>(result)[0].last;
  return Array.from({ length: n }, (_, i) => `${prefix}-${String(last - n + 1 + i).padStart(4, '0')}`);
}
