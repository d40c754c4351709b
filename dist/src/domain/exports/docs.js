import { ARTEFACTS, DOCUMENTS } from './artefacts.js';
/** An artefact's section of docs/exports.md; a test holds the page to these words, so it cannot drift from the code. */
export function artefactDoc(a) {
    const cell = (s) => s.replace(/\|/g, '\\|');
    return [
        `### ${a.title} (\`${a.name}\`)`,
        '',
        `--from/--to select on ${a.periodMeaning}.`,
        '',
        '| Column (CSV, XLSX) | JSON key | Meaning |',
        '| --- | --- | --- |',
        ...a.columns.map((c) => `| ${cell(c.header)} | \`${c.key}\` | ${cell(c.meaning)} |`),
        '',
    ].join('\n');
}
export const artefactDocs = () => ARTEFACTS.map(artefactDoc).join('\n');
/** A document export's section of docs/exports.md, held to the page by the same test. */
export function documentDoc(d) {
    return [`### ${d.title} (\`${d.name}\`)`, '', ...d.contents.map((c) => `- ${c}`), ''].join('\n');
}
export const documentDocs = () => DOCUMENTS.map(documentDoc).join('\n');
//# sourceMappingURL=docs.js.map