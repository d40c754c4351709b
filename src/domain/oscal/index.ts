export { OSCAL_DOCUMENTS } from './documents.js';
export { assertValidOscal, oscalProblems, OscalDocumentInvalid, type OscalModel } from './validate.js';
