import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { evidenceRequests } from '../src/db/schema/index.js';
import { objectOf } from '../src/core/args.js';
import { examplesOf, tokenize } from '../src/core/router.js';
import { findForm, toPlainText } from '../src/core/reply.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { addControl, addEvidenceRequest } from './helpers/fixtures.js';

const NOW = new Date('2026-06-15T09:00:00Z');
const at = { now: NOW };

/**
 * A command line from a usage line: each <placeholder> becomes a distinct value, YYYY-MM-DD a date,
 * "a|b" or "a,b" its first choice, and [optional] parts are kept, so every argument is given.
 */
function lineFromUsage(usage: string): { line: string; values: string[] } {
  const values: string[] = [];
  const filled = usage
    .replace(/[[\]]/g, '')
    .replace(/<[^>]*>/g, (placeholder) => {
      const value = placeholder.includes('YYYY-MM-DD') ? `2030-01-0${values.length + 1}` : `value${values.length + 1}`;
      values.push(value);
      return value;
    })
    .replace(/(^| )YYYY-MM-DD(?= |$)/g, (_m, space: string) => `${space}2031-01-01`)
    .replace(/(^| )([\w-]+)[|,][\w|,-]+/g, (_m, space: string, first: string) => `${space}${first}`);
  return { line: filled, values };
}

