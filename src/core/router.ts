import { z, type ZodTypeAny } from 'zod';
import { closest, distance } from 'fastest-levenshtein';
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { processedEvents, type Role } from '../db/schema/index.js';
import { type Actor, hasRole, ROLE_LABELS } from './actor.js';
import { UserError } from './errors.js';
import { type Form, type Outcome, type Reply, reply, text, fields, formBlock, findForm } from './reply.js';
import { enqueue, type OutboxMessage } from './outbox.js';
import { appendAudit, type AuditInput } from './audit.js';

export interface Attachment {
  name: string;
  bytes: Buffer;
  mimeType?: string;
}

export type Channel = 'shell' | 'slack' | 'teams' | 'import' | 'scheduler' | 'test';

/** How people type a command where they are: "/isms help" in Slack and the terminal, "help" in Teams (no slash commands there). */
export const commandPrefix = (channel: Channel): string => (channel === 'teams' ? '' : '/isms ');

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
}

export interface CommandSpec<S extends ZodTypeAny = ZodTypeAny> {
  /** Words after "/isms", e.g. "declare ai". */
  name: string;
  aliases?: string[];
  summary: string;
  /** e.g. "declare ai <tool> [purpose] [--vendor <name>]" */
  usage: string;
  examples: string[];
  /** Who may run it; omitted means everyone in the register. */
  roles?: Role[];
  /** Names of positional arguments in order; a trailing "..." takes the rest of the line. */
  positional?: string[];
  /** Extra flags allowed as "--name value"; "--name" alone sets "true". */
  flags?: string[];
  schema: S;
  /** Answers are private to the person who asked unless the command says its answer is for the conversation. */
  answersPublicly?: boolean;
  /** The form shown when the command is given without arguments. */
  form?: (ctx: CommandContext) => Form | Promise<Form>;
  run(ctx: CommandContext, args: z.infer<S>): Promise<Reply>;
}

export const defineCommand = <S extends ZodTypeAny>(spec: CommandSpec<S>): CommandSpec<S> => spec;

export interface Inbound {
  actor: Actor;
  channel: Channel;
  attachments?: Attachment[];
  /** Platform delivery id (event id, activity id, click id): a repeat returns the first answer and writes nothing. */
  idempotencyKey?: string;
  now?: Date;
}

/**
 * Quote pairs people type: straight quotes, and what phones and European keyboards produce
 * („German“, ‚single‘, “English”, ‘single’, «French», »reversed«).
 */
const QUOTES: [string, string][] = [['"', '"'], ["'", "'"], ['“', '”'], ['„', '“'], ['„', '”'], ['‚', '‘'], ['‚', '’'], ['‘', '’'], ['«', '»'], ['»', '«'], ['”', '”']];
const TOKEN = new RegExp(`${QUOTES.map(([open, close]) => `${open}([^${close}]*)${close}`).join('|')}|(\\S+)`, 'g');

/** Splits a command line into words, keeping "quoted phrases" together. */
export function tokenize(line: string): string[] {
  const tokens: string[] = [];
  let m: RegExpExecArray | null;
  TOKEN.lastIndex = 0;
  while ((m = TOKEN.exec(line))) tokens.push(m.slice(1).find((g) => g !== undefined) ?? '');
  return tokens;
}

/** Control characters other than tab and line breaks: never part of what a person means to record. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/** The first field whose text holds a control character (NUL, ESC...), or undefined. */
function fieldWithControlCharacter(raw: Record<string, unknown>): string | undefined {
  for (const [name, value] of Object.entries(raw)) {
    const texts = Array.isArray(value) ? value : [value];
    if (texts.some((v) => typeof v === 'string' && CONTROL.test(v))) return name;
  }
  return undefined;
}

export class CommandRouter {
  private readonly byName = new Map<string, CommandSpec>();
  readonly specs: CommandSpec[] = [];

  constructor(private readonly db: Db, specs: CommandSpec[] = []) {
    for (const s of specs) this.register(s);
  }

