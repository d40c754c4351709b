import { z } from 'zod';
import { UserError } from './errors.js';
import { isoDate } from './validate.js';
/** A select with more choices than this is typed instead: chat platforms cap their lists at 100. */
const MAX_CHOICES = 100;
const YES_NO_WORDS = ['yes', 'no', 'true', 'false'];
/** The object schema under any preprocess/refine wrappers. */
export function objectOf(schema) {
    let t = schema;
    while (t instanceof z.ZodEffects)
        t = t._def.schema;
    return t instanceof z.ZodObject ? t : undefined;
}
/** The base type of a field under optional/default/effects wrappers, and whether one of the wrappers is the date check. */
function baseOf(schema) {
    let t = schema;
    let date = false;
    for (;;) {
        if (t instanceof z.ZodEffects) {
            if (t._def.effect === isoDate._def.effect)
                date = true;
            t = t._def.schema;
        }
        else if (t instanceof z.ZodOptional || t instanceof z.ZodNullable || t instanceof z.ZodDefault) {
            t = t._def.innerType;
        }
        else if (t instanceof z.ZodPipeline) {
            t = t._def.in;
        }
        else {
            return { base: t, date };
        }
    }
}
function enumValues(t) {
    const { base } = baseOf(t);
    return base instanceof z.ZodEnum ? [...base.options] : undefined;
}
const capitalised = (s) => s.charAt(0).toUpperCase() + s.slice(1).replace(/-/g, ' ');
function describeField(name, schema, arg) {
    const { base, date } = baseOf(schema);
    const kind = arg.hidden ? 'hidden' : arg.field === 'file' ? 'file'
        : arg.positional === 'rest' ? 'rest' : arg.positional ? 'positional' : arg.switch ? 'switch' : 'flag';
    const info = {
        name, kind, arg,
        required: Boolean(arg.required) || !schema.isOptional(),
        asked: kind !== 'hidden' && arg.asked !== false,
        description: schema.description,
        label: arg.label ?? capitalised(name),
        value: arg.value ?? name,
        field: 'text',
    };
    if (date) {
        info.field = 'date';
        info.value = 'YYYY-MM-DD';
    }
    else if (base instanceof z.ZodArray) {
        info.field = 'multiselect';
        info.choices = enumValues(base._def.type);
        if (info.choices && !arg.value)
            info.value = info.choices.join(',');
    }
    else if (base instanceof z.ZodEnum) {
        info.field = 'select';
        info.choices = [...base.options];
        if (!arg.value)
            info.value = info.choices.join('|');
    }
    else if (base instanceof z.ZodBoolean) {
        info.field = 'select';
        info.choices = ['yes', 'no'];
        if (!arg.value)
            info.value = 'yes|no';
    }
    else if (base instanceof z.ZodNumber) {
        info.field = 'number';
        info.value = arg.value ?? 'n';
        for (const check of base._def.checks) {
            if (check.kind === 'int')
                info.integer = true;
            if (check.kind === 'min')
                info.min = check.value;
            if (check.kind === 'max')
                info.max = check.value;
        }
    }
    else if (kind === 'rest') {
        info.field = 'textarea';
    }
    if (Array.isArray(arg.options)) {
        info.choices = arg.options.map((o) => o.value);
        if (!arg.value)
            info.value = info.choices.join(info.field === 'multiselect' ? ',' : '|');
    }
    if (arg.options && info.field !== 'multiselect')
        info.field = 'select';
    if (arg.field)
        info.field = arg.field;
    return info;
}
/** Every argument of a schema in its declared order, checked for a sound declaration. */
export function describeArgs(command, schema, args = {}) {
    const object = objectOf(schema);
    if (!object)
        throw new Error(`The schema of "${command}" is not an object`);
    const shape = object.shape;
    for (const name of Object.keys(args)) {
        if (!(name in shape))
            throw new Error(`"${command}" declares the argument "${name}", which its schema lacks`);
    }
    const list = Object.entries(shape).map(([name, t]) => describeField(name, t, args[name] ?? {}));
    const typedInOrder = list.filter((a) => a.kind === 'positional' || a.kind === 'rest');
    if (typedInOrder.slice(0, -1).some((a) => a.kind === 'rest'))
        throw new Error(`"${command}": only its last positional argument may take the rest of the line`);
    return list;
}
/**
 * How the usage line shows one argument. What is typed as it stands is the command's name, --flags
 * and the choices of a list (yes|no); everything else is a placeholder in <angle brackets>, and
 * [square brackets] mark what may be left out: "<tool>", "[<purpose>]", "[--vendor <name>]", "--ict yes|no", "[--all]".
 */
