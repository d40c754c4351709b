/**
 * Memory bounds: evidence files submitted through the router, an import of many people and of a
 * large file, a CSV export of many rows. Each step runs in a process of its own (this file, run as a
 * child), so its peak resident set is its own and not the benchmark's: the child opens the run's
 * kind of database (PostgreSQL: the run's scratch schema; PGlite: a register in a fresh data folder,
 * as the bot runs it), prepares the step, then measures it alone.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { sql } from 'drizzle-orm';
import { RSS_SAMPLE_MS, mb } from './measure.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const SELF = new URL(import.meta.url).pathname;

type Step = { kind: 'file'; megabytes: number; warmUpMegabytes?: number } | { kind: 'import'; file: string } | { kind: 'export'; rows: number };

export interface StepMemory {
  ms: number;
  /** RSS when the step began, after the child opened the database and prepared the step. */
  rssBeforeMb: number;
  /** The step's peak RSS (see METHOD). */
  peakRssMb: number;
  growthMb: number;
  /** The WASM heap of PGlite (its linear memory only grows) before and after the step; undefined on PostgreSQL. */
  wasmHeapMb?: { before: number; after: number };
  detail: Record<string, unknown>;
}

const METHOD = `each step in a child process of its own; peakRssMb: the child's VmHWM (the kernel's peak RSS, reset through `
  + `/proc/self/clear_refs when the step began), with process.memoryUsage().rss sampled every ${RSS_SAMPLE_MS} ms where that reset is not possible; `
  + 'growthMb = peakRssMb - rssBeforeMb (the RSS when the step began); growthPerFileSize = growthMb / the file\'s MB';

/** Runs one step in a child process and returns what it measured. */
function runChild(step: Step, databaseUrl?: string): Promise<StepMemory> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', TSX, SELF, JSON.stringify(step)], {
      cwd: ROOT, env: { ...process.env, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATABASE_URL: '' }) }, stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) reject(new Error(`memory step ${JSON.stringify(step)} exited with ${code}: ${out.slice(-500)}`));
      else resolve(JSON.parse(line) as StepMemory);
    });
  });
}

/** A YAML import file: `people` people, then assets with long descriptions until it is `megabytes` large. */
async function writeImportFile(file: string, peopleCount: number, megabytes: number, tag: string): Promise<number> {
  const out = createWriteStream(file);
  const put = async (s: string) => { if (!out.write(s)) await once(out, 'drain'); };
  await put('people:\n');
  for (let i = 0; i < peopleCount; i++) {
    await put(`  - { name: "Person ${i}", email: person${i}@${tag}.bench.example.org, roles: [staff]${i > 0 ? `, manager: person${Math.floor((i - 1) / 10)}@${tag}.bench.example.org` : ''} }\n`);
  }
  const description = 'Stores customer records, replicated nightly to the secondary site; '.repeat(70).slice(0, 4800);
  let written = out.bytesWritten + out.writableLength;
  if (written < megabytes * 1e6) await put('assets:\n');
  for (let i = 0; written < megabytes * 1e6; i++) {
    const line = `  - { name: "Asset ${tag} ${i}", description: "${description}"${peopleCount ? `, owner: person${i % peopleCount}@${tag}.bench.example.org` : ''}, classification: internal }\n`;
    await put(line);
    written += Buffer.byteLength(line);
  }
  out.end();
  await once(out, 'finish');
  return statSync(file).size;
}

/**
 * `files`: megabytes of each evidence file (0s left out); `importPeople` people in one import and an
 * import file of `importMb` MB; `exportRows` evidence revisions exported as CSV. `databaseUrl`: the
 * run's PostgreSQL scratch schema (migrated); else each child has its own PGlite in a new data folder.
 */
