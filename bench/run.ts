/**
 * Benchmarks: command latency and throughput through the router, audit-chain verification, a large
 * CSV export, reading back a large evidence file, and memory. Writes bench/results/<timestamp>.json.
 * `DATABASE_URL` set: runs on that PostgreSQL (in a scratch schema it drops afterwards); else on
 * in-memory PGlite. Each section is sized by an environment variable; 0 leaves it out.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { openDatabase, type Database } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { buildRouter } from '../src/commands.js';
import { controls, evidenceItems, people } from '../src/db/schema/index.js';
import { toActor, type Actor } from '../src/core/actor.js';
import { verifyAuditChain } from '../src/core/audit.js';
import type { CommandRouter } from '../src/core/router.js';
import { attachmentFromPath } from '../src/core/attachments.js';
import { toPlainText, type Reply } from '../src/core/reply.js';
import { ARTEFACTS } from '../src/domain/exports/artefacts.js';
import { exportToFile } from '../src/domain/exports/files.js';
import { readEvidenceFile } from '../src/domain/evidence/files.js';
import { startupSection } from './startup.js';
import { campaignSection } from './campaign.js';
import { ackSection } from './ack.js';
import { memorySection } from './memory.js';
import { registerScaleSection } from './register-scale.js';
import { RSS_METHOD, mb, measured, percentile } from './measure.js';
import { printSummary } from './summary.js';

const size = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
/** `declare ai` commands run through the router. */
const COMMANDS = size('BENCH_COMMANDS', 500);
/** Evidence revisions seeded by SQL and exported as CSV. */
const EXPORT_ROWS = size('BENCH_EXPORT_ROWS', 100_000);
/** Megabytes of the one evidence file submitted through the router and read back. */
const FILE_MB = size('BENCH_FILE_MB', 50);
/** Warm starts of the bot process, each timed from spawn to ready on /readyz and from SIGTERM to exit. */
const STARTUP_RUNS = size('BENCH_STARTUP_RUNS', 3);
/** Campaign sizes (people), comma-separated; 0 leaves the section out. */
const CAMPAIGN_SIZES = (process.env.BENCH_CAMPAIGN ?? '1000,3000,10000').split(',').map(Number).filter((n) => n > 0);
/** Seconds of concurrent signed commands against the bot and a bare app, each platform (BENCH_ACK_CLIENTS clients). */
const ACK_SECONDS = size('BENCH_ACK_SECONDS', 20);
const ACK_CLIENTS = size('BENCH_ACK_CLIENTS', 50);
/** Memory bounds: evidence files of these MB, an import of this many people and of a file this large, an export of this many rows (0 = out). */
const MEMORY_FILES = (process.env.BENCH_MEMORY_FILES ?? '1,50,99').split(',').map(Number).filter((n) => n > 0);
const MEMORY = { files: MEMORY_FILES, importPeople: size('BENCH_MEMORY_IMPORT_PEOPLE', 10_000), importMb: size('BENCH_MEMORY_IMPORT_MB', 50), exportRows: size('BENCH_MEMORY_EXPORT_ROWS', 100_000) };
/** Register at scale, PostgreSQL only: 1 = full size (1 M evidence requests, ...), a fraction for smaller, 0 leaves it out. */
const SCALE = size('BENCH_SCALE', process.env.DATABASE_URL ? 1 : 0);
async function open(): Promise<{ database: Database; cleanup: () => Promise<void>; url?: string }> {
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
    url: u.toString(),
    cleanup: async () => {
      await database.close();
      await admin.db.execute(sql.raw(`drop schema ${schema} cascade`));
      await admin.close();
    },
  };
}

const startedAt = performance.now();
const { database, cleanup, url: scratchUrl } = await open();
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

