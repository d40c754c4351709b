import { TeamsInfo, type TeamsChannelAccount, type TurnContext } from 'botbuilder';
import type { Logger } from 'pino';
import type { PlatformProfile, PlatformUser } from '../../src/core/inbound.js';
import { safeError } from './outbound.js';

/**
 * The Teams account behind a turn, as the inbound pipeline asks for it: the Entra (AAD) object id,
 * and, only when the register needs it, the email Teams knows (the member look-up, else what the
 * activity carries) and the timezone the client reports. The member look-up is made once per turn.
 */
export async function teamsUser(context: TurnContext, logger: Logger): Promise<PlatformUser> {
  const activity = context.activity;
  let profile: Promise<PlatformProfile> | undefined;
  let member: Promise<TeamsChannelAccount> | undefined;
  const lookUp = (id: string) => (member ??= TeamsInfo.getMember(context, id));
  return {
    platform: 'teams',
    id: await entraIdOf(context, lookUp),
    timezone: activity.localTimezone || undefined,
    profile: () => (profile ??= (async () => ({ ...await emailOf(context, lookUp, logger), timezone: activity.localTimezone || undefined }))()),
    external: async () => {
      // Teams has no personal chat between a bot and a member of another tenant: only a shared channel
      // or a group chat may hold one, and only the member look-up names their tenant.
      if (activity.conversation?.conversationType === 'personal' || !activity.from?.id) return false;
      const home = homeTenant(context);
      const tenant = await lookUp(activity.from.id).then((m) => m.tenantId, () => undefined);
      return tenant && home ? tenant !== home : undefined;
    },
    ...(activity.channelId && activity.channelId !== 'msteams' ? { testChat: TEST_CHATS[activity.channelId] ?? activity.channelId } : {}),
  };
}

/**
 * The Entra (AAD) object id of the turn's sender. Teams leaves it out of an activity now and then (the
 * Bot Framework has it optional); the member look-up then has it. Undefined when neither gives one.
 */
export async function entraIdOf(context: TurnContext, lookUp = (id: string) => TeamsInfo.getMember(context, id)): Promise<string | undefined> {
  const from = context.activity.from;
  if (from?.aadObjectId || !from?.id || context.activity.channelId !== 'msteams') return from?.aadObjectId || undefined;
  return lookUp(from.id).then((m) => m.aadObjectId || undefined, () => undefined);
}

/** The tenant the conversation belongs to: the bot's organisation's, in a shared channel the host team's. */
function homeTenant(context: TurnContext): string | undefined {
  return context.activity.conversation?.tenantId ?? (context.activity.channelData as { tenant?: { id?: string } } | undefined)?.tenant?.id;
}

/**
 * The Bot Framework channels other than Teams the bot answers on, as people know them: their sender
 * is whoever the client says, never a signed-in Teams account.
 */
const TEST_CHATS: Record<string, string> = { webchat: 'Test in Web Chat', emulator: 'Bot Framework Emulator' };

/**
 * The member look-up's email, else the one the activity carries, and whether the member belongs to
 * another tenant than the conversation's. A failed look-up with nothing to fall back on is said, so
 * the pipeline tells the look-up failed apart from a profile without an email.
 */
async function emailOf(context: TurnContext, lookUp: (id: string) => Promise<TeamsChannelAccount>, logger: Logger)
  : Promise<Pick<PlatformProfile, 'email' | 'lookupFailed' | 'external'>> {
  const from = context.activity.from as { id?: string; userPrincipalName?: string; email?: string } | undefined;
  const carried = from?.email || from?.userPrincipalName || undefined;
  if (from?.id) {
    try {
      const member = await lookUp(from.id);
      const email = member.email || member.userPrincipalName;
      // A member of another tenant (a shared channel's external member): their tenant sets that email.
      const home = homeTenant(context);
      if (member.tenantId && home && member.tenantId !== home) return { email, external: true };
      if (email) return { email };
    } catch (e) {
      // The Bot Connector's message may name the member: only its status and code go to the log.
      const { statusCode, code } = safeError(e) as { statusCode?: unknown; code?: unknown };
      logger.debug({ statusCode, code }, 'could not look up the Teams member; taking the email the activity carries');
      // Said even with an email to fall back on: the look-up did not tell whether the member is of this tenant.
      return { email: carried, lookupFailed: e };
    }
  }
  return { email: carried };
}
