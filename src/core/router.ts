import { z, type ZodTypeAny } from 'zod';
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { processedEvents, type Role } from '../db/schema/index.js';
import { type Actor, hasRole, holdersOf } from './actor.js';
import { UserError } from './errors.js';
import { type Block, type Form, type Outcome, type Reply, reply, text, fields, formBlock, findForm } from './reply.js';
import { enqueue, enqueueMany, type OutboxMessage } from './outbox.js';
import { type AuditActor, appendAudit, appendAuditMany, type AuditInput } from './audit.js';
import {
  type Arg, type ArgInfo, type FormDeclaration, type FormOptions, ExtraWords, deriveForm, describeArgs, parseWords, usageLine,
} from './args.js';
import { didYouMean, nearest } from './suggest.js';
import type { InFlight } from '../lifecycle.js';
import { PROPOSED_BY_FIELD, type ProposedBy, parseProposedBy } from './proposals.js';
import { isoDay } from './time.js';

/**
 * A file sent with a request, read as a stream (see core/attachments.ts for its constructors): the
 * core never holds a whole file in memory. `size` is what the platform stated; the bytes read count.
 */
export interface Attachment {
  name: string;
  size: number;
  mimeType?: string;
  open(): AsyncIterable<Uint8Array>;
  /** Frees what holding the file took (a temporary file); the pipeline calls it once the command ran. */
  discard?(): Promise<void>;
}

export type Channel = 'shell' | 'slack' | 'teams' | 'import' | 'scheduler' | 'test';

/** How people type a command where they are: "/isms help" in Slack and the terminal, "help" in Teams (no slash commands there). */
export const commandPrefix = (channel: Channel): string => (channel === 'teams' ? '' : '/isms ');

/** A command line as the person types it where they are: "/isms help" in Slack, "help" in Teams. */
export const commandLine = (channel: Channel, line: string): string => `${commandPrefix(channel)}${line}`;

/**
 * A refusal's text worded for where the person is. Services name commands as typed in Slack and the
 * terminal ("/isms poam"), without knowing the platform; in Teams the same hint reads "poam".
 */
