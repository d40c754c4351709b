import { and, eq, isNull } from 'drizzle-orm';
import { TeamsInfo, type TurnContext } from 'botbuilder';
import type { Logger } from 'pino';
import type { Db } from '../../src/db/client.js';
import { people } from '../../src/db/schema/index.js';
import { type Person, findPersonByEmail, peopleWithRole } from '../../src/core/actor.js';
import { appendAudit } from '../../src/core/audit.js';
import { reply, text, type Reply } from '../../src/core/reply.js';

/**
 * Finds the register person behind a Teams user: by Azure AD object id, else by email (asked from
 * Teams, or the user principal name the activity carries). The first email match stores the
 * object id on the person, audited, so later turns match directly.
 */
export async function identify(db: Db, context: TurnContext, logger: Logger): Promise<Person | undefined> {
  const from = context.activity.from ?? {};
  const aadObjectId = from.aadObjectId;
  if (aadObjectId) {
    const [known] = await db.select().from(people).where(eq(people.teamsAadObjectId, aadObjectId));
    if (known) return known;
  }
  const email = await emailOf(context, logger);
  if (!email) return undefined;
  const person = await findPersonByEmail(db, email);
  if (!person || !aadObjectId) return person;
  if (person.teamsAadObjectId && person.teamsAadObjectId !== aadObjectId) {
    // Same email, another Teams account: someone must look at it; do not act for either.
    logger.warn({ personId: person.id }, 'a Teams account with a different AAD object id claims a register email; not linked');
    return undefined;
  }
  return db.transaction(async (tx) => {
    const [linked] = await tx.update(people).set({ teamsAadObjectId: aadObjectId })
      .where(and(eq(people.id, person.id), isNull(people.teamsAadObjectId))).returning();
    if (!linked) return person;
    await appendAudit(tx, { id: person.id, label: `${person.name} <${person.email}> via teams` }, {
      action: 'link_teams_account', entity: 'person', entityRef: person.email,
      before: { teamsAadObjectId: null }, after: { teamsAadObjectId: aadObjectId },
    });
    return linked;
  });
}

async function emailOf(context: TurnContext, logger: Logger): Promise<string | undefined> {
  const from = context.activity.from as { id?: string; userPrincipalName?: string; email?: string } | undefined;
  if (from?.id) {
    try {
      const member = await TeamsInfo.getMember(context, from.id);
      const email = member.email ?? member.userPrincipalName;
      if (email) return email;
    } catch (e) {
      logger.debug({ reason: (e as Error).message }, 'could not look up the Teams member');
    }
  }
  return from?.email ?? from?.userPrincipalName;
}

/** Tells someone who is not in the register who can add them. */
export async function notInRegisterReply(db: Db): Promise<Reply> {
  const leads = await peopleWithRole(db, 'isms_lead');
  const who = leads.length
    ? leads.map((l) => `${l.name} (${l.email})`).join(' or ')
    : 'your ISMS lead';
  return reply(
    text("You are not in the ISMS register yet, so I can't run commands for you or record anything.", 'warning'),
    text(`Ask ${who} to add you with your work email address, then message me again.`),
  );
}