describe('a command\'s arguments are declared once: parsing, usage, help and form agree', () => {
  let bot: TestBot;
  beforeAll(async () => { bot = await createTestBot(); });
  afterAll(async () => { await bot.destroy(); });

  it('every example of every command parses and passes its schema', async () => {
    for (const spec of bot.router.specs) {
      for (const example of examplesOf(spec, NOW)) {
        const words = tokenize(example);
        const matched = bot.router.match(words);
        expect(matched?.spec, example).toBe(spec);
        const raw = bot.router.parse(spec, matched!.rest);
        const parsed = spec.schema.safeParse(raw);
        expect(parsed.success ? 'valid' : parsed.error.message, example).toBe('valid');
      }
    }
  });

  it('a line written as every command\'s usage says parses into exactly the arguments it names, positional ones in order', () => {
    for (const spec of bot.router.specs) {
      const usage = bot.router.usage(spec);
      const { line, values } = lineFromUsage(usage);
      const typed = bot.router.argsOf(spec).filter((a) => a.kind !== 'file' && a.kind !== 'hidden');
      const raw = bot.router.parse(spec, tokenize(line).slice(spec.name.split(' ').length));
      expect(Object.keys(raw).sort(), `${usage} → ${line}`).toEqual(typed.map((a) => a.name).sort());
      // The usage shows positional words first, in the order the parser fills them.
      const positional = typed.filter((a) => a.kind === 'positional' || a.kind === 'rest');
      expect(positional.map((a) => raw[a.name]), usage).toEqual(values.slice(0, positional.length));
    }
  });

  it('every argument a person types or is asked for has a description, and help lists it', async () => {
    for (const spec of bot.router.specs) {
      const visible = bot.router.argsOf(spec).filter((a) => a.kind !== 'hidden');
      for (const a of visible) expect(a.description?.trim().length ?? 0, `${spec.name} ${a.name} has no description`).toBeGreaterThan(0);
      const help = await bot.sayText('lead', `/isms help ${spec.name}`);
      for (const a of visible) expect(help, `${spec.name} ${a.name}`).toContain(a.description!);
    }
  });

  it('a command given without arguments opens a form whose fields are exactly its schema\'s keys, less the ones not asked', async () => {
    const withForm = bot.router.specs.filter((s) => s.form);
    expect(withForm.length).toBeGreaterThan(20);
    for (const spec of withForm) {
      // Run by someone allowed to: the lead, or the management body for what only it decides.
      const who = !spec.roles || spec.roles.includes('isms_lead') ? 'lead' : 'board';
      const form = findForm(await bot.say(who, `/isms ${spec.name}`, at));
      const notAsked = bot.router.argsOf(spec).filter((a) => !a.asked).map((a) => a.name);
      const keys = Object.keys(objectOf(spec.schema)!.shape).filter((k) => !notAsked.includes(k));
      expect(form?.command, spec.name).toBe(spec.name);
      expect(form?.fields.map((f) => f.name), spec.name).toEqual(keys);
    }
    // A command that needs an argument never answers a bare name with an error.
    for (const spec of bot.router.specs.filter((s) => bot.router.argsOf(s).some((a) => a.required && a.kind !== 'hidden'))) {
      expect(spec.form, spec.name).toBeDefined();
    }
  });

  it('no form field\'s hint says its label again: a hint adds something, or there is none', async () => {
    const words = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
    const repeating: string[] = [];
    for (const spec of bot.router.specs.filter((s) => s.form)) {
      const who = !spec.roles || spec.roles.includes('isms_lead') ? 'lead' : 'board';
      for (const f of findForm(await bot.say(who, `/isms ${spec.name}`, at))?.fields ?? []) {
        if (f.hint !== undefined && words(f.hint).startsWith(words(f.label))) repeating.push(`${spec.name} ${f.name}: "${f.label}" / "${f.hint}"`);
      }
    }
    expect(repeating).toEqual([]);
    const users = findForm(await bot.say('staff', '/isms declare ai'))!.fields.find((f) => f.name === 'users')!;
    expect(users).toMatchObject({ label: 'How many people use it?' });
    expect(users.hint).toBeUndefined();
    // Help keeps saying what the argument means.
    expect(await bot.sayText('staff', '/isms help declare ai')).toContain('--users <n>: How many people use it (optional)');
  });

  it('a form field takes its type, required-ness and choices from the schema: enums are selects, whole numbers allow no decimals', async () => {
    const ai = findForm(await bot.say('staff', '/isms declare ai'))!;
    const field = (name: string) => ai.fields.find((f) => f.name === name)!;
    expect(field('tool')).toMatchObject({ type: 'text', required: true, label: 'AI tool' });
    expect(field('purpose')).toMatchObject({ type: 'textarea' });
    expect(field('purpose').required).toBeUndefined();
    expect(field('data')).toMatchObject({ type: 'multiselect' });
    expect(field('data').options?.map((o) => o.value)).toEqual(['public', 'internal', 'confidential', 'personal', 'customer']);
    expect(field('users')).toMatchObject({ type: 'number', integer: true, min: 1, max: 1_000_000 });

    const finding = findForm(await bot.say('lead', '/isms finding add'))!;
    expect(finding.fields.find((f) => f.name === 'type')?.options?.map((o) => o.value)).toEqual(['major_nc', 'minor_nc', 'observation', 'ofi']);
    expect(finding.fields.find((f) => f.name === 'due')).toMatchObject({ type: 'date' });
    const done = findForm(await bot.say('lead', '/isms poam done'))!;
    // One field takes a milestone's number or, for the whole item, what was done; a file may come with it.
    expect(done.fields.map((f) => [f.name, f.type])).toEqual([['item', 'text'], ['done', 'textarea'], ['file', 'file']]);
  });

  it('"request" shows a usage that parses: the due date by position or as --due', async () => {
    const help = await bot.sayText('lead', '/isms help request');
    expect(help).toContain('Usage: /isms request <control id> [<due YYYY-MM-DD>]');
    await addControl(bot.t.db, { code: 'CTL-RQ-01', title: 'Backups', ownerId: bot.ids.owner });
    await addControl(bot.t.db, { code: 'CTL-RQ-02', title: 'Restores', ownerId: bot.ids.owner });
    expect(await bot.sayText('lead', '/isms request CTL-RQ-01 --due 2026-07-01', at)).toContain('due 2026-07-01');
    expect(await bot.sayText('lead', '/isms request CTL-RQ-02 2026-07-02', at)).toContain('due 2026-07-02');
    const due = (await bot.t.db.select().from(evidenceRequests)).map((r) => r.dueOn).sort();
    expect(due).toEqual(['2026-07-01', '2026-07-02']);
  });

  it('a date typed in words ("next friday") is refused as that date, saying to write the day itself, and nothing is recorded', async () => {
    const control = await addControl(bot.t.db, { code: 'CTL-RQ-03', title: 'Patching', ownerId: bot.ids.owner });
    const before = await bot.auditCount();
    const request = await bot.sayText('lead', '/isms request CTL-RQ-03 next friday', at);
    expect(request).toContain('✖ That didn\'t work: due: must be a date written YYYY-MM-DD, e.g. 2026-12-31 — write the day itself, not "next friday". Nothing was recorded.');
    expect(request).not.toContain('Too many words');
    expect(await bot.sayText('staff', '/isms attest SEC-AWARE yesterday', at)).toContain('completed: must be a date written YYYY-MM-DD, e.g. 2026-12-31 — write the day itself, not "yesterday".');
    expect(await bot.auditCount()).toBe(before);
    expect(await bot.t.db.select().from(evidenceRequests).where(eq(evidenceRequests.controlId, control.id))).toEqual([]);
  });

  it('a switch such as --all does not swallow the word after it, and an unknown option is refused by name', async () => {
    expect(bot.router.parse(bot.router.find('findings')!, ['--all', '--page', '2'])).toEqual({ all: 'true', page: '2' });
    expect(bot.router.parse(bot.router.find('policy publish')!, ['POL-0001', '--major', 'Staff', 'must'])).toEqual({ policy: 'POL-0001', major: 'true', version: 'Staff', content: 'must' });
    const refused = await bot.say('staff', '/isms declare ai Gemini --colour blue');
    expect(refused.outcome).toBe('refused');
    expect(toPlainText(refused)).toContain('"/isms declare ai" has no option --colour.');
    expect(toPlainText(refused)).toContain('Options: --vendor, --data, --users.');
  });

  it('a misspelt option is refused naming the option meant, and nothing is recorded', async () => {
    const before = await bot.auditCount();
    const refused = await bot.say('staff', '/isms declare ai Gemini --venodr Google');
    expect(refused.outcome).toBe('refused');
    expect(toPlainText(refused)).toContain('✖ "/isms declare ai" has no option --venodr. Did you mean --vendor? Nothing was recorded.');
    expect(await bot.sayText('staff', '/isms declare ai Gemini --colour blue')).not.toContain('Did you mean');
    expect(await bot.auditCount()).toBe(before);
  });
});

