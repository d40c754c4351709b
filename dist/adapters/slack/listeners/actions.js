import { findForm } from '../../../src/core/reply.js';
import { OPEN_FORM_ACTION_PATTERN, RUN_ACTION_PATTERN } from '../ids.js';
import { LIMITS } from '../limits.js';
import { fallbackText, formModal, openFormValue, renderBlocks, resultModal } from '../render.js';
import { inConversation, privately, respondWith } from '../answers.js';
import { openLoadingModal, runAndShow } from '../modals.js';
import { publishHome } from './home.js';
import { deliverFiles } from '../send-file.js';
import { ask, progressVia, safely } from './shared.js';
export function register(app, deps) {
    app.action(RUN_ACTION_PATTERN, async ({ body, action, respond, context }) => {
        const answer = privately(deps.api, body, respond, context.request);
        await safely(deps, context, answer, () => runAndShow(deps, context, action.value ?? '', { idempotencyKey: clickKey(body, action), progress: progressVia(answer) }, modalTarget(body), async (done) => {
            if (done.reply.outcome === 'recorded' && done.person)
                await recordOnMessage(deps, context, body, action, done, done.person, respond);
            else
                await answer(done.reply);
        }));
    });
    app.action(OPEN_FORM_ACTION_PATTERN, async ({ body, action, respond, context }) => {
        const answer = privately(deps.api, body, respond, context.request);
        await safely(deps, context, answer, async () => {
            // The form's command gives the form; the values the button carries stay hidden in it.
            const wanted = openFormValue(action.value);
            const opened = await openLoadingModal(deps.api, modalTarget(body), context.request);
            const asked = await ask(deps, context, { line: wanted.command });
            const reply = await deliverFiles(deps, context, asked.reply, undefined);
            const form = findForm(reply);
            const hidden = wanted.hidden ?? {};
            const view = form
                ? formModal({ ...form, hidden: { ...form.hidden, ...hidden }, fields: form.fields.filter((f) => !(f.name in hidden)) })
                : resultModal(reply);
            if (opened)
                await deps.api.call('views.update', { view_id: opened.id, hash: opened.hash, view }, context.request);
            else
                await answer(reply);
        });
    });
}
/** Shows on the clicked message what was recorded, by whom and when; the clicked buttons go. */
async function recordOnMessage(deps, context, body, action, done, person, respond) {
    const stamp = {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `${action.text?.text ? `“${action.text.text}” — ` : ''}by <@${body.user.id}> (${person.name}) on ${slackDate(new Date())}` }],
    };
    const result = [...renderBlocks(done.reply, LIMITS.messageBlocks), stamp];
    const text = fallbackText(done.reply);
    const container = body.container;
    if (container.type === 'message' && body.message && body.channel && !container.is_ephemeral) {
        const kept = withoutClicked((body.message.blocks ?? []), action);
        const blocks = [...kept, ...result].slice(-LIMITS.messageBlocks);
        await deps.api.call('chat.update', { channel: body.channel.id, ts: body.message.ts, blocks, text }, context.request);
    }
    else if (container.type === 'message' && body.response_url) {
        // An ephemeral message cannot be updated through the API, only replaced through its response_url.
        await respondWith(deps.api, respond, { replace_original: true, blocks: result, text }, context.request);
    }
    else {
        // A button on the App Home or in a modal: the answer comes as a direct message, the home is refreshed.
        await inConversation(deps.api, body.user.id, context.request)(done.reply);
        if (body.view?.type === 'home')
            await publishHome(deps, context);
    }
}
function modalTarget(body) {
    return { triggerId: body.trigger_id, fromModal: body.view?.type === 'modal' };
}
/** The clicked message without the buttons just used: the actions block, or a section's button. */
function withoutClicked(blocks, action) {
    return blocks.flatMap((b) => {
        if (b.block_id !== action.block_id)
            return [b];
        if (b.type === 'actions')
            return [];
        if (b.accessory?.action_id === action.action_id) {
            const { accessory: _gone, ...rest } = b;
            return [rest];
        }
        return [b];
    });
}
/**
 * One click, one record: the same person pressing the same button on the same message (or the
 * same version of a view) twice runs its command once.
 */
function clickKey(body, action) {
    const container = body.container;
    const where = body.view ? `view:${body.view.id}:${body.view.hash}` : `${container.channel_id ?? body.channel?.id}:${container.message_ts ?? body.message?.ts}`;
    return `slack:action:${where}:${action.block_id}:${action.action_id}:${body.user.id}`;
}
/** A date Slack shows in each reader's own time zone, with the UTC time as fallback. */
function slackDate(at) {
    const epoch = Math.floor(at.getTime() / 1000);
    return `<!date^${epoch}^{date_short_pretty} at {time}|${at.toISOString().slice(0, 16).replace('T', ' ')} UTC>`;
}
//# sourceMappingURL=actions.js.map