/**
 * The text of a stored evidence file, for the evidence summary when the organisation switches it on
 * (ISMS_AI_FILE_TEXT): plain text, CSV, Markdown and JSON as written, a workbook's cells row by row
 * (exceljs). Bounded: only the first FILE_TEXT_MAX_CHARS characters are read, and a workbook larger than
 * FILE_TEXT_MAX_XLSX_BYTES is not opened. Any other kind of file gives no text.
 */
import type { Db } from '../../db/client.js';
import { type StoredEvidenceFile, readEvidenceFile } from './files.js';

export const FILE_TEXT_MAX_CHARS = 4_000;
/** A workbook is a zip that must be read whole; a larger one is not worth holding for a summary. */
export const FILE_TEXT_MAX_XLSX_BYTES = 5 * 1024 * 1024;

const TEXT_KINDS = ['.txt', '.text', '.csv', '.md', '.markdown', '.json', '.log'];

type Kind = 'text' | 'xlsx';

/** Which extraction a file name calls for, if any. */
export function textKindOf(name: string | null | undefined): Kind | undefined {
  const lower = (name ?? '').toLowerCase();
  if (lower.endsWith('.xlsx')) return 'xlsx';
  return TEXT_KINDS.some((ext) => lower.endsWith(ext)) ? 'text' : undefined;
}

/** The file's text, at most FILE_TEXT_MAX_CHARS characters; undefined for a kind of file that holds none. */
export async function extractFileText(db: Db, file: StoredEvidenceFile): Promise<string | undefined> {
  const kind = textKindOf(file.name);
  if (kind === 'text') return readTextStart(db, file);
  if (kind === 'xlsx' && file.size <= FILE_TEXT_MAX_XLSX_BYTES) return workbookText(await readWhole(db, file));
  return undefined;
}

/** Reads only as many slices as the first characters need. */
async function readTextStart(db: Db, file: StoredEvidenceFile): Promise<string> {
  const decoder = new TextDecoder('utf-8');
  let text = '';
  for await (const part of readEvidenceFile(db, file)) {
    text += decoder.decode(part, { stream: true });
    if (text.length > FILE_TEXT_MAX_CHARS) break;
  }
  return cut(text);
}

async function readWhole(db: Db, file: StoredEvidenceFile): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of readEvidenceFile(db, file)) parts.push(part);
  return Buffer.concat(parts);
}

/** Each sheet by name, then its rows as comma-separated cell texts. */
async function workbookText(bytes: Buffer): Promise<string> {
  // Loaded on first use: exceljs takes about half a second to load, and most starts never read a workbook.
  const { default: ExcelJS } = await import('exceljs');
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
  const lines: string[] = [];
  let length = 0;
  for (const sheet of workbook.worksheets) {
    lines.push(`Sheet ${sheet.name}:`);
    sheet.eachRow((row) => {
      if (length > FILE_TEXT_MAX_CHARS) return;
      const cells = (row.values as unknown[]).slice(1).map((v) => cellText(v));
      const line = cells.join(', ');
      lines.push(line);
      length += line.length + 1;
    });
    if (length > FILE_TEXT_MAX_CHARS) break;
  }
  return cut(lines.join('\n'));
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === 'object') {
    const v = value as { text?: unknown; result?: unknown; richText?: { text: string }[] };
    if (v.richText) return v.richText.map((r) => r.text).join('');
    if (v.text !== undefined) return String(v.text);
    if (v.result !== undefined) return String(v.result);
    return '';
  }
  return String(value);
}

function cut(text: string): string {
  return text.length > FILE_TEXT_MAX_CHARS ? `${text.slice(0, FILE_TEXT_MAX_CHARS)} […]` : text;
}
