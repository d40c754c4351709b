import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { defineCommand } from '../../core/router.js';
import { fileBlock, reply, text } from '../../core/reply.js';
import { invalid } from '../../core/errors.js';
import { didYouMean } from '../../core/suggest.js';
import { ARTEFACTS, ARTEFACT_NAMES, DOCUMENTS, DOCUMENT_NAMES, findDocument } from './artefacts.js';
import { FORMATS, MIME_TYPES } from './write.js';
import { documentFileName, exportDocumentToFile, exportFileName, exportToFile } from './files.js';
export const ALL = 'all';
/** An export past this many rows tells the person it is on its way, once, before the file is ready. */
export const PROGRESS_AFTER_ROWS = 5_000;
const CHOICES = [ALL, ...ARTEFACT_NAMES, ...DOCUMENT_NAMES];
/** The artefacts a name stands for: one, or every one for "all" (a workbook only). */
export function artefactsFor(name, format) {
    if (name !== ALL)
        return ARTEFACTS.filter((a) => a.name === name);
    if (format !== 'xlsx')
        throw invalid(`"export all" makes one workbook with a sheet per artefact, so it is XLSX only.`, 'Use --format xlsx, or export one artefact as CSV or JSON.');
    return ARTEFACTS;
}
/** "Risk register (CSV, 12 rows)", or the workbook of everything. */
export function describeExport(artefacts, format, counts) {
    const rows = Object.values(counts).reduce((a, b) => a + b, 0);
    const what = artefacts.length === 1 ? artefacts[0].title : `All artefacts (${artefacts.length} sheets)`;
    return `${what} (${format.toUpperCase()}, ${rows} row${rows === 1 ? '' : 's'})`;
}
/** A document is JSON only: asked for as CSV or XLSX it is refused, saying what to type instead. */
export function checkDocumentFormat(document, format) {
    if (format && format !== 'json') {
        throw invalid(`"${document.name}" is an OSCAL document, so it is exported as JSON only, not as ${format.toUpperCase()}. Nothing was exported.`, `Type "export ${document.name}" (JSON is its only format).`);
    }
    return 'json';
}
/** "OSCAL plan of action and milestones (JSON: 3 POA&M items, 3 risks, …)". */
export const describeDocumentExport = (document, counts) => `${document.title} (JSON: ${Object.entries(counts).map(([what, n]) => `${n} ${n === 1 ? what.replace(/([^s])s$/, '$1') : what}`).join(', ')})`;
/** What a long export says while it runs. */
export function progressMessage(artefacts) {
    const what = artefacts.length === 1 ? artefacts[0].title : 'all artefacts';
    return `Your export of ${what} is on its way: over ${PROGRESS_AFTER_ROWS.toLocaleString('en')} rows so far; the file follows when it is complete.`;
}
const meantArtefact = (typed) => {
    const meant = didYouMean(typed, CHOICES);
    return meant ? ` (did you mean "${meant}"?)` : '';
};
const lower = (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v);
export const exportCommand = defineCommand({
    name: 'export',
    summary: 'Export an artefact (risk register, POA&M, evidence index, audit trail...) as CSV, JSON or XLSX, or an OSCAL document as JSON',
    examples: ['export risks', 'export poam csv', 'export all xlsx', 'export oscal-poam'],
    roles: ['isms_lead', 'auditor', 'management_body'],
    schema: z.object({
        artefact: z.preprocess(lower, z.enum(CHOICES, {
            errorMap: (issue, ctx) => ({
                message: issue.code === 'invalid_enum_value'
                    ? `there is no artefact "${String(ctx.data)}"${meantArtefact(String(ctx.data))}; the artefacts are ${CHOICES.join(', ')}`
                    : `name an artefact: ${CHOICES.join(', ')}`,
            }),
        })).describe('What to export'),
        format: z.preprocess(lower, z.enum(FORMATS, {
            errorMap: () => ({ message: `must be csv, json or xlsx` }),
        }).optional()).describe('File format: csv, json or xlsx (the default); OSCAL documents are JSON only'),
    }),
    args: {
        artefact: {
            positional: true,
            options: [...ARTEFACTS.map((a) => ({ value: a.name, label: a.title })), ...DOCUMENTS.map((d) => ({ value: d.name, label: `${d.title} (JSON)` })),
                { value: ALL, label: 'Everything (one workbook)' }],
        },
        format: { positional: true, options: FORMATS.map((f) => ({ value: f, label: f.toUpperCase() })) },
    },
    form: { title: 'Export an artefact', submitLabel: 'Export' },
    async run(ctx, { artefact: name, format: asked }) {
        const document = findDocument(name);
        if (document) {
            const format = checkDocumentFormat(document, asked);
            const fileName = documentFileName(document, ctx.now);
            const file = path.join(tmpdir(), 'isms-exports', randomUUID(), fileName);
            const counts = await exportDocumentToFile(ctx.db, document, file, ctx.now);
            const title = describeDocumentExport(document, counts);
            await ctx.audit({ action: 'export', entity: 'export', entityRef: name, after: { format, counts, file: fileName } });
            return reply(text(`Exported ${title}.`, 'success'), fileBlock({ name: fileName, mimeType: MIME_TYPES.json, path: file, title }));
        }
        const format = asked ?? 'xlsx';
        const artefacts = artefactsFor(name, format);
        const fileName = exportFileName(artefacts, format, ctx.now);
        // A folder of its own per export: the platform takes the file from here and may remove the folder.
        const file = path.join(tmpdir(), 'isms-exports', randomUUID(), fileName);
        let told = false;
        const onRows = async (total) => {
            if (told || total <= PROGRESS_AFTER_ROWS)
                return;
            told = true;
            await ctx.progress(progressMessage(artefacts));
        };
        const counts = await exportToFile(ctx.db, artefacts, format, file, { now: ctx.now, onRows });
        const title = describeExport(artefacts, format, counts);
        await ctx.audit({ action: 'export', entity: 'export', entityRef: name, after: { format, rows: counts, file: fileName } });
        return reply(text(`Exported ${title}.`, 'success'), fileBlock({ name: fileName, mimeType: MIME_TYPES[format], path: file, title }));
    },
});
//# sourceMappingURL=command.js.map