export const wordedFor = (channel: Channel, message: string): string =>
  message.replace(/(^|["“(\s])\/isms (?=\S)/g, `$1${commandPrefix(channel)}`);

/** Who an inbound command's audit events name: the acting person and where they typed. */
const auditActor = ({ actor, channel }: Inbound): AuditActor => ({ id: actor.id, label: `${actor.name} <${actor.email}> via ${channel}` });

/** What a command handler may use: a transaction on the register, the acting person, the clock. */
export interface CommandContext {
  db: Db;
  actor: Actor;
  channel: Channel;
  now: Date;
  attachments: Attachment[];
  /** Records an audit event in this command's transaction. */
  audit(input: AuditInput): Promise<void>;
  /** Queues a message to someone in this command's transaction. */
  notify(msg: OutboxMessage): Promise<boolean>;
  /** Queues messages to several people in one statement; how many were new. */
  notifyEach(msgs: OutboxMessage[]): Promise<number>;
  /** This command's form, derived from its arguments, e.g. with the item a button named carried along instead of asked. */
  form(options?: FormOptions): Promise<Form>;
  /**
   * Tells the person now, before the answer, that a long piece of work is under way ("your export is
   * on its way"). Best effort: a platform that cannot say it is silent, and a failure never fails the command.
   */
  progress(message: string): Promise<void>;
}

/** How each argument of a schema is typed and asked, by field name. */
export type ArgsOf<S extends ZodTypeAny> = { [K in keyof z.infer<S> & string]?: Arg<CommandContext> };

export interface CommandSpec<S extends ZodTypeAny = ZodTypeAny> {
  /** Words after "/isms", e.g. "declare ai". */
  name: string;
  aliases?: string[];
  summary: string;
  /**
   * Command lines without the prefix, e.g. 'declare ai ChatGPT --vendor OpenAI'; each must parse and,
   * pasted into the example organisation, work. With dates, a function of today (YYYY-MM-DD), so they never go stale.
   */
  examples: string[] | ((today: string) => string[]);
  /** Who may run it; omitted means everyone in the register. */
  roles?: Role[];
  /** The arguments: what each accepts and, with .describe(), what it means. An object schema, possibly preprocessed. */
  schema: S;
  /** How each argument is typed (positional or --flag) and asked in the form; a field left out is a --flag. */
  args?: ArgsOf<S>;
  /** The command never records anything (a list, a report): its refusals do not say that nothing was recorded. */
  readOnly?: true;
  /** Answers are private to the person who asked unless the command says its answer is for the conversation. */
  answersPublicly?: boolean;
  /** Given without arguments, the command answers with its form, derived from its arguments. */
  form?: FormDeclaration;
  run(ctx: CommandContext, args: z.infer<S>): Promise<Reply>;
}

export const defineCommand = <S extends ZodTypeAny>(spec: CommandSpec<S>): CommandSpec<S> => spec;

/**
 * Zod's own wording ("String must contain at most 200 character(s)") said as the rest of the bot speaks, with what
 * was typed: a message a schema gives for its check is kept.
 */
const inPlainWords: z.ZodErrorMap = (issue, ctx) => {
  if (issue.code === 'too_big' && issue.type === 'string') {
    return { message: `is too long: at most ${issue.maximum} characters, and this has ${String(ctx.data).length}` };
  }
  if (issue.code === 'too_small' && issue.type === 'string') {
    return { message: Number(issue.minimum) <= 1 ? 'is empty' : `is too short: at least ${issue.minimum} characters` };
  }
  if (issue.code === 'too_big' && issue.type === 'array') return { message: `has too many items: at most ${issue.maximum}` };
  return { message: ctx.defaultError };
};

/** Said after a refusal of a command that could have written something. */
const nothingRecorded = (spec: CommandSpec | undefined) => (spec?.readOnly ? '' : ' Nothing was recorded.');

/** A command's examples as of a moment: dates in them are near that day. */
export const examplesOf = (spec: CommandSpec, now: Date): string[] =>
  (typeof spec.examples === 'function' ? spec.examples(isoDay(now)) : spec.examples);

export interface Inbound {
  actor: Actor;
  channel: Channel;
  attachments?: Attachment[];
  /** Platform delivery id (event id, activity id, click id): a repeat returns the first answer and writes nothing. */
  idempotencyKey?: string;
  now?: Date;
  /** Sends an interim message to the person who asked (see CommandContext.progress). */
  progress?: (message: string) => Promise<void>;
}

/**
 * Quote pairs people type: straight quotes, and what phones and European keyboards produce
 * („German“, ‚single‘, “English”, ‘single’, «French», »reversed«).
 */
const QUOTES: [string, string][] = [['"', '"'], ["'", "'"], ['“', '”'], ['„', '“'], ['„', '”'], ['‚', '‘'], ['‚', '’'], ['‘', '’'], ['«', '»'], ['»', '«'], ['”', '”']];
/**
 * A single closing quote followed by a letter or digit is an apostrophe within the phrase, as phones
 * type both with the same character (‘Ada’s tool’, 'Ada's tool'): the phrase goes on.
 */
const APOSTROPHES = "'’";
const phrase = (open: string, close: string) => APOSTROPHES.includes(close)
  ? `${open}((?:[^${close}]|${close}(?=[\\p{L}\\p{N}]))*)${close}(?![\\p{L}\\p{N}])`
  : `${open}([^${close}]*)${close}`;
const TOKEN = new RegExp(`${QUOTES.map(([open, close]) => phrase(open, close)).join('|')}|(\\S+)`, 'gu');

/** Splits a command line into words, keeping "quoted phrases" together. */
export function tokenize(line: string): string[] {
  const tokens: string[] = [];
  let m: RegExpExecArray | null;
  TOKEN.lastIndex = 0;
  while ((m = TOKEN.exec(line))) tokens.push(m.slice(1).find((g) => g !== undefined) ?? '');
  return tokens;
}

/**
 * Whether a position of a command line lies inside a quoted phrase as tokenize reads it (straight,
 * typographic or French quotes alike): a platform writing a name into the line must not quote it again there.
 */
export function withinQuotedPhrase(line: string, index: number): boolean {
  let m: RegExpExecArray | null;
  TOKEN.lastIndex = 0;
  while ((m = TOKEN.exec(line)) && m.index < index) {
    // Only the last group is a bare word: any other is a phrase between a pair of quotes.
    if (index < m.index + m[0].length) return m[m.length - 1] === undefined;
  }
  return false;
}

/**
 * The words of a typed command line after its "/isms": also when a whole command was pasted after a typed
 * "/isms " ("/isms /isms status", "/isms isms status"), as no command's first word is "isms".
 */
export const commandWords = (line: string): string[] => tokenize(line.trim().replace(/^(?:\/*isms\b\s*)+/i, ''));

/** Characters that open a quoted phrase, whose closing quote a person may forget; apostrophes ("don't") are left out. */
const OPENING_QUOTES = new Set(QUOTES.map(([open]) => open).filter((open) => !"'‚‘".includes(open)));

/**
 * The text after a quote that is never closed ("/isms declare ai "Chat GPT --vendor OpenAI"), or
 * undefined. The tokenizer keeps such a quote as part of a word; recorded, it would be the name.
 */
export function unclosedQuote(line: string): string | undefined {
  let m: RegExpExecArray | null;
  TOKEN.lastIndex = 0;
  while ((m = TOKEN.exec(line))) {
    // Only the last group (a bare word) can start with a quote: a closed one matched a pair before it.
    const bare = m[m.length - 1];
    if (bare !== undefined && OPENING_QUOTES.has(bare[0]) && bare.length > 0) return line.slice(m.index);
  }
  return undefined;
}

/** Control characters other than tab and line breaks: never part of what a person means to record. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/** The first of the command's fields whose text holds a control character (NUL, ESC...), or undefined. */
function fieldWithControlCharacter(raw: Record<string, unknown>, fields: ArgInfo[]): string | undefined {
  for (const [name, value] of Object.entries(raw)) {
    // A key the command does not take is dropped by its schema: naming it would point at no field.
    if (!fields.some((f) => f.name === name)) continue;
    const texts = Array.isArray(value) ? value : [value];
    if (texts.some((v) => typeof v === 'string' && CONTROL.test(v))) return name;
  }
  return undefined;
}

/**
 * Told of a command's audited changes once its transaction has committed, e.g. to start follow-up work
 * that must never hold up or fail the command. It runs synchronously: start the work, do not await it.
 */
export type CommittedListener = (audits: AuditInput[], inbound: Inbound) => void;

export class CommandRouter {
  private readonly byName = new Map<string, CommandSpec>();
  private readonly argLists = new Map<CommandSpec, ArgInfo[]>();
  private readonly usageLines = new Map<CommandSpec, string>();
  private readonly committedListeners: CommittedListener[] = [];
  readonly specs: CommandSpec[] = [];

  constructor(private readonly db: Db, specs: CommandSpec[] = []) {
    for (const s of specs) this.register(s);
  }

  register(spec: CommandSpec): void {
    // Derived once, here: a declaration that cannot be parsed fails at start, not when someone types it.
    this.argLists.set(spec, describeArgs(spec.name, spec.schema, spec.args as Record<string, Arg<never>> | undefined));
    for (const name of [spec.name, ...(spec.aliases ?? [])]) {
      const key = name.toLowerCase();
      const taken = this.byName.get(key);
      if (taken) throw new Error(`Command name "${name}" of "${spec.name}" is already used by "${taken.name}"`);
      this.byName.set(key, spec);
    }
    this.specs.push(spec);
  }

  /** The arguments of a command as parsing, usage, help and its form see them. */
  argsOf(spec: CommandSpec): ArgInfo[] {
    return this.argLists.get(spec) ?? describeArgs(spec.name, spec.schema, spec.args as Record<string, Arg<never>> | undefined);
  }

  /** The usage line after the prefix, e.g. "request <control> [YYYY-MM-DD]"; the same for every request, so made once. */
  usage(spec: CommandSpec): string {
    let line = this.usageLines.get(spec);
    if (line === undefined) this.usageLines.set(spec, line = usageLine(spec.name, this.argsOf(spec)));
    return line;
  }

  /** Positional words and --flags of a typed line into raw values for the command's schema. */
  parse(spec: CommandSpec, words: string[], channel: Channel = 'test'): Record<string, unknown> {
    return parseWords(spec.name, this.argsOf(spec), words, (line) => commandLine(channel, line));
  }

  /** Finds the longest command path at the start of the words. */
  match(words: string[]): { spec: CommandSpec; rest: string[] } | undefined {
    for (let n = Math.min(3, words.length); n > 0; n--) {
      const spec = this.byName.get(words.slice(0, n).join(' ').toLowerCase());
      if (spec) return { spec, rest: words.slice(n) };
    }
    return undefined;
  }

  /** Runs a typed command line ("/isms declare ai ChatGPT" or "declare ai ChatGPT"). */
  async handle(line: string, inbound: Inbound): Promise<Reply> {
    const words = commandWords(line);
    if (words.length === 0) return this.run(this.byName.get('help')!, [], inbound);
    const matched = this.match(words);
    if (!matched) return this.unknown(words, inbound);
    const unclosed = matched.rest.length ? unclosedQuote(line) : undefined;
    if (unclosed !== undefined) {
      return refused(reply(
        text(`A quote is opened and never closed (at: ${unclosed.slice(0, 40)}${unclosed.length > 40 ? '…' : ''}), so I cannot tell where that text ends.${nothingRecorded(matched.spec)}`, 'error'),
        text(`Close it and send the command again, e.g. ${commandLine(inbound.channel, examplesOf(matched.spec, inbound.now ?? new Date())[0] ?? matched.spec.name)}`),
      ));
    }
    return this.run(matched.spec, matched.rest, inbound);
  }

  /** Runs a command with the values of its submitted form. */
  async submit(command: string, values: Record<string, unknown>, inbound: Inbound): Promise<Reply> {
    const spec = this.byName.get(command.toLowerCase());
    if (!spec) return this.unknown(tokenize(command), inbound);
    const cleaned: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values)) {
      if (k === PROPOSED_BY_FIELD || v === '' || v === null || v === undefined || (Array.isArray(v) && v.length === 0)) continue;
      cleaned[k] = v;
    }
    return this.execute(spec, cleaned, inbound, undefined, parseProposedBy(values[PROPOSED_BY_FIELD]));
  }

  private async run(spec: CommandSpec, rest: string[], inbound: Inbound): Promise<Reply> {
    const refusal = this.refuse(spec, inbound);
    if (refusal) return refusal;
    if (rest.length === 0 && spec.form) {
      const form = await this.context(this.db, inbound, spec).form();
      return answered(spec, reply(formBlock(form)), 'form');
    }
    let raw: Record<string, unknown>;
    try {
      raw = this.parse(spec, rest, inbound.channel);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      // "person unlnk sam slack x": the slip took the place of the first argument, so the words after it are "too many".
      const meant = e instanceof ExtraWords ? this.meant(spec, rest[0], inbound) ?? this.meant(spec, e.extra[0], inbound) : undefined;
      return meant ? this.didYouMean(`${spec.name} ${rest.join(' ')}`, meant, inbound.channel) : this.errorReply(e, spec, inbound.channel);
    }
    return this.execute(spec, raw, inbound, rest[0]);
  }

  private refuse(spec: CommandSpec, inbound: Inbound): Reply | undefined {
    if (!spec.roles || hasRole(inbound.actor, ...spec.roles)) return undefined;
    return refused(reply(text(`Only ${holdersOf(spec.roles)} may use "${commandLine(inbound.channel, spec.name)}".${nothingRecorded(spec)}`, 'error'),
      text('Ask your ISMS lead if you think you should have this role.')));
  }

  /**
   * `firstWord` is the first typed word after the name: when the line is refused, it may be a misspelt second word of another command.
   * `proposedBy`: the submitted form was a confirmed proposal; recorded with what it wrote, nothing else.
   */
  private async execute(spec: CommandSpec, raw: Record<string, unknown>, inbound: Inbound, firstWord?: string, proposedBy?: ProposedBy): Promise<Reply> {
    const refusal = this.refuse(spec, inbound);
    if (refusal) return refusal;
    const hostile = fieldWithControlCharacter(raw, this.argsOf(spec));
    if (hostile) {
      return this.errorReply(new UserError('invalid_input', `The ${hostile} holds a control character (such as NUL or ESC) that cannot be recorded.`,
        'Type or paste it again as plain text.').on(hostile), spec, inbound.channel);
    }
    const parsed = spec.schema.safeParse(raw, { errorMap: inPlainWords });
    if (!parsed.success) {
      const meant = firstWord ? this.meant(spec, firstWord, inbound) : undefined;
      if (meant) return this.didYouMean(`${spec.name} ${firstWord}`, meant, inbound.channel);
      return this.validationReply(parsed.error, spec, inbound, raw);
    }
    if (spec.readOnly) return this.read(spec, parsed.data, inbound);
    const audits: AuditInput[] = [];
    try {
      const committed = await this.db.transaction(async (tx) => {
        if (inbound.idempotencyKey) {
          const claimed = await tx.insert(processedEvents).values({ key: inbound.idempotencyKey })
            .onConflictDoNothing().returning({ key: processedEvents.key });
          if (claimed.length === 0) {
            const [seen] = await tx.select().from(processedEvents).where(eq(processedEvents.key, inbound.idempotencyKey));
            return (seen?.reply as Reply | null) ?? answered(spec, reply(text('Already recorded.')), 'info');
          }
        }
        const ctx = this.context(tx, inbound, spec);
        // The command's events are appended together just before the commit: the audit lock (one for the
        // whole register) is then held for one append and the commit, not for the rest of the command.
        const result = answered(spec, await spec.run({ ...ctx, audit: async (input) => { audits.push(input); } }, parsed.data),
          audits.length ? 'recorded' : 'info');
        if (proposedBy && audits.length) {
          // Beside the write's own events, in its transaction: which prompt and model proposed what the person confirmed.
          audits.push({ action: 'confirm_proposal', entity: 'assistant_proposal', entityRef: audits[0].entityRef, after: { command: spec.name, proposedBy } });
        }
        // The answer is kept for a repeated delivery in the statement that appends the events.
        const keepAnswer = inbound.idempotencyKey
          ? tx.update(processedEvents).set({ reply: result }).where(eq(processedEvents.key, inbound.idempotencyKey)) : undefined;
        await appendAuditMany(tx, auditActor(inbound), audits, ctx.now, keepAnswer);
        if (inbound.idempotencyKey && !audits.length) {
          // A read recorded nothing: a retry of it may simply be answered again, so its answer is not kept.
          await tx.delete(processedEvents).where(eq(processedEvents.key, inbound.idempotencyKey));
        }
        return result;
      });
      if (audits.length) this.tellCommitted(audits, inbound);
      return committed;
    } catch (e) {
      if (e instanceof UserError) return this.errorReply(e, spec, inbound.channel);
      throw e;
    }
  }

  /**
   * A command that records nothing runs without a claim or a transaction: a repeated delivery is simply
   * answered again, and each of its statements reads committed data as it would inside one (read
   * committed). Saves the database a write and a commit per list, report and help.
   */
  private async read(spec: CommandSpec, args: unknown, inbound: Inbound): Promise<Reply> {
    const ctx = this.context(this.db, inbound, spec);
    const wrote = () => { throw new Error(`"${spec.name}" is declared readOnly but tried to record something`); };
    try {
      return answered(spec, await spec.run({ ...ctx, audit: wrote, notify: wrote, notifyEach: wrote }, args), 'info');
    } catch (e) {
      if (e instanceof UserError) return this.errorReply(e, spec, inbound.channel);
      throw e;
    }
  }

  /** Registers a listener for committed changes (see CommittedListener). */
  onCommitted(listener: CommittedListener): void {
    this.committedListeners.push(listener);
  }

  /**
   * Runs `work` after a command commits, once for each `action` on `entity` it recorded, counted in
   * `inFlight` so a graceful stop waits for it. The work handles its own failures.
   */
  afterCommit(entity: string, action: string, inFlight: InFlight, work: (ref: string, now: Date) => Promise<void>): void {
    this.onCommitted((audits, inbound) => {
      for (const audit of audits) {
        if (audit.entity === entity && audit.action === action) void inFlight.run(() => work(audit.entityRef, inbound.now ?? new Date()));
      }
    });
  }

  private tellCommitted(audits: AuditInput[], inbound: Inbound): void {
    for (const listener of this.committedListeners) {
      try {
        listener(audits, inbound);
      } catch {
        // Follow-up work never fails a command that has already been recorded.
      }
    }
  }

    context(db: Db, inbound: Inbound, spec?: CommandSpec): CommandContext {
    const now = inbound.now ?? new Date();
    const actor = inbound.actor;
    const ctx: CommandContext = {
      db,
      actor,
      channel: inbound.channel,
      now,
      attachments: inbound.attachments ?? [],
      audit: (input) => appendAudit(db, auditActor(inbound), input, now),
      notify: (msg) => enqueue(db, msg),
      notifyEach: (msgs) => enqueueMany(db, msgs),
      progress: async (message) => {
        try {
          await inbound.progress?.(message);
        } catch {
          // An interim message is a courtesy: the answer still comes.
        }
      },
      form: async (options) => {
        if (!spec?.form) throw new Error(`"${spec?.name ?? 'this command'}" declares no form`);
        return deriveForm(spec.name, this.argsOf(spec), spec.form, ctx, options);
      },
    };
    return ctx;
  }

  /**
   * Names of the commands the person may run, as help lists them. Aliases still run but are never
   * suggested: a short one ("todo") would be "meant" by unrelated words and names nothing help shows.
   */
  private namesFor(actor: Actor): string[] {
    return this.visibleTo(actor).map((s) => s.name);
  }

  /**
   * The command a misspelt line most likely meant: the first one, two or three words compared with
   * commands of as many words, the closest winning (the longer on a tie, so "triag accept" is "triage accept").
   */
  suggest(words: string[], actor: Actor): string | undefined {
    const names = this.namesFor(actor);
    let best: { name: string; share: number } | undefined;
    for (let n = 1; n <= Math.min(3, words.length); n++) {
      const attempt = words.slice(0, n).join(' ');
      const near = nearest(attempt, names.filter((name) => name.split(' ').length === n));
      // The share of letters that differ compares attempts of different lengths fairly.
      const share = near ? near.distance / Math.max(attempt.length, near.match.length) : Infinity;
      if (near && (!best || share <= best.share)) best = { name: near.match, share };
    }
    return best?.name;
  }

  /** Another command that "<name> <word>" is a slip for, e.g. "triage acept" for "triage accept". */
  private meant(spec: CommandSpec, word: string | undefined, inbound: Inbound): string | undefined {
    if (!word) return undefined;
    const near = didYouMean(`${spec.name} ${word}`, this.namesFor(inbound.actor).filter((n) => n.startsWith(`${spec.name} `)));
    return near && this.find(near) !== spec ? near : undefined;
  }

  private didYouMean(typed: string, meant: string, channel: Channel): Reply {
    return refused(reply(text(`I don't know the command "${commandLine(channel, typed)}". Did you mean "${commandLine(channel, meant)}"?`, 'error'),
      text(`"${commandLine(channel, `help ${meant}`)}" explains it.`)));
  }

  private unknown(words: string[], inbound: Inbound): Reply {
    const { channel, actor } = inbound;
    const typed = commandLine(channel, words.join(' '));
    const near = this.suggest(words, actor);
    const starting = near ? [] : this.startingWith(words.slice(0, 1), actor);
    if (starting.length) {
      // "declare" alone, or "declare ChatGPT": show the commands that start with the word.
      const intro = words.length === 1 ? `"${typed}" needs one more word. These commands start with it:`
        : `I don't know the command "${typed}". These commands start with "${words[0]}":`;
      return refused(reply(text(intro, 'error'), fields(starting.map((s) => ({ label: commandLine(channel, this.usage(s)), value: s.summary })))));
    }
    const suggestion = near ? ` Did you mean "${commandLine(channel, near)}"?` : '';
    return refused(reply(text(`I don't know the command "${typed}".${suggestion}`, 'error'),
      text(`"${commandLine(channel, 'help')}" lists what you can do.`)));
  }

  /** Commands the actor may run, in registration order. */
  visibleTo(actor: Actor): CommandSpec[] {
    return this.specs.filter((s) => !s.roles || hasRole(actor, ...s.roles));
  }

  /** Commands the actor may run whose name starts with these words ("declare" → declare ai, declare supplier). */
  startingWith(words: string[], actor: Actor): CommandSpec[] {
    const prefix = words.join(' ').toLowerCase();
    if (!prefix) return [];
    return this.visibleTo(actor).filter((s) => s.name === prefix || s.name.startsWith(`${prefix} `));
  }

  /** Finds a spec by exact name or alias, or undefined. */
  find(name: string): CommandSpec | undefined {
    return this.byName.get(name.toLowerCase());
  }

  private usageFields(spec: CommandSpec, channel: Channel, example?: string): Block {
    return fields([
      { label: 'Usage', value: commandLine(channel, this.usage(spec)) },
      ...(example ? [{ label: 'Example', value: commandLine(channel, example) }] : []),
    ]);
  }

  private validationReply(error: z.ZodError, spec: CommandSpec, inbound: Inbound, raw: Record<string, unknown>): Reply {
    const { channel } = inbound;
    const args = this.argsOf(spec);
    // What the person must give but the schema lets pass (a line without it opens a form) is named too: every gap in one reply.
    const unanswered = args.filter((a) => a.arg.required && raw[a.name] === undefined && !error.issues.some((i) => i.path[0] === a.name))
      .map((a): z.ZodIssue => ({ code: 'invalid_type', expected: 'string', received: 'undefined', path: [a.name], message: 'Required' }));
    const place = (issue: z.ZodIssue) => { const at = args.findIndex((a) => a.name === issue.path[0]); return at === -1 ? args.length : at; };
    const issues = [...error.issues, ...unanswered].sort((a, b) => place(a) - place(b));
    const said = (issue: z.ZodIssue) => wordedFor(channel, missing(issue) ? this.requiredMessage(spec, issue) : issue.message);
    const problems = issues.map((issue) => `${problemPlace(issue.path)}: ${said(issue)}${typedItem(issue.path, raw)}`);
    const fieldErrors: Record<string, string> = {};
    for (const issue of issues) {
      const field = String(issue.path[0] ?? '');
      const message = said(issue);
      if (field) fieldErrors[field] = fieldErrors[field] ? `${fieldErrors[field]}; ${message}` : message;
    }
    return refused(reply(
      text(`That didn't work: ${problems.join('; ')}.${nothingRecorded(spec)}`, 'error'),
      this.usageFields(spec, channel, examplesOf(spec, inbound.now ?? new Date())[0] ?? spec.name),
    ), fieldErrors);
  }

  /** Zod's bare "Required" for an argument left out, said with what the argument is. */
  private requiredMessage(spec: CommandSpec, issue: z.ZodIssue): string {
    const arg = this.argsOf(spec).find((a) => a.name === issue.path[0]);
    const what = arg?.description ?? arg?.label;
    return what ? `is required (${what.charAt(0).toLowerCase()}${what.slice(1)})` : 'is required';
  }

  private errorReply(e: UserError, spec: CommandSpec | undefined, channel: Channel): Reply {
    const message = wordedFor(channel, e.message);
    const blocks = [text(`${message}${e.code === 'forbidden' || e.code === 'invalid_input' || e.code === 'not_found' ? nothingRecorded(spec) : ''}`, 'error')];
    if (e.hint) blocks.push(text(wordedFor(channel, e.hint)));
    else if (spec && e.code === 'invalid_input') blocks.push(this.usageFields(spec, channel));
    return refused(reply(...blocks), e.field ? { [e.field]: message } : undefined);
  }
}

/** An argument left out, which zod words only as "Required". */
const missing = (issue: z.ZodIssue): boolean => issue.code === 'invalid_type' && issue.received === 'undefined' && issue.message === 'Required';

/** Where a schema found a problem, as the person knows it: the field ("data"), not a path into its list ("data.0"). */
const problemPlace = (where: (string | number)[]): string => where.filter((step) => typeof step !== 'number').join('.') || 'input';

/** For one item of a list ("--data internal,secret"), which item was turned down: ' ("secret" is not)'. */
function typedItem(where: (string | number)[], raw: Record<string, unknown>): string {
  const [field, index] = where;
  const list = raw[String(field)];
  const items = typeof list === 'string' ? list.split(',').map((v) => v.trim()).filter(Boolean) : list;
  if (typeof index !== 'number' || !Array.isArray(items) || typeof items[index] !== 'string') return '';
  return ` ("${items[index]}" is not)`;
}

/** A refusal: nothing was written, and it is for the asker's eyes only. */
function refused(r: Reply, fieldErrors?: Record<string, string>): Reply {
  return { ...r, outcome: 'refused', visibility: 'private', ...(fieldErrors && Object.keys(fieldErrors).length ? { fieldErrors } : {}) };
}

/**
 * Sets what an answer means and who sees it. A handler may say its outcome itself; otherwise a
 * reply asking for a form is a form, and one whose transaction wrote audit events is recorded.
 */
function answered(spec: CommandSpec, r: Reply, otherwise: Outcome): Reply {
  const outcome = r.outcome ?? (findForm(r) ? 'form' : otherwise);
  return { ...r, outcome, visibility: r.visibility ?? (spec.answersPublicly ? 'public' : 'private') };
}

/** Used by handlers for list-valued options typed as "a,b,c". */
export const commaList = <T extends ZodTypeAny>(item: T) =>
  z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v), z.array(item));

