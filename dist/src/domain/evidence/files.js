/**
 * Evidence files leave the register here: read back a slice at a time, hashed on the way, so a
 * file of any size costs one slice of memory and a changed byte is caught before anyone relies on it.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { and, asc, eq, gte, sql } from 'drizzle-orm';
import { EVIDENCE_CHUNK_BYTES, evidenceFileChunks } from '../../db/schema/index.js';
/** Bytes read per query: one stored chunk (1 MiB), so memory stays flat. */
export const READ_SLICE_BYTES = EVIDENCE_CHUNK_BYTES;
/** A stored file whose bytes are not what was submitted: verify and every read name it by reference. */
export class EvidenceFileMismatch extends Error {
    file;
    actualSha256;
    actualSize;
    constructor(file, actualSha256, actualSize) {
        super(`Evidence file of ${file.ref} (${file.name}) does not match what was submitted: recorded SHA-256 ${file.sha256.slice(0, 12)}… and ${file.size} bytes, stored bytes hash to ${actualSha256.slice(0, 12)}… (${actualSize} bytes).`);
        this.file = file;
        this.actualSha256 = actualSha256;
        this.actualSize = actualSize;
        this.name = 'EvidenceFileMismatch';
    }
}
/** The next stored chunk from seq on: a chunk missing in between shows as a jump in seq. */
async function chunkFrom(db, itemId, seq) {
    // As base64 text: PGlite returns bytea byte by byte, over ten times slower.
    const [chunk] = await db.select({ seq: evidenceFileChunks.seq, base64: sql `encode(${evidenceFileChunks.bytes}, 'base64')` })
        .from(evidenceFileChunks)
        .where(and(eq(evidenceFileChunks.itemId, itemId), gte(evidenceFileChunks.seq, seq)))
        .orderBy(asc(evidenceFileChunks.seq)).limit(1);
    return chunk && { seq: chunk.seq, bytes: Buffer.from(chunk.base64, 'base64') };
}
/**
 * The file's bytes, slice by slice. The SHA-256 and size are checked when the last slice is read:
 * a mismatch throws EvidenceFileMismatch instead of ending normally, so a consumer that writes the
 * slices somewhere must discard what it wrote when the read throws.
 */
export async function* readEvidenceFile(db, file) {
    const hash = createHash('sha256');
    let size = 0;
    let next = 0;
    let gap = false;
    for (let chunk = await chunkFrom(db, file.id, 0); chunk; chunk = await chunkFrom(db, file.id, next)) {
        // A missing chunk, or one out of place, is a changed file even if the bytes happen to hash right.
        if (chunk.seq !== next)
            gap = true;
        next = chunk.seq + 1;
        hash.update(chunk.bytes);
        size += chunk.bytes.length;
        yield chunk.bytes;
    }
    const actual = hash.digest('hex');
    if (gap || actual !== file.sha256 || size !== file.size)
        throw new EvidenceFileMismatch(file, actual, size);
}
/**
 * Writes the file to a path (its folder is made), checked on the way. On a mismatch or any failure
 * the partial file is removed and the error thrown, so a file on disk is always the submitted one.
 */
export async function copyEvidenceFile(db, file, to) {
    await mkdir(path.dirname(to), { recursive: true });
    const out = createWriteStream(to);
    try {
        for await (const part of readEvidenceFile(db, file)) {
            if (!out.write(part))
                await once(out, 'drain');
        }
        out.end();
        await once(out, 'finish');
    }
    catch (e) {
        // A write still in flight fails once the stream is destroyed; unheard, that failure would crash
        // the process. The error thrown below is the one that matters. Closed first, so rm removes it for good.
        out.on('error', () => { });
        out.destroy();
        if (!out.closed)
            await new Promise((closed) => out.once('close', () => closed()));
        await rm(to, { force: true });
        throw e;
    }
}
//# sourceMappingURL=files.js.map