import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Ajv as AjvType, ErrorObject, ValidateFunction } from 'ajv';
import { REFERENCE_DIR } from '../../refdata/load.js';

/** The OSCAL models this project writes, with NIST's JSON schema for each (shipped in reference/oscal/). */
export const OSCAL_SCHEMAS = {
  'plan-of-action-and-milestones': 'oscal_poam_schema.json',
  'assessment-results': 'oscal_assessment-results_schema.json',
} as const;
export type OscalModel = keyof typeof OSCAL_SCHEMAS;

/** A document that does not validate: a fault in the export, never a file handed out. */
export class OscalDocumentInvalid extends Error {
  constructor(readonly model: OscalModel, readonly problems: string[]) {
    super(`The OSCAL ${model} document does not validate against NIST's OSCAL 1.2.1 schema, so it was not written: ${problems.join('; ')}.`);
    this.name = 'OscalDocumentInvalid';
  }
}

// Compiling a schema takes about a second: each is compiled once per process, when first needed.
const compiled = new Map<OscalModel, ValidateFunction>();

function validatorFor(model: OscalModel): ValidateFunction {
  let validate = compiled.get(model);
  if (!validate) {
    // The schemas are draft-07 with Unicode property escapes (\p{L}) in their patterns, hence unicodeRegExp;
    // strict mode is off because they use keywords draft-07 allows but Ajv's strict mode flags ($id in definitions).
    // Ajv is loaded here, on the first OSCAL export, rather than with every process.
    const require = createRequire(import.meta.url);
    const { Ajv } = require('ajv') as typeof import('ajv');
    const formats = require('ajv-formats') as { default: (a: AjvType) => void };
    const ajv = new Ajv({ strict: false, unicodeRegExp: true, allErrors: false });
    formats.default(ajv);
    const schema = JSON.parse(readFileSync(path.join(REFERENCE_DIR, 'oscal', OSCAL_SCHEMAS[model]), 'utf8')) as object;
    validate = ajv.compile(schema);
    compiled.set(model, validate);
  }
  return validate;
}

/** "/plan-of-action-and-milestones/poam-items/0/uuid must match pattern …", the first few problems. */
function describe(errors: ErrorObject[]): string[] {
  const seen = new Set<string>();
  for (const e of errors) {
    const extra = e.keyword === 'additionalProperties' ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"` : '';
    seen.add(`${e.instancePath || '/'} ${e.message ?? 'is not valid'}${extra}`);
    if (seen.size === 3) break;
  }
  return [...seen];
}

/** The problems of a document against its model's schema; empty when it validates. */
export function oscalProblems(model: OscalModel, document: unknown): string[] {
  const validate = validatorFor(model);
  return validate(document) ? [] : describe(validate.errors ?? []);
}

/** Throws OscalDocumentInvalid, naming where the document breaks the schema, unless it validates. */
export function assertValidOscal(model: OscalModel, document: unknown): void {
  const problems = oscalProblems(model, document);
  if (problems.length) throw new OscalDocumentInvalid(model, problems);
}
