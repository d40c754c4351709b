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
