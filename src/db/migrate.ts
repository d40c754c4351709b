import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { DatabaseSetupError, type Db } from './client.js';
import { projectPath } from '../paths.js';
import { LOCK_KEYS, lockRegister } from './locks.js';

const MIGRATIONS_DIR = projectPath('migrations');

interface JournalEntry { idx: number; tag: string }

export interface MigrationResult { applied: string[] }

/**
 * Applies drizzle-kit's SQL migrations in order, all in one transaction under an advisory lock,
 * so two processes starting together neither race nor half-apply. An applied migration whose
 * file has since changed stops start-up: landed migrations are never edited.
 */
export async function migrate(db: Db, dir = MIGRATIONS_DIR): Promise<MigrationResult> {
  const journal = JSON.parse(readFileSync(path.join(dir, 'meta/_journal.json'), 'utf8')) as { entries: JournalEntry[] };
  const applied: string[] = [];
  await db.transaction(async (tx) => {
    await lockRegister(tx, LOCK_KEYS.migration);
    await tx.execute(sql`create table if not exists isms_migrations (
      tag text primary key, sha256 text not null, applied_at timestamptz not null default now())`);
    const done = await tx.execute(sql`select tag, sha256 from isms_migrations`);
    const doneByTag = new Map(rows<{ tag: string; sha256: string }>(done).map((r) => [r.tag, r.sha256]));
    for (const entry of [...journal.entries].sort((a, b) => a.idx - b.idx)) {
      const text = readFileSync(path.join(dir, `${entry.tag}.sql`), 'utf8');
      const sha = createHash('sha256').update(text).digest('hex');
      const seen = doneByTag.get(entry.tag);
      if (seen !== undefined) {
        if (seen !== sha) throw new DatabaseSetupError(`Migration ${entry.tag} was edited after it was applied; add a new migration instead.`);
        continue;
      }
      for (const statement of text.split('--> statement-breakpoint')) {
        // drizzle-kit qualifies references with "public"; the register lives in the connection's schema.
        if (statement.trim()) await tx.execute(sql.raw(statement.replaceAll('"public".', '')));
      }
      await tx.execute(sql`insert into isms_migrations (tag, sha256) values (${entry.tag}, ${sha})`);
      applied.push(entry.tag);
    }
  });
  return { applied };
}

/** node-postgres returns { rows }, PGlite returns { rows } too, but typed differently. */
export function rows<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}
