/**
 * Block Kit's size limits, and the few helpers that keep a rendering inside them: long text is
 * split over several blocks, labels are shortened with "…", and a surface that would hold too many
 * blocks is cut with a note saying so. Slack rejects a whole message that breaks any limit, so
 * every rendering goes through these.
 */
export const LIMITS = {
    messageBlocks: 50,
    viewBlocks: 100,
    sectionText: 3000,
    sectionFields: 10,
    fieldText: 2000,
    actionsElements: 25,
    contextElements: 10,
    buttonText: 75,
    buttonValue: 2000,
    headerText: 150,
    viewTitle: 24,
    viewButton: 24,
    privateMetadata: 3000,
    inputLabel: 2000,
    inputHint: 2000,
    placeholder: 150,
    inputInitialValue: 3000,
    selectOptions: 100,
    optionText: 75,
    optionValue: 150,
    /** Notification fallback text; Slack truncates longer text. */
    fallbackText: 3000,
};
const ELLIPSIS = '…';
/** Shortens text to at most `max` characters, ending in "…" when cut; never splits a surrogate pair. */
export function cut(text, max) {
    if (text.length <= max)
        return text;
    let end = max - ELLIPSIS.length;
    const code = text.charCodeAt(end - 1);
    if (code >= 0xd800 && code <= 0xdbff)
        end -= 1;
    return text.slice(0, end) + ELLIPSIS;
}
/** Splits text into pieces of at most `max` characters, preferring line breaks, then spaces. */
export function splitText(text, max) {
    const pieces = [];
    let rest = text;
    while (rest.length > max) {
        const window = rest.slice(0, max);
        let at = window.lastIndexOf('\n');
        if (at < max / 2)
            at = window.lastIndexOf(' ');
        if (at < max / 2) {
            at = max;
            const code = rest.charCodeAt(at - 1);
            if (code >= 0xd800 && code <= 0xdbff)
                at -= 1;
        }
        pieces.push(rest.slice(0, at));
        rest = rest.slice(at).replace(/^[\n ]/, '');
    }
    if (rest.length > 0 || pieces.length === 0)
        pieces.push(rest);
    return pieces;
}
export function chunk(items, size) {
    const out = [];
    for (let i = 0; i < items.length; i += size)
        out.push(items.slice(i, i + size));
    return out;
}
/**
 * Keeps a surface within `max` blocks: when there are more, the last kept places go to
 * `more(hidden)` (a note, a "Show more" button) so the reader knows something was left out.
 */
export function fitBlocks(blocks, max, more) {
    if (blocks.length <= max)
        return blocks;
    const probe = more(1).length;
    const kept = blocks.slice(0, max - probe);
    return [...kept, ...more(blocks.length - kept.length)];
}
//# sourceMappingURL=limits.js.map