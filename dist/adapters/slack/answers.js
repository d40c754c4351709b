import { renderMessage } from './render.js';
/** Through a response_url: a slash command's public reply goes to the channel, anything else only to the person. */
export function viaResponseUrl(api, respond, request, isClick) {
    return (reply) => respondWith(api, respond, {
        response_type: reply.visibility === 'public' && !isClick ? 'in_channel' : 'ephemeral',
        ...(isClick ? { replace_original: false } : {}),
        ...renderMessage(reply),
    }, request);
}
export async function respondWith(api, respond, payload, request) {
    try {
        await respond(payload);
    }
    catch (e) {
        api.logRespondFailure(e, request);
        throw e;
    }
}
/** A message in a conversation (a user id means the bot's direct message with them), or in a thread of it. */
export function inConversation(api, channel, request, threadTs) {
    return async (reply) => {
        await api.call('chat.postMessage', { channel, ...(threadTs ? { thread_ts: threadTs } : {}), ...renderMessage(reply) }, request);
    };
}
/** A private answer to a click: ephemeral under the message, a direct message for a button in a view. */
export function privately(api, body, respond, request) {
    if (body.response_url && body.container.type === 'message')
        return viaResponseUrl(api, respond, request, true);
    return inConversation(api, body.user.id, request);
}
//# sourceMappingURL=answers.js.map