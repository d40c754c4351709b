import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import { REFERENCE_DIR } from '../../refdata/load.js';
/** The OSCAL models this project writes, with NIST's JSON schema for each (shipped in reference/oscal/). */
export const OSCAL_SCHEMAS = {
    'plan-of-action-and-milestones': 'oscal_poam_schema.json',
    'assessment-results': 'oscal_assessment-results_schema.json',
};
/** A document that does not validate: a fault in the export, never a file handed out. */
export class OscalDocumentInvalid extends Error {
    model;
    problems;
    constructor(model, problems) {
        super(`The OSCAL ${model} document does not validate against NIST's OSCAL 1.2.1 schema, so it was not written: ${problems.join('; ')}.`);
        this.model = model;
        this.problems = problems;
        this.name = 'OscalDocumentInvalid';
    }
}
// Compiling a schema takes about a second: each is compiled once per process, when first needed.
const compiled = new Map();
function validatorFor(model) {
    let validate = compiled.get(model);
    if (!validate) {
        // The schemas are draft-07 with Unicode property escapes (\p{L}) in their patterns, hence unicodeRegExp;
        // strict mode is off because they use keywords draft-07 allows but Ajv's strict mode flags ($id in definitions).
        const ajv = new Ajv({ strict: false, unicodeRegExp: true, allErrors: false });
        formats(ajv);
        const schema = JSON.parse(readFileSync(path.join(REFERENCE_DIR, 'oscal', OSCAL_SCHEMAS[model]), 'utf8'));
        validate = ajv.compile(schema);
        compiled.set(model, validate);
    }
    return validate;
}
/** "/plan-of-action-and-milestones/poam-items/0/uuid must match pattern …", the first few problems. */
function describe(errors) {
    const seen = new Set();
    for (const e of errors) {
        const extra = e.keyword === 'additionalProperties' ? ` "${e.params.additionalProperty}"` : '';
        seen.add(`${e.instancePath || '/'} ${e.message ?? 'is not valid'}${extra}`);
        if (seen.size === 3)
            break;
    }
    return [...seen];
}
/** The problems of a document against its model's schema; empty when it validates. */
export function oscalProblems(model, document) {
    const validate = validatorFor(model);
    return validate(document) ? [] : describe(validate.errors ?? []);
}
/** Throws OscalDocumentInvalid, naming where the document breaks the schema, unless it validates. */
export function assertValidOscal(model, document) {
    const problems = oscalProblems(model, document);
    if (problems.length)
        throw new OscalDocumentInvalid(model, problems);
}
//# sourceMappingURL=validate.js.map