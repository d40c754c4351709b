/** "/isms …": the typed line, as the person meant it, through the inbound pipeline. */
import { SLASH_COMMAND } from '../ids.js';
import { fromSlackText } from '../text.js';
import { viaResponseUrl } from '../answers.js';
import { runAndShow } from '../modals.js';
import { progressVia, safely } from './shared.js';
export function register(app, deps) {
    app.command(SLASH_COMMAND, async ({ command, respond, context }) => {
        const answer = viaResponseUrl(deps.api, respond, context.request, false);
        const options = { idempotencyKey: `slack:command:${command.trigger_id}`, progress: progressVia(answer) };
        await safely(deps, context, answer, () => runAndShow(deps, context, fromSlackText(command.text), options, { triggerId: command.trigger_id }, ({ reply }) => answer(reply)));
    });
}
//# sourceMappingURL=commands.js.map