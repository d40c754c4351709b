import { openDatabase, type Database, type DatabaseTarget } from './client.js';

/** Where the register lives: PostgreSQL when DATABASE_URL is set, else PGlite in ISMS_DATA_DIR (default ./data). */
export function targetFromEnv(env: NodeJS.ProcessEnv = process.env): DatabaseTarget {
  // Empty values from .env templates mean "not set".
  const url = env.DATABASE_URL?.trim();
  if (url) return { kind: 'postgres', url };
  return { kind: 'pglite', dataDir: env.ISMS_DATA_DIR?.trim() || './data' };
}

/** Opens the register the way the bot does; callers run migrate() next. */
export function openFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<Database> {
  return openDatabase(targetFromEnv(env));
}
