/**
 * Files that come with a request, as the core reads them: a stream, never a whole file in memory.
 * Platforms that download a file put it in a temporary file first (aborting at the size limit),
 * and the pipeline removes it once the command ran.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { invalid } from './errors.js';
/** Largest file the register takes as evidence, on every platform. */
export const MAX_EVIDENCE_FILE_BYTES = 100 * 1024 * 1024;
export const fileTooLarge = (name) => invalid(`The file "${name}" is larger than ${MAX_EVIDENCE_FILE_BYTES / 1024 / 1024} MB. Nothing was recorded.`, 'Share a link to it instead, or attach a smaller file.');
/** A file held in memory: for tests and small generated files. */
export function attachmentFromBuffer(name, bytes, mimeType) {
    return {
        name, size: bytes.length, ...(mimeType && { mimeType }),
        open: async function* () { yield bytes; },
    };
}
/** A file on disk of the size its stat gave; discard, if given, runs once the command ran. */
export function attachmentFromPath(name, file, size, options = {}) {
    return {
        name, size, ...(options.mimeType && { mimeType: options.mimeType }),
        open: () => createReadStream(file),
        ...(options.discard && { discard: options.discard }),
    };
}
/**
 * How the folders downloads wait in begin: named after the process, so a process (or a test file)
 * can see that it left nothing behind.
 */
export const downloadPrefix = () => path.join(tmpdir(), `isms-download-${process.pid}-`);
/**
 * Streams a download into a temporary file, refusing it as soon as it passes the size limit (the
 * platform's stated size cannot be trusted to be right). On any failure the partial file is removed.
 */
export async function downloadToTempFile(name, body, mimeType) {
    const dir = await mkdtemp(downloadPrefix());
    const file = path.join(dir, 'download');
    const discard = () => rm(dir, { recursive: true, force: true });
    const out = createWriteStream(file);
    let size = 0;
    try {
        for await (const part of body) {
            size += part.length;
            if (size > MAX_EVIDENCE_FILE_BYTES)
                throw fileTooLarge(name);
            if (!out.write(part))
                await once(out, 'drain');
        }
        out.end();
        await once(out, 'finish');
    }
    catch (e) {
        out.destroy();
        await discard();
        throw e;
    }
    return attachmentFromPath(name, file, size, { mimeType, discard });
}
/** Fetches files one after the other; if one fails, those already fetched are discarded. */
export async function fetchEach(items, fetch) {
    const fetched = [];
    try {
        for (const item of items)
            fetched.push(await fetch(item));
    }
    catch (e) {
        await discardAll(fetched);
        throw e;
    }
    return fetched;
}
export async function discardAll(attachments) {
    await Promise.all(attachments.map((a) => a.discard?.()));
}
//# sourceMappingURL=attachments.js.map