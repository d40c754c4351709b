/**
 * Evidence files leave the register here: read back a slice at a time, hashed on the way, so a
 * file of any size costs one slice of memory and a changed byte is caught before anyone relies on it.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { rows } from '../../db/migrate.js';
import { evidenceFileChunks, poamClosureFileChunks } from '../../db/schema/index.js';

/** The stored file of one evidence revision (or POA&M closure), as listings know it (never its bytes). */
export interface StoredEvidenceFile {
  /** The evidence_items (or poam_closures) row id. */
  id: number;
  /** EV-0001 (or PCL-0001) */
  ref: string;
  name: string;
  size: number;
  sha256: string;
  /** Whose chunks hold the bytes: an evidence revision's (the default) or a POA&M closure's, stored alike. */
  store?: FileStore;
}

export type FileStore = 'evidence' | 'poam_closure';

const CHUNKS = {
  evidence: { table: evidenceFileChunks, owner: evidenceFileChunks.itemId, seq: evidenceFileChunks.seq, bytes: evidenceFileChunks.bytes },
  poam_closure: { table: poamClosureFileChunks, owner: poamClosureFileChunks.closureId, seq: poamClosureFileChunks.seq, bytes: poamClosureFileChunks.bytes },
} as const;

/** A stored file whose bytes are not what was submitted: verify and every read name it by reference. */
export class EvidenceFileMismatch extends Error {
  constructor(readonly file: StoredEvidenceFile, readonly actualSha256: string, readonly actualSize: number) {
    super(`Evidence file of ${file.ref} (${file.name}) does not match what was submitted: recorded SHA-256 ${file.sha256.slice(0, 12)}… and ${file.size} bytes, stored bytes hash to ${actualSha256.slice(0, 12)}… (${actualSize} bytes).`);
    this.name = 'EvidenceFileMismatch';
  }
}

/** Bytes read per query at most (or one chunk, if larger): a file of any size costs about this much memory. */
const READ_BYTES = 1024 * 1024;

/**
 * The next stored chunks from seq on, as many as fit in READ_BYTES (at least one): four of 256 KiB, or
 * one of the 1 MiB chunks files stored before have. A chunk missing in between shows as a jump in seq.
 */
async function chunksFrom(db: Db, file: StoredEvidenceFile, seq: number): Promise<{ seq: number; bytes: Buffer }[]> {
  const c = CHUNKS[file.store ?? 'evidence'];
  // The sizes are read from the stored values' headers; only the chunks that fit are decoded. As base64
  // text: PGlite returns bytea byte by byte, over ten times slower.
  const found = rows<{ seq: number; base64: string }>(await db.execute(sql`select r.seq, encode(r.bytes, 'base64') as base64
    from (select ${c.seq} as seq, ${c.bytes} as bytes, sum(octet_length(${c.bytes})) over (order by ${c.seq}) - octet_length(${c.bytes}) as before
      from ${c.table} where ${c.owner} = ${file.id} and ${c.seq} >= ${seq}) r
    where r.before < ${READ_BYTES} order by r.seq`));
  return found.map((chunk) => ({ seq: Number(chunk.seq), bytes: Buffer.from(chunk.base64, 'base64') }));
}

/**
 * The file's bytes, slice by slice. The SHA-256 and size are checked when the last slice is read:
 * a mismatch throws EvidenceFileMismatch instead of ending normally, so a consumer that writes the
 * slices somewhere must discard what it wrote when the read throws.
 */
export async function* readEvidenceFile(db: Db, file: StoredEvidenceFile): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let size = 0;
  let next = 0;
  let gap = false;
  for (let chunks = await chunksFrom(db, file, 0); chunks.length; chunks = await chunksFrom(db, file, next)) {
    for (const chunk of chunks) {
      // A missing chunk, or one out of place, is a changed file even if the bytes happen to hash right.
      if (chunk.seq !== next) gap = true;
      next = chunk.seq + 1;
      hash.update(chunk.bytes);
      size += chunk.bytes.length;
      yield chunk.bytes;
    }
  }
  const actual = hash.digest('hex');
  if (gap || actual !== file.sha256 || size !== file.size) throw new EvidenceFileMismatch(file, actual, size);
}

/**
 * Writes the file to a path (its folder is made), checked on the way. On a mismatch or any failure
 * the partial file is removed and the error thrown, so a file on disk is always the submitted one.
 */
export async function copyEvidenceFile(db: Db, file: StoredEvidenceFile, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true });
  const out = createWriteStream(to);
  try {
    for await (const part of readEvidenceFile(db, file)) {
      if (!out.write(part)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  } catch (e) {
    // A write still in flight fails once the stream is destroyed; unheard, that failure would crash
    // the process. The error thrown below is the one that matters. Closed first, so rm removes it for good.
    out.on('error', () => {});
    out.destroy();
    if (!out.closed) await new Promise<void>((closed) => out.once('close', () => closed()));
    await rm(to, { force: true });
    throw e;
  }
}