export function usageOf(a) {
    if (a.kind === 'positional' || a.kind === 'rest') {
        const inner = a.field === 'date' ? `${a.arg.value ?? a.name} YYYY-MM-DD` : a.value;
        return a.required ? `<${inner}>` : `[<${inner}>]`;
    }
    const value = a.choices || a.field === 'date' ? a.value : `<${a.value}>`;
    const typed = a.kind === 'switch' ? `--${a.name}` : `--${a.name} ${value}`;
    return a.required ? typed : `[${typed}]`;
}
const USAGE_RANK = { positional: 0, rest: 0, flag: 1, switch: 1, file: 2, hidden: 3 };
/** Arguments as a person gives them: positional words first (in their order), then --flags, then attachments. */
export const inUsageOrder = (list) => [...list].sort((a, b) => USAGE_RANK[a.kind] - USAGE_RANK[b.kind]);
/** The whole usage line after the command's name; files and hidden values are not typed. */
export function usageLine(name, list) {
    return [name, ...inUsageOrder(list).filter((a) => a.kind !== 'file' && a.kind !== 'hidden').map(usageOf)].join(' ');
}
/** Words no argument takes: a misspelt second word of a command ("triage acept") lands here. */
export class ExtraWords extends UserError {
    extra;
    constructor(extra, message, hint) {
        super('invalid_input', message, hint);
        this.extra = extra;
    }
}
/**
 * Positional words and --flags into raw values for the schema. Any typed argument may be given as
 * "--name value" or "--name=value"; the words left over fill the positional ones in order.
 * `say` words a command for the asker's platform ("/isms ack" or "ack").
 */
export function parseWords(command, list, words, say) {
    const typed = new Map(list.filter((a) => a.kind !== 'file').map((a) => [a.name, a]));
    const out = {};
    const loose = [];
    for (let i = 0; i < words.length; i++) {
        const w = words[i];
        if (!(w.startsWith('--') && w.length > 2)) {
            loose.push(w);
            continue;
        }
        const [name, inline] = w.slice(2).split(/=(.*)/s, 2);
        const a = typed.get(name);
        if (!a) {
            const options = [...typed.values()].filter((x) => x.kind === 'flag' || x.kind === 'switch').map((x) => `--${x.name}`).join(', ');
            throw new UserError('invalid_input', `"${say(command)}" has no option --${name}.`, options ? `Options: ${options}.` : undefined);
        }
        const next = words[i + 1];
        const takesNext = next !== undefined && !next.startsWith('--') && (a.kind !== 'switch' || YES_NO_WORDS.includes(next.toLowerCase()));
        if (inline !== undefined)
            out[name] = inline;
        else if (takesNext)
            out[name] = words[++i];
        else
            out[name] = 'true';
    }
    const positions = list.filter((a) => (a.kind === 'positional' || a.kind === 'rest') && !(a.name in out));
    positions.forEach((a, idx) => {
        if (a.kind === 'rest') {
            const rest = loose.slice(idx).join(' ');
            if (rest)
                out[a.name] = rest;
        }
        else if (loose[idx] !== undefined) {
            out[a.name] = loose[idx];
        }
    });
    if (positions.at(-1)?.kind !== 'rest' && loose.length > positions.length) {
        const extra = loose.slice(positions.length);
        throw new ExtraWords(extra, `Too many words for "${say(command)}": "${extra.join(' ')}".`, 'Put text with spaces in "double quotes".');
    }
    return out;
}
/** A command's form, derived from its arguments: every argument that is not hidden, known or left out. */
export async function deriveForm(command, list, declared, ctx, options = {}) {
    const known = options.known ?? {};
    const fields = [];
    for (const a of list) {
        if (!a.asked || a.name in known || (options.ask && !options.ask.includes(a.name)))
            continue;
        const arg = a.arg;
        const choices = typeof arg.options === 'function' ? await arg.options(ctx)
            : arg.options ?? a.choices?.map((c) => ({ value: c, label: c }));
        const choosable = (a.field === 'select' || a.field === 'multiselect') && choices && choices.length > 0 && choices.length <= MAX_CHOICES;
        const field = {
            name: a.name,
            label: a.label,
            type: a.field === 'select' && !choosable ? 'text' : a.field,
            ...(a.required ? { required: true } : {}),
            ...(choosable ? { options: choices } : {}),
            ...(arg.placeholder ? { placeholder: arg.placeholder } : {}),
            ...(a.description ? { hint: a.description } : {}),
            ...(a.integer ? { integer: true } : {}),
            ...(a.field === 'number' && a.min !== undefined ? { min: a.min } : {}),
            ...(a.field === 'number' && a.max !== undefined ? { max: a.max } : {}),
            ...Object.fromEntries(Object.entries(options.fields?.[a.name] ?? {}).filter(([, v]) => v !== undefined)),
        };
        fields.push(field);
    }
    const hidden = { ...declared.hidden, ...known };
    return {
        title: options.title ?? declared.title,
        command,
        fields,
        ...(declared.submitLabel ? { submitLabel: declared.submitLabel } : {}),
        ...(Object.keys(hidden).length ? { hidden } : {}),
    };
}
//# sourceMappingURL=args.js.map