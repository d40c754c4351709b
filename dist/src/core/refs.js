import { sql } from 'drizzle-orm';
import { rows } from '../db/migrate.js';
/** Next gapless register reference for a prefix ("AI" -> "AI-0007"), taken inside the caller's transaction. */
export async function nextRef(tx, prefix) {
    const result = await tx.execute(sql `
    insert into ref_counters (prefix, last) values (${prefix}, 1)
    on conflict (prefix) do update set last = ref_counters.last + 1
    returning last`);
    const n = rows(result)[0].last;
    return `${prefix}-${String(n).padStart(4, '0')}`;
}
//# sourceMappingURL=refs.js.map