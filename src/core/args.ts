import { z, type ZodTypeAny } from 'zod';
import { UserError } from './errors.js';
import { isoDate } from './validate.js';
import { didYouMean } from './suggest.js';
import type { Form, FormField, FormFieldType } from './reply.js';

/**
 * A command's arguments are declared once: its zod object schema says what each field accepts and,
 * with .describe(), what it means; an `Arg` says how it is typed on a line and asked in a form.
 * Parsing, the usage line, "help <command>" and the form are all derived from the two, so they cannot disagree.
 */

export interface Choice { value: string; label: string }

export interface Arg<Ctx = unknown> {
  /** Typed by position after the command's name (in the schema's order) rather than as "--name value"; 'rest' takes the rest of the line. */
  positional?: true | 'rest';
  /** "--name" alone means yes and does not take the next word (unless it is yes/no/true/false). */
  switch?: true;
  /** The form's label; the field name, capitalised, when left out. */
  label?: string;
  /** How the usage line names the value, e.g. "POAM-ref" for <POAM-ref>; a date adds YYYY-MM-DD, a list of choices shows them. */
  value?: string;
  /** Greyed example text in the form's input. */
  placeholder?: string;
  /** The form's input when the schema does not say it (a long text, a file). */
  field?: FormFieldType;
  /** Choices the form offers; a function for choices from the register (at most 100, else the value is typed). */
  options?: Choice[] | ((ctx: Ctx) => Promise<Choice[]>);
  /** The person must give it, though the schema lets a bare reference through so that the command can ask in a form. */
  required?: true;
  /** Typed, but not asked in the form (e.g. the page of a list). */
  asked?: false;
  /** Set by buttons and forms, not by people: not asked in forms, not shown in usage or help (a button's line may still type --name). */
  hidden?: true;
}

export type ArgKind = 'positional' | 'rest' | 'flag' | 'switch' | 'file' | 'hidden';

/** One argument as parsing, usage, help and forms see it. */
export interface ArgInfo {
  name: string;
  kind: ArgKind;
  required: boolean;
  /** Whether the command's form asks for it. */
  asked: boolean;
  description?: string;
  label: string;
  /** The value's name in the usage line, e.g. "tool" (shown as <tool>), "YYYY-MM-DD", "yes|no". */
  value: string;
  field: FormFieldType;
  /** Values of an enum, for forms and usage. */
  choices?: string[];
  integer?: boolean;
  min?: number;
  max?: number;
  arg: Arg<never>;
}

/** A select with more choices than this is typed instead: chat platforms cap their lists at 100. */
export const MAX_CHOICES = 100;
const YES_NO_WORDS = ['yes', 'no', 'true', 'false'];

/** The object schema under any preprocess/refine wrappers. */
export function objectOf(schema: ZodTypeAny): z.ZodObject<z.ZodRawShape> | undefined {
  let t: ZodTypeAny = schema;
  while (t instanceof z.ZodEffects) t = t._def.schema;
  return t instanceof z.ZodObject ? t : undefined;
}

/** The base type of a field under optional/default/effects wrappers, and whether one of the wrappers is the date check. */
function baseOf(schema: ZodTypeAny): { base: ZodTypeAny; date: boolean } {
  let t = schema;
  let date = false;
  for (;;) {
    if (t instanceof z.ZodEffects) {
      if (t._def.effect === isoDate._def.effect) date = true;
      t = t._def.schema;
    } else if (t instanceof z.ZodOptional || t instanceof z.ZodNullable || t instanceof z.ZodDefault) {
      t = t._def.innerType;
    } else if (t instanceof z.ZodPipeline) {
      // A text piped into the date check (as the import's fields are) is a date too.
      if (baseOf(t._def.out).date) date = true;
      t = t._def.in;
    } else {
      return { base: t, date };
    }
  }
}

function enumValues(t: ZodTypeAny): string[] | undefined {
  const { base } = baseOf(t);
  return base instanceof z.ZodEnum ? [...(base.options as string[])] : undefined;
}

