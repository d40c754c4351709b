import { once } from 'node:events';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import path from 'node:path';
import type { Db } from '../../db/client.js';
import { invalid } from '../../core/errors.js';
import { isoDay } from '../../core/time.js';
import type { Artefact } from './artefact.js';
import type { DocumentExport } from './document.js';
import { type ExportFormat, type ExportOptions, writeExport } from './write.js';

/** Where the terminal and the command line put exports unless told otherwise. */
export const exportDirectory = (env: NodeJS.ProcessEnv = process.env): string => path.resolve(env.ISMS_EXPORT_DIR?.trim() || 'exports');

/** "risks-2026-12-02.csv", or "isms-export-2026-12-02.xlsx" for several artefacts. */
export function exportFileName(artefacts: readonly Artefact[], format: ExportFormat, now: Date): string {
  return `${artefacts.length === 1 ? artefacts[0].name : 'isms-export'}-${isoDay(now)}.${format}`;
}

/** "oscal-poam-2026-12-02.json": a document is JSON only. */
export const documentFileName = (document: DocumentExport, now: Date): string => `${document.name}-${isoDay(now)}.json`;

const WHY: Record<string, string> = {
  EACCES: 'no permission to write there',
  EPERM: 'no permission to write there',
  EEXIST: 'part of its path is a file, not a folder',
  ENOTDIR: 'part of its path is a file, not a folder',
  EISDIR: 'that is a folder',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
};

/** Why a file could not be written, in words: "the disk is full". */
export function whyCannotWrite(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return WHY[code] ?? `the system said ${code || 'no'}`;
}

/**
 * Writes an export to a file. It is written under a temporary name and renamed when complete, so a
 * failed export never leaves a partial file where the finished one would be. The file is opened
 * before anything is read, so a folder that cannot be written is said plainly and costs nothing.
 */
async function writeToFile<T>(file: string, write: (out: Writable) => Promise<T>): Promise<T> {
  const partial = `${file}.${process.pid}.${Date.now()}.partial`;
  let handle: FileHandle;
  try {
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    handle = await open(partial, 'w');
  } catch (e) {
    throw invalid(`Cannot write the export to "${file}": ${whyCannotWrite(e)}.`,
      'Name a file in a folder you may write to with --out, or set ISMS_EXPORT_DIR.');
  }
  const out = handle.createWriteStream();
  try {
    const result = await write(out);
    await rename(partial, file);
    return result;
  } catch (e) {
    out.destroy();
    await rm(partial, { force: true });
    throw e;
  }
}

/** Writes row artefacts to a file; returns the rows per artefact. */
export function exportToFile(db: Db, artefacts: readonly Artefact[], format: ExportFormat, file: string, options: ExportOptions = {}): Promise<Record<string, number>> {
  return writeToFile(file, (out) => writeExport(db, artefacts, format, out, options));
}

/** Writes a document export to a file, only once it is built and valid; returns what it counts. */
export function exportDocumentToFile(db: Db, document: DocumentExport, file: string, now: Date): Promise<Record<string, number>> {
  return writeToFile(file, async (out) => {
    const { document: body, counts } = await document.build(db, now);
    out.end(`${JSON.stringify(body, null, 2)}\n`);
    await once(out, 'finish');
    return counts;
  });
}
