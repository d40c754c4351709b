/**
 * Buttons. A "run" button carries a command line that runs as the person who clicked; what was
 * recorded is shown on the clicked message (by whom, when) and the used buttons go, while a
 * refusal or a read is answered privately and leaves the message as it was. An "Open" button
 * opens a form as a modal.
 */
import type { BlockAction, ButtonAction, RespondArguments, RespondFn } from '@slack/bolt';
import { showAnswer, type Answer } from '../../../src/core/inbound.js';
import { answerOnce } from '../../../src/core/claims.js';
import { mayHavePosted } from '../api.js';
import type { Person } from '../../../src/core/actor.js';
import { findForm, type Form, type Reply } from '../../../src/core/reply.js';
import { OPEN_FORM_ACTION_PATTERN, RUN_ACTION_PATTERN } from '../ids.js';
import { LIMITS } from '../limits.js';
import { escapeMrkdwn, fallbackText, formModal, openFormValue, renderBlocks, resultModal } from '../render.js';
import { answeredByDirectMessage, inConversation, privately, respondOrElse, respondWith } from '../answers.js';
import { openLoadingModal, runAndShow, updateOpened, type ModalTarget } from '../modals.js';
import { publishHome } from './home.js';
import { deliverFiles } from '../send-file.js';
import { ask, progressVia, safely, type SlackApp, type SlackContext, type SlackDeps } from './shared.js';

type Click = BlockAction<ButtonAction>;

/** Slack's refusals of chat.update in a conversation the bot is no longer in. */
const UPDATE_REFUSALS = ['channel_not_found', 'not_in_channel'];

/** Clicks of one button that show nothing new are one request when they come within this many seconds. */
const DOUBLE_CLICK_SECONDS = 30;

export function register(app: SlackApp, deps: SlackDeps): void {
  app.action<Click>(RUN_ACTION_PATTERN, async ({ body, action, respond: viaUrl, context }) => {
    const respond = clickRespond(deps, body, viaUrl, context);
    const answer = privately(deps.api, body, respond, context.request);
    const key = clickKey(body, action);
    await safely(deps, context, answer, () => runAndShow(deps, context, action.value ?? '', { idempotencyKey: key, progress: progressVia(answer) }, modalTarget(body), async (done) => {
      const { person } = done;
      // Recorded: a message Slack would not update must not end in "nothing was recorded".
      if (done.reply.outcome === 'recorded' && person) await showAnswer(done.reply, () => recordOnMessage(deps, context, body, action, done, person, respond, key));
      // A read is a question asked again a little later: only a double click (or Slack's retry) is answered once.
      else if (answeredByDirectMessage(body)) await directlyOnce(deps, context, `${key}:dm:${done.reply.outcome ?? 'info'}`, () => answer(done.reply), DOUBLE_CLICK_SECONDS);
      else await answer(done.reply);
    }));
  });

  app.action<Click>(OPEN_FORM_ACTION_PATTERN, async ({ body, action, respond: viaUrl, context }) => {
    const respond = clickRespond(deps, body, viaUrl, context);
    const answer = privately(deps.api, body, respond, context.request);
    await safely(deps, context, answer, async () => {
      // The form's command gives the form; the values the button carries stay hidden in it.
      const wanted = openFormValue(action.value);
      const opened = await openLoadingModal(deps.api, modalTarget(body), context.request);
      const asked = await ask(deps, context, { line: wanted.command });
      const reply = await deliverFiles(deps, context, asked.reply, undefined);
      const found = findForm(reply);
      const hidden = wanted.hidden ?? {};
      const form = found && {
        ...found, hidden: { ...found.hidden, ...hidden },
        fields: found.fields.filter((f) => !(f.name in hidden)).map((f) => (wanted.initial?.[f.name] === undefined ? f : { ...f, initial: wanted.initial[f.name] })),
      };
      const view = form ? formModal(form) : resultModal(reply);
      // Not opened (the trigger expired while the bot was busy), or closed before it was filled in: a
      // message with the form's button, which opens it again with the values this one carried.
      if (!opened || await updateOpened(deps.api, opened, view, context.request) === 'closed') await answer(form ? withForm(reply, form) : reply);
    });
  });
}

/** The reply with its form replaced. */
function withForm(reply: Reply, form: Form): Reply {
  return { ...reply, blocks: reply.blocks.map((b) => (b.type === 'form' ? { ...b, form } : b)) };
}

/** The click's response_url, with its way around once Slack no longer takes answers there. */
function clickRespond(deps: SlackDeps, body: Click, respond: RespondFn, context: SlackContext): RespondFn {
  return respondOrElse(deps.api, respond, context.request, { user: body.user.id, channel: body.channel?.id });
}