const capitalised = (s: string) => s.charAt(0).toUpperCase() + s.slice(1).replace(/-/g, ' ');

function describeField(name: string, schema: ZodTypeAny, arg: Arg<never>): ArgInfo {
  const { base, date } = baseOf(schema);
  const kind: ArgKind = arg.hidden ? 'hidden' : arg.field === 'file' ? 'file'
    : arg.positional === 'rest' ? 'rest' : arg.positional ? 'positional' : arg.switch ? 'switch' : 'flag';
  const info: ArgInfo = {
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
  } else if (base instanceof z.ZodArray) {
    info.field = 'multiselect';
    info.choices = enumValues(base._def.type);
    if (info.choices && !arg.value) info.value = info.choices.join(',');
  } else if (base instanceof z.ZodEnum) {
    info.field = 'select';
    info.choices = [...(base.options as string[])];
    if (!arg.value) info.value = info.choices.join('|');
  } else if (base instanceof z.ZodBoolean) {
    info.field = 'select';
    info.choices = ['yes', 'no'];
    if (!arg.value) info.value = 'yes|no';
  } else if (base instanceof z.ZodNumber) {
    info.field = 'number';
    info.value = arg.value ?? 'n';
    for (const check of base._def.checks) {
      if (check.kind === 'int') info.integer = true;
      if (check.kind === 'min') info.min = check.value;
      if (check.kind === 'max') info.max = check.value;
    }
  } else if (kind === 'rest') {
    info.field = 'textarea';
  }
  if (Array.isArray(arg.options)) {
    info.choices = arg.options.map((o) => o.value);
    if (!arg.value) info.value = info.choices.join(info.field === 'multiselect' ? ',' : '|');
  }
  if (arg.options && info.field !== 'multiselect') info.field = 'select';
  if (arg.field) info.field = arg.field;
  // Free text has no choices to show: its example says what is meant, "--kind <kind, e.g. regulator>".
  if (kind === 'flag' && info.field === 'text' && !arg.value && arg.placeholder?.startsWith('e.g. ')) info.value = `${name}, ${arg.placeholder}`;
  return info;
}

/** Every argument of a schema in its declared order, checked for a sound declaration. */
export function describeArgs(command: string, schema: ZodTypeAny, args: Record<string, Arg<never> | undefined> = {}): ArgInfo[] {
  const object = objectOf(schema);
  if (!object) throw new Error(`The schema of "${command}" is not an object`);
  const shape = object.shape;
  for (const name of Object.keys(args)) {
    if (!(name in shape)) throw new Error(`"${command}" declares the argument "${name}", which its schema lacks`);
  }
  const list = Object.entries(shape).map(([name, t]) => describeField(name, t, args[name] ?? {}));
  const typedInOrder = list.filter((a) => a.kind === 'positional' || a.kind === 'rest');
  if (typedInOrder.slice(0, -1).some((a) => a.kind === 'rest')) throw new Error(`"${command}": only its last positional argument may take the rest of the line`);
  return list;
}

/**
 * How the usage line shows one argument. What is typed as it stands is the command's name, --flags
 * and the choices of a list (yes|no); everything else is a placeholder in <angle brackets>, and
 * [square brackets] mark what may be left out: "<tool>", "[<purpose>]", "[--vendor <name>]", "--ict yes|no", "[--all]".
 */
export function usageOf(a: ArgInfo): string {
  if (a.kind === 'positional' || a.kind === 'rest') {
    const inner = a.field === 'date' ? `${a.arg.value ?? a.name} YYYY-MM-DD` : a.value;
    return a.required ? `<${inner}>` : `[<${inner}>]`;
  }
  const value = a.choices || a.field === 'date' ? a.value : `<${a.value}>`;
  const typed = a.kind === 'switch' ? `--${a.name}` : `--${a.name} ${value}`;
  return a.required ? typed : `[${typed}]`;
}

