import { readFile } from 'node:fs/promises';
import { count, sql } from 'drizzle-orm';
import { people } from '../db/schema/index.js';
import { loadReferenceData } from '../refdata/load.js';
import { importYaml } from './import.js';
import { projectPath } from '../paths.js';
export const EXAMPLE_FILE = projectPath('examples', 'example-org.yaml');
/** Serialises first starts, so two processes on one empty database load the example once. */
const EXAMPLE_LOCK_KEY = 727_004;
/**
 * Loads the framework reference data and the example organisation (Northwind Payments GmbH),
 * but only into a register without people. Returns whether it loaded.
 */
export async function loadExampleOrganisation(db) {
    const text = await readFile(EXAMPLE_FILE, 'utf8');
    return db.transaction(async (tx) => {
        await tx.execute(sql `select pg_advisory_xact_lock(${EXAMPLE_LOCK_KEY})`);
        const [{ n }] = await tx.select({ n: count() }).from(people);
        if (n > 0)
            return false;
        await loadReferenceData(tx);
        await importYaml(tx, text, 'examples/example-org.yaml');
        return true;
    });
}
//# sourceMappingURL=example.js.map