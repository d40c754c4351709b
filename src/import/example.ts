import { readFile } from 'node:fs/promises';
import { count } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { people } from '../db/schema/index.js';
import { loadReferenceData } from '../refdata/load.js';
import { importYaml } from './import.js';
import { projectPath } from '../paths.js';
import { LOCK_KEYS, lockRegister } from '../db/locks.js';

export const EXAMPLE_FILE = projectPath('examples', 'example-org.yaml');

/**
 * Loads the framework reference data and the example organisation (Northwind Payments GmbH),
 * but only into a register without people. Returns whether it loaded.
 */
export async function loadExampleOrganisation(db: Db): Promise<boolean> {
  const text = await readFile(EXAMPLE_FILE, 'utf8');
  return db.transaction(async (tx) => {
    await lockRegister(tx, LOCK_KEYS.exampleOrganisation);
    const [{ n }] = await tx.select({ n: count() }).from(people);
    if (n > 0) return false;
    await loadReferenceData(tx);
    await importYaml(tx, text, 'examples/example-org.yaml');
    return true;
  });
}
