import { and, asc, count, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { outbox, people, unreachablePeople } from '../db/schema/index.js';
import { appendAudit, type AuditActor } from './audit.js';
import { nameKey, type Person } from './actor.js';
import { readersTime } from './time.js';

export type ChatAccountPlatform = 'slack' | 'teams';

/** Where a person's link to each platform's account is kept: the Person field, and its column. */
export const ACCOUNT_FIELD = { slack: 'slackUserId', teams: 'teamsAadObjectId' } as const;
export const ACCOUNT_COLUMN = { slack: people.slackUserId, teams: people.teamsAadObjectId } as const;
const ACTION = { slack: 'link_slack_user', teams: 'link_teams_account' } as const;

export type LinkOutcome =
  | { status: 'linked'; person: Person }
  | { status: 'already linked'; person: Person }
  /** The person is linked to another account of the platform, or the account to another person. */
  | { status: 'conflict'; person: Person; reason: string };

/**
 * Links a register person to the chat account a platform found for them (by email or a team's
 * roster), audited like a link made when they first wrote to the bot. A person already linked to
 * another account, or an account already linked to someone else, is left alone and said why.
 */
export async function linkChatAccount(db: Db, person: Person, platform: ChatAccountPlatform, accountId: string, by: AuditActor): Promise<LinkOutcome> {
  const field = ACCOUNT_FIELD[platform];
  const column = ACCOUNT_COLUMN[platform];
  return db.transaction(async (tx) => {
    const [holder] = await tx.select().from(people).where(eq(column, accountId));
    if (holder && holder.id === person.id) return { status: 'already linked' as const, person: holder };
    if (holder) return { status: 'conflict' as const, person, reason: `the ${platformName(platform)} account ${accountId} is already linked to ${holder.name} <${holder.email}>` };
    const [linked] = await tx.update(people).set({ [field]: accountId })
      .where(and(eq(people.id, person.id), isNull(column))).returning();
    if (!linked) {
      const [current] = await tx.select().from(people).where(eq(people.id, person.id));
      return { status: 'conflict' as const, person: current ?? person, reason: `${person.name} is already linked to another ${platformName(platform)} account` };
    }
    await appendAudit(tx, by, {
      action: ACTION[platform], entity: 'person', entityRef: person.email, before: { [field]: null }, after: { [field]: accountId },
    });
    // Found now: no longer listed as someone the bot cannot reach.
    await tx.delete(unreachablePeople).where(eq(unreachablePeople.personId, person.id));
    return { status: 'linked' as const, person: linked };
  });
}

export const platformName = (platform: ChatAccountPlatform) => (platform === 'slack' ? 'Slack' : 'Microsoft Teams');

/**
 * Records that no port could reach the person, with the ports' reasons; returns since when they
 * have been unreachable (the first time, unless they were reached in between).
 */
export async function noteUnreachable(db: Db, personId: number, reason: string, now: Date): Promise<Date> {
  const [row] = await db.insert(unreachablePeople).values({ personId, reason, since: now, checkedAt: now })
    .onConflictDoUpdate({ target: unreachablePeople.personId, set: { reason, checkedAt: now } }).returning();
  return row.since;
}

/** Forgets that people were unreachable: a port reaches them now. */
export async function clearUnreachable(db: Db, personIds: number[]): Promise<void> {
  if (personIds.length) await db.delete(unreachablePeople).where(inArray(unreachablePeople.personId, personIds));
}

export interface UnreachablePerson {
  name: string;
  email: string;
  reason: string;
  since: Date;
  /** Their messages still queued, and those given up on. */
  queued: number;
  failed: number;
}

/** Everyone no chat platform could reach when the bot last tried, with why, oldest first. */
export async function unreachableList(db: Db): Promise<UnreachablePerson[]> {
  const rows = await db.select({
    name: people.name, email: people.email, reason: unreachablePeople.reason, since: unreachablePeople.since,
    queued: sql<number>`count(${outbox.id}) filter (where ${outbox.status} = 'queued')`.mapWith(Number),
    failed: sql<number>`count(${outbox.id}) filter (where ${outbox.status} = 'failed')`.mapWith(Number),
  }).from(unreachablePeople)
    .innerJoin(people, eq(people.id, unreachablePeople.personId))
    .leftJoin(outbox, eq(outbox.recipientId, unreachablePeople.personId))
    .groupBy(people.id, people.name, people.email, unreachablePeople.reason, unreachablePeople.since)
    .orderBy(asc(unreachablePeople.since), asc(nameKey));
  return rows;
}

export async function unreachableCount(db: Db): Promise<number> {
  const [{ n }] = await db.select({ n: count() }).from(unreachablePeople);
  return n;
}

/** "Nina Newcomer <nina@…>": why (since when, on the reader's clock; messages waiting and failed), as the ISMS lead reads it. */
export function describeUnreachable(p: UnreachablePerson, timezone: string | null | undefined): { title: string; detail: string } {
  const counts = [p.queued ? `${p.queued} waiting` : '', p.failed ? `${p.failed} failed` : ''].filter(Boolean).join(', ');
  return { title: `${p.name} <${p.email}>`, detail: `${p.reason} (since ${readersTime(p.since, timezone)}${counts ? `; messages ${counts}` : ''})` };
}
