/**
 * What every listener shares: the core and the Web API, and a global middleware that acknowledges
 * the request at once (Slack wants an answer within 3 seconds; a modal submission acknowledges
 * with its own response) and puts the acting Slack user and a log description on the context.
 */
import type { AnyMiddlewareArgs, App, BlockAction, ButtonAction, Middleware, RespondArguments, RespondFn } from '@slack/bolt';
import type { Core } from '../../../src/app.js';
import type { Answer, Ask, PlatformUser, Request } from '../../../src/core/inbound.js';
import { AnswerNotShown, busyReply, faultReply } from '../../../src/core/inbound.js';
import { tokenize } from '../../../src/core/router.js';
import { replyText, type Reply } from '../../../src/core/reply.js';
import type { RequestInfo, SlackApi } from '../api.js';
import { slackUser, type Home } from '../people.js';
import { decodeMeta, openFormValue, renderMessage } from '../render.js';
import { OPEN_FORM_ACTION_PATTERN } from '../ids.js';
import { fromSlackText } from '../text.js';
import { privately, shownMaybe } from '../answers.js';

export interface SlackDeps {
  core: Core;
  api: SlackApi;
  /** The workspace (and org) the app is installed in, from auth.test: whose people the app serves. */
  home?: Home;
}

/** What the global middleware puts on every request's context. */
export interface SlackContext {
  /** The Slack user acting; the pipeline decides who that is in the register. */
  user: PlatformUser;
  /** The request, for log lines (ids and the command's first words, never its arguments). */
  request: RequestInfo;
  [key: string]: unknown;
}

export type SlackApp = App<SlackContext>;

/** Where an answer goes: a response_url, a thread, a direct message... */
export type Show = (reply: Reply) => Promise<void>;

export function acknowledgeAndDescribe(deps: SlackDeps): Middleware<AnyMiddlewareArgs, SlackContext> {
  return async (args) => {
    // Acknowledged before anything else runs: the ack is all Slack waits for. Events are acknowledged
    // by Bolt itself; a submission's acknowledgement carries its answer.
    if ('ack' in args && args.ack && (args.body as Body).type !== 'view_submission') await (args.ack as () => Promise<void>)();
    const { user, request, origin } = describe(args.body as Body, args.context.retryNum);
    args.context.request = request;
    args.context.user = slackUser(deps.api, user ?? '', request, deps.home ?? { teamId: args.context.teamId, enterpriseId: args.context.enterpriseId }, origin);
    await args.next();
  };
}

/** A slash command's busy acknowledgement: the same for every one, so rendered once. */
let busyAck: RespondArguments | undefined;
export function busyAcknowledgement(): RespondArguments {
  return busyAck ??= { response_type: 'ephemeral', ...renderMessage(busyReply()) };
}

/** At most one warning a minute about commands refused as busy, with how many were. */
const BUSY_WARNING_MS = 60_000;

/** Counts a command refused as busy, and warns at most once a minute with how many were. */
export function busyWarning(core: Core): () => void {
  const { inFlight, logger } = core;
  let refused = 0;
  let warnedAt = -Infinity;
  return () => {
    refused++;
    if (Date.now() - warnedAt < BUSY_WARNING_MS) return;
    logger.warn({ platform: 'slack', refused, inFlight: inFlight.size, limit: inFlight.limit }, 'busy: commands answered "try again" without running them (ISMS_MAX_IN_FLIGHT)');
    warnedAt = Date.now();
    refused = 0;
  };
}

/**
 * Counts each request in the core's work in flight. Past its limit, a slash command or a click is
 * acknowledged at once and answered "busy" without running (nothing is recorded), so commands never
 * queue up behind the database; events and form submissions are still taken on. A command's busy
 * answer rides on its acknowledgement; a click's goes where its answer would. A command the front
 * door acknowledged (context.acknowledged) was let in there, against the same limit.
 */
