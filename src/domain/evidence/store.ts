/**
 * Evidence files enter the register here: streamed into EVIDENCE_CHUNK_BYTES chunks, hashed and
 * counted on the way, so a file of any size costs one chunk of memory.
 */
import { createHash } from 'node:crypto';
import type { Db } from '../../db/client.js';
import { EVIDENCE_CHUNK_BYTES, evidenceFileChunks } from '../../db/schema/index.js';
import type { Attachment } from '../../core/router.js';
import { MAX_EVIDENCE_FILE_BYTES, fileTooLarge } from '../../core/attachments.js';
import { invalid } from '../../core/errors.js';

export const emptyFile = (name: string) => invalid(`The file "${name}" is empty.`, 'Attach the file again; an empty file is no evidence.');

/**
 * Writes one chunk's bytes as chunk `seq` of the stored file. The bytes are a view of a buffer reused
 * for the next chunk: the write must have sent them when its promise settles (a query has).
 */
export type ChunkWriter = (seq: number, bytes: Buffer) => Promise<unknown>;

/**
 * Streams an attached file into EVIDENCE_CHUNK_BYTES chunks through `write` and returns what was
 * read. The limit is checked on the bytes read, not the size the platform stated: past it the read
 * stops and the refusal rolls the command's transaction back.
 */
export async function storeFileChunks(file: Attachment, write: ChunkWriter): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(EVIDENCE_CHUNK_BYTES);
  let filled = 0;
  let seq = 0;
  let size = 0;
  const flush = async () => {
    // As a binary parameter (node-postgres sends a Buffer as bytes, for PostgreSQL and PGlite alike):
    // no base64 text a third larger than the chunk, nor a wire buffer to hold it.
    await write(seq++, chunk.subarray(0, filled));
    filled = 0;
  };
  for await (const part of file.open()) {
    size += part.length;
    if (size > MAX_EVIDENCE_FILE_BYTES) throw fileTooLarge(file.name);
    hash.update(part);
    let offset = 0;
    while (offset < part.length) {
      const n = Math.min(part.length - offset, EVIDENCE_CHUNK_BYTES - filled);
      chunk.set(part.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === EVIDENCE_CHUNK_BYTES) await flush();
    }
  }
  if (filled > 0) await flush();
  if (size === 0) throw emptyFile(file.name);
  return { size, sha256: hash.digest('hex') };
}

/** Writes the file's bytes as the chunks of one evidence item and returns what was read. */
export function storeEvidenceFile(db: Db, itemId: number, file: Attachment): Promise<{ size: number; sha256: string }> {
  return storeFileChunks(file, (seq, bytes) => db.insert(evidenceFileChunks).values({ itemId, seq, bytes }));
}

/** The size and SHA-256 of an attached file, read once and stored nowhere: to tell a file already recorded. */
export function fileDigest(file: Attachment): Promise<{ size: number; sha256: string }> {
  return storeFileChunks(file, async () => undefined);
}

/** Refuses, before anything is read, an empty file or one whose stated size is over the limit. */
export function refuseUnfitAttachments(attachments: readonly Attachment[]): void {
  const empty = attachments.find((a) => a.size === 0);
  if (empty) throw emptyFile(empty.name);
  const large = attachments.find((a) => a.size > MAX_EVIDENCE_FILE_BYTES);
  if (large) throw fileTooLarge(large.name);
}
