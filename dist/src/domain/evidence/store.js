/**
 * Evidence files enter the register here: streamed into EVIDENCE_CHUNK_BYTES chunks, hashed and
 * counted on the way, so a file of any size costs one chunk of memory.
 */
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { EVIDENCE_CHUNK_BYTES, evidenceFileChunks } from '../../db/schema/index.js';
import { MAX_EVIDENCE_FILE_BYTES, fileTooLarge } from '../../core/attachments.js';
import { invalid } from '../../core/errors.js';
export const emptyFile = (name) => invalid(`The file "${name}" is empty.`, 'Attach the file again; an empty file is no evidence.');
/**
 * Writes the file's bytes as the chunks of one evidence item and returns what was read. The limit
 * is checked on the bytes read, not the size the platform stated: past it the read stops and the
 * refusal rolls the command's transaction back.
 */
export async function storeEvidenceFile(db, itemId, file) {
    const hash = createHash('sha256');
    const chunk = Buffer.alloc(EVIDENCE_CHUNK_BYTES);
    let filled = 0;
    let seq = 0;
    let size = 0;
    const flush = async () => {
        // As base64 text: PGlite converts a bytea parameter byte by byte, over ten times slower.
        const base64 = chunk.toString('base64', 0, filled);
        await db.insert(evidenceFileChunks).values({ itemId, seq: seq++, bytes: sql `decode(${base64}, 'base64')` });
        filled = 0;
    };
    for await (const part of file.open()) {
        size += part.length;
        if (size > MAX_EVIDENCE_FILE_BYTES)
            throw fileTooLarge(file.name);
        hash.update(part);
        let offset = 0;
        while (offset < part.length) {
            const n = Math.min(part.length - offset, EVIDENCE_CHUNK_BYTES - filled);
            chunk.set(part.subarray(offset, offset + n), filled);
            filled += n;
            offset += n;
            if (filled === EVIDENCE_CHUNK_BYTES)
                await flush();
        }
    }
    if (filled > 0)
        await flush();
    if (size === 0)
        throw emptyFile(file.name);
    return { size, sha256: hash.digest('hex') };
}
//# sourceMappingURL=store.js.map