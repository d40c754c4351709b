import { tokenize } from '../../src/core/router.js';
import { findForm } from '../../src/core/reply.js';
import { formModal, loadingModal, resultModal } from './render.js';
import { deliverFiles } from './send-file.js';
import { ask } from './listeners/shared.js';
/**
 * Runs a command line as the context's user. A form goes into a modal; any other answer (or a
 * form whose modal could not be opened) goes to `otherwise`, with its files sent first.
 */
export async function runAndShow(deps, context, line, options, target, otherwise) {
    const opened = asksForForm(deps.core.router, line) ? await openLoadingModal(deps.api, target, context.request) : undefined;
    const asked = await ask(deps, context, { line }, options);
    const answer = { ...asked, reply: await deliverFiles(deps, context, asked.reply, options.idempotencyKey) };
    const form = findForm(answer.reply);
    if (opened) {
        await deps.api.call('views.update', { view_id: opened.id, hash: opened.hash, view: form ? formModal(form) : resultModal(answer.reply) }, context.request);
        return;
    }
    if (form && await openModal(deps.api, target, formModal(form), context.request))
        return;
    await otherwise(answer);
}
/** True when the line names a command without arguments, which answers with its form. */
function asksForForm(router, line) {
    const words = tokenize(line.trim().replace(/^\/?isms\b/i, ''));
    const matched = words.length ? router.match(words) : undefined;
    return Boolean(matched && matched.rest.length === 0 && matched.spec.form);
}
export async function openLoadingModal(api, target, request) {
    try {
        return (await openView(api, target, loadingModal(), request)).view;
    }
    catch {
        return undefined; // logged; the answer goes back as a message instead
    }
}
async function openModal(api, target, view, request) {
    try {
        await openView(api, target, view, request);
        return true;
    }
    catch {
        return false; // e.g. the trigger expired: the form goes back as a message with an "Open" button
    }
}
/** From inside a modal a new view is pushed onto it; anywhere else a modal is opened. */
function openView(api, target, view, request) {
    return api.call(target.fromModal ? 'views.push' : 'views.open', { trigger_id: target.triggerId, view }, request);
}
//# sourceMappingURL=modals.js.map