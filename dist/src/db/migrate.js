import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { DatabaseSetupError } from './client.js';
import { projectPath } from '../paths.js';
const MIGRATIONS_DIR = projectPath('migrations');
/** Arbitrary constant: the advisory-lock key every process takes before migrating. */
const MIGRATION_LOCK_KEY = 727_001;
/**
 * Applies drizzle-kit's SQL migrations in order, all in one transaction under an advisory lock,
 * so two processes starting together neither race nor half-apply. An applied migration whose
 * file has since changed stops start-up: landed migrations are never edited.
 */
export async function migrate(db, dir = MIGRATIONS_DIR) {
    const journal = JSON.parse(readFileSync(path.join(dir, 'meta/_journal.json'), 'utf8'));
    const applied = [];
    await db.transaction(async (tx) => {
        await tx.execute(sql `select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
        await tx.execute(sql `create table if not exists isms_migrations (
      tag text primary key, sha256 text not null, applied_at timestamptz not null default now())`);
        const done = await tx.execute(sql `select tag, sha256 from isms_migrations`);
        const doneByTag = new Map(rows(done).map((r) => [r.tag, r.sha256]));
        for (const entry of [...journal.entries].sort((a, b) => a.idx - b.idx)) {
            const text = readFileSync(path.join(dir, `${entry.tag}.sql`), 'utf8');
            const sha = createHash('sha256').update(text).digest('hex');
            const seen = doneByTag.get(entry.tag);
            if (seen !== undefined) {
                if (seen !== sha)
                    throw new DatabaseSetupError(`Migration ${entry.tag} was edited after it was applied; add a new migration instead.`);
                continue;
            }
            for (const statement of text.split('--> statement-breakpoint')) {
                // drizzle-kit qualifies references with "public"; the register lives in the connection's schema.
                if (statement.trim())
                    await tx.execute(sql.raw(statement.replaceAll('"public".', '')));
            }
            await tx.execute(sql `insert into isms_migrations (tag, sha256) values (${entry.tag}, ${sha})`);
            applied.push(entry.tag);
        }
    });
    return { applied };
}
/** node-postgres returns { rows }, PGlite returns { rows } too, but typed differently. */
export function rows(result) {
    return result.rows;
}
//# sourceMappingURL=migrate.js.map