import { and, asc, gt, sql } from 'drizzle-orm';
export const col = (key, header, meaning) => ({ key, header, meaning });
/** A timestamp as ISO 8601 in UTC, or empty. */
export const instant = (d) => (d ? new Date(d).toISOString() : null);
/** A stored code in words: "in_progress" reads "in progress". */
export const words = (s) => (s ? s.replace(/_/g, ' ') : null);
const nextDay = (day) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString();
/**
 * The keyset condition of a page: after the cursor, and in the period on the artefact's date column.
 * A day column compares days; a timestamp column compares instants, a period's days taken in UTC.
 */
export function pageWhere(id, after, period, dated) {
    const { column, day } = dated;
    return and(gt(id, after), period.from ? (day ? sql `${column} >= ${period.from}::date` : sql `${column} >= ${`${period.from}T00:00:00Z`}::timestamptz`) : undefined, period.to ? (day ? sql `${column} <= ${period.to}::date` : sql `${column} < ${nextDay(period.to)}::timestamptz`) : undefined);
}
export const byId = (id) => asc(id);
//# sourceMappingURL=artefact.js.map