/**
 * A submitted form modal. Without files the answer is known within Slack's 3 seconds and comes
 * back with the acknowledgement: the result in the modal, or each problem under its field. With
 * files, whose download may take longer, the modal is acknowledged at once with a "Recording…"
 * view (after the checks that need no file), and the result replaces it when the files are in,
 * or comes as a direct message when the modal was closed meanwhile. An answer with a file (an
 * export) says "Sending…" with the acknowledgement, and whether it was sent once it was.
 */
import type { ViewResponseAction, ViewSubmitAction } from '@slack/bolt';
import type { Reply } from '../../../src/core/reply.js';
import { replyText, toPlainText } from '../../../src/core/reply.js';
import type { CommandRouter } from '../../../src/core/router.js';
import { FIELD_BLOCK_PREFIX, FORM_VIEW, fieldBlockId } from '../ids.js';
import { fetchAttachments } from '../files.js';
import { cut } from '../limits.js';
import { decodeMeta, pendingModal, readFormValues, resultModal } from '../render.js';
import { inConversation, showing } from '../answers.js';
import { mayHavePosted } from '../api.js';
import { showAnswer } from '../../../src/core/inbound.js';
import { deliverFiles, hasFile, whileSending } from '../send-file.js';
import { ask, progressVia, safely, type Show, type SlackApp, type SlackContext, type SlackDeps } from './shared.js';

/** Slack's limit for one field's error in a modal. */
const MAX_ERROR = 2000;

/** The answer to a form the bot can no longer read (one opened by an earlier version of the app). */
const outOfDate = (): ViewResponseAction => ({ response_action: 'update', view: resultModal(replyText('This form is out of date. Close it and run the command again.', 'error')) });

export function register(app: SlackApp, deps: SlackDeps): void {
  // Any other modal submitted is answered at once too: unanswered, Slack would show the person an
  // error after 3 seconds ("We had some trouble connecting").
  app.view<ViewSubmitAction>({ type: 'view_submission', callback_id: new RegExp(`^(?!${FORM_VIEW}$)`) }, async ({ ack }) => { await ack(outOfDate()); });

  app.view<ViewSubmitAction>(FORM_VIEW, async ({ ack, body, view, context }) => {
    const meta = decodeMeta(view.private_metadata);
    if (!meta) {
      await ack(outOfDate());
      return;
    }
    const { values, files } = readFormValues(view.state.values as Parameters<typeof readFormValues>[0]);
    const request = { command: meta.command, values: { ...meta.hidden, ...values } };
    const fieldBlocks = Object.keys(view.state.values).filter((id) => id.startsWith(FIELD_BLOCK_PREFIX));
    const idempotencyKey = `slack:view:${view.id}`;

    const dm = inConversation(deps.api, body.user.id, context.request);
    if (files.length === 0) {
      const { reply } = await ask(deps, context, request, { idempotencyKey, progress: progressVia(dm) });
      await ack(submissionAnswer(hasFile(reply) ? whileSending(reply) : reply, fieldBlocks));
      if (hasFile(reply)) await safely(deps, context, dm, async () => showInModal(deps, context, view.id, dm, await deliverFiles(deps, context, reply, idempotencyKey)));
      return;
    }
    const early = schemaErrors(deps.core.router, meta.command, request.values, fieldBlocks);
    if (early) {
      await ack({ response_action: 'errors', errors: early });
      return;
    }
    await ack({ response_action: 'update', view: pendingModal('⏳ Recording… The result shows here in a moment.') });
    await safely(deps, context, dm, async () => {
      const { reply } = await ask(deps, context, request, {
        idempotencyKey, attachments: () => fetchAttachments(deps.api, files.map((f) => f.id), context.request),
      });
      await showInModal(deps, context, view.id, dm, await deliverFiles(deps, context, reply, idempotencyKey));
    });
  });
}

/**
 * An answer known after the acknowledgement replaces the modal (which keeps its id through a
 * response_action "update"); a direct message brings it when Slack refused the update (the modal was
 * closed meanwhile). An update that may have reached the modal (a 504, a connection lost) is not sent
 * again: a recorded answer ends in the word that it was recorded, a read in nothing more.
 */
async function showInModal(deps: SlackDeps, context: SlackContext, viewId: string, dm: Show, reply: Reply): Promise<void> {
  await showAnswer(reply, async (shown) => {
    try {
      await showing(() => deps.api.call('views.update', { view_id: viewId, view: resultModal(shown) }, context.request));
    } catch (e) {
      if (mayHavePosted(e)) throw e;
      await dm(shown);
    }
  });
}

/** A refusal stays in the open form, each reason under its field; anything else replaces the form. */
function submissionAnswer(reply: Reply, fieldBlocks: string[]): ViewResponseAction {
  if (reply.outcome === 'refused' && fieldBlocks.length) {
    const errors = reply.fieldErrors ?? { '': toPlainText(reply) };
    return { response_action: 'errors', errors: underFields(errors, fieldBlocks) };
  }
  return { response_action: 'update', view: resultModal(reply) };
}

/** Problems by field name onto the modal's blocks: a field without a block of its own goes under the first. */
function underFields(fieldErrors: Record<string, string>, fieldBlocks: string[]): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const [field, message] of Object.entries(fieldErrors)) {
    const own = fieldBlocks.includes(fieldBlockId(field));
    const block = own ? fieldBlockId(field) : fieldBlocks[0];
    const said = own || !field ? message : `${field}: ${message}`;
    errors[block] = cut(errors[block] ? `${errors[block]}; ${said}` : said, MAX_ERROR);
  }
  return errors;
}

/** The command's own schema on the submitted values: what is wrong before any file is fetched. */
function schemaErrors(router: CommandRouter, command: string, submitted: Record<string, unknown>, fieldBlocks: string[]): Record<string, string> | undefined {
  const spec = router.find(command);
  if (!spec || fieldBlocks.length === 0) return undefined;
  const present = Object.fromEntries(Object.entries(submitted).filter(([, v]) => v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0)));
  const parsed = spec.schema.safeParse(present);
  if (parsed.success) return undefined;
  const byField: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const field = String(issue.path[0] ?? '');
    byField[field] = byField[field] ? `${byField[field]}; ${issue.message}` : issue.message;
  }
  return underFields(byField, fieldBlocks);
}
