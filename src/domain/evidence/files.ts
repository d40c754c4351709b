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

/** Bytes read per query: large enough to be quick, small enough that memory stays flat. */
export const READ_SLICE_BYTES = 1024 * 1024;

/** The stored file of one evidence revision, as listings know it (never its bytes). */
export interface StoredEvidenceFile {
  /** The evidence_items row id. */
  id: number;
  /** EV-0001 */
  ref: string;
  name: string;
  size: number;
  sha256: string;
}

/** A stored file whose bytes are not what was submitted: verify and every read name it by reference. */
export class EvidenceFileMismatch extends Error {
  constructor(readonly file: StoredEvidenceFile, readonly actualSha256: string, readonly actualSize: number) {
    super(`Evidence file of ${file.ref} (${file.name}) does not match what was submitted: recorded SHA-256 ${file.sha256.slice(0, 12)}… and ${file.size} bytes, stored bytes hash to ${actualSha256.slice(0, 12)}… (${actualSize} bytes).`);
    this.name = 'EvidenceFileMismatch';
  }
}

async function slice(db: Db, id: number, offset: number, length: number): Promise<Buffer> {
  const [row] = rows<{ part: Uint8Array | null }>(await db.execute(
    sql`select substring(file_bytes from ${offset + 1}::int for ${length}::int) as part from evidence_items where id = ${id}`));
  return row?.part ? Buffer.from(row.part) : Buffer.alloc(0);
}

/**
 * The file's bytes, slice by slice. The SHA-256 and size are checked when the last slice is read:
 * a mismatch throws EvidenceFileMismatch instead of ending normally, so a consumer that writes the
 * slices somewhere must discard what it wrote when the read throws.
 */
export async function* readEvidenceFile(db: Db, file: StoredEvidenceFile): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let offset = 0;
  for (;;) {
    const part = await slice(db, file.id, offset, READ_SLICE_BYTES);
    if (part.length === 0) break;
    hash.update(part);
    offset += part.length;
    yield part;
    if (part.length < READ_SLICE_BYTES) break;
  }
  const actual = hash.digest('hex');
  if (actual !== file.sha256 || offset !== file.size) throw new EvidenceFileMismatch(file, actual, offset);
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
