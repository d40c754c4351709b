export { loadReferenceData, readRequirements, readCrosswalks, REFERENCE_DIR, type ReferenceLoadResult } from './load.js';
export { FRAMEWORKS, FRAMEWORK_IDS, SHIPPED_FRAMEWORKS, normaliseReference, type FrameworkId } from './frameworks.js';
export { threats, threatId, threatById, threatInWords, type Threat } from './threats.js';
