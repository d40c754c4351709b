/**
 * One way in for every platform. An adapter says "this platform user typed, clicked or submitted
 * this"; the pipeline decides who is acting, refuses people outside the register, runs the command,
 * turns a fault into one wording, and decides whether a reply in a thread is evidence. Adapters only
 * translate payloads in and replies out.
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { Logger } from 'pino';
import { type Db, isDatabaseUnreachable } from '../db/client.js';
import { people } from '../db/schema/index.js';
import { type Actor, type Person, adoptTimezone, findPersonByEmail, peopleWithRole, toActor } from './actor.js';
import { type AuditActor, type AuditInput, appendAudit } from './audit.js';
import { UserError } from './errors.js';
import { isTimeZone } from './validate.js';
import { enqueue } from './outbox.js';
import { ACCOUNT_COLUMN, ACCOUNT_FIELD } from './reach.js';
import { type Reply, reply, text } from './reply.js';
import { discardAll } from './attachments.js';
import { type Attachment, type Channel, type CommandRouter, type Inbound, commandLine, commandPrefix, commandWords } from './router.js';
import { type Assistant, plainLanguageOff, looksLike } from './assist.js';

export type ChatPlatform = 'slack' | 'teams';

/** What a platform knows about the person behind a request. */
export interface PlatformUser {
  platform: ChatPlatform;
  /** The platform's stable id for the account (Slack user id, Entra/AAD object id); absent in some Teams tools. */
  id?: string;
  /** The account's profile (email, timezone), asked from the platform only when the register needs it. */
  profile(): Promise<PlatformProfile | undefined>;
  /**
   * The timezone the request itself reports, when it carries one (a Teams activity's localTimezone; the
   * mobile client may leave it out): taken for a person with none without asking the platform.
   */
  timezone?: string;
  /** The platform's test chat the request came from, as its users know it ("Test in Web Chat"): it has no signed-in person. */
  testChat?: string;
  /**
   * Whether the account is another organisation's (a Slack Connect member, a member of another Teams
   * tenant), as the request says, else as the platform tells (asked only then); undefined when neither
   * can tell. Asked of an account already linked: the pipeline keeps a clear answer per account.
   */
  external?(): Promise<boolean | undefined>;
}

export interface PlatformProfile {
  email?: string;
  /** IANA name, e.g. Europe/Berlin. */
  timezone?: string;
  /** A deactivated account or a bot: never acts for a person. */
  inactive?: boolean;
  /** The platform's look-up failed (the error): what the profile holds came from the request alone. */
  lookupFailed?: unknown;
  /** An account of another organisation (e.g. in a Slack Connect channel): not this register's to know. */
  external?: boolean;
}

/** Who asks: a platform account the pipeline resolves, or a person already chosen (the terminal). */
export type Asker = { user: PlatformUser } | { person: Person };

export type Request =
  /** A typed command line ("/isms declare ai ChatGPT", "declare ai ChatGPT"). */
  | { line: string }
  /** A submitted form: the command and its field values. */
  | { command: string; values: Record<string, unknown> }
  /** A message in the thread of a bot message about `about` (e.g. "EVR-0003"); undefined when it is about nothing. */
  | { threadReply: { about?: string; text: string } }
  /** A plain-language message that is not a command (a terminal line without "/isms"). */
  | { message: string };

export interface Ask {
  from: Asker;
  channel: Channel;
  request: Request;
  /** Platform delivery id (event id, activity id, click): a repeat returns the first answer and writes nothing. */
  idempotencyKey?: string;
  /** Files sent with the request, fetched only once the person is known; a UserError names a bad file. */
  attachments?: () => Promise<Attachment[]>;
  /** Sends an interim message to the person (e.g. "your export is on its way"); absent where a platform cannot. */
  progress?: (message: string) => Promise<void>;
  /** Fields for the log line of a fault (never the arguments, which may hold personal data). */
  logContext?: Record<string, unknown>;
}

export interface Answer {
  reply: Reply;
  /** The acting person, when the request got that far. */
  person?: Person;
}