export function boundInFlight(deps: SlackDeps, refused = busyWarning(deps.core)): Middleware<AnyMiddlewareArgs, SlackContext> {
  const { inFlight } = deps.core;
  return async (args) => {
    const body = args.body as Body;
    const command = typeof body.command === 'string';
    const ack = 'ack' in args ? args.ack as ((answer?: RespondArguments) => Promise<void>) | undefined : undefined;
    if (!inFlight.full || !ack || (command && args.context.acknowledged) || !(command || body.type === 'block_actions')) {
      await inFlight.run(args.next);
      return;
    }
    refused();
    // A slash command's acknowledgement can carry its answer: the cheapest answer there is, under load.
    if (command) {
      await ack(busyAcknowledgement());
      return;
    }
    await ack();
    const { request } = describe(body, args.context.retryNum);
    await privately(deps.api, body as BlockAction<ButtonAction>, (args as { respond?: RespondFn }).respond!, request)(busyReply()).catch(() => undefined);
  };
}

export type AskOptions = Pick<Ask, 'idempotencyKey' | 'attachments' | 'progress'>;

/** A command's interim message ("your export is on its way"), shown privately where its answer goes. */
export function progressVia(show: Show): (message: string) => Promise<void> {
  return (message) => show({ ...replyText(message), visibility: 'private' });
}

/** Runs a request through the core's inbound pipeline as the context's Slack user. */
export function ask(deps: SlackDeps, context: SlackContext, request: Request, options: AskOptions = {}): Promise<Answer> {
  return deps.core.inbound.handle({ from: { user: context.user }, channel: 'slack', request, logContext: { platform: 'slack', request: context.request }, ...options });
}

/**
 * Work around the pipeline (Web API calls, the event claim) that failed: logged, and the person
 * told that nothing was recorded when there is still a way to tell them.
 */
export async function safely(deps: SlackDeps, context: SlackContext, show: Show | undefined, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (e) {
    // An answer that may have been shown gets no follow-up: "nothing was recorded" after a reply that
    // recorded nothing is noise at best, and after one that did would be wrong.
    if (shownMaybe(e) && !(e instanceof AnswerNotShown)) {
      deps.core.logger.error({ platform: 'slack', request: context.request, err: e }, 'Slack request failed; its answer may have been shown, so no follow-up');
      return;
    }
    deps.core.logger.error({ platform: 'slack', request: context.request, err: e }, 'Slack request failed');
    await show?.(faultReply(e)).catch(() => undefined);
  }
}

type Body = Record<string, any>;

/**
 * The acting user, the request for the log, and the user's own workspace (and org) where the payload
 * names it: a slash command's team, a click's or a submission's user.team_id, an event's user_team (which
 * Slack adds in Slack Connect conversations).
 */
function describe(body: Body, retry: number | undefined): { user?: string; request: RequestInfo; origin?: Home } {
  if (typeof body.command === 'string') {
    // The command's name is read only when a log line names it: most requests are never logged.
    const request = { kind: 'slash_command', user: body.user_id, channel: body.channel_id, get command() { return commandName(fromSlackText(body.text ?? '')); } };
    return {
      user: body.user_id, request,
      origin: { teamId: body.team_id || undefined, enterpriseId: body.enterprise_id || undefined },
    };
  }
  const origin = { teamId: body.user?.team_id || undefined, enterpriseId: body.enterprise?.id ?? body.team?.enterprise_id ?? undefined };
  if (body.type === 'block_actions') {
    const action = body.actions?.[0] ?? {};
    const line = OPEN_FORM_ACTION_PATTERN.test(action.action_id ?? '') ? openFormValue(action.value).command : action.value ?? '';
    return { user: body.user?.id, request: { kind: 'block_action', user: body.user?.id, channel: body.channel?.id, action: action.action_id, command: commandName(line) }, origin };
  }
  if (body.type === 'view_submission') {
    return { user: body.user?.id, request: { kind: 'view_submission', user: body.user?.id, view: body.view?.id, command: decodeMeta(body.view?.private_metadata)?.command }, origin };
  }
  if (body.type === 'event_callback') {
    const event = body.event ?? {};
    // An edit (message_changed) names its author on the message as it is now.
    const user = event.user ?? event.message?.user;
    const team = event.user_team ?? event.message?.user_team;
    return { user, request: { kind: event.type, event_id: body.event_id, user, channel: event.channel, retry }, origin: { teamId: typeof team === 'string' ? team : undefined } };
  }
  return { user: body.user?.id, request: { kind: String(body.type) } };
}

/** The command's first words, for the log (not its arguments, which may hold personal data). */
function commandName(line: string): string {
  return tokenize(line).slice(0, 2).join(' ') || '(none)';
}
