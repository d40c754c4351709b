/**
 * The Slack listeners, one module per kind (commands, actions, views, events, home), behind one
 * global middleware that acknowledges and describes each request.
 */
import * as actions from './actions.js';
import * as commands from './commands.js';
import * as events from './events.js';
import * as home from './home.js';
import * as views from './views.js';
import { acknowledgeAndDescribe } from './shared.js';
export function registerListeners(app, deps) {
    app.use(acknowledgeAndDescribe(deps));
    commands.register(app, deps);
    actions.register(app, deps);
    views.register(app, deps);
    events.register(app, deps);
    home.register(app, deps);
}
//# sourceMappingURL=index.js.map