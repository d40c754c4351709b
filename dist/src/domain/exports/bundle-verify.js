/**
 * Checks an evidence bundle offline: no database, only the zip. Every file against its index entry,
 * the audit events link by link and hash by hash, the files against their submission events, and the
 * last event against the chain head. Stops at the first thing that does not match and names it.
 */
import { EVIDENCE_FOLDER } from '../evidence/file-names.js';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse/sync';
import yauzl from 'yauzl';
import { GENESIS_HASH, hashEvent } from '../../core/audit.js';
import { BUNDLE_ENTRIES, BUNDLE_FORMAT, BUNDLE_VERSION, INDEX_COLUMNS, describePeriod, } from './bundle.js';
/** A mismatch, thrown from deep in a check and turned into the verdict. */
class Mismatch extends Error {
}
const fail = (problem) => { throw new Mismatch(problem); };
const HEX64 = /^[0-9a-f]{64}$/;
const short = (hash) => `${hash.slice(0, 12)}…`;
const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
function listEntries(zip) {
    return new Promise((resolve, reject) => {
        const entries = [];
        zip.on('entry', (e) => { entries.push(e); zip.readEntry(); });
        zip.on('end', () => resolve(entries));
        zip.on('error', reject);
        zip.readEntry();
    });
}
/** An entry's bytes through a callback, a chunk at a time; a damaged entry is named. */
async function streamEntry(zip, entry, use) {
    try {
        await use(await zip.openReadStreamPromise(entry));
    }
    catch (e) {
        if (e instanceof Mismatch)
            throw e;
        fail(`${entry.fileName} cannot be read from the zip: ${e.message}.`);
    }
}
async function entryText(zip, entry) {
    const chunks = [];
    await streamEntry(zip, entry, async (stream) => { for await (const c of stream)
        chunks.push(c); });
    return Buffer.concat(chunks).toString('utf8');
}
function parseJson(text, name) {
    try {
        return JSON.parse(text);
    }
    catch {
        return fail(`${name} is not JSON.`);
    }
}
const isDay = (v) => v === null || (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v));
function checkIndex(value) {
    const index = value;
    if (!index || index.format !== BUNDLE_FORMAT)
        fail(`${BUNDLE_ENTRIES.index} is not an evidence bundle's index (its "format" is not "${BUNDLE_FORMAT}").`);
    if (index.version !== BUNDLE_VERSION)
        fail(`${BUNDLE_ENTRIES.index} is version ${String(index.version)}; this check reads version ${BUNDLE_VERSION}.`);
    const { files, period, auditEvents } = index;
    if (!period || !isDay(period.from) || !isDay(period.to))
        fail(`${BUNDLE_ENTRIES.index} has no period (from, to as YYYY-MM-DD or null).`);
    if (!auditEvents || !Number.isInteger(auditEvents.count))
        fail(`${BUNDLE_ENTRIES.index} does not say how many audit events the bundle holds.`);
    if (!Array.isArray(files))
        fail(`${BUNDLE_ENTRIES.index} lists no files.`);
    for (const [i, f] of files.entries()) {
        if (!f || typeof f.ref !== 'string' || typeof f.path !== 'string' || !f.path.startsWith(EVIDENCE_FOLDER)
            || typeof f.sha256 !== 'string' || !HEX64.test(f.sha256) || !Number.isInteger(f.size)) {
            fail(`${BUNDLE_ENTRIES.index} entry ${i + 1} is incomplete: it needs ref, path (in ${EVIDENCE_FOLDER}), size and sha256 (64 hex digits).`);
        }
    }
    return index;
}
function checkHead(value) {
    const head = value;
    if (!head || !Number.isInteger(head.seq) || typeof head.hash !== 'string' || !HEX64.test(head.hash) || typeof head.at !== 'string' || Number.isNaN(Date.parse(head.at))) {
        fail(`${BUNDLE_ENTRIES.head} is not a chain head ({"seq": <event number>, "hash": "<64 hex digits>", "at": "<ISO 8601>"}).`);
    }
    return head;
}
/** Each indexed file is in the zip and hashes to its entry; nothing else is in evidence/. */
async function checkFiles(zip, entries, files) {
    const listed = new Set();
    for (const f of files) {
        if (listed.has(f.path))
            fail(`${f.path} is listed twice in ${BUNDLE_ENTRIES.index}.`);
        listed.add(f.path);
        const entry = entries.get(f.path);
        if (!entry)
            fail(`${f.path} is listed in ${BUNDLE_ENTRIES.index} but missing from the bundle.`);
        const hash = createHash('sha256');
        let size = 0;
        await streamEntry(zip, entry, async (stream) => {
            for await (const chunk of stream) {
                hash.update(chunk);
                size += chunk.length;
            }
        });
        if (hash.digest('hex') !== f.sha256)
            fail(`${f.path} does not match its SHA-256 in ${BUNDLE_ENTRIES.index}.`);
        if (size !== f.size)
            fail(`${f.path} is ${size} bytes, but ${BUNDLE_ENTRIES.index} says ${f.size}.`);
    }
    for (const name of entries.keys()) {
        if (name.startsWith(EVIDENCE_FOLDER) && !name.endsWith('/') && !listed.has(name))
            fail(`${name} is in the bundle but not in ${BUNDLE_ENTRIES.index}.`);
    }
}
/** index.csv says what index.json says, row by row. */
function checkCsv(text, files) {
    let rows;
    try {
        rows = parse(text, { relax_column_count: true });
    }
    catch {
        return fail(`${BUNDLE_ENTRIES.indexCsv} is not CSV.`);
    }
    const [header, ...body] = rows;
    if (header?.join(',') !== INDEX_COLUMNS.map(([, h]) => h).join(','))
        fail(`${BUNDLE_ENTRIES.indexCsv} does not have the index's columns.`);
    if (body.length !== files.length)
        fail(`${BUNDLE_ENTRIES.indexCsv} lists ${plural(body.length, 'file')}, ${BUNDLE_ENTRIES.index} ${files.length}.`);
    for (const [i, f] of files.entries()) {
        const differs = INDEX_COLUMNS.find(([key], c) => (body[i][c] ?? '') !== (f[key] === null ? '' : String(f[key])));
        if (differs)
            fail(`${BUNDLE_ENTRIES.indexCsv} differs from ${BUNDLE_ENTRIES.index} at ${f.ref} in ${differs[1]}.`);
    }
}
/** Walks audit-events.jsonl a line at a time: each event links to the one before and its hash recomputes. */
async function checkEvents(zip, entry, refs) {
    const walk = { count: 0, submissions: new Map() };
    await streamEntry(zip, entry, async (stream) => {
        let line = 0;
        for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
            line++;
            if (!text.trim())
                continue;
            let e;
            try {
                e = JSON.parse(text);
            }
            catch {
                return fail(`${BUNDLE_ENTRIES.events} line ${line} is not JSON.`);
            }
            if (!e || !Number.isInteger(e.seq) || typeof e.hash !== 'string' || typeof e.prevHash !== 'string') {
                fail(`${BUNDLE_ENTRIES.events} line ${line} is not an audit event (it needs seq, prevHash and hash).`);
            }
            const prev = walk.last;
            if (prev && e.seq !== prev.seq + 1) {
                fail(e.seq > prev.seq + 1
                    ? `audit event ${prev.seq + 1} is missing: event ${e.seq} follows event ${prev.seq}.`
                    : `audit event ${e.seq} is out of order: it follows event ${prev.seq}.`);
            }
            if (prev && e.prevHash !== prev.hash)
                fail(`audit event ${e.seq} does not link to event ${prev.seq}: its prevHash is not that event's hash.`);
            if (!prev && e.seq === 1 && e.prevHash !== GENESIS_HASH)
                fail('audit event 1 does not start the chain: its prevHash is not 64 zeros.');
            let recomputed;
            try {
                recomputed = hashEvent(e);
            }
            catch {
                recomputed = undefined;
            }
            if (recomputed !== e.hash)
                fail(`audit event ${e.seq} was altered: its hash does not recompute.`);
            if (e.entity === 'evidence_item' && e.action === 'submit' && refs.has(e.entityRef) && e.after && typeof e.after === 'object') {
                const after = e.after;
                walk.submissions.set(e.entityRef, { seq: e.seq, sha256: after.fileSha256, size: after.fileSize });
            }
            walk.first ??= e;
            walk.last = e;
            walk.count++;
        }
    });
    return walk;
}
/** What the index says of the events, and whether the chain head agrees with the last of them. */
function checkHeadAgrees(index, head, walk) {
    const { auditEvents } = index;
    if (walk.count !== auditEvents.count)
        fail(`${BUNDLE_ENTRIES.events} holds ${plural(walk.count, 'event')}, but ${BUNDLE_ENTRIES.index} says ${auditEvents.count}.`);
    if (walk.count && (walk.first.seq !== auditEvents.firstSeq || walk.last.seq !== auditEvents.lastSeq)) {
        fail(`${BUNDLE_ENTRIES.events} runs from event ${walk.first.seq} to ${walk.last.seq}, but ${BUNDLE_ENTRIES.index} says ${auditEvents.firstSeq} to ${auditEvents.lastSeq}.`);
    }
    const headText = `chain head #${head.seq} (${short(head.hash)}, ${head.at})`;
    // A period that runs to the day of the bundle (or has no end) holds every event up to the head.
    const toTheEnd = !index.period.to || index.period.to >= head.at.slice(0, 10);
    const last = walk.last;
    if (!last) {
        if (toTheEnd && !index.period.from && head.seq > 0)
            fail(`${BUNDLE_ENTRIES.events} holds no events, but the period runs to the end and the chain head is event ${head.seq}.`);
        return `${headText}; no events in the period`;
    }
    if (head.seq < last.seq)
        fail(`the chain head (event ${head.seq}) is before the last audit event in the bundle (${last.seq}).`);
    if (head.seq === last.seq) {
        if (head.hash !== last.hash)
            fail(`the chain head's hash differs from audit event ${last.seq}'s, though they are the same event.`);
        return `${headText} is the last event`;
    }
    if (toTheEnd)
        fail(`audit events ${last.seq + 1} to ${head.seq} are missing: the period runs to the end, so its last event must be the chain head (event ${head.seq}).`);
    return `${headText} is ${plural(head.seq - last.seq, 'event')} later than the period's last event`;
}
/** Each file's SHA-256 is the one its submission event recorded, where that event is in the bundle. */
function checkSubmissions(files, walk) {
    const unmatched = [];
    for (const f of files) {
        const event = walk.submissions.get(f.ref);
        if (!event) {
            unmatched.push(f);
            continue;
        }
        if (event.sha256 !== f.sha256)
            fail(`${f.ref}'s SHA-256 in ${BUNDLE_ENTRIES.index} differs from the one its audit event ${event.seq} recorded.`);
        if (event.size !== f.size)
            fail(`${f.ref}'s size in ${BUNDLE_ENTRIES.index} differs from the one its audit event ${event.seq} recorded.`);
    }
    return unmatched;
}
/** Checks the bundle at `file`; never opens a database. */
export async function verifyBundle(file) {
    let zip;
    try {
        zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, strictFileNames: true });
    }
    catch (e) {
        return { ok: false, problem: `${file} is not a readable zip: ${e.message}.` };
    }
    try {
        const entries = new Map();
        for (const entry of await listEntries(zip)) {
            if (entries.has(entry.fileName))
                fail(`${entry.fileName} is in the bundle twice.`);
            entries.set(entry.fileName, entry);
        }
        const needed = (name) => entries.get(name) ?? fail(`${name} is missing from the bundle.`);
        const index = checkIndex(parseJson(await entryText(zip, needed(BUNDLE_ENTRIES.index)), BUNDLE_ENTRIES.index));
        const head = checkHead(parseJson(await entryText(zip, needed(BUNDLE_ENTRIES.head)), BUNDLE_ENTRIES.head));
        await checkFiles(zip, entries, index.files);
        checkCsv(await entryText(zip, needed(BUNDLE_ENTRIES.indexCsv)), index.files);
        const walk = await checkEvents(zip, needed(BUNDLE_ENTRIES.events), new Set(index.files.map((f) => f.ref)));
        const headAgreement = checkHeadAgrees(index, head, walk);
        const unmatched = checkSubmissions(index.files, walk);
        const bytes = index.files.reduce((sum, f) => sum + f.size, 0);
        const events = walk.count ? `${plural(walk.count, 'audit event')} (#${walk.first.seq}–#${walk.last.seq}) chain and recompute` : 'no audit events';
        const without = unmatched.length
            ? ` (${plural(unmatched.length, 'file has', 'files have')} no submission event in the bundle: ${unmatched.slice(0, 5).map((f) => f.ref).join(', ')}${unmatched.length > 5 ? ', …' : ''})`
            : '';
        return {
            ok: true,
            summary: `Bundle intact: ${plural(index.files.length, 'evidence file')} (${bytes} bytes) match ${BUNDLE_ENTRIES.index}${index.files.length - unmatched.length ? ' and their submission events' : ''}${without}; `
                + `${events}; period ${describePeriod(index.period)}; ${headAgreement}.`,
        };
    }
    catch (e) {
        if (e instanceof Mismatch)
            return { ok: false, problem: e.message };
        throw e;
    }
    finally {
        zip.close();
    }
}
//# sourceMappingURL=bundle-verify.js.map