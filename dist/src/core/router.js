import { z } from 'zod';
import { eq } from 'drizzle-orm';
import { processedEvents } from '../db/schema/index.js';
import { hasRole, ROLE_LABELS } from './actor.js';
import { UserError } from './errors.js';
import { reply, text, fields, formBlock, findForm } from './reply.js';
import { enqueue } from './outbox.js';
import { appendAudit } from './audit.js';
import { ExtraWords, deriveForm, describeArgs, parseWords, usageLine, } from './args.js';
import { didYouMean, nearest } from './suggest.js';
/** How people type a command where they are: "/isms help" in Slack and the terminal, "help" in Teams (no slash commands there). */
export const commandPrefix = (channel) => (channel === 'teams' ? '' : '/isms ');
/** A command line as the person types it where they are: "/isms help" in Slack, "help" in Teams. */
export const commandLine = (channel, line) => `${commandPrefix(channel)}${line}`;
/**
 * A refusal's text worded for where the person is. Services name commands as typed in Slack and the
 * terminal ("/isms poam"), without knowing the platform; in Teams the same hint reads "poam".
 */
export const wordedFor = (channel, message) => message.replace(/(^|["“(\s])\/isms (?=\S)/g, `$1${commandPrefix(channel)}`);
export const defineCommand = (spec) => spec;
/**
 * Quote pairs people type: straight quotes, and what phones and European keyboards produce
 * („German“, ‚single‘, “English”, ‘single’, «French», »reversed«).
 */
const QUOTES = [['"', '"'], ["'", "'"], ['“', '”'], ['„', '“'], ['„', '”'], ['‚', '‘'], ['‚', '’'], ['‘', '’'], ['«', '»'], ['»', '«'], ['”', '”']];
const TOKEN = new RegExp(`${QUOTES.map(([open, close]) => `${open}([^${close}]*)${close}`).join('|')}|(\\S+)`, 'g');
/** Splits a command line into words, keeping "quoted phrases" together. */
export function tokenize(line) {
    const tokens = [];
    let m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(line)))
        tokens.push(m.slice(1).find((g) => g !== undefined) ?? '');
    return tokens;
}
/** Control characters other than tab and line breaks: never part of what a person means to record. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
/** The first field whose text holds a control character (NUL, ESC...), or undefined. */
function fieldWithControlCharacter(raw) {
    for (const [name, value] of Object.entries(raw)) {
        const texts = Array.isArray(value) ? value : [value];
        if (texts.some((v) => typeof v === 'string' && CONTROL.test(v)))
            return name;
    }
    return undefined;
}
export class CommandRouter {
    db;
    byName = new Map();
    argLists = new Map();
    specs = [];
    constructor(db, specs = []) {
        this.db = db;
        for (const s of specs)
            this.register(s);
    }
    register(spec) {
        // Derived once, here: a declaration that cannot be parsed fails at start, not when someone types it.
        this.argLists.set(spec, describeArgs(spec.name, spec.schema, spec.args));
        for (const name of [spec.name, ...(spec.aliases ?? [])]) {
            const key = name.toLowerCase();
            const taken = this.byName.get(key);
            if (taken)
                throw new Error(`Command name "${name}" of "${spec.name}" is already used by "${taken.name}"`);
            this.byName.set(key, spec);
        }
        this.specs.push(spec);
    }
    /** The arguments of a command as parsing, usage, help and its form see them. */
    argsOf(spec) {
        return this.argLists.get(spec) ?? describeArgs(spec.name, spec.schema, spec.args);
    }
    /** The usage line after the prefix, e.g. "request <control> [YYYY-MM-DD]". */
    usage(spec) {
        return usageLine(spec.name, this.argsOf(spec));
    }
    /** Positional words and --flags of a typed line into raw values for the command's schema. */
    parse(spec, words, channel = 'test') {
        return parseWords(spec.name, this.argsOf(spec), words, (line) => commandLine(channel, line));
    }
    /** Finds the longest command path at the start of the words. */
    match(words) {
        for (let n = Math.min(3, words.length); n > 0; n--) {
            const spec = this.byName.get(words.slice(0, n).join(' ').toLowerCase());
            if (spec)
                return { spec, rest: words.slice(n) };
        }
        return undefined;
    }
    /** Runs a typed command line ("/isms declare ai ChatGPT" or "declare ai ChatGPT"). */
    async handle(line, inbound) {
        const words = tokenize(line.trim().replace(/^\/?isms\b/i, ''));
        if (words.length === 0)
            return this.run(this.byName.get('help'), [], inbound);
        const matched = this.match(words);
        if (!matched)
            return this.unknown(words, inbound);
        return this.run(matched.spec, matched.rest, inbound);
    }
    /** Runs a command with the values of its submitted form. */
    async submit(command, values, inbound) {
        const spec = this.byName.get(command.toLowerCase());
        if (!spec)
            return this.unknown(tokenize(command), inbound);
        const cleaned = {};
        for (const [k, v] of Object.entries(values)) {
            if (v === '' || v === null || v === undefined || (Array.isArray(v) && v.length === 0))
                continue;
            cleaned[k] = v;
        }
        return this.execute(spec, cleaned, inbound);
    }
    async run(spec, rest, inbound) {
        const refusal = this.refuse(spec, inbound);
        if (refusal)
            return refusal;
        if (rest.length === 0 && spec.form) {
            const form = await this.context(this.db, inbound, spec).form();
            return answered(spec, reply(formBlock(form)), 'form');
        }
        let raw;
        try {
            raw = this.parse(spec, rest, inbound.channel);
        }
        catch (e) {
            if (!(e instanceof UserError))
                throw e;
            const meant = e instanceof ExtraWords ? this.meant(spec, e.extra[0], inbound) : undefined;
            return meant ? this.didYouMean(`${spec.name} ${rest.join(' ')}`, meant, inbound.channel) : this.errorReply(e, spec, inbound.channel);
        }
        return this.execute(spec, raw, inbound, rest[0]);
    }
    refuse(spec, inbound) {
        if (!spec.roles || hasRole(inbound.actor, ...spec.roles))
            return undefined;
        const who = spec.roles.map((r) => ROLE_LABELS[r]).join(' or ');
        return refused(reply(text(`Only the ${who} may use "${commandLine(inbound.channel, spec.name)}". Nothing was recorded.`, 'error'), text('Ask your ISMS lead if you think you should have this role.')));
    }
    /** `firstWord` is the first typed word after the name: when the line is refused, it may be a misspelt second word of another command. */
    async execute(spec, raw, inbound, firstWord) {
        const refusal = this.refuse(spec, inbound);
        if (refusal)
            return refusal;
        const hostile = fieldWithControlCharacter(raw);
        if (hostile) {
            return this.errorReply(new UserError('invalid_input', `The ${hostile} holds a control character (such as NUL or ESC) that cannot be recorded.`, 'Type or paste it again as plain text.').on(hostile), spec, inbound.channel);
        }
        const parsed = spec.schema.safeParse(raw);
        if (!parsed.success) {
            const meant = firstWord ? this.meant(spec, firstWord, inbound) : undefined;
            if (meant)
                return this.didYouMean(`${spec.name} ${firstWord}`, meant, inbound.channel);
            return this.validationReply(parsed.error, spec, inbound.channel);
        }
        try {
            return await this.db.transaction(async (tx) => {
                if (inbound.idempotencyKey) {
                    const claimed = await tx.insert(processedEvents).values({ key: inbound.idempotencyKey })
                        .onConflictDoNothing().returning({ key: processedEvents.key });
                    if (claimed.length === 0) {
                        const [seen] = await tx.select().from(processedEvents).where(eq(processedEvents.key, inbound.idempotencyKey));
                        return seen?.reply ?? answered(spec, reply(text('Already recorded.')), 'info');
                    }
                }
                let audited = false;
                const ctx = this.context(tx, inbound, spec);
                const result = answered(spec, await spec.run({ ...ctx, audit: (input) => { audited = true; return ctx.audit(input); } }, parsed.data), audited ? 'recorded' : 'info');
                if (inbound.idempotencyKey) {
                    await tx.update(processedEvents).set({ reply: result }).where(eq(processedEvents.key, inbound.idempotencyKey));
                }
                return result;
            });
        }
        catch (e) {
            if (e instanceof UserError)
                return this.errorReply(e, spec, inbound.channel);
            throw e;
        }
    }
    context(db, inbound, spec) {
        const now = inbound.now ?? new Date();
        const actor = inbound.actor;
        const ctx = {
            db,
            actor,
            channel: inbound.channel,
            now,
            attachments: inbound.attachments ?? [],
            audit: (input) => appendAudit(db, { id: actor.id, label: `${actor.name} <${actor.email}> via ${inbound.channel}` }, input, now),
            notify: (msg) => enqueue(db, msg),
            progress: async (message) => {
                try {
                    await inbound.progress?.(message);
                }
                catch {
                    // An interim message is a courtesy: the answer still comes.
                }
            },
            form: async (options) => {
                if (!spec?.form)
                    throw new Error(`"${spec?.name ?? 'this command'}" declares no form`);
                return deriveForm(spec.name, this.argsOf(spec), spec.form, ctx, options);
            },
        };
        return ctx;
    }
    /** Names (and aliases) of the commands the person may run. */
    namesFor(actor) {
        return this.visibleTo(actor).flatMap((s) => [s.name, ...(s.aliases ?? [])]);
    }
    /**
     * The command a misspelt line most likely meant: the first one, two or three words compared with
     * commands of as many words, the closest winning (the longer on a tie, so "triag accept" is "triage accept").
     */
    suggest(words, actor) {
        const names = this.namesFor(actor);
        let best;
        for (let n = 1; n <= Math.min(3, words.length); n++) {
            const attempt = words.slice(0, n).join(' ');
            const near = nearest(attempt, names.filter((name) => name.split(' ').length === n));
            // The share of letters that differ compares attempts of different lengths fairly.
            const share = near ? near.distance / Math.max(attempt.length, near.match.length) : Infinity;
            if (near && (!best || share <= best.share))
                best = { name: near.match, share };
        }
        return best?.name;
    }
    /** Another command that "<name> <word>" is a slip for, e.g. "triage acept" for "triage accept". */
    meant(spec, word, inbound) {
        if (!word)
            return undefined;
        const near = didYouMean(`${spec.name} ${word}`, this.namesFor(inbound.actor).filter((n) => n.startsWith(`${spec.name} `)));
        return near && this.find(near) !== spec ? near : undefined;
    }
    didYouMean(typed, meant, channel) {
        return refused(reply(text(`I don't know the command "${commandLine(channel, typed)}". Did you mean "${commandLine(channel, meant)}"?`, 'error'), text(`"${commandLine(channel, `help ${meant}`)}" explains it.`)));
    }
    unknown(words, inbound) {
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
        return refused(reply(text(`I don't know the command "${typed}".${suggestion}`, 'error'), text(`"${commandLine(channel, 'help')}" lists what you can do.`)));
    }
    /** Commands the actor may run, in registration order. */
    visibleTo(actor) {
        return this.specs.filter((s) => !s.roles || hasRole(actor, ...s.roles));
    }
    /** Commands the actor may run whose name starts with these words ("declare" → declare ai, declare supplier). */
    startingWith(words, actor) {
        const prefix = words.join(' ').toLowerCase();
        if (!prefix)
            return [];
        return this.visibleTo(actor).filter((s) => s.name === prefix || s.name.startsWith(`${prefix} `));
    }
    /** Finds a spec by exact name or alias, or undefined. */
    find(name) {
        return this.byName.get(name.toLowerCase());
    }
    usageFields(spec, channel, withExample) {
        return fields([
            { label: 'Usage', value: commandLine(channel, this.usage(spec)) },
            ...(withExample ? [{ label: 'Example', value: commandLine(channel, spec.examples[0] ?? spec.name) }] : []),
        ]);
    }
    validationReply(error, spec, channel) {
        const problems = error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${wordedFor(channel, issue.message)}`);
        const fieldErrors = {};
        for (const issue of error.issues) {
            const field = String(issue.path[0] ?? '');
            const message = wordedFor(channel, issue.message);
            if (field)
                fieldErrors[field] = fieldErrors[field] ? `${fieldErrors[field]}; ${message}` : message;
        }
        return refused(reply(text(`That didn't work: ${problems.join('; ')}. Nothing was recorded.`, 'error'), this.usageFields(spec, channel, true)), fieldErrors);
    }
    errorReply(e, spec, channel) {
        const message = wordedFor(channel, e.message);
        const blocks = [text(`${message}${e.code === 'forbidden' || e.code === 'invalid_input' || e.code === 'not_found' ? ' Nothing was recorded.' : ''}`, 'error')];
        if (e.hint)
            blocks.push(text(wordedFor(channel, e.hint)));
        else if (spec && e.code === 'invalid_input')
            blocks.push(this.usageFields(spec, channel, false));
        return refused(reply(...blocks), e.field ? { [e.field]: message } : undefined);
    }
}
/** A refusal: nothing was written, and it is for the asker's eyes only. */
function refused(r, fieldErrors) {
    return { ...r, outcome: 'refused', visibility: 'private', ...(fieldErrors && Object.keys(fieldErrors).length ? { fieldErrors } : {}) };
}
/**
 * Sets what an answer means and who sees it. A handler may say its outcome itself; otherwise a
 * reply asking for a form is a form, and one whose transaction wrote audit events is recorded.
 */
function answered(spec, r, otherwise) {
    const outcome = r.outcome ?? (findForm(r) ? 'form' : otherwise);
    return { ...r, outcome, visibility: r.visibility ?? (spec.answersPublicly ? 'public' : 'private') };
}
/** Used by handlers for list-valued options typed as "a,b,c". */
export const commaList = (item) => z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v), z.array(item));
//# sourceMappingURL=router.js.map