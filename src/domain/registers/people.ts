import { z } from 'zod';
import { and, eq, like, or } from 'drizzle-orm';
import { chatAddresses, people, unreachablePeople } from '../../db/schema/index.js';
import { commandLine, defineCommand } from '../../core/router.js';
import { ROLE_LABELS, findPersonById, personNamed, personRef, type Person } from '../../core/actor.js';
import { conflict } from '../../core/errors.js';
import { fields, reply, text, type Block, type Field } from '../../core/reply.js';
import { localDate, readersZone } from '../../core/time.js';
import { ACCOUNT_COLUMN, ACCOUNT_FIELD, type ChatAccountPlatform, platformName } from '../../core/reach.js';

/*
 * People administration in chat: what the register holds about a person, and clearing the link
 * between them and a chat account (after they changed accounts, or when the account linked is another
 * organisation's), which the bot refuses to act for until the link is cleared.
 */

const PLATFORMS = ['slack', 'teams'] as const satisfies readonly ChatAccountPlatform[];
const ACCOUNT_WORD = { slack: 'Slack user id', teams: 'Entra (AAD) object id' } as const;
const UNLINK_ACTION = { slack: 'unlink_slack_user', teams: 'unlink_teams_account' } as const;

/** "Teams", "MS Teams", "Microsoft-Teams" and "Slack" as people type them. */
const PLATFORM_WORDS: Record<string, ChatAccountPlatform> = { slack: 'slack', teams: 'teams', msteams: 'teams', microsoftteams: 'teams' };

const personInput = personRef.describe('Their email address, their name in "quotes" or their @handle');

const PERSON_ARG = { positional: true, label: 'Who', value: 'email or name', placeholder: 'their email address' } as const;

/** The person's platform accounts as the register links them. */
const accountFields = (person: Person): Field[] => PLATFORMS.map((p) => ({
  label: `${platformName(p)} account`,
  value: person[ACCOUNT_FIELD[p]] ? `${person[ACCOUNT_FIELD[p]]} (${ACCOUNT_WORD[p]})` : 'not linked',
}));

export const personCommand = defineCommand({
  name: 'person',
  readOnly: true,
  summary: "What the register holds about someone: roles, manager, scope, leave, and the Slack and Teams accounts linked to them",
  examples: ['person sam.novak@northwind.example', 'person "Jonas Weber"'],
  roles: ['isms_lead', 'auditor'],
  schema: z.object({ person: personInput }),
  args: { person: PERSON_ARG },
  form: { title: 'Look someone up in the register', submitLabel: 'Show' },
  async run(ctx, input) {
    const person = await personNamed(ctx.db, 'person', input.person);
    const manager = person.managerId ? await findPersonById(ctx.db, person.managerId) : undefined;
    const [unreachable] = await ctx.db.select().from(unreachablePeople).where(eq(unreachablePeople.personId, person.id));
    const paused = person.pausedUntil && person.pausedUntil > ctx.now
      ? `until ${localDate(person.pausedUntil, readersZone(person.timezone))} (nudges wait)` : 'no';
    const blocks: Block[] = [
      text(`${person.name} <${person.email}>`),
      fields([
        { label: 'Roles', value: person.roles.length ? person.roles.map((r) => ROLE_LABELS[r]).join(', ') : 'none' },
        { label: 'Manager', value: manager ? `${manager.name} <${manager.email}>` : 'none named' },
        { label: 'In scope', value: person.inScope ? 'yes' : 'no' },
        { label: 'On leave', value: paused },
        { label: 'Timezone', value: person.timezone ?? 'not known (the default applies)' },
        ...accountFields(person),
        ...(unreachable ? [{ label: 'Cannot be reached', value: unreachable.reason }] : []),
      ]),
    ];
    const linked = PLATFORMS.filter((p) => person[ACCOUNT_FIELD[p]]);
    if (linked.length && ctx.actor.roles.includes('isms_lead')) {
      blocks.push(text(`If ${person.name} changed accounts, or a linked account is another organisation's, clear the link with `
        + `"${commandLine(ctx.channel, `person unlink ${person.email} ${linked[0]} <why>`)}": their next message from their current account links it by email.`));
    }
    return reply(...blocks);
  },
});

export const personUnlinkInput = z.object({
  person: personInput,
  platform: z.preprocess((v) => (typeof v === 'string' ? PLATFORM_WORDS[v.trim().toLowerCase().replace(/[\s_-]+/g, '')] ?? v : v),
    z.enum(PLATFORMS, { errorMap: () => ({ message: 'must be slack or teams' }) }))
    .describe('The platform whose account link is cleared: slack or teams'),
  rationale: z.string({ required_error: 'say why the link is cleared' }).trim().min(1, 'say why the link is cleared')
    .max(2000, 'must be at most 2000 characters')
    .describe('Why the link is cleared, e.g. "moved to a new Slack account"; auditors read this'),
});

