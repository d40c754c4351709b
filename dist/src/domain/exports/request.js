import { parseArgs } from 'node:util';
import { invalid } from '../../core/errors.js';
import { didYouMean } from '../../core/suggest.js';
import { isCalendarDay } from '../../core/time.js';
import { ARTEFACT_NAMES, DOCUMENT_NAMES, findDocument } from './artefacts.js';
import { ALL, artefactsFor, checkDocumentFormat } from './command.js';
import { FORMATS } from './write.js';
import { checkBundlePeriod } from './bundle.js';
const USAGE_HINT = 'Usage: npm run isms -- export <artefact> [--format csv|json|xlsx] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--out <file>], or export oscal-poam|oscal-assessment-results [--out <file>]';
/** The command line's export arguments, checked before the register is opened: a mistake costs nothing. */
export function parseExportRequest(argv) {
    let parsed;
    try {
        parsed = parseArgs({ args: argv, allowPositionals: true, options: { format: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' } } });
    }
    catch (e) {
        throw invalid(`${e.message.split('\n')[0].replace(/\.?$/, '.')}`, USAGE_HINT);
    }
    const { positionals, values } = parsed;
    const names = [ALL, ...ARTEFACT_NAMES, ...DOCUMENT_NAMES];
    if (positionals.length === 0)
        throw invalid(`Name the artefact to export: ${names.join(', ')}.`, USAGE_HINT);
    if (positionals.length > 1)
        throw invalid(`Export one artefact at a time (or "all"); "${positionals.slice(1).join(' ')}" is one word too many.`, USAGE_HINT);
    const name = positionals[0].trim().toLowerCase();
    if (!names.includes(name)) {
        const meant = didYouMean(name, names);
        throw invalid(`There is no artefact "${positionals[0]}".${meant ? ` Did you mean "${meant}"?` : ''}`, `The artefacts are ${names.join(', ')}.`);
    }
    const asked = values.format?.trim().toLowerCase();
    if (asked !== undefined && !FORMATS.includes(asked))
        throw invalid(`There is no format "${values.format}": use csv, json or xlsx.`);
    const document = findDocument(name);
    if (document) {
        const format = checkDocumentFormat(document, asked);
        if (values.from || values.to)
            throw invalid(`--from and --to do not apply to "${name}": an OSCAL document is the register as it is at the moment of export.`);
        return { name, artefacts: [], document, format, period: {}, out: values.out };
    }
    const format = asked ?? 'xlsx';
    for (const [flag, day] of [['from', values.from], ['to', values.to]]) {
        if (day !== undefined && !isCalendarDay(day))
            throw invalid(`--${flag} "${day}" is not a date: write it as YYYY-MM-DD, e.g. 2026-01-31.`);
    }
    if (values.from && values.to && values.from > values.to)
        throw invalid(`--from ${values.from} is after --to ${values.to}: nothing could be exported.`);
    const artefacts = artefactsFor(name, format);
    return { name, artefacts, format: format, period: { from: values.from, to: values.to }, out: values.out };
}
export const BUNDLE_USAGE = 'Usage: npm run isms -- bundle [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--out <file.zip>]';
/** The command line's bundle arguments, checked before the register is opened. No period means all time. */
export function parseBundleRequest(argv, today) {
    let parsed;
    try {
        parsed = parseArgs({ args: argv, allowPositionals: true, options: { from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' } } });
    }
    catch (e) {
        throw invalid(`${e.message.split('\n')[0].replace(/\.?$/, '.')}`, BUNDLE_USAGE);
    }
    const { positionals, values } = parsed;
    if (positionals.length)
        throw invalid(`"bundle" takes only --from, --to and --out, not "${positionals.join(' ')}".`, BUNDLE_USAGE);
    for (const [flag, day] of [['from', values.from], ['to', values.to]]) {
        if (day !== undefined && !isCalendarDay(day))
            throw invalid(`--${flag} "${day}" is not a date: write it as YYYY-MM-DD, e.g. 2026-01-31.`, BUNDLE_USAGE);
    }
    if (values.out !== undefined && !values.out.trim())
        throw invalid('--out names no file.', BUNDLE_USAGE);
    const period = { from: values.from, to: values.to };
    checkBundlePeriod(period, today, BUNDLE_USAGE);
    return { period, out: values.out };
}
//# sourceMappingURL=request.js.map