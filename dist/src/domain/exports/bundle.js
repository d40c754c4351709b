/**
 * Evidence bundles: one zip an auditor checks offline. It holds the evidence files submitted in a
 * period, their index (JSON and CSV), the audit events of the period exactly as stored, and the chain
 * head when the bundle was made. Everything is streamed: memory stays at one slice of one file.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { and, asc, eq, gte, isNotNull, lte, max, min, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import yazl from 'yazl';
import { auditEvents, controls, evidenceItems, evidenceRequests, people } from '../../db/schema/index.js';
import { conflict, invalid } from '../../core/errors.js';
import { GENESIS_HASH } from '../../core/audit.js';
import { chainHead } from '../../core/verify.js';
import { addDays, addMonths, isoDay } from '../../core/time.js';
import { EVIDENCE_FOLDER, bundlePath } from '../evidence/file-names.js';
import { EvidenceFileMismatch, readEvidenceFile } from '../evidence/files.js';
import { pageWhere } from './artefact.js';
import { csvField } from './write.js';
import { whyCannotWrite } from './files.js';
export const BUNDLE_FORMAT = 'isms-evidence-bundle';
export const BUNDLE_VERSION = 1;
export const BUNDLE_MIME_TYPE = 'application/zip';
/** The entries every bundle holds besides the evidence files. */
export const BUNDLE_ENTRIES = {
    index: 'index.json',
    indexCsv: 'index.csv',
    events: 'audit-events.jsonl',
    head: 'chain-head.json',
    readme: 'README.txt',
};
/** index.csv's columns, in order: the header, and the index.json key each holds. */
export const INDEX_COLUMNS = [
    ['ref', 'Reference'], ['request', 'Request'], ['control', 'Control'], ['revision', 'Revision'], ['submittedBy', 'Submitted by'],
    ['submittedAt', 'Submitted at'], ['effectiveOn', 'Effective on'], ['fileName', 'File name'], ['size', 'Size (bytes)'],
    ['sha256', 'SHA-256'], ['path', 'Path in bundle'],
];
/** Evidence files and audit events read per query. */
const PAGE_SIZE = 500;
/** The period a chat bundle covers unless told: the 12 months up to --to (default today), both days included. */
export function defaultBundlePeriod(given, today) {
    if (given.from)
        return given;
    return { from: addDays(addMonths(given.to ?? today, -12), 1), to: given.to };
}
/** A period that can hold something: real days, in order, not starting after today. */
export function checkBundlePeriod(period, today, hint) {
    if (period.from && period.to && period.from > period.to)
        throw invalid(`--from ${period.from} is after --to ${period.to}: the period would be empty.`, hint);
    if (period.from && period.from > today)
        throw invalid(`--from ${period.from} is after today (${today}): nothing can have been submitted yet.`, hint);
}
const submitter = alias(people, 'submitter');
/** Evidence revisions with a file submitted in the period, a page at a time; never the bytes. */
async function filesPage(db, after, period) {
    return db.select({
        id: evidenceItems.id, ref: evidenceItems.ref, revision: evidenceItems.revision, submittedAt: evidenceItems.submittedAt,
        effectiveOn: evidenceItems.effectiveOn, fileName: evidenceItems.fileName, fileSize: evidenceItems.fileSize, fileSha256: evidenceItems.fileSha256,
        request: evidenceRequests.ref, controlCode: controls.code, controlTitle: controls.title, submitterName: submitter.name, submitterEmail: submitter.email,
    }).from(evidenceItems)
        .innerJoin(controls, eq(controls.id, evidenceItems.controlId))
        .innerJoin(submitter, eq(submitter.id, evidenceItems.submittedBy))
        .leftJoin(evidenceRequests, eq(evidenceRequests.id, evidenceItems.requestId))
        .where(and(pageWhere(evidenceItems.id, after, period, { column: evidenceItems.submittedAt }), isNotNull(evidenceItems.fileSha256)))
        .orderBy(asc(evidenceItems.id)).limit(PAGE_SIZE);
}
const nextDay = (day) => `${addDays(day, 1)}T00:00:00Z`;
/**
 * The events of the period: every event from the first written on or after `from` to the last
 * written before the end of `to`, up to the head. A contiguous run, so the chain can be checked
 * link by link even where two events' clocks disagree about their order.
 */
