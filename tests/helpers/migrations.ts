import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Db } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';

/** Applies the migrations before `tag` only, as a register last upgraded before it: from a copy of the folder with a shorter journal. */
export async function migrateBefore(db: Db, tag: string): Promise<void> {
  const before = await mkdtemp(path.join(tmpdir(), 'migrations-'));
  try {
    await cp(path.resolve('migrations'), before, { recursive: true });
    const journal = JSON.parse(await readFile(path.join(before, 'meta/_journal.json'), 'utf8')) as { entries: { tag: string }[] };
    journal.entries = journal.entries.filter((e) => e.tag < tag);
    await writeFile(path.join(before, 'meta/_journal.json'), JSON.stringify(journal));
    await migrate(db, before);
  } finally {
    await rm(before, { recursive: true, force: true });
  }
}
