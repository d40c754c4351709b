import { closest, distance } from 'fastest-levenshtein';
import { sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import { rows } from '../db/migrate.js';

/**
 * The candidate a slip of the keyboard most likely meant, with how many letters differ, or undefined
 * when none is close enough: case does not matter, and up to a third of the candidate's letters (at
 * least two) may differ. One rule for commands, control ids, framework references and names.
 */
export function nearest(given: string, candidates: readonly string[]): { match: string; distance: number } | undefined {
  if (candidates.length === 0 || !given) return undefined;
  const byLower = new Map(candidates.map((c) => [c.toLowerCase(), c]));
  const near = closest(given.toLowerCase(), [...byLower.keys()]);
  const d = distance(given.toLowerCase(), near);
  return d <= Math.max(2, Math.floor(near.length / 3)) ? { match: byLower.get(near)!, distance: d } : undefined;
}

/** The candidate meant, for "Did you mean …?", or undefined. */
export const didYouMean = (given: string, candidates: readonly string[]): string | undefined => nearest(given, candidates)?.match;

/** How many of the values most alike a typed one are read for nearest() to choose among. */
export const SUGGESTION_CANDIDATES = 50;
/** How many of the typed value's pairs of letters the database compares: a longer value is still told apart by its first ones. */
const MAX_PAIRS = 32;

/**
 * The values of a column most alike a typed one, with their ids, in id order, for nearest() to choose
 * among: of those whose length nearest() could accept, the SUGGESTION_CANDIDATES containing the most of
 * the typed value's pairs of letters (a slip of the keyboard changes at most two of them), then of the
 * nearest length. Plain SQL, alike on PGlite and PostgreSQL (no trigram extension), and only these few
 * rows are read: a register of tens of thousands is not read to suggest one value. `where` keeps only the
 * rows a suggestion may name (e.g. those not retired).
 */
export async function alikeIn(db: Db, table: PgTable, id: PgColumn, column: PgColumn, given: string, where?: SQL): Promise<{ id: number; value: string }[]> {
  const typed = given.toLowerCase();
  const pairs = [...new Set(Array.from({ length: Math.max(0, typed.length - 1) }, (_, i) => typed.slice(i, i + 2)))].slice(0, MAX_PAIRS);
  const shared = pairs.length ? sql.join(pairs.map((p) => sql`(strpos(c.l, ${p}) > 0)::int`), sql` + `) : sql`0`;
  const gap = sql`abs(c.n - ${typed.length}::int)`;
  // "offset 0" keeps the subquery as it is: each value is lowered once, not once per pair.
  const found = rows<{ id: number; value: string }>(await db.execute(sql`select c.id, c.value
    from (select ${id} as id, ${column} as value, lower(${column}) as l, char_length(${column}) as n from ${table}${where ? sql` where ${where}` : sql``} offset 0) c
    where ${gap} <= greatest(2, c.n / 3)
    order by ${shared} desc, ${gap}, c.id limit ${SUGGESTION_CANDIDATES}`));
  // nearest() takes the first of equally near ones: the one added first, as when every value was read in the register's order.
  return found.sort((a, b) => a.id - b.id);
}
