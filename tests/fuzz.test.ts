import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { commandLine, examplesOf, tokenize, type Channel, type CommandSpec } from '../src/core/router.js';
import { UserError } from '../src/core/errors.js';
import { toActor, type Actor } from '../src/core/actor.js';
import { toPlainText, type Reply } from '../src/core/reply.js';
import type { ArgInfo } from '../src/core/args.js';
import { people, poamItems, ROLES } from '../src/db/schema/index.js';
import { rows } from '../src/db/migrate.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { addControl } from './helpers/fixtures.js';

/**
 * Random and hostile input through the tokenizer, the argument parser, every command's schema and
 * every form. The seed is fixed so a failure repeats; runs per command are few so the file stays quick.
 */
// FUZZ_SEED explores other cases by hand; the suite always runs the fixed one.
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const NOW = new Date('2026-06-15T09:00:00Z');

/** What people paste, and what attackers try: markup, escapes, SQL, unicode tricks, impossible dates. */
const HOSTILE = [
  '\u0000', 'a\u0000b', '\u001b[2J\u001b[H', '\u001b]0;owned\u0007', '\u007f', '\u0085', '\r\n', '\t',
  '&lt;script&gt;', '&amp;', '<@U123>', '<@U123|sam>', '<#C123|general>', '<!channel>', '<https://x|y>', '<mailto:a@b.c|a@b.c>', '*bold*', '`code`', '```block```',
  "'; DROP TABLE people; --", "' OR '1'='1", '1; select pg_sleep(10)', '$1', '%', '_', '\\', '\\x00', 'E\'\\\\\'',
  '\u202Eevil\u202C', '\u200B', '\u200D', '\uFEFF', 'e\u0301\u0301\u0301', '\uD800', '\uDFFF', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '👩‍👩‍👧‍👦', 'ﬁ', 'İ', 'ß',
  '„German“', '„unclosed', '“curly”', '«French»', '‚single‘', '"', "'", '""', '"a b', '--', '---', '--=', '--all', '--page', '=', '-1',
  '2026-02-30', '2026-13-01', '0000-00-00', '9999-12-31', '1899-12-31', '2026-2-3', '2026-02-28T25:00', '31.12.2026', 'tomorrow',
  'NaN', 'Infinity', '-Infinity', '1e309', '0x10', '1.5', '0', '99999999999999999999', '-0',
  'AI-0001', 'ai-1', 'AI-99999', 'SUP-0001', 'SC-0001', 'R-0001', 'POL-0001', 'POAM-0001', 'EVR-0001', 'EV-0001', 'AST-0001', 'APR-0001', 'CTL-AC-01',
  'PEX-0001', 'AF-0001', 'MR-0001', 'RP-0001', 'CMP-0001', 'sam@test.example', '@Sam Staff', 'nobody@nowhere', 'none', 'yes', 'no', 'true',
];

const hostileText = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(...HOSTILE), { minLength: 2, maxLength: 4 }).map((parts) => parts.join(' ')) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom(70_000, 300_000).map((n) => `⟦A×${n}⟧`) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 8 })).map(([a, b]) => `${a}${b}`) },
);

const REFS = ['AI-0001', 'SUP-0001', 'SC-0001', 'SC-0002', 'R-0001', 'POL-0001', 'POAM-0001', 'EVR-0001', 'EV-0001', 'AST-0001', 'CTL-AC-01', 'APR-0001', 'PEX-0001', 'AF-0001', 'MR-0001', 'RP-0001', 'CMP-0001'];
const PEOPLE = ['sam@test.example', 'olga@test.example', 'lena@test.example', 'bruno@test.example', '@Sam Staff', 'Olga'];
const REFERRING = /^(ref|target|item|extension|risk|asset|finding|policy|campaign|review|decision|pack|control|course|party|of|supplier|system|clause|threat)$/;
const NAMING = /^(owner|person|chair|attendees|audience)$/;

