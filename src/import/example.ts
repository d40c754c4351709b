import { readFile } from 'node:fs/promises';
import { count } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import YAML from 'yaml';
import { people } from '../db/schema/index.js';
import { peopleWithRole } from '../core/actor.js';
import { loadReferenceData } from '../refdata/load.js';
import { importYaml } from './import.js';
import { projectPath } from '../paths.js';
import { LOCK_KEYS, lockRegister } from '../db/locks.js';
import { addDays, daysBetween, isoDay } from '../core/time.js';

export const EXAMPLE_FILE = projectPath('examples', 'example-org.yaml');

const AS_OF = /^# as_of: (\d{4}-\d{2}-\d{2})[ \t]*$/m;

/**
 * The example's dates (fields ending in `_on`) are written as seen on the day of its `# as_of:` line: moved by
 * as many days as `today` is after it, so a newcomer finds them as near or far as the file means whenever it is
 * loaded. A comment, so `import` of the file, like any organisation's own, takes the dates as written.
 */
export function shiftExampleDates(text: string, today: string): string {
  const asOf = AS_OF.exec(text)?.[1];
  if (!asOf) return text;
  const days = daysBetween(asOf, today);
  return text.replace(/\b([a-z_]+_on:[ \t]*)(\d{4}-\d{2}-\d{2})\b/g, (_, key: string, day: string) => `${key}${addDays(day, days)}`);
}

/**
 * Loads the framework reference data and the example organisation (Northwind Payments GmbH),
 * but only into a register without people, with its dates as of `now`. Returns whether it loaded.
 */
export async function loadExampleOrganisation(db: Db, now = new Date()): Promise<boolean> {
  const text = shiftExampleDates(await readFile(EXAMPLE_FILE, 'utf8'), isoDay(now));
  return db.transaction(async (tx) => {
    await lockRegister(tx, LOCK_KEYS.exampleOrganisation);
    const [{ n }] = await tx.select({ n: count() }).from(people);
    if (n > 0) return false;
    await loadReferenceData(tx);
    // As an organisation loads its own: its people first, so that the approvals the file records come from members
    // of the management body already in the register; then the whole file, run by its ISMS lead.
    const { people: staff } = YAML.parse(text) as { people: unknown[] };
    await importYaml(tx, YAML.stringify({ people: staff }), 'examples/example-org.yaml', { now });
    const [lead] = (await peopleWithRole(tx, 'isms_lead')).sort((a, b) => a.id - b.id);
    await importYaml(tx, text, 'examples/example-org.yaml', { now, by: lead.email });
    return true;
  });
}
