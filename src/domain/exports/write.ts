import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Db } from '../../db/client.js';
import type { Artefact, Cell, Period, Row } from './artefact.js';

export const FORMATS = ['csv', 'json', 'xlsx'] as const;
export type ExportFormat = (typeof FORMATS)[number];

export const MIME_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv',
  json: 'application/json',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/** The JSON envelope's format name and version: a reader checks both before it reads the rows. */
export const JSON_FORMAT = 'isms-export';
export const JSON_VERSION = 1;

/** Rows read per query: enough to be quick, few enough that memory stays flat however big the register is. */
const PAGE_SIZE = 500;

export interface ExportOptions {
  period?: Period;
  now?: Date;
  /** Told the running total of rows written (across every sheet of a workbook) after each row, and awaited. */
  onRows?(total: number): void | Promise<void>;
}

/** Counts the rows an export writes and tells `onRows` the running total. */
function rowCounter(options: ExportOptions): () => Promise<void> {
  let total = 0;
  return async () => {
    total++;
    const told = options.onRows?.(total);
    if (told) await told;
  };
}

/** Rows in id order, a page at a time, so no export ever holds a whole table. */
export async function* rowsOf(db: Db, artefact: Artefact, period: Period = {}): AsyncGenerator<Row> {
  let after = 0;
  for (;;) {
    const page = await artefact.page(db, after, PAGE_SIZE, period);
    for (const { row } of page) yield row;
    if (page.length < PAGE_SIZE) return;
    after = page[page.length - 1].cursor;
  }
}

/**
 * Text a spreadsheet would run as a formula when it opens a CSV file: it starts with =, +, -, @, a
 * tab or a carriage return (OWASP, "CSV injection").
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * A cell as CSV writes it: yes/no for booleans, empty for nothing, and text a spreadsheet would take
 * for a formula behind an apostrophe, so a declared name such as "=HYPERLINK(…)" opens as text.
 * Numbers are written as they are (a negative number is a number, not a formula).
 */
export function csvText(value: Cell): string {
  if (value === null) return '';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string' && FORMULA_START.test(value)) return `'${value}`;
  return String(value);
}

/** One CSV field, RFC 4180: quoted when it holds a comma, quote or line break, quotes doubled. */
export function csvField(value: Cell): string {
  const s = csvText(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const csvLine = (cells: Cell[]) => `${cells.map(csvField).join(',')}\r\n`;

async function put(out: Writable, chunk: string): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}

/** Writes one artefact as CSV (header line, then a line per row); returns the number of rows. */
export async function writeCsv(db: Db, artefact: Artefact, out: Writable, options: ExportOptions = {}): Promise<number> {
  const counted = rowCounter(options);
  await put(out, csvLine(artefact.columns.map((c) => c.header)));
  let n = 0;
  for await (const row of rowsOf(db, artefact, options.period)) {
    await put(out, csvLine(artefact.columns.map((c) => row[c.key] ?? null)));
    n++;
    await counted();
  }
  return n;
}

/**
 * Writes one artefact as the versioned JSON envelope, row by row. Key order is fixed (envelope, then
 * each row's keys in column order) so two exports of the same register compare equal line by line.
 */
export async function writeJson(db: Db, artefact: Artefact, out: Writable, options: ExportOptions = {}): Promise<number> {
  const counted = rowCounter(options);
  const head = {
    format: JSON_FORMAT, version: JSON_VERSION, artefact: artefact.name, title: artefact.title,
    exportedAt: (options.now ?? new Date()).toISOString(), period: { from: options.period?.from ?? null, to: options.period?.to ?? null },
    columns: artefact.columns,
  };
  const opening = JSON.stringify(head, null, 2);
  await put(out, `${opening.slice(0, -2)},\n  "rows": [`);
  let n = 0;
  for await (const row of rowsOf(db, artefact, options.period)) {
    const ordered = Object.fromEntries(artefact.columns.map((c) => [c.key, row[c.key] ?? null]));
    await put(out, `${n ? ',' : ''}\n    ${JSON.stringify(ordered)}`);
    n++;
    await counted();
  }
  await put(out, `${n ? '\n  ' : ''}]\n}\n`);
  return n;
}

/** Writes the artefacts as one workbook, a sheet each, streamed; returns the rows per artefact. */
export async function writeXlsx(db: Db, artefacts: readonly Artefact[], out: Writable, options: ExportOptions = {}): Promise<Record<string, number>> {
  // Loaded on the first workbook: most processes never write one.
  const { default: ExcelJS } = await import('exceljs');
  const book = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  book.created = options.now ?? new Date();
  const counted = rowCounter(options);
  const counts: Record<string, number> = {};
  for (const artefact of artefacts) {
    const sheet = book.addWorksheet(artefact.title, { views: [{ state: 'frozen', ySplit: 1 }] });
    sheet.columns = artefact.columns.map((c) => ({ header: c.header, key: c.key, width: Math.min(60, Math.max(12, c.header.length + 2)) }));
    sheet.getRow(1).font = { bold: true };
    let n = 0;
    for await (const row of rowsOf(db, artefact, options.period)) {
      sheet.addRow(Object.fromEntries(artefact.columns.map((c) => [c.key, row[c.key] ?? null]))).commit();
      n++;
      await counted();
    }
    sheet.commit();
    counts[artefact.name] = n;
  }
  const finished = once(out, 'finish');
  await book.commit();
  await finished;
  return counts;
}

/** Writes artefacts in a format to a stream: one for CSV and JSON, any number as XLSX. Returns the rows per artefact. */
export async function writeExport(db: Db, artefacts: readonly Artefact[], format: ExportFormat, out: Writable, options: ExportOptions = {}): Promise<Record<string, number>> {
  if (format === 'xlsx') return writeXlsx(db, artefacts, out, options);
  const [artefact] = artefacts;
  const rows = format === 'csv' ? await writeCsv(db, artefact, out, options) : await writeJson(db, artefact, out, options);
  out.end();
  await once(out, 'finish');
  return { [artefact.name]: rows };
}
