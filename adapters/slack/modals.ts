/**
 * Commands that answer with a form get a modal. A trigger_id lives 3 seconds, so a command that
 * is known to ask for its form opens a "Preparing…" modal first and fills it in once the form is
 * known; a form that comes back unexpectedly is opened if the trigger still works. A form whose
 * modal could not open (the trigger expired while the bot was busy) or was closed before it was
 * filled in comes back as a message with a button that opens it.
 */
import type { types as Slack } from '@slack/bolt';
import { showAnswer, type Answer } from '../../src/core/inbound.js';
import { tokenize, type CommandRouter } from '../../src/core/router.js';
import { findForm } from '../../src/core/reply.js';
import { mayHavePosted, type RequestInfo, type SlackApi } from './api.js';
import { formModal, loadingModal, resultModal } from './render.js';
import { deliverFiles } from './send-file.js';
import { showing } from './answers.js';
import { ask, type AskOptions, type SlackContext, type SlackDeps } from './listeners/shared.js';

/** Where a modal goes: opened with a trigger, or pushed onto the modal the click came from. */
export interface ModalTarget { triggerId: string; fromModal?: boolean }

export interface OpenedView { id: string; hash: string }

/**
 * Runs a command line as the context's user. A form goes into a modal; any other answer (or a
 * form whose modal could not be opened) goes to `otherwise`, with its files sent first.
 */
export async function runAndShow(deps: SlackDeps, context: SlackContext, line: string, options: Pick<AskOptions, 'idempotencyKey' | 'progress'>,
  target: ModalTarget, otherwise: (answer: Answer) => Promise<void>): Promise<void> {
  // A trigger that failed once (expired, most likely) is not tried again.
  const triedTrigger = asksForForm(deps.core.router, line);
  const opened = triedTrigger ? await openLoadingModal(deps.api, target, context.request) : undefined;
  const asked = await ask(deps, context, { line }, options);
  const answer = { ...asked, reply: await deliverFiles(deps, context, asked.reply, options.idempotencyKey) };
  const form = findForm(answer.reply);
  if (opened) {
    let closed = false;
    await showAnswer(answer.reply, async (reply) => { closed = await updateOpened(deps.api, opened, form ? formModal(form) : resultModal(reply), context.request) === 'closed'; });
    if (!closed) return;
  } else if (form && !triedTrigger && await openModal(deps.api, target, formModal(form), context.request)) return;
  await otherwise(answer);
}

/**
 * Fills in the "Preparing…" modal; 'closed' when the person closed it meanwhile (Slack answers
 * not_found), so the answer must go another way.
 */
export async function updateOpened(api: SlackApi, opened: OpenedView, view: Slack.ModalView, request: RequestInfo): Promise<'shown' | 'closed'> {
  try {
    await showing(() => api.call('views.update', { view_id: opened.id, hash: opened.hash, view }, request, ['not_found']));
    return 'shown';
  } catch (e) {
    if ((e as { data?: { error?: string } }).data?.error === 'not_found') return 'closed';
    throw e;
  }
}

/** True when the line names a command without arguments, which answers with its form. */
function asksForForm(router: CommandRouter, line: string): boolean {
  const words = tokenize(line.trim().replace(/^\/?isms\b/i, ''));
  const matched = words.length ? router.match(words) : undefined;
  return Boolean(matched && matched.rest.length === 0 && matched.spec.form);
}

export async function openLoadingModal(api: SlackApi, target: ModalTarget, request: RequestInfo): Promise<OpenedView | undefined> {
  try {
    return (await openView(api, target, loadingModal(), request)).view;
  } catch {
    return undefined; // logged; the answer goes back as a message instead
  }
}

async function openModal(api: SlackApi, target: ModalTarget, view: Slack.ModalView, request: RequestInfo): Promise<boolean> {
  try {
    await openView(api, target, view, request);
    return true;
  } catch (e) {
    // E.g. the trigger expired: the form goes back as a message with an "Open" button. One that may
    // have opened (a 504, a connection lost) is not sent as a message too.
    return mayHavePosted(e);
  }
}

/** From inside a modal a new view is pushed onto it; anywhere else a modal is opened. */
function openView(api: SlackApi, target: ModalTarget, view: Slack.ModalView, request: RequestInfo) {
  return api.call<{ view: OpenedView }>(target.fromModal ? 'views.push' : 'views.open', { trigger_id: target.triggerId, view }, request);
}
