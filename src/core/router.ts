import { z, type ZodTypeAny } from 'zod';
import { closest, distance } from 'fastest-levenshtein';
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { processedEvents, type Role } from '../db/schema/index.js';
import { type Actor, hasRole, ROLE_LABELS } from './actor.js';
import { UserError } from './errors.js';
import { type Form, type Reply, reply, text, fields, formBlock } from './reply.js';
import { enqueue, type OutboxMessage } from './outbox.js';
import { appendAudit, type AuditInput } from './audit.js';

export interface Attachment {
  name: string;
  bytes: Buffer;
  mimeType?: string;
}

export type Channel = 'shell' | 'slack' | 'teams' | 'import' | 'scheduler' | 'test';

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

/** Splits a command line into words, keeping "quoted phrases" together. */
export function tokenize(line: string): string[] {
  const tokens: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|“([^”]*)”|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) tokens.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  return tokens;
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
      return reply(formBlock(form));
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
    return reply(text(`Only the ${who} may use "/isms ${spec.name}". Nothing was recorded.`, 'error'),
      text('Ask your ISMS lead if you think you should have this role.'));
  }

  private async execute(spec: CommandSpec, raw: Record<string, unknown>, inbound: Inbound): Promise<Reply> {
    const refusal = this.refuse(spec, inbound.actor);
    if (refusal) return refusal;
    const parsed = spec.schema.safeParse(raw);
    if (!parsed.success) return validationReply(parsed.error, spec);
    try {
      return await this.db.transaction(async (tx) => {
        if (inbound.idempotencyKey) {
          const claimed = await tx.insert(processedEvents).values({ key: inbound.idempotencyKey })
            .onConflictDoNothing().returning({ key: processedEvents.key });
          if (claimed.length === 0) {
            const [seen] = await tx.select().from(processedEvents).where(eq(processedEvents.key, inbound.idempotencyKey));
            return (seen?.reply as Reply | null) ?? reply(text('Already recorded.'));
          }
        }
        const result = await spec.run(this.context(tx, inbound), parsed.data);
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
    return reply(text(`I don't know the command "/isms ${words.join(' ')}".${suggestion}`, 'error'), text('"/isms help" lists what you can do.'));
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
  return reply(
    text(`That didn't work: ${problems.map((p) => `${p.label}: ${p.value}`).join('; ')}. Nothing was recorded.`, 'error'),
    fields([{ label: 'Usage', value: `/isms ${spec.usage}` }, { label: 'Example', value: `/isms ${spec.examples[0] ?? spec.name}` }]),
  );
}

function errorReply(e: UserError, spec?: CommandSpec): Reply {
  const blocks = [text(`${e.message}${e.code === 'forbidden' || e.code === 'invalid_input' || e.code === 'not_found' ? ' Nothing was recorded.' : ''}`, 'error')];
  if (e.hint) blocks.push(text(e.hint));
  else if (spec && e.code === 'invalid_input') blocks.push(fields([{ label: 'Usage', value: `/isms ${spec.usage}` }]));
  return reply(...blocks);
}

/** Used by handlers for list-valued options typed as "a,b,c". */
export const commaList = <T extends ZodTypeAny>(item: T) =>
  z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v), z.array(item));

