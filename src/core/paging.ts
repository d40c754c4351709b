import { z } from 'zod';
import { and, asc, count, desc, eq, lte, max, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import { invalid } from './errors.js';
import type { Page } from './reply.js';

export const PAGE_SIZE = 10;

export const pageNumber = z.coerce.number({ invalid_type_error: 'must be a page number, e.g. 2' })
  .int('must be a whole page number, e.g. 2').min(1, 'must be 1 or more').default(1).describe('Which page of the list to show');

const noSuchPage = (what: string, total: number, pageNo: number, command: string) =>
  invalid(`${what} has ${total} page${total === 1 ? '' : 's'}, so there is no page ${pageNo}.`, `"/isms ${command}" shows the first page.`);

export interface PageWindow { offset: number; limit: number; page: Page }

/**
 * The slice of a list shown on one page, and the Page block whose next/previous are the
 * commands that show the neighbouring pages (e.g. "register ai --page 3").
 */
export function pageWindow(itemCount: number, pageNo: number, command: string, what: string): PageWindow {
  const total = Math.max(1, Math.ceil(itemCount / PAGE_SIZE));
  if (pageNo > total) throw noSuchPage(what, total, pageNo, command);
  return {
    offset: (pageNo - 1) * PAGE_SIZE,
    limit: PAGE_SIZE,
    page: {
      number: pageNo,
      total,
      next: pageNo < total ? `${command} --page ${pageNo + 1}` : undefined,
      previous: pageNo > 1 ? `${command} --page ${pageNo - 1}` : undefined,
    },
  };
}

/** One page of a list already in memory, with the Page block for it. */
export function pageOf<T>(all: T[], pageNo: number, command: string, what: string): { items: T[]; page: Page } {
  const { offset, limit, page } = pageWindow(all.length, pageNo, command, what);
  return { items: all.slice(offset, offset + limit), page };
}

/** "--all" typed on its own: the whole list rather than what is open or one's own. */
export const allSwitch = z.enum(['true', 'false'], { errorMap: () => ({ message: 'is a switch: write --all on its own' }) }).optional();

/**
 * The position a Next/Previous button carries: the id (the sort key) of the row its page starts
 * after or ends before, so the page is found by an index seek rather than by counting rows from the
 * start. Typed by hand it must still be a row id, and the page it starts is checked (seekPage).
 */
export const pageCursor = z.coerce.number({ invalid_type_error: 'must be the position a Next or Previous button carries, e.g. 120' })
  .int('must be the whole-number position a Next or Previous button carries, e.g. 120')
  .min(1, 'must be the position a Next or Previous button carries: 1 or more')
  // Beyond a 32-bit id the database would refuse the comparison: said here, not as an internal error.
  .max(2_147_483_647, 'is not a position any Next or Previous button carries')
  .optional();

/** A button's page within this many pages of either end is named by its number alone: seeking it from that end is cheap. */
export const NEAR_PAGES = 5;

/** The options of a list that pages by seeking: left out with --after/--before, `page` is the one the button's position starts. */
export const seekFields = {
  page: pageNumber.optional(),
  after: pageCursor.describe('The position a Next page button carries'),
  before: pageCursor.describe('The position a Previous page button carries'),
};
/** Not asked for in a form: they come from typed page numbers and from buttons. */
export const seekArgs = { page: { asked: false }, after: { asked: false }, before: { asked: false } } as const;

/** `page` left out with a cursor: the page the cursor starts; without one, the first page. */
export interface SeekInput { page?: number; after?: number; before?: number }

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

/**
 * What a list is ordered by besides `id`, which always breaks ties last: e.g. the due date, then the id.
 * The columns (or expressions of the row, e.g. a name compared alike on every database) must not be null
 * (a row comparison with a null matches nothing); `desc` reverses the whole order.
 */
export interface SortKey { by: (PgColumn | SQL)[]; desc?: boolean }

/** `(a, b) > (x, y)`: a row comparison the database seeks with an index on (a, b). */
function rowCompare(keys: (PgColumn | SQL)[], op: '<' | '<=' | '>' | '>=', values: unknown[]): SQL {
  const left = keys.length === 1 ? sql`${keys[0]}` : sql`(${sql.join(keys.map((k) => sql`${k}`), sql`, `)})`;
  const right = values.length === 1 ? sql`${values[0]}` : sql`(${sql.join(values.map((v) => sql`${v}`), sql`, `)})`;
  return sql`${left} ${sql.raw(op)} ${right}`;
}

/**
 * A list's length and its highest id, counted already with other figures, and with a cursor how many rows
 * of the list come before the page it starts (counted where `beforeCursor` holds): the page need not be counted again.
 */
export interface Counted { n: number; top: number | null; before?: number }

/** The rows of a list before the page a Next (`after`) or Previous (`before`) button's position starts: the cursor row itself too after Next. */
export function beforeCursor(input: { after?: number }, keys: (PgColumn | SQL)[], at: unknown[], down = false): SQL {
  return rowCompare(keys, input.after !== undefined ? (down ? '>=' : '<=') : (down ? '>' : '<'), at);
}

/**
 * The ids (in list order) of the rows on one page of a list ordered by `id`, or by `sort` then `id`, and
 * its Page block, at a cost that does not grow with the page's position: a typed page number is seeked
 * from the nearer end of the list, and Next/Previous buttons of pages far from both ends carry the id of
 * the row their page starts after (`--after`) or ends before (`--before`); with `sort`, that row's sort
 * values are read by its id, so the button is the same kind of number. Pages are the same rows, numbers
 * and buttons as counting from the start; the page a cursor starts is counted in the same scan as the
 * total, so a tampered or stale cursor is told apart from a page boundary and refused with a reason.
 */
export async function seekPage(db: Db, table: PgTable, id: PgColumn, input: SeekInput, command: string, what: string, where?: SQL, sort?: SortKey,
  counted?: Counted): Promise<{ ids: number[]; count: number; page: Page }> {
  const { after, before } = input;
  if (after !== undefined && before !== undefined) {
    throw invalid('A page button carries either --after or --before, not both.', `"/isms ${command}" shows the first page.`);
  }
  const firstPage = `"/isms ${command}" shows the first page.`;
  const stale = (asked: number | undefined, total: number) => invalid(
    `That page button no longer matches ${lowerFirst(what)}: entries were added or removed before its position since it was shown, or the button was altered.`,
    asked !== undefined && asked <= total ? `"/isms ${command} --page ${asked}" shows page ${asked} as it is now.` : firstPage);
  const keys = [...(sort?.by ?? []), id];
  const down = sort?.desc ?? false;
  const cursor = after ?? before;
  let at: unknown[] | undefined;
  if (cursor !== undefined) {
    if (sort?.by.length) {
      // The row the button names may have been removed since, or never existed: its place in the order is unknown.
      const [row] = await db.select(Object.fromEntries(sort.by.map((c, i) => [`k${i}`, c]))).from(table).where(eq(id, cursor));
      if (!row) {
        const [{ n }] = await db.select({ n: count() }).from(table).where(where);
        throw stale(input.page, Math.max(1, Math.ceil(n / PAGE_SIZE)));
      }
      at = [...sort.by.map((_, i) => (row as Record<string, unknown>)[`k${i}`]), cursor];
    } else {
      at = [cursor];
    }
  }
  // Earlier and later in the list's order, whichever way it runs.
  const earlier = down ? '>' : '<';
  const later = down ? '<' : '>';
  const forward = keys.map((k) => (down ? desc(k) : asc(k)));
  const backward = keys.map((k) => (down ? asc(k) : desc(k)));
  const atCursor = at === undefined ? undefined : beforeCursor(input, keys, at, down);
  const [stats] = counted && (!atCursor || counted.before !== undefined) ? [{ n: counted.n, top: counted.top, before: counted.before ?? 0 }] : await db.select({
    n: count(),
    // Rows added after this count lie beyond `top`: the page stays the one counted.
    top: max(id),
    before: atCursor ? sql<number>`count(*) filter (where ${atCursor})`.mapWith(Number) : sql<number>`0`.mapWith(Number),
  }).from(table).where(where);
  const n = stats.n;
  const top = Number(stats.top ?? 0);
  const total = Math.max(1, Math.ceil(n / PAGE_SIZE));
  const inRange = and(where, lte(id, top));
  let pageNo = input.page ?? 1;
  let ids: number[];
  if (at !== undefined) {
    const position = stats.before;
    if (after !== undefined ? position >= n : position === 0) {
      throw invalid(`${what} has nothing ${after !== undefined ? `after --after ${after}` : `before --before ${before}`}: that page button is out of date or was altered.`, firstPage);
    }
    pageNo = after !== undefined ? position / PAGE_SIZE + 1 : position / PAGE_SIZE;
    if (!Number.isInteger(pageNo) || (input.page !== undefined && pageNo !== input.page)) throw stale(input.page, total);
    ids = after !== undefined
      ? (await db.select({ id }).from(table).where(and(inRange, rowCompare(keys, later, at))).orderBy(...forward).limit(PAGE_SIZE)).map((r) => Number(r.id))
      : (await db.select({ id }).from(table).where(and(inRange, rowCompare(keys, earlier, at))).orderBy(...backward).limit(PAGE_SIZE)).map((r) => Number(r.id)).reverse();
  } else {
    if (pageNo > total) throw noSuchPage(what, total, pageNo, command);
    const start = (pageNo - 1) * PAGE_SIZE;
    const end = Math.min(pageNo * PAGE_SIZE, n);
    ids = n === 0 ? []
      : start <= n - end
        ? (await db.select({ id }).from(table).where(inRange).orderBy(...forward).offset(start).limit(end - start)).map((r) => Number(r.id))
        : (await db.select({ id }).from(table).where(inRange).orderBy(...backward).offset(n - end).limit(end - start)).map((r) => Number(r.id)).reverse();
  }
  // A neighbour within NEAR_PAGES of either end is found by its number as cheaply as by a cursor, and its button stays as typed.
  const far = (p: number) => Math.min(p - 1, total - p) >= NEAR_PAGES;
  return {
    ids,
    count: n,
    page: {
      number: pageNo,
      total,
      next: pageNo < total ? `${command} --page ${pageNo + 1}${far(pageNo + 1) && ids.length ? ` --after ${ids[ids.length - 1]}` : ''}` : undefined,
      previous: pageNo > 1 ? `${command} --page ${pageNo - 1}${far(pageNo - 1) && ids.length ? ` --before ${ids[0]}` : ''}` : undefined,
    },
  };
}