  register(spec: CommandSpec): void {
    for (const name of [spec.name, ...(spec.aliases ?? [])]) {
      const key = name.toLowerCase();
      const taken = this.byName.get(key);
      if (taken) throw new Error(`Command name "${name}" of "${spec.name}" is already used by "${taken.name}"`);
      this.byName.set(key, spec);
    }
    this.specs.push(spec);
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
    const words = tokenize(line.trim().replace(/^\/?isms\b/i, ''));
    if (words.length === 0) return this.run(this.byName.get('help')!, ['help'], [], inbound);
    const matched = this.match(words);
    if (!matched) return this.unknown(words, inbound.actor);
    return this.run(matched.spec, words.slice(0, words.length - matched.rest.length), matched.rest, inbound);
  }

  /** Runs a command with the values of its submitted form. */
  async submit(command: string, values: Record<string, unknown>, inbound: Inbound): Promise<Reply> {
    const spec = this.byName.get(command.toLowerCase());
    if (!spec) return this.unknown(tokenize(command), inbound.actor);
    const cleaned: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values)) {
      if (v === '' || v === null || v === undefined || (Array.isArray(v) && v.length === 0)) continue;
      cleaned[k] = v;
    }
    return this.execute(spec, cleaned, inbound);
  }

  private async run(spec: CommandSpec, _path: string[], rest: string[], inbound: Inbound): Promise<Reply> {
    const refusal = this.refuse(spec, inbound.actor);
    if (refusal) return refusal;
    if (rest.length === 0 && spec.form) {
      const form = await spec.form(this.context(this.db, inbound));
      return answered(spec, reply(formBlock(form)), 'form');
    }
    let raw: Record<string, unknown>;
    try {
      raw = parseArgs(spec, rest);
    } catch (e) {
      if (e instanceof UserError) return errorReply(e, spec);
      throw e;
    }
    return this.execute(spec, raw, inbound);
  }

  private refuse(spec: CommandSpec, actor: Actor): Reply | undefined {
    if (!spec.roles || hasRole(actor, ...spec.roles)) return undefined;
    const who = spec.roles.map((r) => ROLE_LABELS[r]).join(' or ');
    return refused(reply(text(`Only the ${who} may use "/isms ${spec.name}". Nothing was recorded.`, 'error'),
      text('Ask your ISMS lead if you think you should have this role.')));
  }

  private async execute(spec: CommandSpec, raw: Record<string, unknown>, inbound: Inbound): Promise<Reply> {
    const refusal = this.refuse(spec, inbound.actor);
    if (refusal) return refusal;
    const hostile = fieldWithControlCharacter(raw);
    if (hostile) {
      return errorReply(new UserError('invalid_input', `The ${hostile} holds a control character (such as NUL or ESC) that cannot be recorded.`,
        'Type or paste it again as plain text.').on(hostile), spec);
    }
    const parsed = spec.schema.safeParse(raw);
    if (!parsed.success) return validationReply(parsed.error, spec);
    try {
      return await this.db.transaction(async (tx) => {
        if (inbound.idempotencyKey) {
          const claimed = await tx.insert(processedEvents).values({ key: inbound.idempotencyKey })
            .onConflictDoNothing().returning({ key: processedEvents.key });
          if (claimed.length === 0) {
            const [seen] = await tx.select().from(processedEvents).where(eq(processedEvents.key, inbound.idempotencyKey));
            return (seen?.reply as Reply | null) ?? answered(spec, reply(text('Already recorded.')), 'info');
          }
        }
        let audited = false;
        const ctx = this.context(tx, inbound);
        const result = answered(spec, await spec.run({ ...ctx, audit: (input) => { audited = true; return ctx.audit(input); } }, parsed.data),
          audited ? 'recorded' : 'info');
        if (inbound.idempotencyKey) {
          await tx.update(processedEvents).set({ reply: result }).where(eq(processedEvents.key, inbound.idempotencyKey));
        }
        return result;
      });
    } catch (e) {
      if (e instanceof UserError) return errorReply(e, spec);
      throw e;
    }
  }

  context(db: Db, inbound: Inbound): CommandContext {
    const now = inbound.now ?? new Date();
    const actor = inbound.actor;
    return {
      db,
      actor,
      channel: inbound.channel,
      now,
      attachments: inbound.attachments ?? [],
      audit: (input) => appendAudit(db, { id: actor.id, label: `${actor.name} <${actor.email}> via ${inbound.channel}` }, input, now),
      notify: (msg) => enqueue(db, msg),
    };
  }

  private unknown(words: string[], actor: Actor): Reply {
    const attempt = words.slice(0, 2).join(' ').toLowerCase();
    const names = this.specs.filter((s) => !s.roles || hasRole(actor, ...s.roles)).flatMap((s) => [s.name, ...(s.aliases ?? [])]);
    const candidates = [attempt, words[0].toLowerCase()];
    let best = '';
    let bestDistance = Infinity;
    for (const c of candidates) {
      const near = closest(c, names);
      const d = distance(c, near);
      if (d < bestDistance) { best = near; bestDistance = d; }
    }
    const suggestion = bestDistance <= Math.max(3, Math.floor(best.length / 2)) ? ` Did you mean "/isms ${best}"?` : '';
    return refused(reply(text(`I don't know the command "/isms ${words.join(' ')}".${suggestion}`, 'error'), text('"/isms help" lists what you can do.')));
  }

  /** Commands the actor may run, in registration order. */
  visibleTo(actor: Actor): CommandSpec[] {
    return this.specs.filter((s) => !s.roles || hasRole(actor, ...s.roles));
  }

  /** Finds a spec by exact name or alias, or undefined. */
  find(name: string): CommandSpec | undefined {
    return this.byName.get(name.toLowerCase());
  }
}

