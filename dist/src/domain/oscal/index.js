export { OSCAL_DOCUMENTS } from './documents.js';
export { assertValidOscal, oscalProblems, OscalDocumentInvalid } from './validate.js';
//# sourceMappingURL=index.js.map