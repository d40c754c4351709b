import { messageLinks } from '../../src/db/schema/index.js';
import { DeliveryError } from '../../src/core/port.js';
import { isPermanentSlackError, retryAfterMs } from './api.js';
import { renderMessage } from './render.js';
/** event_type of the metadata on every outbox message. */
export const OUTBOX_EVENT_TYPE = 'isms_outbox';
/** Slack's clock and the database's may differ a little: history is read from this much earlier. */
const CLOCK_SKEW_MS = 5 * 60_000;
/**
 * `api` is the client interactive answers use: it retries and waits out a 429, which suits a
 * one-off `send`. The delivery worker calls sendWithKey and wasDelivered, which go through
 * `outbox`: a client that neither retries nor waits, because the worker does both itself. It
 * honours Retry-After for the whole conversation while other people's messages go on, and before
 * it sends a row again it asks wasDelivered; a client repeating chat.postMessage after a timeout
 * could post the same message twice.
 */
export function slackPort(db, api, outbox = api) {
    const dmChannels = new Map();
    let botId;
    async function post(via, person, message, deliveryKey) {
        const user = slackUserOf(person);
        let posted;
        try {
            // Posting to a user id opens (or reuses) the bot's direct message with them.
            posted = await via.call('chat.postMessage', {
                channel: user, ...renderMessage(message),
                ...(deliveryKey ? { metadata: { event_type: OUTBOX_EVENT_TYPE, event_payload: { key: deliveryKey } } } : {}),
            }, { kind: 'delivery', recipient: person.id, about: message.about });
        }
        catch (e) {
            throw new DeliveryError(`Slack did not take the message for ${person.name}: ${e.message}`, retryAfterMs(e), isPermanentSlackError(e));
        }
        if (posted.channel)
            dmChannels.set(user, posted.channel);
        if (message.about && posted.channel && posted.ts) {
            await db.insert(messageLinks).values({
                platform: 'slack', conversationId: posted.channel, messageId: posted.ts, recipientId: person.id, subjectRef: message.about,
            }).onConflictDoNothing();
        }
    }
    async function dmChannel(user, recipient) {
        let channel = dmChannels.get(user);
        if (!channel) {
            const opened = await outbox.call('conversations.open', { users: user }, { kind: 'delivery_check', recipient });
            channel = opened.channel?.id;
            if (!channel)
                throw new Error(`conversations.open gave no channel for ${user}`);
            dmChannels.set(user, channel);
        }
        return channel;
    }
    /** The bot's own id, so only its messages count as receipts. */
    function ownBotId(recipient) {
        botId ??= outbox.call('auth.test', {}, { kind: 'delivery_check', recipient })
            .then((r) => r.bot_id)
            .catch((e) => { botId = undefined; throw e; });
        return botId;
    }
    return {
        platform: 'slack',
        canReach: (person) => Boolean(person.slackUserId),
        send: (person, message) => post(api, person, message),
        sendWithKey: (person, message, deliveryKey) => post(outbox, person, message, deliveryKey),
        async wasDelivered(person, deliveryKey, since) {
            const user = slackUserOf(person);
            try {
                const channel = await dmChannel(user, person.id);
                const bot = await ownBotId(person.id);
                const args = { channel, oldest: String((since.getTime() - CLOCK_SKEW_MS) / 1000), include_all_metadata: true, limit: 200 };
                for await (const page of outbox.pages('conversations.history', args, { kind: 'delivery_check', recipient: person.id })) {
                    const found = (page.messages ?? []).some((m) => m.bot_id === bot
                        && m.metadata?.event_type === OUTBOX_EVENT_TYPE && m.metadata.event_payload?.key === deliveryKey);
                    if (found)
                        return true;
                }
                return false;
            }
            catch (e) {
                throw new DeliveryError(`Slack could not tell whether an earlier message reached ${person.name}: ${e.message}`, retryAfterMs(e), isPermanentSlackError(e));
            }
        },
    };
}
function slackUserOf(person) {
    if (!person.slackUserId)
        throw new DeliveryError(`${person.name} has no Slack user id`, undefined, true);
    return person.slackUserId;
}
//# sourceMappingURL=port.js.map