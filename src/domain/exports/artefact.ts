import { and, asc, gt, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Db } from '../../db/client.js';

/** One cell as every format writes it: text, a number, yes/no, or empty. */
export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

export interface Column {
  /** The JSON key and XLSX column key. */
  key: string;
  /** The CSV header and XLSX heading. */
  header: string;
  /** What the column holds, for the README. */
  meaning: string;
}

/** The period --from/--to select; both ends are whole days (YYYY-MM-DD), inclusive. */
export interface Period { from?: string; to?: string }

/**
 * An artefact is declared once (columns and a paged row query) and every format is derived from it,
 * so CSV, JSON, XLSX and the column documentation cannot drift apart.
 */
export interface Artefact {
  /** What is typed: "risks", "poam-milestones". */
  name: string;
  /** The sheet name and a person's name for it (at most 31 characters: a sheet name's limit). */
  title: string;
  /** What --from/--to select on. */
  periodMeaning: string;
  columns: Column[];
  /** Rows after the cursor (an id, in ascending order), at most `limit`, in the period. */
  page(db: Db, after: number, limit: number, period: Period): Promise<{ cursor: number; row: Row }[]>;
}

export const col = (key: string, header: string, meaning: string): Column => ({ key, header, meaning });

/** A timestamp as ISO 8601 in UTC, or empty. */
export const instant = (d: Date | string | null | undefined): string | null => (d ? new Date(d).toISOString() : null);

/** A stored code in words: "in_progress" reads "in progress". */
export const words = (s: string | null | undefined): string | null => (s ? s.replace(/_/g, ' ') : null);

const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString();

/**
 * The keyset condition of a page: after the cursor, and in the period on the artefact's date column.
 * A day column compares days; a timestamp column compares instants, a period's days taken in UTC.
 */
export function pageWhere(id: PgColumn, after: number, period: Period, dated: { column: PgColumn | SQL; day?: boolean }): SQL | undefined {
  const { column, day } = dated;
  return and(
    gt(id, after),
    period.from ? (day ? sql`${column} >= ${period.from}::date` : sql`${column} >= ${`${period.from}T00:00:00Z`}::timestamptz`) : undefined,
    period.to ? (day ? sql`${column} <= ${period.to}::date` : sql`${column} < ${nextDay(period.to)}::timestamptz`) : undefined,
  );
}

export const byId = (id: PgColumn) => asc(id);
