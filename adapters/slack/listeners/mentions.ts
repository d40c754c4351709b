/**
 * "@ISMS I started using Otter for meeting notes" in a channel: the message goes to the pipeline as
 * plain language, and whatever it answers (a proposed form, or without AI assistance a hint how to use
 * /isms) reaches only the person who mentioned the bot: ephemeral in that channel (in the thread when
 * the mention was in one), or in their direct message when Slack refuses the ephemeral (the bot is
 * not in the channel, say). The channel itself never sees an answer. One message is answered once:
 * the first delivery claims it before the model is asked, and a delivery Slack repeats is dropped,
 * as is the app_mention Slack sends again (with a new event id) when the person edits the message.
 */
import type { Reply } from '../../../src/core/reply.js';
import { answerOnce } from '../../../src/core/claims.js';
import { inConversation } from '../answers.js';
import { renderMessage } from '../render.js';
import { fromSlackText, withEmoji } from '../text.js';
import { mayHavePosted, type RequestInfo, type SlackApi } from '../api.js';
import { ask, safely, type Show, type SlackApp, type SlackDeps } from './shared.js';

interface AppMention {
  user?: string;
  bot_id?: string;
  channel: string;
  text?: string;
  ts: string;
  thread_ts?: string;
  blocks?: unknown[];
}

export function register(app: SlackApp, deps: SlackDeps): void {
  app.event('app_mention', async ({ event, context }) => {
    const mention = event as unknown as AppMention;
    // Direct messages arrive as message.im; a bot mentioning the bot is nobody to answer.
    if (!mention.user || mention.bot_id || mention.channel.startsWith('D')) return;
    const show = privatelyIn(deps.api, mention.channel, mention.user, context.request, mention.thread_ts);
    await safely(deps, context, show, async () => {
      const answered = await answerOnce(deps.core.database.db, `slack:mention:${mention.channel}:${mention.ts}`, async () => {
        const message = fromSlackText(withoutMention(withEmoji(mention.text ?? '', mention.blocks), context.botUserId as string | undefined));
        await show((await ask(deps, context, { message })).reply);
      }, mayHavePosted);
      if (!answered) deps.core.logger.info({ platform: 'slack', request: context.request }, 'Slack delivered a mention again that was answered already (a repeat, or the message edited); not answered twice');
    });
  });
}

/** The text without the bot's own mention ("<@U0BOT123>"); other mentions stay, and the pipeline minimises them. */
export function withoutMention(text: string, botUserId: string | undefined): string {
  const own = botUserId ? new RegExp(`<@${botUserId}(\\|[^>]*)?>`, 'g') : /^\s*<@[UW][A-Z0-9]+(\|[^>]*)?>/;
  return text.replace(own, ' ').replace(/\s+/g, ' ').trim();
}

/** Ephemeral to `user` in the channel; their direct message with the bot when Slack refuses that. */
function privatelyIn(api: SlackApi, channel: string, user: string, request: RequestInfo, threadTs?: string): Show {
  const direct = inConversation(api, user, request);
  return async (reply: Reply) => {
    try {
      await api.call('chat.postEphemeral', { channel, user, ...(threadTs ? { thread_ts: threadTs } : {}), ...renderMessage(reply) }, request);
    } catch (e) {
      // An ephemeral that may have been shown (its connection lost mid-request) is neither sent again
      // nor followed by an apology; the call logged its failure.
      if (mayHavePosted(e)) return;
      await direct(reply);
    }
  };
}