/** A control owned by a person of its own, for the evidence the sections below add. */
async function evidenceOwner(): Promise<{ actor: Actor; controlId: number; code: string }> {
  const [owner] = await database.db.insert(people).values({ name: 'Bench Owner', email: 'owner@bench.example.org', roles: ['control_owner', 'staff'] }).returning();
  const [control] = await database.db.insert(controls).values({ code: 'CTL-BENCH-01', title: 'Benchmark control', ownerId: owner.id }).returning();
  return { actor: toActor(owner), controlId: control.id, code: control.code };
}
const owner = EXPORT_ROWS > 0 || FILE_MB > 0 ? await evidenceOwner() : undefined;

/**
 * Seeds evidence revisions in one statement: half text, half links, every tenth with a file's name,
 * size and SHA-256. Metadata only: no file bytes, whatever table holds them.
 */
async function seedEvidence(rows: number, controlId: number, personId: number): Promise<void> {
  await database.db.execute(sql`
    insert into ${evidenceItems} (ref, control_id, revision, submitted_by, submitted_at, effective_on, text, link, file_name, file_size, file_sha256, channel)
    select 'EVB-' || lpad(g::text, 7, '0'), ${controlId}, g, ${personId}, timestamptz '2026-01-01T00:00:00Z' + g * interval '1 minute', date '2026-01-01',
      case when g % 2 = 0 then 'Access review ' || g || ': 14 accounts checked, 2 removed, "none" privileged' end,
      case when g % 2 = 1 then 'https://wiki.example.com/evidence/' || g end,
      case when g % 10 = 0 then 'scan-' || g || '.pdf' end,
      case when g % 10 = 0 then 100000 + g end,
      case when g % 10 = 0 then encode(sha256(convert_to(g::text, 'UTF8')), 'hex') end,
      'shell'
    from generate_series(1, ${rows}::int) g`);
}