async function eventRange(db, period, headSeq) {
    const [{ first }] = await db.select({ first: min(auditEvents.seq) }).from(auditEvents)
        .where(period.from ? sql `${auditEvents.at} >= ${`${period.from}T00:00:00Z`}::timestamptz` : undefined);
    const [{ last }] = await db.select({ last: max(auditEvents.seq) }).from(auditEvents)
        .where(and(lte(auditEvents.seq, headSeq), period.to ? sql `${auditEvents.at} < ${nextDay(period.to)}::timestamptz` : undefined));
    if (first === null || last === null || Number(first) > Number(last))
        return undefined;
    return { first: Number(first), last: Number(last) };
}
/** One stored event as a JSON line: every column as stored, the instant in ISO 8601 (the form its hash covers). */
function eventLine(e) {
    return `${JSON.stringify({
        seq: e.seq, at: new Date(e.at).toISOString(), actorId: e.actorId, actorLabel: e.actorLabel, action: e.action, entity: e.entity,
        entityRef: e.entityRef, before: e.before, after: e.after, rowHash: e.rowHash, prevHash: e.prevHash, hash: e.hash,
    })}\n`;
}
async function put(out, chunk) {
    if (!out.write(chunk))
        await once(out, 'drain');
}
function readme(index, head) {
    const period = `${index.period.from ?? 'the first record'} to ${index.period.to ?? 'the time of the bundle'}`;
    return [
        'ISMS evidence bundle',
        '====================',
        '',
        `Made ${index.createdAt} for the period ${period} (days in UTC, both included).`,
        '',
        'What is inside',
        `- ${EVIDENCE_FOLDER}: the evidence files of every revision submitted in the period (${index.files.length}),`,
        '  named <reference>-<file name>, byte for byte as submitted.',
        `- ${BUNDLE_ENTRIES.index} and ${BUNDLE_ENTRIES.indexCsv}: one entry per file: reference, request, control, revision, submitter,`,
        '  submitted at (ISO 8601, UTC), effective date, file name, size in bytes, SHA-256 and path in this zip.',
        `- ${BUNDLE_ENTRIES.events}: the audit events of the period (${index.auditEvents.count}), one JSON object per line, as stored.`,
        `- ${BUNDLE_ENTRIES.head}: the audit trail's head when the bundle was made (event ${head.seq}).`,
        '',
        'How to check it',
        '  npm run isms -- verify-bundle <this zip>',
        'checks it without a database. By hand:',
        `1. Each file's SHA-256 (sha256sum, Get-FileHash) and size equal its entry in ${BUNDLE_ENTRIES.index}; every file in`,
        `   ${EVIDENCE_FOLDER} has an entry.`,
        `2. Each audit event's "hash" is the SHA-256 of the JSON of its fields seq, at, actorId, actorLabel, action, entity,`,
        '   entityRef, before, after, prevHash and rowHash (left out when null), with keys sorted at every level and no',
        '   spaces; its "prevHash" is the hash of the event before it (64 zeros before the first event ever).',
        '3. An evidence file\'s submission event ("submit", entity evidence_item) records the same SHA-256 in "after".',
        `4. When the period runs to the day of the bundle, the last event is the chain head. The head can be compared`,
        `   with heads witnessed earlier: "npm run isms -- verify --witness ${BUNDLE_ENTRIES.head}" on the register shows`,
        '   whether the trail was cut short or rewritten since this bundle was made.',
        '',
    ].join('\r\n');
}
/**
 * Writes the bundle of a period to `file`. It is written under a temporary name and renamed when
 * complete: a stored file that does not match its SHA-256 stops the bundle, names the reference, and
 * leaves nothing behind.
 */
