export { importFile, importYaml, describeCounts } from './import.js';
export { ImportError } from './source.js';
export { loadExampleOrganisation, EXAMPLE_FILE } from './example.js';
//# sourceMappingURL=index.js.map