/**
 * The Slack listeners, one module per kind (commands, actions, views, events, mentions, home), behind one
 * global middleware that acknowledges and describes each request.
 */
import * as actions from './actions.js';
import * as commands from './commands.js';
import * as events from './events.js';
import * as home from './home.js';
import * as mentions from './mentions.js';
import * as views from './views.js';
import { acknowledgeAndDescribe, type SlackApp, type SlackDeps } from './shared.js';

export function registerListeners(app: SlackApp, deps: SlackDeps): void {
  app.use(acknowledgeAndDescribe(deps));
  commands.register(app, deps);
  actions.register(app, deps);
  views.register(app, deps);
  events.register(app, deps);
  mentions.register(app, deps);
  home.register(app, deps);
}