const USAGE_RANK: Record<ArgKind, number> = { positional: 0, rest: 0, flag: 1, switch: 1, file: 2, hidden: 3 };

/** Arguments as a person gives them: positional words first (in their order), then --flags, then attachments. */
export const inUsageOrder = (list: ArgInfo[]): ArgInfo[] => [...list].sort((a, b) => USAGE_RANK[a.kind] - USAGE_RANK[b.kind]);

/** The whole usage line after the command's name; files and hidden values are not typed. */
export function usageLine(name: string, list: ArgInfo[]): string {
  return [name, ...inUsageOrder(list).filter((a) => a.kind !== 'file' && a.kind !== 'hidden').map(usageOf)].join(' ');
}

/** Words no argument takes: a misspelt second word of a command ("triage acept") lands here. */
export class ExtraWords extends UserError {
  constructor(readonly extra: string[], message: string, hint: string) {
    super('invalid_input', message, hint);
  }
}

/**
 * "—vendor" as "--vendor": phones and some desktops turn a typed "--" into an em or en dash. Only
 * before the name of one of the command's options, so a dash in running text stays as typed.
 */
function phoneDash(word: string, options: ReadonlyMap<string, ArgInfo>): string {
  const m = /^[\u2013\u2014]([^=]+)(=.*)?$/s.exec(word);
  return m && options.has(m[1]) ? `--${word.slice(1)}` : word;
}

/**
 * Positional words and --flags into raw values for the schema. Any typed argument may be given as
 * "--name value" or "--name=value"; the words left over fill the positional ones in order.
 * `say` words a command for the asker's platform ("/isms ack" or "ack").
 */
export function parseWords(command: string, list: ArgInfo[], typedWords: string[], say: (line: string) => string): Record<string, unknown> {
  const typed = new Map(list.filter((a) => a.kind !== 'file').map((a) => [a.name, a]));
  const words = typedWords.map((w) => phoneDash(w, typed));
  const out: Record<string, unknown> = {};
  const loose: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (!(w.startsWith('--') && w.length > 2)) {
      loose.push(w);
      continue;
    }
    const [name, inline] = w.slice(2).split(/=(.*)/s, 2);
    const a = typed.get(name);
    if (!a) {
      const options = [...typed.values()].filter((x) => x.kind === 'flag' || x.kind === 'switch').map((x) => `--${x.name}`);
      const meant = didYouMean(`--${name}`, options);
      throw new UserError('invalid_input', `"${say(command)}" has no option --${name}.${meant ? ` Did you mean ${meant}?` : ''}`,
        options.length ? `Options: ${options.join(', ')}.` : undefined);
    }
    const next = words[i + 1];
    const takesNext = next !== undefined && !next.startsWith('--') && (a.kind !== 'switch' || YES_NO_WORDS.includes(next.toLowerCase()));
    let value = inline !== undefined ? inline : takesNext ? words[++i] : undefined;
    // "--data internal, customer": a list typed with a space after (or before) a comma is still one list.
    while (value !== undefined && a.field === 'multiselect' && words[i + 1] !== undefined && !words[i + 1].startsWith('--')
      && (value.endsWith(',') || words[i + 1].startsWith(','))) value += words[++i];
    if (name in out) {
      // The second would silently replace the first ("--data personal --data customer").
      const several = a.field === 'multiselect' ? ` To give several, separate them with commas: --${name} ${String(out[name])},${value ?? '…'}.` : '';
      throw new UserError('invalid_input', `--${name} is given twice in "${say(command)}"; give it once.${several}`).on(name);
    }
    // Only a yes/no (true/false) option means "yes" when given alone; any other would record the word "true".
    if (value === undefined && a.kind !== 'switch' && !a.choices?.some((c) => c === 'yes' || c === 'true')) {
      throw new UserError('invalid_input', `--${name} needs a value after it in "${say(command)}": ${usageOf(a).replace(/^\[(.*)\]$/, '$1')}.`).on(name);
    }
    out[name] = value ?? 'true';
  }
  const positions = list.filter((a) => (a.kind === 'positional' || a.kind === 'rest') && !(a.name in out));
  positions.forEach((a, idx) => {
    if (a.kind === 'rest') {
      const rest = loose.slice(idx).join(' ');
      if (rest) out[a.name] = rest;
    } else if (loose[idx] !== undefined) {
      out[a.name] = loose[idx];
    }
  });
  if (positions.at(-1)?.kind !== 'rest' && loose.length > positions.length) {
    const extra = loose.slice(positions.length);
    // "/isms request CTL-OPS-01 next friday": the words are one date, which the date's own check refuses by name.
    const last = positions.at(-1);
    if (last?.field === 'date' && !/^\d/.test(String(out[last.name]))) {
      out[last.name] = [out[last.name], ...extra].join(' ');
      return out;
    }
    throw new ExtraWords(extra, `Too many words for "${say(command)}": "${extra.join(' ')}".`, 'Put text with spaces in "double quotes".');
  }
  return out;
}