async function exportSection(rows: number) {
  const seedStart = performance.now();
  await seedEvidence(rows, owner!.controlId, owner!.actor.id);
  const seedMs = Math.round(performance.now() - seedStart);
  const dir = mkdtempSync(path.join(tmpdir(), 'isms-bench-'));
  const file = path.join(dir, 'evidence.csv');
  try {
    const evidence = ARTEFACTS.filter((a) => a.name === 'evidence');
    const run = await measured(() => exportToFile(database.db, evidence, 'csv', file));
    return {
      artefact: 'evidence', format: 'csv', seededRows: rows, seedMs, rows: run.value.evidence, ms: run.ms, cpuMs: run.cpuMs,
      rowsPerSecond: Math.round(run.value.evidence / (run.ms / 1000)), outputBytes: statSync(file).size,
      rssBeforeMb: run.rssBeforeMb, peakRssMb: run.peakRssMb, maxRssAfterMb: run.maxRssAfterMb, rssMethod: RSS_METHOD,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Hands the core a file on disk, as the platforms do once they have downloaded it. */
function submitEvidenceFile(router: CommandRouter, actor: Actor, target: string, name: string, file: string): Promise<Reply> {
  return router.handle(`/isms evidence submit ${target} "benchmark file"`, { actor, channel: 'test', attachments: [attachmentFromPath(name, file, statSync(file).size)] });
}

async function evidenceFileSection(megabytes: number) {
  const name = `bench-${megabytes}mb.bin`;
  const dir = mkdtempSync(path.join(tmpdir(), 'isms-bench-'));
  const source = path.join(dir, name);
  // Written a megabyte at a time, so the file's bytes are not in memory when the submission is measured.
  for (let i = 0; i < megabytes; i++) appendFileSync(source, randomBytes(1024 * 1024));
  const submitted = await measured(async () => {
    const answer = await submitEvidenceFile(router, owner!.actor, owner!.code, name, source);
    if (answer.outcome !== 'recorded') throw new Error(`the evidence file was not recorded: ${toPlainText(answer)}`);
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
  const [stored] = await database.db.select({ id: evidenceItems.id, ref: evidenceItems.ref, name: evidenceItems.fileName, size: evidenceItems.fileSize, sha256: evidenceItems.fileSha256 })
    .from(evidenceItems).where(eq(evidenceItems.fileName, name));
  const read = await measured(async () => {
    let bytes = 0;
    for await (const part of readEvidenceFile(database.db, { ...stored, name: stored.name!, size: stored.size!, sha256: stored.sha256! })) bytes += part.length;
    return bytes;
  });
  return {
    fileBytes: stored.size, rssMethod: RSS_METHOD,
    submit: { ms: submitted.ms, cpuMs: submitted.cpuMs, rssBeforeMb: submitted.rssBeforeMb, peakRssMb: submitted.peakRssMb, maxRssAfterMb: submitted.maxRssAfterMb },
    readBack: { bytes: read.value, ms: read.ms, cpuMs: read.cpuMs, mbPerSecond: Math.round((read.value / 1e6 / (read.ms / 1000)) * 10) / 10, rssBeforeMb: read.rssBeforeMb, peakRssMb: read.peakRssMb, maxRssAfterMb: read.maxRssAfterMb },
  };
}

const evidenceFile = FILE_MB > 0 ? await evidenceFileSection(FILE_MB) : undefined;
const csvExport = EXPORT_ROWS > 0 ? await exportSection(EXPORT_ROWS) : undefined;
// On PostgreSQL the bot starts on this run's scratch schema (migrated already); on PGlite in a fresh folder.
const startup = STARTUP_RUNS > 0 ? await startupSection(STARTUP_RUNS, scratchUrl) : undefined;
const campaign = CAMPAIGN_SIZES.length ? await campaignSection(CAMPAIGN_SIZES, process.env.DATABASE_URL) : undefined;
const ack = ACK_SECONDS > 0 ? await ackSection({ seconds: ACK_SECONDS, clients: ACK_CLIENTS, databaseUrl: process.env.DATABASE_URL, profileDir: process.env.BENCH_ACK_PROFILE }) : undefined;
const memoryBounds = MEMORY.files.length || MEMORY.importPeople || MEMORY.importMb || MEMORY.exportRows ? await memorySection({ ...MEMORY, databaseUrl: scratchUrl }) : undefined;
const registerScale = SCALE > 0 ? await registerScaleSection(process.env.DATABASE_URL, SCALE) : undefined;

const result = {
  at: new Date().toISOString(),
  database: database.kind,
  node: process.version,
  /** The machine's 1-minute load average at the end and its CPU count: wall times on a loaded machine read long. */
  load: { average: Math.round(loadavg()[0] * 10) / 10, cpus: availableParallelism() },
  migrateMs: Math.round(migrateMs),
  declareAi: {
    commands: COMMANDS,
    perSecond: Math.round((COMMANDS / loopMs) * 1000 * 10) / 10,
    p50Ms: Math.round(percentile(latencies, 50) * 10) / 10,
    p95Ms: Math.round(percentile(latencies, 95) * 10) / 10,
    maxMs: Math.round(latencies[latencies.length - 1] * 10) / 10,
  },
  auditVerify: { events: verdict.rows, ok: verdict.ok, ms: Math.round(verifyMs), eventsPerSecond: Math.round(verdict.rows / (verifyMs / 1000)) },
  ...(csvExport && { csvExport }),
  ...(evidenceFile && { evidenceFile }),
  ...(startup && { startup }),
  ...(campaign && { campaign }),
  ...(ack && { ack }),
  ...(memoryBounds && { memoryBounds }),
  ...(registerScale && { registerScale }),
  /** The process's peak resident set size over the whole run (getrusage). */
  maxRssMb: mb(process.resourceUsage().maxRSS * 1024),
  memory: { rssMb: Math.round(process.memoryUsage().rss / 1e6), heapUsedMb: Math.round(process.memoryUsage().heapUsed / 1e6) },
  totalMs: Math.round(performance.now() - startedAt),
  totalCpuMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
};
await cleanup();
const dir = path.join(path.dirname(new URL(import.meta.url).pathname), 'results');
mkdirSync(dir, { recursive: true });
const file = path.join(dir, `${result.at.replace(/[:.]/g, '-')}-${result.database}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n\n${printSummary(result)}\nwritten to ${file}\n`);
