export { importFile, importYaml, describeCounts, type ImportCounts, type SectionCounts, type ImportOptions, type ImportProgress } from './import.js';
export { ImportError, type ImportProblem } from './source.js';
export { loadExampleOrganisation, EXAMPLE_FILE } from './example.js';