/** How a form looks beyond its fields: the spec's part of the declaration. */
export interface FormDeclaration {
  title: string;
  submitLabel?: string;
  /** Values every submission of this form carries, e.g. that it came from a form. */
  hidden?: Record<string, string>;
}

/** What a command's handler may change when it asks for its form itself (e.g. a button that names the item). */
export interface FormOptions {
  title?: string;
  /** Values already known: carried through the form unchanged instead of being asked. */
  known?: Record<string, string>;
  /** Ask only these fields. */
  ask?: string[];
  /** Per-field changes: an initial value, a hint that names the item. */
  fields?: Record<string, Partial<FormField>>;
}

/**
 * A form is filled in, not typed: what an argument's description says about typing it on a command line is
 * left out of the form's hint, be it the terminal's way ("(in the terminal: --file <path>)") or, for a menu
 * of several choices, the commas between them ("The kinds of data it sees, comma-separated").
 */
function formHint(description: string, picked: boolean): string {
  const hint = description.replace(/\s*\(in the terminal: [^)]*\)/, '');
  return picked ? hint.replace(/,\s*(comma-separated|separated by commas)\b.*$/s, '') : hint;
}

/** Words alone, to tell a hint that only says its label again ("What was found" under "What was found"). */
const wordsOf = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();

/** A command's form, derived from its arguments: every argument that is not hidden, known or left out. */
export async function deriveForm<Ctx>(command: string, list: ArgInfo[], declared: FormDeclaration, ctx: Ctx, options: FormOptions = {}): Promise<Form> {
  const known = options.known ?? {};
  const fields: FormField[] = [];
  for (const a of list) {
    if (!a.asked || a.name in known || (options.ask && !options.ask.includes(a.name))) continue;
    const arg = a.arg as Arg<Ctx>;
    const choices = typeof arg.options === 'function' ? await arg.options(ctx)
      : arg.options ?? a.choices?.map((c) => ({ value: c, label: c }));
    const choosable = (a.field === 'select' || a.field === 'multiselect') && choices && choices.length > 0 && choices.length <= MAX_CHOICES;
    // A description that only repeats the label still explains the argument in help; the form shows no hint for it.
    const described = a.description ? formHint(a.description, Boolean(choosable) && a.field === 'multiselect') : undefined;
    // Too many to list: the field says why it is typed rather than chosen.
    const hint = !choosable && choices && choices.length > MAX_CHOICES
      ? `${described ?? a.label} (more than ${MAX_CHOICES} to choose from: type ${a.field === 'multiselect' ? 'them' : 'it'})` : described;
    const field: FormField = {
      name: a.name,
      label: a.label,
      type: a.field === 'select' && !choosable ? 'text' : a.field,
      ...(a.required ? { required: true } : {}),
      ...(choosable ? { options: choices } : {}),
      ...(arg.placeholder ? { placeholder: arg.placeholder } : {}),
      ...(hint && wordsOf(hint) !== wordsOf(a.label) ? { hint } : {}),
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