export const FAULT_TEXT = 'Something went wrong on our side and nothing was recorded. Try again in a minute; if it keeps failing, tell the ISMS lead.';

export const UNREACHABLE_TEXT = 'The register is not answering right now, so nothing was recorded. Try again in a minute; if it keeps failing, tell the ISMS lead.';

export const ANSWER_NOT_SHOWN_TEXT = 'Your request was recorded, but its answer may not have reached you. Do not send it again: the register shows what was recorded.';

/**
 * Showing the answer to a request that was recorded failed. The fault message must not say that
 * nothing was recorded: the person would send it again and it would be recorded twice.
 */
export class AnswerNotShown extends Error {
  constructor(readonly cause: unknown) {
    super(`the answer to a recorded request could not be shown: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'AnswerNotShown';
  }
}

/** Shows an answer; a failure to show one that says something was recorded becomes AnswerNotShown. */
export async function showAnswer(answer: Reply, show: (answer: Reply) => Promise<void>): Promise<void> {
  try {
    await show(answer);
  } catch (e) {
    throw answer.outcome === 'recorded' && !(e instanceof AnswerNotShown) ? new AnswerNotShown(e) : e;
  }
}

export function faultReply(cause?: unknown): Reply {
  if (cause instanceof AnswerNotShown) return { ...reply(text(ANSWER_NOT_SHOWN_TEXT, 'warning')), outcome: 'fault', visibility: 'private' };
  const said = cause !== undefined && isDatabaseUnreachable(cause) ? UNREACHABLE_TEXT : FAULT_TEXT;
  return { ...reply(text(said, 'error')), outcome: 'fault', visibility: 'private' };
}

export const BUSY_TEXT = 'The bot is busy — try again in a moment. Nothing was recorded.';

/** The answer to a command that came while too many were in flight: it was not run. */
export function busyReply(): Reply {
  return { ...reply(text(BUSY_TEXT, 'warning')), outcome: 'refused', visibility: 'private' };
}

/** The references of evidence requests, whose thread takes replies as evidence. */
export const EVIDENCE_REQUEST = /^EVR-\d+$/;

/**
 * How the edited evidence was sent, so the note says how to send a new revision from there: a reply in
 * the thread the note is posted in (Slack); in Teams, whose chats have no threads and whose note on a
 * shared conversation goes to the personal chat, a reply in a channel's thread, or to the request in the
 * personal chat or a group chat; or a typed command.
 */
export type EvidenceSentAs = { reply: 'this thread' | 'channel thread' | 'personal chat' | 'group chat' } | { command: Channel };

const RESEND_REPLY: Record<Extract<EvidenceSentAs, { reply: unknown }>['reply'], string> = {
  'this thread': 'send it as a new reply in this thread',
  'channel thread': 'send it as a new reply in the channel thread where you sent it',
  'personal chat': 'send it as a new reply to my evidence request here',
  'group chat': 'send it as a new reply to the evidence request in the group chat where you sent it',
};

/** What a person who edited their evidence message in a chat is told: evidence stays as first sent. */
export function editedEvidenceReply(subject: string, sentAs: EvidenceSentAs = { reply: 'this thread' }): Reply {
  const [edited, resend] = 'command' in sentAs
    ? ['message', `send it again in a new message: "${commandLine(sentAs.command, `evidence submit ${subject} <the changed text>`)}". It is added as a new revision.`]
    : ['reply', `${RESEND_REPLY[sentAs.reply]}: it is added as a new revision.`];
  return {
    ...reply(text(`You edited your ${edited}, but evidence stays as it was first sent: what you sent for ${subject} is kept unchanged, and your edit is not recorded. `
      + `To hand in the changed text, ${resend}`, 'warning')),
    outcome: 'info', visibility: 'private',
  };
}

/**
 * What a person who deleted their evidence reply (or typed command) in a chat, or only the file of a reply with text and
 * file, is told: the register keeps it, as recorded, for the audit trail; evidence sent by mistake is
 * sent back by whoever reviews it.
 */
export function deletedEvidenceReply(request: string, channel: Channel, what: 'reply' | 'message' | 'file' = 'reply'): Reply {
  const [deleted, kept] = what === 'file' ? ['the file from your reply', 'the file you sent'] : [`your ${what}`, 'what you sent'];
  return {
    ...reply(text(`You deleted ${deleted}, but deleting it in the chat does not remove it from the register: ${kept} for ${request} stays as it was recorded, for the audit trail. `
      + `If you sent it by mistake, ask the ISMS lead (or the control's evidence reviewer) to send it back: "${commandLine(channel, `evidence return ${request} sent by mistake`)}".`, 'warning')),
    outcome: 'info', visibility: 'private',
  };
}

const PLATFORM_NAME: Record<ChatPlatform, string> = { slack: 'Slack', teams: 'Microsoft Teams' };

/**
 * The command that clears a person's link to an account of a platform (domain/registers/people.ts), as
 * the ISMS lead's message names it wherever it reaches them (Teams takes the "/isms" too).
 */
const unlinkLine = (person: Person, platform: ChatPlatform) => `/isms person unlink ${person.email} ${platform} <why>`;

/** Why the platform did not say who sent a request. */
type Unidentified = 'no_account' | 'no_email' | 'lookup_failed';
const UNIDENTIFIED_LOG: Record<Unidentified, string> = {
  no_account: 'no account id, no email', no_email: 'its profile shows no email', lookup_failed: 'the profile look-up failed',
};
/** For the operator, where a platform shows a profile without its email for a known reason. */
const MISSING_EMAIL_CAUSE: Partial<Record<ChatPlatform, string>> = {
  slack: 'The Slack app may lack the users:read.email scope.',
};

/** A failure named for a log line: its code or class, never its message (which may hold an address or an id). */
function errorKind(e: unknown): string {
  const err = e as { code?: unknown; statusCode?: unknown; name?: unknown; data?: { error?: unknown } } | undefined;
  if (typeof err?.data?.error === 'string') return err.data.error;
  if (typeof err?.code === 'string') return err.code;
  if (typeof err?.statusCode === 'number') return `HTTP ${err.statusCode}`;
  return typeof err?.name === 'string' ? err.name : 'unknown';
}

export class InboundPipeline {
  /** Accounts whose timezone this process already asked the platform for: once each is enough. */
  private readonly timezoneAsked = new Set<string>();
  /** Whether an account is another organisation's, per account, once the request or the platform said. */
  private readonly elsewhere = new Map<string, boolean>();
  /** Keys of what the ISMS leads were told (tellLeadsOnce): a refused account asking again costs no transaction. */
  private readonly leadsTold = new Set<string>();

  /** `assistant` turns plain-language messages into proposed commands; without it they get the plain answer. */
  constructor(private readonly db: Db, private readonly router: CommandRouter, private readonly logger: Logger,
    private readonly assistant?: Assistant) {}

  /** Runs one request to its answer. Never throws: a fault is logged and answered with FAULT_TEXT. */
  async handle(ask: Ask): Promise<Answer> {
    let person: Person | undefined;
    let attachments: Attachment[] = [];
    try {
      const identified = 'person' in ask.from ? { person: ask.from.person } : await this.identify(ask.from.user);
      if (!identified.person) return { reply: identified.refusal };
      person = identified.person;
      attachments = ask.attachments ? await ask.attachments() : [];
      const inbound: Inbound = { actor: toActor(person), channel: ask.channel, idempotencyKey: ask.idempotencyKey, attachments, progress: ask.progress };
      return { reply: await this.run(ask.request, inbound), person };
    } catch (e) {
      if (e instanceof UserError) return { reply: refusal(e.message, e.hint), person };
      this.logger.error({ err: e, channel: ask.channel, ...ask.logContext }, 'request failed');
      return { reply: faultReply(e), person };
    } finally {
      // Downloaded files wait in temporary files only until their command ran, whatever it answered.
      await discardAll(attachments).catch((e: unknown) => this.logger.warn({ err: e }, 'could not remove a downloaded file'));
    }
  }

  private async run(request: Request, inbound: Inbound): Promise<Reply> {
    if ('message' in request) return await this.proposal(request.message, inbound) ?? this.withoutAssistant(request.message, plainMessageReply(inbound.channel), inbound);
    if ('line' in request) {
      // In Teams every message is typed without a prefix: one that names no command may be plain language.
      if (inbound.channel === 'teams' && this.isPlainLanguage(request.line, inbound)) {
        const proposed = await this.proposal(request.line, inbound);
        if (proposed) return proposed;
        return this.withoutAssistant(request.line, await this.router.handle(request.line, inbound), inbound);
      }
      return this.router.handle(request.line, inbound);
    }
    if ('command' in request) return this.router.submit(request.command, request.values, inbound);
    const { about, text: body } = request.threadReply;
    // Only an evidence request takes replies as evidence; a thread on a policy or a triage message does not.
    if (!about || !EVIDENCE_REQUEST.test(about)) {
      const proposed = !about && body.trim() ? await this.proposal(body, inbound) : undefined;
      if (proposed) return proposed;
      return {
        ...reply(text(`I take commands, not replies here: "${commandPrefix(inbound.channel)}help" lists them. To hand in evidence, reply with the file or text in the thread of my evidence request.`)),
        outcome: 'info', visibility: 'private',
      };
    }
    // Named values, not a typed line: the person's text may hold quotes or "--" that a line would parse.
    return this.router.submit('evidence submit', { target: about, ...(body.trim() ? { text: body.trim() } : {}) }, inbound);
  }

  /** The assistant's proposal for a plain-language message; undefined when there is no assistant or no proposal. */
  private async proposal(message: string, inbound: Inbound): Promise<Reply | undefined> {
    if (!this.assistant || !message.trim()) return undefined;
    try {
      return await this.assistant.propose(message.trim(), inbound);
    } catch (e) {
      // A proposal is a help, never a condition: whatever went wrong, the plain answer still comes.
      this.logger.warn({ err: e instanceof Error ? e.name : 'unknown', channel: inbound.channel }, 'no proposal: the plain answer goes instead');
      return undefined;
    }
  }

  /**
   * The plain answer to a plain-language message; without AI assistance, also that plain language
   * needs it, and the command the message looks like when one may be meant ("declare ai").
   */
  private withoutAssistant(message: string, plain: Reply, inbound: Inbound): Reply {
    if (this.assistant || !message.trim()) return plain;
    const { channel, actor } = inbound;
    const meant = looksLike(message);
    const command = meant && this.router.visibleTo(actor).some((s) => s.name === meant) ? meant : undefined;
    return {
      ...plain,
      blocks: [
        ...plain.blocks,
        text(`Plain-language messages ${plainLanguageOff(actor)}`),
        ...(command ? [text(`It looks like "${commandLine(channel, command)}": "${commandLine(channel, `help ${command}`)}" explains it.`)] : []),
      ],
    };
  }

  /** A line whose first word is no command's, e.g. "I started using Otter". */
  private isPlainLanguage(line: string, inbound: Inbound): boolean {
    return this.plainLanguage(line, inbound.actor);
  }

  /**
   * Whether a line typed without "/isms" reads as plain language rather than a command: more than two
   * words, none of which starts a command the person may use. One that names a command (or nearly
   * does: "staus") is a command, answered with the nearest one when mistyped.
   */
  plainLanguage(line: string, actor: Actor): boolean {
    const words = commandWords(line);
    return words.length > 2 && !this.router.match(words) && !this.router.startingWith(words.slice(0, 1), actor).length;
  }

  /**
   * The register person behind a platform account: by the linked id, else by the email the platform
   * knows, in which case the id is linked once and audited. An account whose email belongs to a person
   * already linked to another account of the same platform is refused, and the ISMS lead is told.
   */
  async identify(user: PlatformUser): Promise<{ person: Person; refusal?: undefined } | { person?: undefined; refusal: Reply }> {
    // Whatever a test chat's activity says of its sender, nobody signed in to send it.
    if (user.testChat) return { refusal: this.fromTestChat(user, user.testChat) };
    const column = ACCOUNT_COLUMN[user.platform];
    if (user.id) {
      const [known] = await this.db.select().from(people).where(eq(column, user.id));
      // Linked before accounts of other organisations were refused, or an account that moved there: refused all the same.
      if (known && await this.linkedElsewhere(known, user)) return { refusal: this.fromElsewhere(user) };
      if (known) return { person: await this.withTimezone(known, user) };
    }
    let profile: PlatformProfile | undefined;
    try {
      profile = await user.profile();
    } catch (e) {
      // The platform could not be asked (down, refused the look-up): that says nothing about the register.
      return { refusal: await this.unidentified(user, 'lookup_failed', e) };
    }
    this.timezoneAsked.add(`${user.platform}:${user.id}`);
    if (!profile?.email && profile?.lookupFailed !== undefined) return { refusal: await this.unidentified(user, 'lookup_failed', profile.lookupFailed) };
    if (user.id && profile && profile.lookupFailed === undefined) this.elsewhere.set(`${user.platform}:${user.id}`, Boolean(profile.external));
    // An account of another organisation is never matched by email (its organisation sets that email)
    // and is not told who runs the register here.
    if (profile?.external && !profile.inactive) {
      this.logger.info({ platform: user.platform }, `${PLATFORM_NAME[user.platform]} user of another organisation asked; refused`);
      return { refusal: this.fromElsewhere(user) };
    }
    // The platform did not say who this is (no account id, or an active account shown without an email),
    // which is not the same as someone whose email the register does not hold.
    if (!profile?.email && (!user.id || (profile && !profile.inactive))) {
      return { refusal: await this.unidentified(user, user.id ? 'no_email' : 'no_account') };
    }
    const email = profile?.inactive ? undefined : profile?.email;
    const person = email ? await findPersonByEmail(this.db, email) : undefined;
    if (!person) return { refusal: await this.notInRegister(profile?.email) };
    if (!user.id) return { person: await adoptTimezone(this.db, person, profile?.timezone, user.platform) };
    const linkedTo = person[ACCOUNT_FIELD[user.platform]];
    if (linkedTo && linkedTo !== user.id) return { refusal: await this.secondAccount(person, user) };
    const linked = await this.link(person, user);
    return { person: await adoptTimezone(this.db, linked, profile?.timezone, user.platform) };
  }

  /**
   * Whether a linked account is another organisation's, as the request or the platform says (asked
   * once per account and process). The first time it is, the operator reads it in the log, and the ISMS
   * lead is told once (and it is audited); when neither can tell, the link is honoured as before.
   */
  private async linkedElsewhere(person: Person, user: PlatformUser): Promise<boolean> {
    const key = `${user.platform}:${user.id}`;
    const known = this.elsewhere.get(key);
    if (known !== undefined) return known;
    const external = await user.external?.().catch(() => undefined);
    if (external === undefined) return false;
    if (external) {
      const platform = PLATFORM_NAME[user.platform];
      this.logger.warn({ personId: person.id, platform: user.platform },
        `the ${platform} account linked to a person in the register belongs to another organisation; refused (its link stays)`);
      await this.tellLeadsOnce(`external_account:${user.platform}:${user.id}:${person.id}`, 'external_account', reply(
        text(`The ${platform} account (${user.id}) linked to ${person.name} <${person.email}> belongs to another organisation, so I refused to act for it.`, 'warning'),
        text(`If ${person.name} works here, they should use their account in this organisation's ${platform}. Clear the link with `
          + `"${unlinkLine(person, user.platform)}"; their next message from their own account then links it by email.`),
      ), { id: person.id, label: `${platform} account ${user.id}` }, {
        action: 'refuse_external_account', entity: 'person', entityRef: person.email, after: { platform: user.platform, accountId: user.id },
      });
    }
    this.elsewhere.set(key, external);
    return external;
  }

  /**
   * A person without a timezone takes the one their request reports, else the platform's, asked once
   * per account and process: a later request that reports one still counts.
   */
  private async withTimezone(person: Person, user: PlatformUser): Promise<Person> {
    if (person.timezone) return person;
    if (user.timezone && isTimeZone(user.timezone)) return adoptTimezone(this.db, person, user.timezone, user.platform);
    const key = `${user.platform}:${user.id}`;
    if (this.timezoneAsked.has(key)) return person;
    this.timezoneAsked.add(key);
    const profile = await user.profile().catch(() => undefined);
    return adoptTimezone(this.db, person, profile?.timezone, user.platform);
  }

  private async link(person: Person, user: PlatformUser): Promise<Person> {
    const column = ACCOUNT_COLUMN[user.platform];
    const field = ACCOUNT_FIELD[user.platform];
    return this.db.transaction(async (tx) => {
      const [linked] = await tx.update(people).set({ [field]: user.id })
        .where(and(eq(people.id, person.id), isNull(column))).returning();
      if (!linked) {
        // Linked meanwhile by a concurrent request: to this account it is the same person.
        const [now] = await tx.select().from(people).where(eq(people.id, person.id));
        if (now[field] !== user.id) throw new UserError('conflict', `Your email is already linked to another ${PLATFORM_NAME[user.platform]} account, so I can't act for you. Nothing was recorded.`);
        return now;
      }
      await appendAudit(tx, { id: person.id, label: `${person.name} <${person.email}> via ${user.platform}` }, {
        action: user.platform === 'slack' ? 'link_slack_user' : 'link_teams_account', entity: 'person', entityRef: person.email,
        before: { [field]: null }, after: { [field]: user.id },
      });
      return linked;
    });
  }

  /** A second account claiming a linked person's email: refused, recorded, and the ISMS lead told once. */
  private async secondAccount(person: Person, user: PlatformUser): Promise<Reply> {
    const platform = PLATFORM_NAME[user.platform];
    this.logger.warn({ personId: person.id, platform: user.platform }, 'a second account claims the email of a linked person; refused');
    await this.tellLeadsOnce(`identity_conflict:${user.platform}:${user.id}:${person.id}`, 'identity_conflict', reply(
      text(`A second ${platform} account (${user.id}) shows the email of ${person.name} <${person.email}>, who is already linked to another ${platform} account. I refused to act for it.`, 'warning'),
      text(`If ${person.name} really changed accounts, clear the old link with "${unlinkLine(person, user.platform)}": `
        + `their next message from the new account then links it by email. Otherwise look into who set that email on the account.`),
    ), { id: person.id, label: `${platform} account ${user.id}` }, {
      action: 'refuse_second_account', entity: 'person', entityRef: person.email, after: { platform: user.platform, accountId: user.id },
    });
    return refusal(`This ${platform} account shows the email ${person.email}, which is already linked to another ${platform} account, so I can't act for it. Nothing was recorded.`,
      'The ISMS lead has been told. If you changed accounts, ask them to clear the link to your old account; your next message from this account is then linked to you.');
  }

  /** Tells every ISMS lead `message` once per `key` (whatever the process), and audits it the time they are told. */
  private async tellLeadsOnce(key: string, kind: string, message: Reply, actor: AuditActor, event: AuditInput): Promise<void> {
    if (this.leadsTold.has(key)) return;
    const anyLead = await this.db.transaction(async (tx) => {
      const leads = await peopleWithRole(tx, 'isms_lead');
      let told = false;
      for (const lead of leads) {
        told = await enqueue(tx, { recipientId: lead.id, kind, idempotencyKey: `${key}:${lead.id}`, reply: { ...message, outcome: 'info' } }) || told;
      }
      if (told) await appendAudit(tx, actor, event);
      return leads.length > 0;
    });
    // With no lead in the register yet, the next request tries again.
    if (anyLead) this.leadsTold.add(key);
  }


  /**
   * What someone is told whom the platform did not identify (no account id, a profile without an email,
   * a failed look-up): that, and what to do. Nothing is written; the log line holds no personal data.
   */
  private async unidentified(user: PlatformUser, reason: Unidentified, cause?: unknown): Promise<Reply> {
    this.logger.warn({ platform: user.platform, reason, ...(cause === undefined ? {} : { cause: errorKind(cause) }) },
      `${PLATFORM_NAME[user.platform]} did not say who sent a request (${UNIDENTIFIED_LOG[reason]}); refused`);
    const leads = await peopleWithRole(this.db, 'isms_lead');
    const lead = leads.length ? `the ISMS lead (${leads.map((l) => `${l.name}, ${l.email}`).join(' or ')})` : 'your ISMS lead';
    const scope = reason === 'no_email' ? MISSING_EMAIL_CAUSE[user.platform] : undefined;
    return refusal(`${PLATFORM_NAME[user.platform]} did not say who you are, so I can't run commands for you. Nothing was recorded.`,
      `Try again in a minute; if it keeps happening, tell ${lead}.${scope ? ` ${scope}` : ''}`);
  }

  /** Someone trying the bot in a platform's test chat: commands run only for a person the platform signed in. */
  private fromTestChat(user: PlatformUser, testChat: string): Reply {
    this.logger.info({ platform: user.platform, testChat }, 'request from a test chat, which has no signed-in person; refused');
    return refusal(`This test chat (${testChat}) has no signed-in person, so commands can only be tried from ${PLATFORM_NAME[user.platform]} itself. Nothing was recorded.`);
  }

  /**
   * Someone of another organisation, shown without an email (as Slack shows guests in a shared
   * channel): the register holds this organisation's people, so a missing scope is not the reason.
   */
  private fromElsewhere(user: PlatformUser): Reply {
    // No names or emails of this organisation's people for someone outside it.
    // Slack people know other organisations' workspaces; Teams people know other organisations.
    const where = user.platform === 'slack' ? { yours: "another organisation's workspace", others: 'other workspaces', own: 'its own workspace' }
      : { yours: 'another organisation', others: 'other organisations', own: "this organisation's Microsoft Teams" };
    return refusal(`You are from ${where.yours}: people from ${where.others} can't use the ISMS bot here and are not in its register. Nothing was recorded.`,
      `If you work for this organisation, use your account in ${where.own}.`);
  }

  /** What someone outside the register is told: that, and whom to ask. */
  async notInRegister(email?: string): Promise<Reply> {
    const [anyone] = await this.db.select({ id: people.id }).from(people).limit(1);
    if (!anyone) {
      // A fresh install: nobody can be added through chat until the organisation is imported.
      return refusal('The ISMS register is empty: nobody is in it yet, so I can\'t run commands for anyone. Nothing was recorded.',
        'Whoever runs the bot imports the organisation first: "npm run isms -- import your-org.yaml" (examples/example-org.yaml shows the format; '
        + '"npm run isms -- help" explains it). Put yourself in it as ISMS lead with your work email.');
    }
    const leads = await peopleWithRole(this.db, 'isms_lead');
    const who = leads.length
      ? `Ask ${leads.map((l) => `${l.name} (${l.email})`).join(' or ')}, the ISMS lead, to add you`
      : 'Ask your ISMS lead to add you';
    return refusal(`You are not in the ISMS register${email ? ` (nobody there has the email ${email})` : ''}, so I can't run commands for you. Nothing was recorded.`,
      `${who}${email ? ` with the email ${email}` : ' with your work email address'}.`);
  }
}

/** What a message that is not a command gets without a proposal: where commands start. */
function plainMessageReply(channel: Channel): Reply {
  // The terminal runs a line that names a command without its "/isms"; this line named none.
  const said = channel === 'shell'
    ? 'That is not a command: "/isms help" lists them (in the terminal "/isms" may be left out, e.g. "status").'
    : `Commands start with "${commandPrefix(channel).trim()}" — try "${commandPrefix(channel)}help".`;
  return { ...reply(text(said)), outcome: 'info', visibility: 'private' };
}

function refusal(message: string, hint?: string): Reply {
  return { ...reply(text(message, 'error'), ...(hint ? [text(hint)] : [])), outcome: 'refused', visibility: 'private' };
}
