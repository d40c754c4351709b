import { once } from 'node:events';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { invalid } from '../../core/errors.js';
import { isoDay } from '../../core/time.js';
import { writeExport } from './write.js';
/** Where the terminal and the command line put exports unless told otherwise. */
export const exportDirectory = (env = process.env) => path.resolve(env.ISMS_EXPORT_DIR?.trim() || 'exports');
/** "risks-2026-12-02.csv", or "isms-export-2026-12-02.xlsx" for several artefacts. */
export function exportFileName(artefacts, format, now) {
    return `${artefacts.length === 1 ? artefacts[0].name : 'isms-export'}-${isoDay(now)}.${format}`;
}
/** "oscal-poam-2026-12-02.json": a document is JSON only. */
export const documentFileName = (document, now) => `${document.name}-${isoDay(now)}.json`;
const WHY = {
    EACCES: 'no permission to write there',
    EPERM: 'no permission to write there',
    EEXIST: 'part of its path is a file, not a folder',
    ENOTDIR: 'part of its path is a file, not a folder',
    EISDIR: 'that is a folder',
    EROFS: 'the file system is read-only',
    ENOSPC: 'the disk is full',
};
/** Why a file could not be written, in words: "the disk is full". */
export function whyCannotWrite(e) {
    const code = e.code ?? '';
    return WHY[code] ?? `the system said ${code || 'no'}`;
}
/**
 * Writes an export to a file. It is written under a temporary name and renamed when complete, so a
 * failed export never leaves a partial file where the finished one would be. The file is opened
 * before anything is read, so a folder that cannot be written is said plainly and costs nothing.
 */
async function writeToFile(file, write) {
    const partial = `${file}.${process.pid}.${Date.now()}.partial`;
    let handle;
    try {
        await mkdir(path.dirname(path.resolve(file)), { recursive: true });
        handle = await open(partial, 'w');
    }
    catch (e) {
        throw invalid(`Cannot write the export to "${file}": ${whyCannotWrite(e)}.`, 'Name a file in a folder you may write to with --out, or set ISMS_EXPORT_DIR.');
    }
    const out = handle.createWriteStream();
    try {
        const result = await write(out);
        await rename(partial, file);
        return result;
    }
    catch (e) {
        out.destroy();
        await rm(partial, { force: true });
        throw e;
    }
}
/** Writes row artefacts to a file; returns the rows per artefact. */
export function exportToFile(db, artefacts, format, file, options = {}) {
    return writeToFile(file, (out) => writeExport(db, artefacts, format, out, options));
}
/** Writes a document export to a file, only once it is built and valid; returns what it counts. */
export function exportDocumentToFile(db, document, file, now) {
    return writeToFile(file, async (out) => {
        const { document: body, counts } = await document.build(db, now);
        out.end(`${JSON.stringify(body, null, 2)}\n`);
        await once(out, 'finish');
        return counts;
    });
}
//# sourceMappingURL=files.js.map