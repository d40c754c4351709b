/**
 * `npm run isms -- sync slack`: links the whole register to the workspace's Slack accounts at once,
 * by email, so everyone can be nudged before they ever write to the bot. Reads users.list in pages
 * of 200 (the WebClient follows the cursor and waits out a 429's Retry-After); deleted members and
 * bots are skipped. Each link is audited like one made when the person first wrote to the bot.
 */
import type { Logger } from 'pino';
import { asc } from 'drizzle-orm';
import { webApi } from '@slack/bolt';
import type { Db } from '../../src/db/client.js';
import { people } from '../../src/db/schema/index.js';
import type { AuditActor } from '../../src/core/audit.js';
import type { Person } from '../../src/core/actor.js';
import { linkChatAccount } from '../../src/core/reach.js';
import { SlackApi, boltLogger } from './api.js';

interface Member { id?: string; deleted?: boolean; is_bot?: boolean; profile?: { email?: string } }
interface UsersPage { members?: Member[] }

export interface SlackSyncReport {
  pages: number;
  /** For an org-wide install: how many of the org's workspaces were read. */
  workspaces?: number;
  matched: Person[];
  alreadyLinked: Person[];
  unmatched: Person[];
  /** People whose email matched an account that could not be linked, and why. */
  conflicts: { person: Person; reason: string }[];
}

/** users.list pages: Slack recommends no more than 200 members a page. */
export const PAGE_SIZE = 200;

/** A Web API client for the command line: a few retries, each 429 waited out as long as Retry-After says. */
export function slackApiFor(botToken: string, apiUrl: string | undefined, log: Logger): SlackApi {
  const client = new webApi.WebClient(botToken, {
    logger: boltLogger(log),
    retryConfig: { retries: 5, factor: 2, minTimeout: 1_000, maxTimeout: 30_000 },
    timeout: 30_000,
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
  });
  return new SlackApi(client, log, botToken);
}

/**
 * The workspaces to list members of: the token's own one, or, for an app installed org-wide on
 * Enterprise Grid (whose token users.list refuses without a team_id), each workspace of the org the
 * app is installed in, as auth.teams.list names them.
 */
async function orgWorkspaces(api: SlackApi): Promise<string[] | undefined> {
  const installed = await api.call<{ is_enterprise_install?: boolean }>('auth.test', {}, { kind: 'sync slack' });
  if (!installed.is_enterprise_install) return undefined;
  const teams: string[] = [];
  for await (const page of api.pages<{ teams?: { id?: string }[] }>('auth.teams.list', { limit: PAGE_SIZE }, { kind: 'sync slack' })) {
    for (const team of page.teams ?? []) if (team.id) teams.push(team.id);
  }
  return teams;
}

/** Matches every person in the register against the workspace's active members by email (case-insensitive). */
export async function syncSlack(db: Db, api: SlackApi, by: AuditActor): Promise<SlackSyncReport> {
  const byEmail = new Map<string, string>();
  let pages = 0;
  const org = await orgWorkspaces(api);
  for (const team of org ?? [undefined]) {
    for await (const page of api.pages<UsersPage>('users.list', { limit: PAGE_SIZE, ...(team ? { team_id: team } : {}) }, { kind: 'sync slack', team })) {
      pages++;
      for (const m of page.members ?? []) {
        const email = m.profile?.email?.trim().toLowerCase();
        if (!m.id || m.deleted || m.is_bot || m.id === 'USLACKBOT' || !email) continue;
        byEmail.set(email, m.id);
      }
    }
  }
  const report: SlackSyncReport = { pages, workspaces: org?.length, matched: [], alreadyLinked: [], unmatched: [], conflicts: [] };
  for (const person of await db.select().from(people).orderBy(asc(people.name))) {
    if (person.slackUserId) {
      report.alreadyLinked.push(person);
      continue;
    }
    const account = byEmail.get(person.email.trim().toLowerCase());
    if (!account) {
      report.unmatched.push(person);
      continue;
    }
    const outcome = await linkChatAccount(db, person, 'slack', account, by);
    if (outcome.status === 'conflict') report.conflicts.push({ person, reason: outcome.reason });
    else if (outcome.status === 'linked') report.matched.push(outcome.person);
    else report.alreadyLinked.push(outcome.person);
  }
  return report;
}

/** The report as the admin reads it on stdout. */
export function describeSlackSync(r: SlackSyncReport): string[] {
  const conflicts = r.conflicts.length ? `, ${r.conflicts.length} not linked` : '';
  const where = r.workspaces === undefined ? '' : ` in ${r.workspaces} workspace${r.workspaces === 1 ? '' : 's'} of the organisation`;
  const lines = [`Read ${r.pages} page${r.pages === 1 ? '' : 's'} of Slack members${where}: ${r.matched.length} matched and linked now, ${r.alreadyLinked.length} already linked, ${r.unmatched.length} unmatched${conflicts}.`];
  for (const p of r.matched) lines.push(`  linked: ${p.name} <${p.email}> -> ${p.slackUserId}`);
  for (const p of r.unmatched) lines.push(`  unmatched: ${p.name} <${p.email}>: no active Slack member has this email`);
  for (const c of r.conflicts) lines.push(`  not linked: ${c.person.name} <${c.person.email}>: ${c.reason}`);
  return lines;
}

/** Slack's refusal of the whole sync, in one sentence the admin can act on; undefined for anything else. */
export function explainSlackRefusal(e: unknown): string | undefined {
  const refusal = (e as { data?: { error?: string } }).data?.error;
  if (!refusal) return undefined;
  if (refusal === 'missing_scope') return 'Slack refused users.list (missing_scope): add the bot scopes users:read and users:read.email to the Slack app and reinstall it.';
  if (['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked'].includes(refusal)) {
    return `Slack refused SLACK_BOT_TOKEN (${refusal}): copy the app's "Bot User OAuth Token" (xoxb-...) again.`;
  }
  return `Slack refused users.list (${refusal}).`;
}