export async function writeBundle(db, file, options = {}) {
    const period = options.period ?? {};
    const now = options.now ?? new Date();
    const partial = `${file}.${process.pid}.${Date.now()}.partial`;
    try {
        await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    }
    catch (e) {
        throw invalid(`Cannot write the bundle to "${file}": ${whyCannotWrite(e)}.`, 'Name a file in a folder you may write to with --out.');
    }
    const zip = new yazl.ZipFile();
    const out = createWriteStream(partial);
    const written = once(out, 'close');
    written.catch(() => undefined);
    // A write error (a full disk) surfaces here, however far the bundle has got.
    const failed = new Promise((_, reject) => {
        out.on('error', reject);
        zip.on('error', reject);
    });
    failed.catch(() => undefined);
    zip.outputStream.pipe(out);
    /** Adds an entry and feeds it: yazl takes entries in order, so the feed waits for its turn with one chunk in hand. */
    const entry = async (name, mtime, feed) => {
        const into = new PassThrough();
        zip.addReadStream(into, name, { mtime });
        await Promise.race([feed(into), failed]);
        into.end();
    };
    try {
        const head = { ...((await chainHead(db)) ?? { seq: 0, hash: GENESIS_HASH }), at: now.toISOString() };
        const files = [];
        let bytes = 0;
        for (let after = 0;;) {
            const page = await filesPage(db, after, period);
            for (const row of page) {
                const stored = { id: row.id, ref: row.ref, name: row.fileName ?? '', size: Number(row.fileSize ?? 0), sha256: row.fileSha256 ?? '' };
                const inZip = bundlePath(row.ref, stored.name);
                await entry(inZip, row.submittedAt, async (into) => {
                    for await (const part of readEvidenceFile(db, stored))
                        await put(into, part);
                });
                bytes += stored.size;
                files.push({
                    ref: row.ref, request: row.request, control: `${row.controlCode} ${row.controlTitle}`, revision: row.revision,
                    submittedBy: `${row.submitterName} <${row.submitterEmail}>`, submittedAt: row.submittedAt.toISOString(), effectiveOn: row.effectiveOn,
                    fileName: stored.name, size: stored.size, sha256: stored.sha256, path: inZip,
                });
            }
            if (page.length < PAGE_SIZE)
                break;
            after = page[page.length - 1].id;
        }
        const range = await eventRange(db, period, head.seq);
        let count = 0;
        await entry(BUNDLE_ENTRIES.events, now, async (into) => {
            for (let seq = range?.first ?? 1; range && seq <= range.last;) {
                const page = await db.select().from(auditEvents)
                    .where(and(gte(auditEvents.seq, seq), lte(auditEvents.seq, range.last))).orderBy(asc(auditEvents.seq)).limit(PAGE_SIZE);
                if (page.length === 0)
                    break;
                for (const e of page)
                    await put(into, eventLine(e));
                count += page.length;
                seq = page[page.length - 1].seq + 1;
            }
        });
        const index = {
            format: BUNDLE_FORMAT, version: BUNDLE_VERSION, createdAt: now.toISOString(), period: { from: period.from ?? null, to: period.to ?? null },
            files, auditEvents: { file: BUNDLE_ENTRIES.events, count, firstSeq: count ? range.first : null, lastSeq: count ? range.last : null },
        };
        const csv = [INDEX_COLUMNS.map(([, header]) => header), ...files.map((f) => INDEX_COLUMNS.map(([key]) => f[key]))]
            .map((cells) => `${cells.map(csvField).join(',')}\r\n`).join('');
        zip.addBuffer(Buffer.from(`${JSON.stringify(index, null, 2)}\n`), BUNDLE_ENTRIES.index, { mtime: now });
        zip.addBuffer(Buffer.from(csv), BUNDLE_ENTRIES.indexCsv, { mtime: now });
        zip.addBuffer(Buffer.from(`${JSON.stringify(head)}\n`), BUNDLE_ENTRIES.head, { mtime: now });
        zip.addBuffer(Buffer.from(readme(index, head)), BUNDLE_ENTRIES.readme, { mtime: now });
        zip.end();
        await Promise.race([written, failed]);
        await rename(partial, file);
        return { files: files.length, bytes, events: count, head };
    }
    catch (e) {
        out.destroy();
        await rm(partial, { force: true });
        if (e instanceof EvidenceFileMismatch) {
            throw conflict(`The bundle was not made: the stored file of ${e.file.ref} (${e.file.name}) does not match its SHA-256 `
                + `(recorded ${e.file.sha256.slice(0, 12)}…, the stored bytes hash to ${e.actualSha256.slice(0, 12)}…).`, '"npm run isms -- verify" checks the whole register; tell the ISMS lead.');
        }
        if (['open', 'write', 'rename', 'close'].includes(e.syscall ?? '')) {
            throw invalid(`Cannot write the bundle to "${file}": ${whyCannotWrite(e)}.`, 'Name a file in a folder you may write to with --out.');
        }
        throw e;
    }
}
/** "the period 2026-01-01 to 2026-06-30", "all time"... */
export function describePeriod(period) {
    if (!period.from && !period.to)
        return 'all time';
    return `${period.from ?? 'the start'} to ${period.to ?? 'now'}`;
}
export const bundleFileName = (now) => `evidence-bundle-${isoDay(now)}.zip`;
//# sourceMappingURL=bundle.js.map