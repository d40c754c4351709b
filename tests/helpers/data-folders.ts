import { cp } from 'node:fs/promises';
import path from 'node:path';

/** Copies a data folder but not its lock file, which names the process that made it (src/db/client.ts). */
export const withoutLock = (from: string): boolean => !path.basename(from).startsWith('isms.lock');

/**
 * Fills `dataDir` with a copy of one of the run's embedded registers (tests/global-setup.ts): `empty` as
 * PGlite creates a new folder, `example` holding the example organisation. False when the run made none
 * (a test file run without the global setup): the caller then lets the database be created as usual.
 */
export async function copyRegister(kind: 'empty' | 'example', dataDir: string): Promise<boolean> {
  const template = kind === 'empty' ? process.env.ISMS_TEST_EMPTY_DATA : process.env.ISMS_TEST_EXAMPLE_DATA;
  if (!template) return false;
  await cp(template, dataDir, { recursive: true, filter: withoutLock });
  return true;
}
