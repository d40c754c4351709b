// From its own module, not the package index: the index also loads the AI planners, tokenizers and model
// clients the bot does not use (about 40 % of the Teams SDK's start-up time).
import { Application } from '@microsoft/teams-ai/lib/Application.js';
import type { TurnContext } from 'botbuilder';
import type { Core } from '../../src/app.js';
import type { HttpServer } from '../../src/http.js';
import { AnswerNotShown, busyReply, faultReply } from '../../src/core/inbound.js';
import type { ChatPort } from '../../src/core/port.js';
import { cardActivity } from './cards.js';
import { ActivityAdapter, serveActivity } from './http.js';
import { answerMayHaveArrived, retryOnlyWhatDidNotArrive, safeError, teamsOutbound } from './outbound.js';
import { addRoutes } from './routes.js';

export const MESSAGES_PATH = '/api/messages';

/**
 * The "busy" answer, the same for every message turned away: built once, as the turn copies an activity
 * before it adds the conversation to it. Under load most messages get it.
 */
const BUSY_ACTIVITY = cardActivity(busyReply());

export interface TeamsBot {
  app: Application;
  adapter: ActivityAdapter;
  port: ChatPort;
  /** The turn error handler; a test adapter driving `app.run` uses it too. */
  onTurnError: (context: TurnContext, error: Error) => Promise<void>;
}

/** Serves the Teams bot on POST /api/messages of the bot's HTTP server and gives the port that reaches people in Teams. */
export async function attachTeams(core: Core, http: HttpServer): Promise<{ port: ChatPort; stop(): Promise<void> }> {
  const bot = createTeamsBot(core);
  /** Requests being answered and turns still owing their replies: a stop waits for both. */
  const inFlight = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    inFlight.add(work);
    const forget = () => { inFlight.delete(work); };
    work.then(forget, forget);
  };
  let stopping = false;
  if (!core.config.teams?.appId) {
    core.logger.warn('Teams: MICROSOFT_APP_ID is not set, so requests to /api/messages are NOT authenticated. Use this only for local testing.');
  }
  http.route('POST', MESSAGES_PATH, async (req, res) => {
    if (stopping) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('shutting down');
      return;
    }
    const answering = serveActivity(bot.adapter, req, res, async (context) => {
      retryOnlyWhatDidNotArrive(context);
      // Past the limit a message (a typed command or a card's button) is answered "busy" and not run.
      if (context.activity.type === 'message' && core.inFlight.full) {
        await context.sendActivity(BUSY_ACTIVITY);
        return;
      }
      await core.inFlight.run(() => bot.app.run(context));
    }, core.logger, (turn) => {
      // A turn answered after its HTTP response still counts as a request in flight for the process's graceful stop.
      track(turn);
      void http.inFlight.run(() => turn);
    });
    track(answering);
    await answering;
  });
  core.logger.info({ path: MESSAGES_PATH, authenticated: Boolean(core.config.teams?.appId) }, 'Teams bot listening');
  return {
    port: bot.port,
    async stop() {
      stopping = true;
      // Turns started meanwhile (the one a request in flight hands on) are waited for too.
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
  };
}

/** The teams-ai Application with the bot's routes, on a TeamsAdapter configured from config.teams. */
export function createTeamsBot(core: Core): TeamsBot {
  const { config, logger } = core;
  const appId = config.teams?.appId;
  const adapter = new ActivityAdapter({
    MicrosoftAppId: appId ?? '',
    MicrosoftAppPassword: config.teams?.appPassword ?? '',
    MicrosoftAppTenantId: config.teams?.tenantId ?? '',
    MicrosoftAppType: config.teams?.appType ?? 'MultiTenant',
  });
  // Typing indicators would interleave with replies of concurrent turns; commands answer quickly anyway.
  const app = new Application({ adapter, botAppId: appId, removeRecipientMention: true, startTypingTimer: false });
  // Application.run starts the typing timer whatever startTypingTimer says (teams-ai 1.x): a turn
  // slower than a second would send "typing" between the replies.
  app.startTypingTimer = () => undefined;
  const out = teamsOutbound(adapter, appId, core.database.db, logger, undefined, config.teams?.tenantId);
  addRoutes(app, core, out);

  // The pipeline answers its own faults; this catches what fails around it, such as sending the answer.
  const onTurnError = async (context: TurnContext, error: Error) => {
    // An answer that may have arrived (a 504, a connection lost after sending) gets no follow-up: "nothing
    // was recorded" after it is noise at best, and wrong after a write. A recorded write is told so instead.
    if (answerMayHaveArrived(error) && !(error instanceof AnswerNotShown)) {
      logger.error({ err: safeError(error), activityType: context.activity?.type, activityId: context.activity?.id }, 'Teams turn failed; its answer may have been shown, so no follow-up');
      return;
    }
    logger.error({ err: safeError(error), activityType: context.activity?.type, activityId: context.activity?.id }, 'Teams turn failed');
    try {
      await context.sendActivity(cardActivity(faultReply(error)));
    } catch (e) {
      logger.warn({ err: safeError(e) }, 'could not tell the Teams user about the failure');
    }
  };
  app.error(onTurnError);

  return { app, adapter, port: out.port, onTurnError };
}
