/**
 * Benchmarks: command latency and throughput through the router, audit-chain verification, and
 * memory. Writes bench/results/<timestamp>.json. `DATABASE_URL` set: runs on that PostgreSQL
 * (in a scratch schema it drops afterwards); else on in-memory PGlite.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { openDatabase, type Database } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { buildRouter } from '../src/commands.js';
import { people } from '../src/db/schema/index.js';
import { toActor } from '../src/core/actor.js';
import { verifyAuditChain } from '../src/core/audit.js';

const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 500);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function open(): Promise<{ database: Database; cleanup: () => Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (!url) return { database: await openDatabase({ kind: 'pglite' }), cleanup: async () => {} };
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const admin = await openDatabase({ kind: 'postgres', url, poolSize: 1 });
  await admin.db.execute(sql.raw(`create schema ${schema}`));
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  const database = await openDatabase({ kind: 'postgres', url: u.toString() });
  return {
    database,
    cleanup: async () => {
      await database.close();
      await admin.db.execute(sql.raw(`drop schema ${schema} cascade`));
      await admin.close();
    },
  };
}

const startedAt = performance.now();
const { database, cleanup } = await open();
const migrateStart = performance.now();
await migrate(database.db);
const migrateMs = performance.now() - migrateStart;
const [person] = await database.db.insert(people).values({ name: 'Bench Person', email: 'bench@example.org', roles: ['staff'] }).returning();
const router = buildRouter(database.db);
const actor = toActor(person);

const latencies: number[] = [];
const loopStart = performance.now();
for (let i = 0; i < COMMANDS; i++) {
  const t0 = performance.now();
  await router.handle(`/isms declare ai Tool${i} "benchmark use" --data internal --users 3`, { actor, channel: 'test' });
  latencies.push(performance.now() - t0);
}
const loopMs = performance.now() - loopStart;
latencies.sort((a, b) => a - b);

const verifyStart = performance.now();
const verdict = await verifyAuditChain(database.db);
const verifyMs = performance.now() - verifyStart;

const result = {
  at: new Date().toISOString(),
  database: database.kind,
  node: process.version,
  migrateMs: Math.round(migrateMs),
  declareAi: {
    commands: COMMANDS,
    perSecond: Math.round((COMMANDS / loopMs) * 1000 * 10) / 10,
    p50Ms: Math.round(percentile(latencies, 50) * 10) / 10,
    p95Ms: Math.round(percentile(latencies, 95) * 10) / 10,
    maxMs: Math.round(latencies[latencies.length - 1] * 10) / 10,
  },
  auditVerify: { events: verdict.rows, ok: verdict.ok, ms: Math.round(verifyMs), eventsPerSecond: Math.round(verdict.rows / (verifyMs / 1000)) },
  memory: { rssMb: Math.round(process.memoryUsage().rss / 1e6), heapUsedMb: Math.round(process.memoryUsage().heapUsed / 1e6) },
  totalMs: Math.round(performance.now() - startedAt),
};
await cleanup();
const dir = path.join(path.dirname(new URL(import.meta.url).pathname), 'results');
mkdirSync(dir, { recursive: true });
const file = path.join(dir, `${result.at.replace(/[:.]/g, '-')}-${result.database}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\nwritten to ${file}\n`);
