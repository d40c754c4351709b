/**
 * Who a Slack user is in the register: by their stored Slack user id, else by the email Slack
 * knows for them (users.info), in which case the Slack id is stored on the person and audited.
 * A person without a timezone in the register takes Slack's (users.info `tz`), so nudges arrive
 * in their working hours.
 */
import { and, eq, isNull, ne, or } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';
import { people } from '../../src/db/schema/index.js';
import { appendAudit } from '../../src/core/audit.js';
import { adoptTimezone, findPersonByEmail, peopleWithRole, type Person } from '../../src/core/actor.js';
import { reply, text, type Reply } from '../../src/core/reply.js';
import type { RequestInfo, SlackApi } from './api.js';

interface UsersInfo {
  user?: { id: string; deleted?: boolean; is_bot?: boolean; tz?: string; profile?: { email?: string } };
}

/** Slack users whose timezone this process already asked for: once each is enough. */
const timezoneAsked = new Set<string>();

export type Identity = { person: Person } | { person?: undefined; email?: string };

export async function identify(db: Db, api: SlackApi, slackUserId: string, request: RequestInfo): Promise<Identity> {
  const [known] = await db.select().from(people).where(eq(people.slackUserId, slackUserId));
  if (known) {
    if (known.timezone || timezoneAsked.has(slackUserId)) return { person: known };
    timezoneAsked.add(slackUserId);
    const info = await usersInfo(api, slackUserId, request).catch(() => undefined);
    return { person: await adoptTimezone(db, known, info?.user?.tz, 'slack') };
  }
  const info = await usersInfo(api, slackUserId, request);
  if (!info) return {};
  const email = info.user?.profile?.email;
  if (!email || info.user?.deleted || info.user?.is_bot) return { email };
  const byEmail = await findPersonByEmail(db, email);
  if (!byEmail) return { email };
  timezoneAsked.add(slackUserId);
  return { person: await adoptTimezone(db, await linkSlackUser(db, byEmail, slackUserId), info.user?.tz, 'slack') };
}

async function usersInfo(api: SlackApi, slackUserId: string, request: RequestInfo): Promise<UsersInfo | undefined> {
  try {
    return await api.call<UsersInfo>('users.info', { user: slackUserId }, request);
  } catch (e) {
    if ((e as { data?: { error?: string } }).data?.error === 'user_not_found') return undefined;
    throw e;
  }
}



/** Stores the Slack user id on the person, with an audit event, once. */
async function linkSlackUser(db: Db, person: Person, slackUserId: string): Promise<Person> {
  return db.transaction(async (tx) => {
    const [updated] = await tx.update(people).set({ slackUserId })
      .where(and(eq(people.id, person.id), or(isNull(people.slackUserId), ne(people.slackUserId, slackUserId))))
      .returning();
    if (!updated) return person;
    await appendAudit(tx, { id: person.id, label: `${person.name} <${person.email}> via slack` }, {
      action: 'link_slack_user', entity: 'person', entityRef: person.email,
      before: { slackUserId: person.slackUserId }, after: { slackUserId },
    });
    return updated;
  });
}

/** What someone outside the register is told: that, and whom to ask. */
export async function notInRegisterReply(db: Db, email?: string): Promise<Reply> {
  const leads = await peopleWithRole(db, 'isms_lead');
  const who = leads.length
    ? `Ask ${leads.map((l) => `${l.name} (${l.email})`).join(' or ')}, the ISMS lead, to add you`
    : 'Ask your ISMS lead to add you';
  return reply(
    text(`You are not in the ISMS register${email ? ` (nobody there has the email ${email})` : ''}, so I can't run commands for you. Nothing was recorded.`, 'error'),
    text(`${who}${email ? ` with the email ${email}` : ''}.`),
  );
}