/** Shows on the clicked message what was recorded, by whom and when; the clicked buttons go. */
async function recordOnMessage(deps: SlackDeps, context: SlackContext, body: Click, action: ButtonAction, done: Answer, person: Person, respond: RespondFn, key: string): Promise<void> {
  const stamp = {
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `${action.text?.text ? `“${escapeMrkdwn(action.text.text)}” — ` : ''}by <@${body.user.id}> (${escapeMrkdwn(person.name)}) on ${slackDate(new Date())}` }],
  };
  const result = [...renderBlocks(done.reply, LIMITS.messageBlocks), stamp];
  const text = fallbackText(done.reply);
  const container = body.container as { type?: string; is_ephemeral?: boolean };
  if (container.type === 'message' && body.message && body.channel && !container.is_ephemeral) {
    const kept = withoutClicked((body.message.blocks ?? []) as SlackBlock[], action);
    const blocks = [...kept, ...result].slice(-LIMITS.messageBlocks);
    try {
      await deps.api.call('chat.update', { channel: body.channel.id, ts: body.message.ts, blocks, text }, context.request, UPDATE_REFUSALS);
    } catch (e) {
      // A channel the bot was removed from (or a private one it no longer sees): Slack refuses the
      // update, but the click's response_url still replaces the message.
      if (!body.response_url || !UPDATE_REFUSALS.includes((e as { data?: { error?: string } }).data?.error ?? '')) throw e;
      await respondWith(deps.api, respond, { replace_original: true, blocks, text } as RespondArguments, context.request);
    }
  } else if (container.type === 'message' && body.response_url) {
    // An ephemeral message cannot be updated through the API, only replaced through its response_url.
    await respondWith(deps.api, respond, { replace_original: true, blocks: result, text } as RespondArguments, context.request);
  } else {
    // A button on the App Home or in a modal: the answer comes as a direct message, the home is refreshed.
    // A second click (or Slack's retry) gets the stored answer back: a direct message, unlike an
    // update of the clicked message, would show it twice, so it is sent once per click key.
    await directlyOnce(deps, context, `${key}:dm`, () => inConversation(deps.api, body.user.id, context.request)(done.reply));
    // The answer was shown: a home that could not be refreshed (logged) shows the change when next opened.
    if (body.view?.type === 'home') await publishHome(deps, context).catch(() => undefined);
  }
}

/**
 * A direct message answering a click in a view, sent once per click key: unlike an update of the
 * clicked message it would show twice. A read or a refusal is keyed by its outcome too, so a write
 * that follows one on the same view (a role granted meanwhile) is still answered.
 */
async function directlyOnce(deps: SlackDeps, context: SlackContext, key: string, send: () => Promise<void>, renewAfterSeconds?: number): Promise<void> {
  const sent = await answerOnce(deps.core.database.db, key, send, mayHavePosted, renewAfterSeconds);
  if (!sent) deps.core.logger.info({ platform: 'slack', request: context.request }, 'Slack sent a click again that was answered already (a double click or a retry); not answered twice');
}

function modalTarget(body: Click): ModalTarget {
  return { triggerId: body.trigger_id, fromModal: body.view?.type === 'modal' };
}

type SlackBlock = { type: string; block_id?: string; accessory?: { action_id?: string } } & Record<string, unknown>;

/** The clicked message without the buttons just used: the actions block, or a section's button. */
function withoutClicked(blocks: SlackBlock[], action: ButtonAction): SlackBlock[] {
  return blocks.flatMap((b) => {
    if (b.block_id !== action.block_id) return [b];
    if (b.type === 'actions') return [];
    if (b.accessory?.action_id === action.action_id) {
      const { accessory: _gone, ...rest } = b;
      return [rest as SlackBlock];
    }
    return [b];
  });
}

/**
 * One click, one record: the same person pressing the same button on the same message (or the
 * same version of a view) twice runs its command once.
 */
function clickKey(body: Click, action: ButtonAction): string {
  const container = body.container as { message_ts?: string; channel_id?: string };
  const where = body.view ? `view:${body.view.id}:${body.view.hash}` : `${container.channel_id ?? body.channel?.id}:${container.message_ts ?? body.message?.ts}`;
  return `slack:action:${where}:${action.block_id}:${action.action_id}:${body.user.id}`;
}

/** A date Slack shows in each reader's own time zone, with the UTC time as fallback. */
function slackDate(at: Date): string {
  const epoch = Math.floor(at.getTime() / 1000);
  return `<!date^${epoch}^{date_short_pretty} at {time}|${at.toISOString().slice(0, 16).replace('T', ' ')} UTC>`;
}
