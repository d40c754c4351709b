/**
 * Every identifier the Slack app and its manifest share: the slash command, the request path,
 * action and view ids. manifest/slack/manifest.yml must name the same values (a test checks).
 */

/** The slash command people type. */
export const SLASH_COMMAND = '/isms';

/** Where Slack posts slash commands, interactions and events in HTTP mode. */
export const EVENTS_PATH = '/slack/events';

/** A button that runs the command line in its value as the clicking person. */
export const RUN_ACTION = 'isms_run';
/** A button that opens a form (its value: the form's command and hidden values, as JSON). */
export const OPEN_FORM_ACTION = 'isms_open_form';
/** action_id must be unique within a block, so buttons get a numbered suffix: "isms_run.3". */
export const actionId = (base: string, index: number) => `${base}.${index}`;
export const RUN_ACTION_PATTERN = new RegExp(`^${RUN_ACTION}(\\.\\d+)?$`);
export const OPEN_FORM_ACTION_PATTERN = new RegExp(`^${OPEN_FORM_ACTION}(\\.\\d+)?$`);

/** callback_id of a modal that holds a command's form. */
export const FORM_VIEW = 'isms_form';
/** callback_id of the modal shown while a form is being prepared. */
export const LOADING_VIEW = 'isms_loading';
/** callback_id of a modal that shows a command's answer. */
export const RESULT_VIEW = 'isms_result';
/** callback_id of the App Home tab. */
export const HOME_VIEW = 'isms_home';

/** Each form field is one input block: block_id names the field, action_id is shared. */
export const FIELD_BLOCK_PREFIX = 'isms_field:';
export const FIELD_ACTION = 'isms_value';
export const fieldBlockId = (name: string) => `${FIELD_BLOCK_PREFIX}${name}`;

/** Events the app subscribes to (manifest: settings.event_subscriptions.bot_events). */
export const BOT_EVENTS = ['app_home_opened', 'app_mention', 'message.im'] as const;

/** Bot token scopes the app needs (manifest: oauth_config.scopes.bot). */
export const BOT_SCOPES = ['app_mentions:read', 'commands', 'chat:write', 'im:history', 'im:write', 'users:read', 'users:read.email', 'files:read', 'files:write'] as const;
