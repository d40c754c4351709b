/** "/isms …": the typed line, as the person meant it, through the inbound pipeline. */
import { SLASH_COMMAND } from '../ids.js';
import { fromSlackCommand, withoutMentionLabels } from '../text.js';
import { mentionedNames } from '../people.js';
import { respondOrElse, viaResponseUrl } from '../answers.js';
import { runAndShow } from '../modals.js';
import { progressVia, safely, type SlackApp, type SlackDeps } from './shared.js';

export function register(app: SlackApp, deps: SlackDeps): void {
  app.command(SLASH_COMMAND, async ({ command, respond: viaUrl, context }) => {
    const respond = respondOrElse(deps.api, viaUrl, context.request, { user: command.user_id, channel: command.channel_id });
    const answer = viaResponseUrl(deps.api, respond, context.request, false);
    const options = { idempotencyKey: `slack:command:${command.trigger_id}`, progress: progressVia(answer) };
    await safely(deps, context, answer, async () => {
      // People mentioned are named as the register (else Slack) knows them, so a command finds them.
      const names = await mentionedNames(deps.core.database.db, deps.api, withoutMentionLabels(command.text), context.request);
      await runAndShow(deps, context, fromSlackCommand(command.text, names), options, { triggerId: command.trigger_id }, ({ reply }) => answer(reply));
    });
  });
}