export async function memorySection(options: { files: number[]; importPeople: number; importMb: number; exportRows: number; databaseUrl?: string }) {
  const perFileSize = (m: StepMemory, megabytes: number) => Math.round((m.growthMb / (megabytes * 1.048576)) * 100) / 100;
  const files: (StepMemory & { fileMb: number; growthPerFileSize: number; next: StepMemory & { growthPerFileSize: number } })[] = [];
  for (const megabytes of options.files.filter((m) => m > 0)) {
    // The first file of its size since the start (after a 1 KB warm-up), then one after a file of the same size:
    // what stays from the first (buffers grown to their high-water mark, code compiled for the large-value path) is paid once.
    const m = await runChild({ kind: 'file', megabytes }, options.databaseUrl);
    const next = await runChild({ kind: 'file', megabytes, warmUpMegabytes: megabytes }, options.databaseUrl);
    files.push({ fileMb: megabytes, ...m, growthPerFileSize: perFileSize(m, megabytes), next: { ...next, growthPerFileSize: perFileSize(next, megabytes) } });
  }
  const imports: (StepMemory & { fileMb: number })[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'isms-bench-import-'));
  try {
    // The people alone, then a file of the given size (the same number of people, and assets with long descriptions).
    const runs = [...(options.importPeople > 0 ? [0] : []), ...(options.importMb > 0 ? [options.importMb] : [])];
    for (const megabytes of runs) {
      const file = path.join(dir, `import-${megabytes}.yaml`);
      const bytes = await writeImportFile(file, options.importPeople, megabytes, `m${megabytes}`);
      imports.push({ fileMb: mb(bytes), ...await runChild({ kind: 'import', file }, options.databaseUrl) });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const csvExport = options.exportRows > 0 ? await runChild({ kind: 'export', rows: options.exportRows }, options.databaseUrl) : undefined;
  return { method: METHOD, files, imports, ...(csvExport && { csvExport }) };
}

// ---- the child --------------------------------------------------------------------------------

async function child(step: Step): Promise<StepMemory> {
  const { openDatabase } = await import('../src/db/client.js');
  const { migrate } = await import('../src/db/migrate.js');
  const url = process.env.DATABASE_URL;
  // PGlite in a data folder of its own, as the bot runs it: in memory, the register's bytes would be RSS by design.
  const dataDir = url ? undefined : mkdtempSync(path.join(tmpdir(), 'isms-bench-pglite-'));
  const database = url ? await openDatabase({ kind: 'postgres', url, poolSize: 2 }) : await openDatabase({ kind: 'pglite', dataDir });
  if (!url) await migrate(database.db);
  const wasmHeap = () => {
    const mod = (database.db as unknown as { $client?: { mod?: { HEAPU8?: Uint8Array } } }).$client?.mod;
    return mod?.HEAPU8 ? mb(mod.HEAPU8.byteLength) : undefined;
  };
  const prepared = await prepare(database.db, step);
  global.gc?.();
  const before = process.memoryUsage().rss;
  const heapBefore = wasmHeap();
  // Resets the kernel's peak-RSS mark (VmHWM), so the peak read after the step is the step's own, whatever setting it up cost.
  const resettable = resetPeak();
  let sampled = before;
  const timer = setInterval(() => { sampled = Math.max(sampled, process.memoryUsage().rss); }, RSS_SAMPLE_MS);
  const t0 = performance.now();
  let detail: Record<string, unknown>;
  try {
    detail = await prepared();
  } finally {
    clearInterval(timer);
  }
  const ms = Math.round(performance.now() - t0);
  sampled = Math.max(sampled, process.memoryUsage().rss);
  const peak = resettable ? Math.max(sampled, peakSinceReset()) : sampled;
  const heapAfter = wasmHeap();
  await database.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  return {
    ms, rssBeforeMb: mb(before), peakRssMb: mb(peak), growthMb: mb(peak - before),
    ...(heapBefore !== undefined && heapAfter !== undefined && { wasmHeapMb: { before: heapBefore, after: heapAfter } }),
    detail,
  };
}

/** Linux: writing 5 to clear_refs resets VmHWM to the current RSS. False where that is not possible. */
function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function peakSinceReset(): number {
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
  return kb * 1024;
}

type Db = Awaited<ReturnType<typeof import('../src/db/client.js').openDatabase>>['db'];

/** Sets the step up (not measured) and returns the step itself. */
async function prepare(db: Db, step: Step): Promise<() => Promise<Record<string, unknown>>> {
  const { people, controls } = await import('../src/db/schema/index.js');
  const { toActor } = await import('../src/core/actor.js');
  const tag = randomBytes(4).toString('hex');
  const [owner] = await db.insert(people).values({ name: `Memory Owner ${tag}`, email: `owner-${tag}@bench.example.org`, roles: ['control_owner', 'staff'] }).returning();
  const [control] = await db.insert(controls).values({ code: `CTL-MEM-${tag}`, title: 'Benchmark control', ownerId: owner.id }).returning();
  if (step.kind === 'file') {
    const { buildRouter } = await import('../src/commands.js');
    const { attachmentFromBuffer, attachmentFromPath } = await import('../src/core/attachments.js');
    const { toPlainText } = await import('../src/core/reply.js');
    const dir = mkdtempSync(path.join(tmpdir(), 'isms-bench-file-'));
    // Written a megabyte at a time, so the file's bytes are not in memory when the submission is measured.
    const writeFile = (name: string, megabytes: number) => {
      const file = path.join(dir, name);
      for (let i = 0; i < megabytes; i++) appendFileSync(file, randomBytes(1024 * 1024));
      return attachmentFromPath(name, file, statSync(file).size);
    };
    const file = path.join(dir, 'evidence.bin');
    writeFile('evidence.bin', step.megabytes);
    const router = buildRouter(db);
    const actor = toActor(owner);
    // A file first, so code loaded and compiled on the first submission is not counted against the file: a small
    // one, or one of the measured file's size (then what the first file of that size leaves behind is not either).
    const warmUp = step.warmUpMegabytes ? writeFile('warm-up.bin', step.warmUpMegabytes) : attachmentFromBuffer('warm-up.txt', randomBytes(1024));
    const warm = await router.handle(`/isms evidence submit ${control.code} "warm-up"`, { actor, channel: 'test', attachments: [warmUp] });
    if (warm.outcome !== 'recorded') throw new Error(`the warm-up file was not recorded: ${toPlainText(warm)}`);
    return async () => {
      try {
        const answer = await router.handle(`/isms evidence submit ${control.code} "benchmark file"`,
          { actor, channel: 'test', attachments: [attachmentFromPath('evidence.bin', file, statSync(file).size)] });
        if (answer.outcome !== 'recorded') throw new Error(`the evidence file was not recorded: ${toPlainText(answer)}`);
        return { bytes: statSync(file).size };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
  }
  if (step.kind === 'import') {
    const { importFile } = await import('../src/import/index.js');
    return async () => {
      const progress: string[] = [];
      let reports = 0;
      const counts = await importFile(db, step.file, {
        onProgress: (p) => {
          reports++;
          if (p.done === p.total) progress.push(`${p.section}: ${p.done} of ${p.total}`);
        },
      });
      return { counts, progressReports: reports, progress };
    };
  }
  const { ARTEFACTS } = await import('../src/domain/exports/artefacts.js');
  const { exportToFile } = await import('../src/domain/exports/files.js');
  const { evidenceItems } = await import('../src/db/schema/index.js');
  await db.execute(sql`
    insert into ${evidenceItems} (ref, control_id, revision, submitted_by, submitted_at, effective_on, text, link, channel)
    select 'EVM-${sql.raw(tag)}-' || g, ${control.id}, g, ${owner.id}, timestamptz '2026-01-01T00:00:00Z' + g * interval '1 minute', date '2026-01-01',
      case when g % 2 = 0 then 'Access review ' || g || ': 14 accounts checked, 2 removed, "none" privileged' end,
      case when g % 2 = 1 then 'https://wiki.example.com/evidence/' || g end, 'shell'
    from generate_series(1, ${step.rows}::int) g`);
  const dir = mkdtempSync(path.join(tmpdir(), 'isms-bench-export-'));
  return async () => {
    try {
      const counts = await exportToFile(db, ARTEFACTS.filter((a) => a.name === 'evidence'), 'csv', path.join(dir, 'evidence.csv'));
      return { rows: counts.evidence, outputBytes: statSync(path.join(dir, 'evidence.csv')).size };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

if (process.argv[1] === SELF && process.argv[2]) {
  const result = await child(JSON.parse(process.argv[2]) as Step);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