/** Clears a person's link to a Slack or Teams account, so that their current account can be linked by email. */
export const personUnlinkCommand = defineCommand({
  name: 'person unlink',
  summary: "Clear the Slack or Teams account linked to someone (they changed accounts, or it is another organisation's): their next message links their current account by email",
  examples: ['person unlink sam.novak@northwind.example slack --rationale "moved to a new Slack account after the workspace migration"'],
  roles: ['isms_lead'],
  schema: personUnlinkInput,
  args: {
    person: PERSON_ARG,
    platform: { positional: true, label: 'Platform', options: PLATFORMS.map((p) => ({ value: p, label: platformName(p) })) },
    rationale: { positional: 'rest', label: 'Why is the link cleared?', value: 'why', field: 'textarea' },
  },
  form: { title: 'Clear a chat account link', submitLabel: 'Clear the link' },
  async run(ctx, input) {
    const named = await personNamed(ctx.db, 'person', input.person);
    const platform = input.platform;
    const field = ACCOUNT_FIELD[platform];
    const where = platformName(platform);
    // Locked: two leads clearing the same link at once record it once.
    const [person] = await ctx.db.select().from(people).where(eq(people.id, named.id)).for('update');
    const account = person[field];
    if (!account) {
      throw conflict(`${person.name} <${person.email}> has no ${where} account linked, so there is nothing to clear. Nothing was recorded.`,
        `Their next message to the bot from ${where} links their account by email. "${commandLine(ctx.channel, `person ${person.email}`)}" shows what is linked.`);
    }
    await ctx.db.update(people).set({ [field]: null }).where(and(eq(people.id, person.id), eq(ACCOUNT_COLUMN[platform], account)));
    // The stored chats with the old account (a Teams personal chat, a team roster's entry) would keep reaching it.
    const forgotten = await ctx.db.delete(chatAddresses)
      .where(and(eq(chatAddresses.personId, person.id), or(eq(chatAddresses.platform, platform), like(chatAddresses.platform, `${platform}-%`))))
      .returning({ platform: chatAddresses.platform });
    await ctx.audit({
      action: UNLINK_ACTION[platform], entity: 'person', entityRef: person.email,
      before: { [field]: account },
      after: { [field]: null, rationale: input.rationale, ...(forgotten.length ? { forgottenChats: forgotten.map((f) => f.platform).sort() } : {}) },
    });
    const own = person.id === ctx.actor.id;
    if (!own) {
      await ctx.notify({
        recipientId: person.id, kind: 'account_unlinked', idempotencyKey: `account-unlinked:${person.id}:${platform}:${account}:${ctx.now.getTime()}`,
        reply: reply(text(`${ctx.actor.name}, the ISMS lead, cleared the link between you and the ${where} account ${account} in the ISMS register: ${input.rationale}`),
          text(`Your next message to the bot from your current ${where} account links it by your email. If you did not expect this, tell ${ctx.actor.name} (${ctx.actor.email}).`)),
      });
    }
    const next = platform === 'slack'
      ? `${own ? 'Your' : 'Their'} next message to the bot from ${own ? 'your' : 'their'} current Slack account links that account by email (audited); before the bot next writes to ${own ? 'you' : 'them'}, it looks ${own ? 'you' : 'them'} up in Slack by email and links the account it finds.`
      : `${own ? 'Your' : 'Their'} next message to the bot from ${own ? 'your' : 'their'} current Teams account links that account by email (audited), as does the next reading of a team roster ${own ? 'you are' : 'they are'} in; until then the bot cannot write to ${own ? 'you' : 'them'} in Teams, and nudges wait.`;
    return reply(
      text(`Cleared the ${where} account ${account} from ${own ? 'your own entry' : `${person.name} <${person.email}>`}: the bot no longer acts for that account as ${own ? 'you' : person.name}.`, 'success'),
      text(next),
      ...(forgotten.length ? [text(`The stored ${where} chat with the old account was forgotten as well, so nudges no longer go there.`)] : []),
      text(own ? 'An account that shows your email is linked at its first message: if the old account still shows it, change or deactivate it.'
        : `${person.name} is told. An account that shows their email is linked at its first message: if the old account still shows it, change or deactivate it.`),
      fields(accountFields({ ...person, [field]: null })),
    );
  },
});
