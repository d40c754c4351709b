/**
 * A team's roster, read when the app is installed in the team (or someone joins it): each member
 * the register knows (by Entra object id, else by email or user principal name) is linked, audited,
 * and remembered as reachable. The bot may open a personal chat with any member of a team it is
 * installed in, so their nudges need not wait until they write to the bot: the first nudge opens
 * the chat (see outbound.ts) and stores its conversation reference.
 */
import { TeamsInfo, type ChannelAccount, type TurnContext } from 'botbuilder';
import type { Logger } from 'pino';
import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';
import { chatAddresses, people } from '../../src/db/schema/index.js';
import type { Person } from '../../src/core/actor.js';
import { clearUnreachable, linkChatAccount } from '../../src/core/reach.js';
import { PLATFORM } from './addresses.js';

/** chat_addresses.platform of a person's place in a team roster (a personal chat is 'teams'). */
export const ROSTER_PLATFORM = 'teams-roster';

/** Members per pagedmembers request: Teams takes 50 to 500. */
export const ROSTER_PAGE_SIZE = 100;

/** What the bot needs to open a personal chat with a team member. */
export interface RosterAddress {
  serviceUrl: string;
  channelId: string;
  tenantId?: string;
  teamId: string;
  bot: ChannelAccount;
  user: { id: string; name?: string; aadObjectId?: string };
}

export interface RosterReport { members: number; linked: string[]; known: number; unmatched: number; conflicts: string[] }

interface RosterMember { id?: string; name?: string; aadObjectId?: string; email?: string; userPrincipalName?: string }

/** The team a conversationUpdate belongs to, when it is one in a team (not a personal or group chat). */
export function teamIdOf(context: TurnContext): string | undefined {
  return (context.activity.channelData as { team?: { id?: string } } | undefined)?.team?.id || undefined;
}

/** Reads the whole roster of the turn's team, page by page, and links the members the register knows. */
export async function linkTeamRoster(context: TurnContext, db: Db, logger: Logger): Promise<RosterReport> {
  const teamId = teamIdOf(context)!;
  const { activity } = context;
  const tenantId = activity.conversation?.tenantId ?? (activity.channelData as { tenant?: { id?: string } } | undefined)?.tenant?.id;
  const everyone = await db.select().from(people);
  const byAad = new Map(everyone.filter((p) => p.teamsAadObjectId).map((p) => [p.teamsAadObjectId!, p]));
  const byEmail = new Map(everyone.map((p) => [p.email.trim().toLowerCase(), p]));
  const report: RosterReport = { members: 0, linked: [], known: 0, unmatched: 0, conflicts: [] };
  let continuationToken: string | undefined;
  do {
    const page = await TeamsInfo.getPagedTeamMembers(context, teamId, ROSTER_PAGE_SIZE, continuationToken);
    for (const member of (page.members ?? []) as RosterMember[]) {
      report.members++;
      const person = matchMember(member, byAad, byEmail);
      if (!person || !member.id) {
        report.unmatched++;
        continue;
      }
      let linkedPerson: Person = person;
      if (member.aadObjectId && person.teamsAadObjectId !== member.aadObjectId) {
        const outcome = await linkChatAccount(db, person, 'teams', member.aadObjectId, { id: null, label: `ISMS bot via the roster of Teams team ${teamId}` });
        if (outcome.status === 'conflict') {
          report.conflicts.push(`${person.name}: ${outcome.reason}`);
          continue;
        }
        linkedPerson = outcome.person;
        if (outcome.status === 'linked') report.linked.push(person.name);
      } else {
        report.known++;
      }
      await saveRosterAddress(db, linkedPerson.id, {
        serviceUrl: activity.serviceUrl, channelId: activity.channelId ?? 'msteams', tenantId, teamId,
        bot: activity.recipient, user: { id: member.id, name: member.name, aadObjectId: member.aadObjectId },
      });
      await clearUnreachable(db, [linkedPerson.id]);
    }
    continuationToken = page.continuationToken || undefined;
  } while (continuationToken);
  logger.info({ teamId, members: report.members, linked: report.linked.length, known: report.known, unmatched: report.unmatched, conflicts: report.conflicts },
    'read the roster of a Teams team');
  return report;
}

/** By Entra object id first; else by the email (or user principal name) Teams shows, case-insensitive. */
function matchMember(member: RosterMember, byAad: Map<string, Person>, byEmail: Map<string, Person>): Person | undefined {
  if (member.aadObjectId && byAad.has(member.aadObjectId)) return byAad.get(member.aadObjectId);
  for (const address of [member.email, member.userPrincipalName]) {
    // Someone linked to another Entra account is matched too: linking then refuses, saying why.
    const person = address ? byEmail.get(address.trim().toLowerCase()) : undefined;
    if (person) return person;
  }
  return undefined;
}

async function saveRosterAddress(db: Db, personId: number, address: RosterAddress): Promise<void> {
  const json = JSON.stringify(address);
  await db.insert(chatAddresses).values({ personId, platform: ROSTER_PLATFORM, address: json })
    .onConflictDoUpdate({ target: [chatAddresses.personId, chatAddresses.platform], set: { address: json } });
}

/**
 * Forgets the places in a team's roster the bot took people to be reachable through: all of them
 * when the app left the team (removed, uninstalled, the team deleted), else those of the members who
 * left it. Teams no longer opens a personal chat through that team (403), so their nudges wait,
 * saying why, until they are in another team with the app or write to the bot. Gives how many.
 */
export async function forgetTeamRoster(db: Db, teamId: string, memberIds?: string[]): Promise<number> {
  const rows = await db.select({ id: chatAddresses.id, address: chatAddresses.address }).from(chatAddresses).where(eq(chatAddresses.platform, ROSTER_PLATFORM));
  const gone = rows.filter((row) => {
    const address = JSON.parse(row.address) as RosterAddress;
    return address.teamId === teamId && (!memberIds || memberIds.includes(address.user.id));
  });
  if (gone.length) await db.delete(chatAddresses).where(inArray(chatAddresses.id, gone.map((row) => row.id)));
  return gone.length;
}

/**
 * The stored personal conversations and roster places of many people in one query: who has a
 * personal chat with the bot, and each one's roster place.
 */
export async function loadTeamsAddresses(db: Db, personIds: number[]): Promise<{ personal: Set<number>; rosters: Map<number, RosterAddress> }> {
  const personal = new Set<number>();
  const rosters = new Map<number, RosterAddress>();
  if (personIds.length === 0) return { personal, rosters };
  const rows = await db.select({ personId: chatAddresses.personId, platform: chatAddresses.platform, address: chatAddresses.address }).from(chatAddresses)
    .where(and(inArray(chatAddresses.personId, personIds), inArray(chatAddresses.platform, [PLATFORM, ROSTER_PLATFORM])));
  for (const r of rows) {
    if (r.platform === PLATFORM) personal.add(r.personId);
    else rosters.set(r.personId, JSON.parse(r.address) as RosterAddress);
  }
  return { personal, rosters };
}

export async function loadRosterAddress(db: Db, personId: number): Promise<RosterAddress | undefined> {
  const [row] = await db.select({ address: chatAddresses.address }).from(chatAddresses)
    .where(and(eq(chatAddresses.personId, personId), eq(chatAddresses.platform, ROSTER_PLATFORM)));
  return row ? JSON.parse(row.address) as RosterAddress : undefined;
}