/** A value a person could mean for this argument: one of its choices, a date, a number, a reference, a person, plain words. */
const plausibleFor = (a: ArgInfo, examples: string[]): fc.Arbitrary<string> => {
  // What the command's own examples give for it first: they name items of the right kind.
  if (examples.length) return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...examples) }, { weight: 1, arbitrary: plausibleFor(a, []) });
  if (a.choices?.length) return fc.constantFrom(...a.choices);
  if (a.field === 'date') return fc.oneof(fc.date({ min: new Date('2026-01-01'), max: new Date('2031-01-01'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
    fc.constantFrom('2026-02-30', '2027-02-29', '2026-04-31', '0000-01-01'));
  if (a.field === 'number') return fc.integer({ min: (a.min ?? 0) - 1, max: (a.max ?? 30) + 1 }).map(String);
  if (REFERRING.test(a.name)) return fc.constantFrom(...REFS);
  if (NAMING.test(a.name)) return fc.constantFrom(...PEOPLE);
  return fc.stringMatching(/^[A-Za-z][A-Za-z ]{0,20}$/);
};

/** Values the examples of a command give each argument, by argument name. */
let exampleValues: Map<string, Map<string, string[]>> = new Map();
const exampleValuesOf = (spec: CommandSpec, parse: (words: string[]) => Record<string, unknown>) => {
  const byArg = new Map<string, string[]>();
  for (const example of examplesOf(spec, NOW)) {
    const raw = parse(tokenize(example).slice(spec.name.split(' ').length));
    for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') byArg.set(k, [...(byArg.get(k) ?? []), v]);
  }
  // Values a form carries unchanged (that it came from a form) are what a submission sends for them.
  for (const [k, v] of Object.entries(spec.form?.hidden ?? {})) byArg.set(k, [v]);
  return byArg;
};

/** A value that could be meant for this argument, or hostile text. */
const valueFor = (a: ArgInfo, spec?: CommandSpec) => fc.oneof(
  { weight: 2, arbitrary: plausibleFor(a, (spec && exampleValues.get(spec.name)?.get(a.name)) ?? []) },
  { weight: 1, arbitrary: hostileText },
  ...(a.field === 'date' ? [{ weight: 1, arbitrary: fc.date({ min: new Date('1800-01-01'), max: new Date('2300-01-01'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)) }] : []),
  ...(a.field === 'number' ? [{ weight: 1, arbitrary: fc.oneof(fc.integer({ min: -10, max: 200 }), fc.double()).map(String) }] : []),
);

/** A typed word: quoted when it holds spaces, as a person would type it. */
const typed = (value: string) => (/\s/.test(value) || value === '' ? `"${value}"` : value);

/** A line as a person might type it: each argument in its place (positional in order, the rest as --flags), some left out, some hostile. */
const argumentsFor = (args: ArgInfo[], spec?: CommandSpec) => {
  const positional = args.filter((a) => a.kind === 'positional' || a.kind === 'rest');
  const flags = args.filter((a) => a.kind === 'flag' || a.kind === 'switch');
  return fc.tuple(
    fc.tuple(...positional.map((a) => (a.required ? valueFor(a, spec) : fc.option(valueFor(a, spec), { nil: undefined, freq: 3 })))),
    fc.tuple(...flags.map((a) => fc.option(valueFor(a, spec).map((v) => `--${a.name} ${typed(v)}`), { nil: undefined, freq: 2 }))),
  ).map(([pos, flag]) => [...pos.filter((v) => v !== undefined).map(typed), ...flag.filter((v) => v !== undefined)].join(' '));
};

/** Random words after a command's name: values, --flags with values, and stray words. */
const looseWordsFor = (args: ArgInfo[], spec?: CommandSpec) => {
  const named = args.filter((a) => a.kind !== 'file');
  const flag = named.length
    ? fc.constantFrom(...named).chain((a) => fc.tuple(valueFor(a, spec), fc.boolean()).map(([v, inline]) =>
      (inline ? `--${a.name}=${typed(v)}` : `--${a.name} ${typed(v)}`)))
    : hostileText.map(typed);
  const loose = named.length ? fc.constantFrom(...named).chain((a) => valueFor(a, spec)).map(typed) : hostileText.map(typed);
  return fc.array(fc.oneof(loose, flag, hostileText.map(typed)), { minLength: 1, maxLength: 5 }).map((w) => w.join(' '));
};

const wordsFor = (args: ArgInfo[], spec?: CommandSpec) => fc.oneof({ weight: 3, arbitrary: argumentsFor(args, spec) }, { weight: 1, arbitrary: looseWordsFor(args, spec) });

/** What a form submission could carry: strings, lists, numbers, booleans, nulls, objects, for known and unknown fields. */
const submittedValue = (a: ArgInfo, spec: CommandSpec) => fc.oneof(
  { weight: 6, arbitrary: valueFor(a, spec) },
  { weight: 1, arbitrary: fc.array(valueFor(a, spec), { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, undefined, true, false, 0, -1, 1.5, Number.NaN, {}, { value: 'x' }, [null], ['a', 7]) },
);
const submissionFor = (args: ArgInfo[], spec: CommandSpec) => fc.record(
  Object.fromEntries(args.filter((a) => a.kind !== 'file').map((a) => [a.name, submittedValue(a, spec)])),
  { requiredKeys: [] },
).chain((values) => fc.option(fc.tuple(fc.constantFrom('__proto__', 'constructor', 'extra', 'via'), hostileText), { nil: undefined })
  .map((extra) => (extra ? { ...values, [extra[0]]: extra[1] } : values)));

/**
 * Huge text is generated as a marker and grown just before use, so that a failing case prints short.
 */
const HUGE = /⟦A×(\d+)⟧/g;
const grown = (s: string) => s.replace(HUGE, (_m, n: string) => 'A'.repeat(Number(n)));
const grownValues = (values: Record<string, unknown>) => Object.fromEntries(Object.entries(values).map(([k, v]) =>
  [k, typeof v === 'string' ? grown(v) : Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? grown(x) : x)) : v]));
const describeInput = (input: unknown) => JSON.stringify(input);

describe('the tokenizer and the argument parser take any input', () => {
  let bot: TestBot;
  beforeAll(async () => { bot = await createTestBot(); });
  afterAll(async () => { await bot.destroy(); });

  it('the tokenizer never throws and keeps every word of plain text, and a quoted phrase as one word', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (line) => {
      const words = tokenize(line);
      expect(words.every((w) => typeof w === 'string')).toBe(true);
    }), { seed: SEED, numRuns: 500 });
    const plainWord = fc.stringMatching(/^[A-Za-z0-9@.,:;!?*_\-<>|&=#/]{1,12}$/);
    fc.assert(fc.property(fc.array(plainWord, { maxLength: 8 }), fc.array(plainWord, { minLength: 1, maxLength: 4 }), (words, phrase) => {
      expect(tokenize(words.join('  \t'))).toEqual(words);
      expect(tokenize(`${words.join(' ')} "${phrase.join(' ')}"`)).toEqual([...words, phrase.join(' ')]);
      expect(tokenize(`„${phrase.join(' ')}“ ${words.join(' ')}`)).toEqual([phrase.join(' '), ...words]);
    }), { seed: SEED, numRuns: 300 });
  });

  it('a huge line is split in linear time, not stuck on its quotes', () => {
    // An unclosed quote before a megabyte of text: a backtracking pattern would never finish.
    const words = tokenize(`"${'a '.repeat(500_000)}`);
    expect(words.length).toBe(500_000);
    expect(tokenize(`„${'x'.repeat(1_000_000)}“`)).toEqual(['x'.repeat(1_000_000)]);
  });

  it('the parser of every command gives raw values only for its own arguments, or a refusal a person can act on', () => {
    for (const spec of bot.router.specs) {
      const args = bot.router.argsOf(spec);
      const names = new Set(args.map((a) => a.name));
      fc.assert(fc.property(wordsFor(args), (line) => {
        let raw: Record<string, unknown>;
        try {
          raw = bot.router.parse(spec, tokenize(grown(line)));
        } catch (e) {
          expect(e, `${spec.name} ${line}`).toBeInstanceOf(UserError);
          expect((e as UserError).message).toContain(`"/isms ${spec.name}"`);
          return;
        }
        for (const key of Object.keys(raw)) expect(names.has(key), `${spec.name}: ${key}`).toBe(true);
      }), { seed: SEED, numRuns: 20 });
    }
  });
});

describe('every command, typed or submitted with random and hostile values', () => {
  let bot: TestBot;
  let everyone: Actor;
  let fingerprint: () => Promise<string>;
  /** The row counts after the last run: nothing else writes between runs, so they are the counts before the next. */
  let known: string;

  beforeAll(async () => {
    bot = await createTestBot();
    const [p] = await bot.t.db.insert(people).values({ name: 'Eve Everything', email: 'eve@test.example', roles: [...ROLES], timezone: 'Europe/Berlin' }).returning();
    everyone = toActor(p);
    exampleValues = new Map(bot.router.specs.map((spec) => [spec.name, exampleValuesOf(spec, (words) => bot.router.parse(spec, words))]));
    // Items for references to land on, so that random input reaches past "not found".
    await addControl(bot.t.db, { code: 'CTL-AC-01', ownerId: bot.ids.owner });
    await bot.t.db.insert(poamItems).values({ ref: 'POAM-0001', weakness: 'No MFA on the VPN', source: 'risk', ownerId: bot.ids.owner, dueOn: '2026-11-30' });
    for (const [who, line] of [
      ['staff', 'declare ai ChatGPT "drafting emails" --vendor OpenAI --data internal'],
      ['staff', 'declare supplier Acme "hosting" --ict yes --critical no --data none'],
      ['lead', 'risk add "Phishing" "mail" --likelihood 3 --impact 4 --treatment mitigate'],
      ['lead', 'policy add "Acceptable use" --text "Be careful."'],
      ['lead', 'asset add Laptops "the fleet" --owner olga@test.example'],
      ['lead', 'request CTL-AC-01 2026-12-31'],
    ] as const) {
      const answer = await bot.say(who, `/isms ${line}`, { now: NOW });
      expect(answer.outcome, `${line}: ${toPlainText(answer)}`).toBe('recorded');
    }
    // Every table's row count, in one query: a refusal must leave all of them as they were.
    const tables = rows<{ table_name: string }>(await bot.t.db.execute(sql`select table_name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`)).map((r) => r.table_name);
    expect(tables).toContain('audit_events');
    const counts = sql.raw(`select ${tables.map((t) => `(select count(*) from "${t}")::text`).join(` || ',' || `)} as counts`);
    fingerprint = async () => rows<{ counts: string }>(await bot.t.db.execute(counts))[0].counts;
    known = await fingerprint();
  });
  afterAll(async () => { await bot.destroy(); });

  /** The properties every answer keeps, whatever came in. */
  async function check(spec: CommandSpec | undefined, channel: Channel, input: unknown, run: () => Promise<Reply>) {
    const before = known;
    let answer: Reply;
    try {
      answer = await run();
    } catch (e) {
      known = await fingerprint();
      throw new Error(`${spec?.name ?? 'a line'} threw on ${describeInput(input)}: ${(e as Error).stack}`);
    }
    known = await fingerprint();
    const said = toPlainText(answer);
    expect(answer.outcome, `${describeInput(input)} → ${said}`).not.toBe('fault');
    expect(['recorded', 'refused', 'form', 'info']).toContain(answer.outcome);
    if (answer.outcome !== 'refused') return;
    expect(known, `a refusal wrote: ${describeInput(input)} → ${said}`).toBe(before);
    expect(said, describeInput(input)).toMatch(/^✖ \S/);
    if (!spec) return;
    const args = bot.router.argsOf(spec);
    const names = args.map((a) => a.name);
    for (const field of Object.keys(answer.fieldErrors ?? {})) expect(names, `${spec.name}: ${said}`).toContain(field);
    // A value the schema turned down is named by its field; a line the parser turned down shows the command.
    if (said.startsWith('✖ That didn\'t work:')) {
      expect(Object.keys(answer.fieldErrors ?? {}).length, said).toBeGreaterThan(0);
      for (const field of Object.keys(answer.fieldErrors!)) expect(said).toMatch(new RegExp(`[:;] ${field}[.:]`));
      expect(said).toContain(`Usage: ${commandLine(channel, bot.router.usage(spec))}`);
    }
    if (said.includes('holds a control character')) expect(Object.keys(answer.fieldErrors ?? {})).toHaveLength(1);
  }

  it('a random line never throws, never faults, and a refusal writes nothing and says what was wrong', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(hostileText, fc.array(hostileText, { maxLength: 6 }).map((w) => w.join(' '))), async (line) => {
      await check(undefined, 'shell', line, () => bot.router.handle(grown(line), { actor: everyone, channel: 'shell', now: NOW }));
    }), { seed: SEED, numRuns: 60 });
  });

  it('every command typed with random and hostile words never throws, never faults, and a refusal writes nothing and names the field or the usage', async () => {
    for (const spec of bot.router.specs) {
      await fc.assert(fc.asyncProperty(wordsFor(bot.router.argsOf(spec), spec), fc.constantFrom<'slack' | 'teams' | 'shell'>('slack', 'teams', 'shell'), async (words, channel) => {
        const line = `${channel === 'teams' ? '' : '/isms '}${spec.name} ${words}`;
        await check(spec, channel, line, () => bot.router.handle(grown(line), { actor: everyone, channel, now: NOW }));
      }), { seed: SEED, numRuns: 5 });
    }
  });

  it('every form submitted with random and hostile values never throws, never faults, and a refusal writes nothing and names the field', async () => {
    for (const spec of bot.router.specs) {
      await fc.assert(fc.asyncProperty(submissionFor(bot.router.argsOf(spec), spec), async (values) => {
        await check(spec, 'slack', { command: spec.name, values }, () => bot.router.submit(spec.name, grownValues(values), { actor: everyone, channel: 'slack', now: NOW }));
      }), { seed: SEED, numRuns: 5 });
    }
  });
});