/** Positional words and --flags into a raw object for the spec's zod schema. */
export function parseArgs(spec: CommandSpec, words: string[]): Record<string, unknown> {
  const positional = spec.positional ?? [];
  const allowed = new Set(spec.flags ?? []);
  const out: Record<string, unknown> = {};
  const loose: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w.startsWith('--') && w.length > 2) {
      const [flag, inline] = w.slice(2).split(/=(.*)/s, 2);
      if (!allowed.has(flag)) {
        const known = [...allowed].map((f) => `--${f}`).join(', ');
        throw new UserError('invalid_input', `"/isms ${spec.name}" has no option --${flag}.`, known ? `Options: ${known}.` : undefined);
      }
      if (inline !== undefined) out[flag] = inline;
      else if (i + 1 < words.length && !words[i + 1].startsWith('--')) out[flag] = words[++i];
      else out[flag] = 'true';
    } else {
      loose.push(w);
    }
  }
  positional.forEach((name, idx) => {
    if (name.endsWith('...')) {
      const rest = loose.slice(idx).join(' ');
      if (rest) out[name.slice(0, -3)] = rest;
    } else if (loose[idx] !== undefined) {
      out[name] = loose[idx];
    }
  });
  const lastTakesRest = positional.at(-1)?.endsWith('...');
  if (!lastTakesRest && loose.length > positional.length) {
    throw new UserError('invalid_input', `Too many words for "/isms ${spec.name}": "${loose.slice(positional.length).join(' ')}".`,
      'Put text with spaces in "double quotes".');
  }
  return out;
}

function validationReply(error: z.ZodError, spec: CommandSpec): Reply {
  const problems = error.issues.map((issue) => {
    const field = issue.path.join('.') || 'input';
    return { label: field, value: issue.message };
  });
  const fieldErrors: Record<string, string> = {};
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? '');
    if (field) fieldErrors[field] = fieldErrors[field] ? `${fieldErrors[field]}; ${issue.message}` : issue.message;
  }
  return refused(reply(
    text(`That didn't work: ${problems.map((p) => `${p.label}: ${p.value}`).join('; ')}. Nothing was recorded.`, 'error'),
    fields([{ label: 'Usage', value: `/isms ${spec.usage}` }, { label: 'Example', value: `/isms ${spec.examples[0] ?? spec.name}` }]),
  ), fieldErrors);
}

function errorReply(e: UserError, spec?: CommandSpec): Reply {
  const blocks = [text(`${e.message}${e.code === 'forbidden' || e.code === 'invalid_input' || e.code === 'not_found' ? ' Nothing was recorded.' : ''}`, 'error')];
  if (e.hint) blocks.push(text(e.hint));
  else if (spec && e.code === 'invalid_input') blocks.push(fields([{ label: 'Usage', value: `/isms ${spec.usage}` }]));
  return refused(reply(...blocks), e.field ? { [e.field]: e.message } : undefined);
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