describe('a service\'s refusal about one field lands under that field', () => {
  let bot: TestBot;
  beforeAll(async () => { bot = await createTestBot(); });
  afterAll(async () => { await bot.destroy(); });

  it('a past due date, typed or from the form, is reported under "due" and nothing is recorded', async () => {
    await addControl(bot.t.db, { code: 'CTL-FE-01', title: 'Patching', ownerId: bot.ids.owner });
    const before = await bot.auditCount();
    const typed = await bot.say('lead', '/isms request CTL-FE-01 --due 2026-06-01', at);
    expect(typed.outcome).toBe('refused');
    expect(typed.fieldErrors).toEqual({ due: 'The due date 2026-06-01 is in the past.' });
    const submitted = await bot.router.submit('request', { control: 'CTL-FE-01', due: '2026-06-10' }, { actor: await bot.actor('lead'), channel: 'slack', now: NOW });
    expect(submitted.fieldErrors).toEqual({ due: 'The due date 2026-06-10 is in the past.' });
    expect(await bot.auditCount()).toBe(before);
  });

  it('an effective date in the future is reported under "effective"', async () => {
    const control = await addControl(bot.t.db, { code: 'CTL-FE-02', title: 'Logging', ownerId: bot.ids.owner });
    const request = await addEvidenceRequest(bot.t.db, { controlId: control.id, ownerId: bot.ids.owner, dueOn: '2026-07-01' });
    const answer = await bot.router.submit('evidence submit', { target: request.ref, text: 'log review', effective: '2026-07-01', via: 'form' },
      { actor: await bot.actor('owner'), channel: 'teams', now: NOW });
    expect(answer.outcome).toBe('refused');
    expect(answer.fieldErrors).toEqual({ effective: 'The effective date 2026-07-01 is in the future.' });
    const [unchanged] = await bot.t.db.select().from(evidenceRequests).where(eq(evidenceRequests.id, request.id));
    expect(unchanged.status).toBe('open');
  });
});
