/** The App Home tab: the person's to-do ("/isms status"), published each time they open it. */
import { homeView } from '../render.js';
import { ask, safely } from './shared.js';
const HOME_HEADING = 'Your ISMS to-do';
export function register(app, deps) {
    app.event('app_home_opened', async ({ event, context }) => {
        if (event.tab !== 'home')
            return;
        await safely(deps, context, undefined, () => publishHome(deps, context));
    });
}
/** Publishes the context user's home: their to-do, or whom to ask when they are not in the register. */
export async function publishHome(deps, context) {
    const { reply } = await ask(deps, context, { line: 'status' });
    await deps.api.call('views.publish', { user_id: context.user.id, view: homeView(reply, HOME_HEADING) }, context.request);
}
//# sourceMappingURL=home.js.map