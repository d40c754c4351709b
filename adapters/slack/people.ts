/**
 * A Slack user as the inbound pipeline sees them: their user id, and a profile (email, timezone,
 * whether the account is active) read from users.info only when the register needs it, at most
 * once per request. Who that is in the register is the pipeline's decision.
 */
import { inArray } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';
import { people } from '../../src/db/schema/index.js';
import type { PlatformProfile, PlatformUser } from '../../src/core/inbound.js';
import type { RequestInfo, SlackApi } from './api.js';
import { unnamedMentions } from './text.js';

interface UsersInfo {
  user?: {
    id: string; team_id?: string; deleted?: boolean; is_bot?: boolean; is_stranger?: boolean; tz?: string;
    profile?: { email?: string }; enterprise_user?: { enterprise_id?: string };
  };
}

/** The workspace (and Enterprise Grid org) the app is installed in, from auth.test: whose people the app serves. */
export interface Home { teamId?: string; enterpriseId?: string }

/**
 * `origin`: the acting account's own workspace (and org) as the request names it, where Slack names it
 * (a click's user.team_id, a slash command's team_id, an event's user_team): it tells a Slack Connect
 * member of another organisation without asking Slack.
 */
export function slackUser(api: SlackApi, slackUserId: string, request: RequestInfo, home: Home = {}, origin: Home = {}): PlatformUser {
  // A failed look-up throws, user_not_found too (a Slack Connect guest of another workspace, an account
  // gone): Slack did not say who this is, which says nothing about the register. The pipeline logs the
  // failure once, so the call here logs it only at debug.
  let info: Promise<UsersInfo['user']> | undefined;
  const lookUp = () => (info ??= api.call<UsersInfo>('users.info', { user: slackUserId }, request, 'any').then((r) => r.user));
  return {
    platform: 'slack',
    id: slackUserId,
    profile: async (): Promise<PlatformProfile | undefined> => {
      const user = await lookUp();
      return user && { email: user.profile?.email, timezone: user.tz, inactive: Boolean(user.deleted || user.is_bot), external: isExternal(user, home) };
    },
    external: async () => saidExternal(origin, home) ?? lookUp().then((user) => (user ? isExternal(user, home) : undefined)),
  };
}

/**
 * Whether the request's own words make the account another organisation's: its org is not the app's
 * Grid org, or (outside Grid) its workspace is not the app's. Undefined when they do not say, or name
 * another workspace but no org while the app's org is a Grid org (users.info tells then).
 */
function saidExternal(origin: Home, home: Home): boolean | undefined {
  if (home.enterpriseId && origin.enterpriseId) return origin.enterpriseId !== home.enterpriseId;
  if (!origin.teamId || !home.teamId) return undefined;
  if (origin.teamId === home.teamId) return false;
  return home.enterpriseId ? undefined : true;
}

/**
 * A person of another organisation: Slack marks a stranger so, and a Slack Connect member has their
 * own workspace's team_id (within an Enterprise Grid org, another workspace of the same org is home).
 */
function isExternal(user: NonNullable<UsersInfo['user']>, home: Home): boolean {
  if (user.is_stranger) return true;
  if (home.enterpriseId && user.enterprise_user?.enterprise_id === home.enterpriseId) return false;
  return Boolean(home.teamId && user.team_id && user.team_id !== home.teamId);
}

/**
 * The names of the people a text mentions without one: the register's name, else Slack's (one
 * users.info per unknown id, made only when a text has such a mention); someone neither knows is left out.
 */
export async function mentionedNames(db: Db, api: SlackApi, text: string, request: RequestInfo): Promise<Map<string, string>> {
  const ids = unnamedMentions(text);
  const names = new Map<string, string>();
  if (!ids.length) return names;
  for (const p of await db.select({ id: people.slackUserId, name: people.name }).from(people).where(inArray(people.slackUserId, ids))) names.set(p.id!, p.name);
  await Promise.all(ids.filter((id) => !names.has(id)).map(async (id) => {
    const info = await api.call<{ user?: { real_name?: string; profile?: { display_name?: string; real_name?: string } } }>('users.info', { user: id }, request, 'any').catch(() => undefined);
    const name = info?.user?.profile?.real_name || info?.user?.real_name || info?.user?.profile?.display_name;
    if (name) names.set(id, name);
  }));
  return names;
}
