import { closest, distance } from 'fastest-levenshtein';
/**
 * The candidate a slip of the keyboard most likely meant, with how many letters differ, or undefined
 * when none is close enough: case does not matter, and up to a third of the candidate's letters (at
 * least two) may differ. One rule for commands, control ids, framework references and names.
 */
export function nearest(given, candidates) {
    if (candidates.length === 0 || !given)
        return undefined;
    const byLower = new Map(candidates.map((c) => [c.toLowerCase(), c]));
    const near = closest(given.toLowerCase(), [...byLower.keys()]);
    const d = distance(given.toLowerCase(), near);
    return d <= Math.max(2, Math.floor(near.length / 3)) ? { match: byLower.get(near), distance: d } : undefined;
}
/** The candidate meant, for "Did you mean …?", or undefined. */
export const didYouMean = (given, candidates) => nearest(given, candidates)?.match;
//# sourceMappingURL=suggest.js.map