export { loadReferenceData, readRequirements, readCrosswalks, REFERENCE_DIR } from './load.js';
export { FRAMEWORKS, FRAMEWORK_IDS, SHIPPED_FRAMEWORKS, normaliseReference } from './frameworks.js';
//# sourceMappingURL=index.js.map