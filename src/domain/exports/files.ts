import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '../../db/client.js';
import { isoDay } from '../../core/time.js';
import type { Artefact } from './artefact.js';
import { type ExportFormat, type ExportOptions, writeExport } from './write.js';

/** Where the terminal and the command line put exports unless told otherwise. */
export const exportDirectory = (env: NodeJS.ProcessEnv = process.env): string => path.resolve(env.ISMS_EXPORT_DIR?.trim() || 'exports');

/** "risks-2026-12-02.csv", or "isms-export-2026-12-02.xlsx" for several artefacts. */
export function exportFileName(artefacts: readonly Artefact[], format: ExportFormat, now: Date): string {
  return `${artefacts.length === 1 ? artefacts[0].name : 'isms-export'}-${isoDay(now)}.${format}`;
}

/**
 * Writes an export to a file. It is written under a temporary name and renamed when complete, so a
 * failed export never leaves a partial file where the finished one would be.
 */
export async function exportToFile(db: Db, artefacts: readonly Artefact[], format: ExportFormat, file: string, options: ExportOptions = {}): Promise<Record<string, number>> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const partial = `${file}.${process.pid}.${Date.now()}.partial`;
  try {
    const counts = await writeExport(db, artefacts, format, createWriteStream(partial), options);
    await rename(partial, file);
    return counts;
  } catch (e) {
    await rm(partial, { force: true });
    throw e;
  }
}
