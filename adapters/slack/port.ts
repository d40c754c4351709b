/**
 * The core's way to reach someone on Slack on its own initiative: a direct message from the bot.
 * A message about a register item is remembered (message_links) so a reply in its thread lands
 * on that item.
 */
import type { Db } from '../../src/db/client.js';
import { messageLinks } from '../../src/db/schema/index.js';
import { DeliveryError, type ChatPort } from '../../src/core/port.js';
import type { Person } from '../../src/core/actor.js';
import type { Reply } from '../../src/core/reply.js';
import { isPermanentSlackError, retryAfterMs, type SlackApi } from './api.js';
import { renderMessage } from './render.js';

export function slackPort(db: Db, api: SlackApi): ChatPort {
  return {
    platform: 'slack',
    canReach: (person: Person) => Boolean(person.slackUserId),
    async send(person: Person, message: Reply): Promise<void> {
      if (!person.slackUserId) throw new DeliveryError(`${person.name} has no Slack user id`, undefined, true);
      let posted: { channel?: string; ts?: string };
      try {
        // Posting to a user id opens (or reuses) the bot's direct message with them.
        posted = await api.call('chat.postMessage', { channel: person.slackUserId, ...renderMessage(message) },
          { kind: 'delivery', recipient: person.id, about: message.about });
      } catch (e) {
        throw new DeliveryError(`Slack did not take the message for ${person.name}: ${(e as Error).message}`, retryAfterMs(e), isPermanentSlackError(e));
      }
      if (message.about && posted.channel && posted.ts) {
        await db.insert(messageLinks).values({
          platform: 'slack', conversationId: posted.channel, messageId: posted.ts, recipientId: person.id, subjectRef: message.about,
        }).onConflictDoNothing();
      }
    },
  };
}
