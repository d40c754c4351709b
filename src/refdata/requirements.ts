import { didYouMean } from '../core/suggest.js';
import { FRAMEWORKS, SHIPPED_FRAMEWORKS, type FrameworkId } from './frameworks.js';

/** ' Did you mean "A.5.15"?' for a name close to the one given, else ''. */
export function suggestion(given: string, candidates: string[]): string {
  const near = didYouMean(given, candidates);
  return near ? ` Did you mean "${near}"?` : '';
}

/**
 * Why a reference is not one of a framework's requirements, in one wording for the import and the
 * chat commands: reference data not loaded, criteria not shipped, or an unknown reference with the
 * nearest known one. `reference` is `given` normalised; `known` the framework's references in the register.
 */
export function unknownRequirement(framework: FrameworkId, given: string, reference: string, known: string[]): string {
  if (SHIPPED_FRAMEWORKS.includes(framework) && known.length === 0) {
    return `the ${FRAMEWORKS[framework].name} reference data is not loaded; run "npm run isms -- load-reference" first`;
  }
  if (!SHIPPED_FRAMEWORKS.includes(framework)) {
    return `${framework} has no requirement "${given}" in the register; ${FRAMEWORKS[framework].name} criteria are not shipped, add it under framework_titles`;
  }
  return `${framework} has no requirement "${given}"; references look like ${FRAMEWORKS[framework].example}.${suggestion(reference, known)}`;
}
