/**
 * Where an answer goes in Slack: through a command's or a click's response_url (private unless the
 * reply is public), into a conversation or a thread, or as a direct message. A response_url takes
 * 5 posts within 30 minutes: an answer it refuses (a command that took longer, under a slow
 * database) comes by other means instead (see respondOrElse).
 */
import type { BlockAction, ButtonAction, RespondArguments, RespondFn } from '@slack/bolt';
import { mayHavePosted, type RequestInfo, type SlackApi } from './api.js';
import { showAnswer } from '../../src/core/inbound.js';
import { renderMessage } from './render.js';
import type { Show } from './listeners/shared.js';

/** Errors of a call that showed (or tried to show) an answer: see shownMaybe. */
const failedPosts = new WeakSet<object>();

/**
 * Runs a call that shows an answer: a post, or a modal, the App Home or a message updated with it.
 * Its failure is remembered as such (see shownMaybe).
 */
export function showing<T>(post: () => Promise<T>): Promise<T> {
  return post().catch((e: unknown) => {
    if (e && typeof e === 'object') failedPosts.add(e);
    throw e;
  });
}

/**
 * True when `e` is the failure of showing an answer that may still have reached the person (a
 * timeout, a 504, a connection lost mid-request): a follow-up saying something went wrong would
 * contradict an answer they may be reading.
 */
export function shownMaybe(e: unknown): boolean {
  return Boolean(e && typeof e === 'object' && failedPosts.has(e)) && mayHavePosted(e);
}

/** Who asked, and where: the way to them when their response_url no longer takes answers. */
export interface Asker { user: string; channel?: string }

/**
 * A response_url post that falls back when Slack refuses it for good (404: used 5 times already,
 * or older than 30 minutes): a public answer is posted into the channel, a private one (or a public
 * one the channel does not take) comes as a direct message. Nothing was posted by the refused try,
 * so the person reads the answer once; later answers to the same request skip the spent URL.
 */
export function respondOrElse(api: SlackApi, respond: RespondFn, request: RequestInfo, asker: Asker): RespondFn {
  let spent = false;
  return async (message) => {
    const payload: RespondArguments = typeof message === 'string' ? { text: message } : message;
    if (!spent) {
      try {
        return await respond(payload);
      } catch (e) {
        if (!responseUrlSpent(e)) throw e;
        spent = true;
        api.logResponseUrlSpent(request);
      }
    }
    const { blocks } = payload as { blocks?: unknown[] };
    const shown = { text: payload.text ?? '', ...(blocks ? { blocks } : {}) };
    if (payload.response_type === 'in_channel' && asker.channel) {
      try {
        return await api.call('chat.postMessage', { channel: asker.channel, ...shown }, request);
      } catch (e) {
        if (mayHavePosted(e)) throw e;
      }
    }
    return api.call('chat.postMessage', { channel: asker.user, ...shown }, request);
  };
}

/** Slack's 404 for a response_url: used 5 times already (used_url), or older than 30 minutes (expired_url). */
function responseUrlSpent(e: unknown): boolean {
  const err = e as { code?: string; statusCode?: number };
  return err?.code === 'slack_bolt_respond_error' && err.statusCode === 404;
}

/** Through a response_url: a slash command's public reply goes to the channel, anything else only to the person. */
export function viaResponseUrl(api: SlackApi, respond: RespondFn, request: RequestInfo, isClick: boolean): Show {
  return (answer) => showAnswer(answer, (reply) => respondWith(api, respond, {
    response_type: reply.visibility === 'public' && !isClick ? 'in_channel' : 'ephemeral',
    ...(isClick ? { replace_original: false } : {}),
    ...renderMessage(reply),
  }, request));
}

export async function respondWith(api: SlackApi, respond: RespondFn, payload: RespondArguments, request: RequestInfo): Promise<void> {
  try {
    await showing(async () => { await respond(payload); });
  } catch (e) {
    api.logRespondFailure(e, request);
    throw e;
  }
}

/** A message in a conversation (a user id means the bot's direct message with them), or in a thread of it. */
export function inConversation(api: SlackApi, channel: string, request: RequestInfo, threadTs?: string): Show {
  return (answer) => showAnswer(answer, async (reply) => {
    await showing(async () => { await api.call('chat.postMessage', { channel, ...(threadTs ? { thread_ts: threadTs } : {}), ...renderMessage(reply) }, request); });
  });
}

/** A private answer to a click: ephemeral under the message, a direct message for a button in a view. */
export function privately(api: SlackApi, body: BlockAction<ButtonAction>, respond: RespondFn, request: RequestInfo): Show {
  if (!answeredByDirectMessage(body)) return viaResponseUrl(api, respond, request, true);
  return inConversation(api, body.user.id, request);
}

/** A click in a view (a modal, the App Home) has no message to answer under: its answer is a direct message. */
export function answeredByDirectMessage(body: BlockAction<ButtonAction>): boolean {
  return !(body.response_url && (body.container as { type?: string }).type === 'message');
}
