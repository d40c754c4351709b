import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toPlainText, type Reply } from '../src/core/reply.js';
import { didYouMean } from '../src/core/suggest.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { addControl } from './helpers/fixtures.js';

/** The labels of a reply's field blocks: the commands a help answer lists. */
const labels = (r: Reply) => r.blocks.flatMap((b) => (b.type === 'fields' ? b.fields.map((f) => f.label) : []));

describe('help and "did you mean"', () => {
  let bot: TestBot;
  beforeAll(async () => { bot = await createTestBot(); });
  afterAll(async () => { await bot.destroy(); });

  it('"help declare" lists the declare commands, each with its summary, and nothing else', async () => {
    const answer = await bot.say('staff', '/isms help declare');
    expect(answer.outcome).toBe('info');
    expect(labels(answer)).toEqual([
      '/isms declare ai <tool> [<purpose>] [--vendor <name>] [--data public,internal,confidential,personal,customer] [--users <n>]',
      '/isms declare supplier <name> [<service>] --ict yes|no --critical yes|no --data none|internal|personal|customer|personal_and_customer',
    ]);
    const plain = toPlainText(answer);
    expect(plain).toContain('Commands that start with "declare":');
    expect(plain).toContain('Declare an AI tool or AI use (shadow AI) so it can be assessed');
    expect(plain).toContain('Declare a new third party (supplier, service provider) so it can be assessed');
  });

  it('with AI assistance off, tells staff to ask the ISMS lead and only the ISMS lead which settings switch it on', async () => {
    const staff = await bot.sayText('staff', '/isms help');
    expect(staff).toContain('Plain-language messages (e.g. "I started using Otter for meeting notes") need AI assistance, which is not switched on here: ask the ISMS lead if you would like it.');
    expect(staff).not.toContain('OPENAI');
    for (const who of ['owner', 'auditor', 'board'] as const) expect(await bot.sayText(who, '/isms help')).not.toContain('OPENAI');
    expect(await bot.sayText('lead', '/isms help')).toContain('need AI assistance, which is off: whoever runs the bot sets OPENAI_API_KEY, OPENAI_MODEL');
  });

  it('"help ack" shows --version, which the Acknowledge buttons type', async () => {
    const plain = toPlainText(await bot.say('staff', '/isms help ack'));
    expect(plain).toContain('/isms ack <policy id> [--version <version>]');
    expect(plain).toContain('The version you read');
  });

  it('lists only the commands the person may use: "help triage" for the lead, a refusal for staff', async () => {
    const lead = toPlainText(await bot.say('lead', '/isms help triage'));
    expect(lead).toContain('Related: "/isms triage accept", "/isms triage reject".');
    expect(toPlainText(await bot.say('staff', '/isms help review'))).toContain('There is no command "review".');
    expect(labels(await bot.say('lead', '/isms help review'))).toEqual([
      '/isms review prepare',
      '/isms review pack [<RP-ref or MR-ref>]',
      '/isms review narrative <RP-ref or MR-ref> <narrative>',
      '/isms review record <held on YYYY-MM-DD or MR-ref> [<inputs>] [--attendees <emails or names>] [--chair <email or name>] [--pack <RP-ref>]',
      '/isms review decide <MR-ref> <owner email> <due YYYY-MM-DD> <decision>',
      '/isms review decision close <MR-ref/number> [<note>]',
      '/isms review close <MR-ref>',
    ]);
  });

  it('"help <command>" explains each argument with its description, and says which may be left out', async () => {
    const plain = await bot.sayText('staff', '/isms help declare ai');
    expect(plain).toContain('Usage: /isms declare ai <tool> [<purpose>]');
    expect(plain).toContain('<tool>: The AI tool or service');
    expect(plain).toContain('<purpose>: What it is used for (optional)');
    expect(plain).toContain('--users <n>: How many people use it (optional)');
    const submit = await bot.sayText('staff', '/isms help evidence submit');
    expect(submit).toContain('File (attached): A file attached to the message (in the terminal: --file <path>) (optional)');
    expect(submit).not.toContain('via');
  });

  it('examples hold dates near the bot\'s clock, so they never go stale', async () => {
    const now = new Date('2031-03-10T09:00:00Z');
    const pause = await bot.sayText('lead', '/isms help pause', { now });
    expect(pause).toContain('Example: /isms pause sam.novak@northwind.example 2031-03-24');
    const day = 24 * 3600 * 1000;
    for (const spec of bot.router.specs) {
      const help = await bot.sayText('lead', `/isms help ${spec.name}`, { now });
      const dates = help.split('\n').filter((l) => l.includes('Example:')).flatMap((l) => l.match(/\d{4}-\d{2}-\d{2}/g) ?? []);
      for (const date of dates) {
        const days = (Date.parse(date) - now.getTime()) / day;
        expect(Math.abs(days), `${spec.name}: ${date}`).toBeLessThanOrEqual(2 * 366);
      }
    }
  });

  it('a usage line shows what a value looks like: a date as YYYY-MM-DD, free text with an example of it', async () => {
    const usage = async (command: string) => (await bot.sayText('lead', `/isms help ${command}`)).split('\n').find((l) => l.includes('Usage:'));
    expect(await usage('party add')).toBe('  Usage: /isms party add <name> [<needs>] [--kind <kind, e.g. regulator>] [--reviewed YYYY-MM-DD]');
    expect(await usage('asset add')).toContain('[--classification <classification, e.g. confidential>]');
    expect(await usage('risk add')).toContain('[--threat <threat, e.g. T-IS-004>]');
  });

  it('answers a misspelt two-word command with the command meant', async () => {
    const cases: [string, string][] = [
      ['/isms delcare supplier "Acme Cloud"', 'Did you mean "/isms declare supplier"?'],
      ['/isms declare suplier "Acme Cloud"', 'Did you mean "/isms declare supplier"?'],
      ['/isms triag accept SC-0001', 'Did you mean "/isms triage accept"?'],
      ['/isms triage acept SC-0001', 'Did you mean "/isms triage accept"?'],
      ['/isms evidence sumbit EVR-0001 "review done"', 'Did you mean "/isms evidence submit"?'],
      ['/isms declre ai X', 'Did you mean "/isms declare ai"?'],
      // The parent command matched and took the slip as its argument, the words after it as too many.
      ['/isms person unlnk sam slack x', 'Did you mean "/isms person unlink"?'],
      ['/isms risk updte R-0001 --likelihood 3', 'Did you mean "/isms risk update"?'],
      ['/isms campaign stauts POL-0001', 'Did you mean "/isms campaign status"?'],
    ];
    for (const [line, expected] of cases) {
      const who = /triag|person|risk|campaign/.test(line) ? 'lead' : 'staff';
      const before = await bot.auditCount();
      const answer = await bot.say(who, line);
      expect(answer.outcome, line).toBe('refused');
      expect(toPlainText(answer), line).toContain(expected);
      expect(toPlainText(answer), line).not.toContain('Too many words');
      expect(await bot.auditCount(), line).toBe(before);
    }
    expect(await bot.sayText('staff', '/isms help delcare supplier')).toContain('Did you mean "/isms declare supplier"?');
    // Nothing is suggested that the person may not use, nor a command far from what was typed.
    expect(await bot.sayText('staff', '/isms triag accept SC-0001')).not.toContain('Did you mean');
    expect(await bot.sayText('staff', '/isms frobnicate')).not.toContain('Did you mean');
  });

  it('suggests only commands that help lists, never an alias', async () => {
    for (const line of ['/isms help foo', '/isms foo', '/isms tod']) {
      const plain = await bot.sayText('lead', line);
      expect(plain, line).not.toContain('todo');
      const named = plain.match(/Did you mean "\/isms ([^"]+)"/)?.[1];
      if (named) expect(bot.router.specs.map((s) => s.name), line).toContain(named);
    }
    expect(await bot.sayText('lead', '/isms help stauts')).toContain('Did you mean "/isms status"?');
  });

  it('a refused read does not say "Nothing was recorded", which only a write could have done', async () => {
    const reads: [string, string, string][] = [
      ['staff', '/isms register ai', 'may use "/isms register"'],
      ['lead', '/isms risks --page 9', 'so there is no page 9'],
      ['lead', '/isms policy text POL-0099', 'POL-0099'],
      ['lead', '/isms risks --colour blue', 'has no option --colour'],
      ['lead', '/isms assets --page 0', 'page'],
    ];
    for (const [who, line, said] of reads) {
      const answer = await bot.say(who as 'lead' | 'staff', line);
      expect(answer.outcome, line).toBe('refused');
      expect(toPlainText(answer), line).toContain(said);
      expect(toPlainText(answer), line).not.toContain('recorded');
    }
    expect(await bot.sayText('staff', '/isms declare ai --vendor OpenAI')).toContain('Nothing was recorded.');
    expect(await bot.sayText('staff', '/isms risk add X')).toContain('Nothing was recorded.');
  });

  it('a refusal\'s hint names nobody outside the register', async () => {
    const now = new Date('2031-03-10T09:00:00Z');
    await addControl(bot.t.db, { code: 'CTL-AC-01', ownerId: bot.ids.owner });
    const reviewer = await bot.sayText('lead', '/isms evidence reviewer CTL-AC-01 nobody@nowhere.example', { now });
    expect(reviewer).toContain('person: nobody in the register matches "nobody@nowhere.example".');
    expect(reviewer).not.toContain('ada@example.com');
  });

  it('a management review\'s and a corrective action\'s hints name people of the register: a member of the management body, the asker', async () => {
    const now = new Date('2031-03-10T09:00:00Z');
    const hints = [
      await bot.sayText('lead', '/isms review record 2031-03-03 "risk register"', { now }),
      await bot.sayText('lead', '/isms review record 2031-03-03 "risk register" --attendees " , " --chair bruno@test.example', { now }),
      await bot.sayText('lead', '/isms review record 2031-03-03 "risk register" --attendees bruno@test.example', { now }),
      await bot.sayText('lead', '/isms finding add minor_nc 9.2 "No audit programme" --owner "" --due 2031-06-10', { now }),
    ];
    expect(hints[0]).toContain('attendees: name who actually attended: a comma-separated list of emails or names, e.g. --attendees "bruno@test.example, Lena Lead".');
    expect(hints[1]).toContain('attendees: name who attended: a comma-separated list of emails or names, e.g. --attendees "bruno@test.example, Lena Lead".');
    expect(hints[2]).toContain('chair: name the management-body member who chaired the review, e.g. --chair bruno@test.example.');
    expect(hints[3]).toContain('owner: name the person: an email address, a name or an @handle');
    for (const hint of hints) expect(hint).not.toMatch(/@example\.org|katrin|olga@|Marco Bianchi/i);
  });

  it('a first word alone lists the commands that start with it', async () => {
    const answer = await bot.say('staff', '/isms declare');
    expect(answer.outcome).toBe('refused');
    expect(toPlainText(answer)).toContain('"/isms declare" needs one more word. These commands start with it:');
    expect(labels(answer).map((l) => l.split(' <')[0])).toEqual(['/isms declare ai', '/isms declare supplier']);
  });

  it('speaks Teams: help, usage, hints and refusals name commands as people type them there, without "/isms"', async () => {
    const teams = { channel: 'teams' as const };
    const lines = ['help', 'help declare', 'help declare ai', 'declare', 'delcare supplier', 'triage acept SC-0001',
      'declare ai', 'declare ai Gemini --colour blue', 'declare ai Gemini --users 2.5', 'poam done POAM-0099', 'ack POL-0042'];
    for (const line of lines) {
      const plain = toPlainText(await bot.say('lead', line, teams)).replace(/^ {6}\[.*$/gm, '');
      expect(plain, line).not.toContain('/isms');
    }
    expect(toPlainText(await bot.say('lead', 'help', teams))).toContain('Here is what you can do (type "help <command>" for details)');
    expect(toPlainText(await bot.say('lead', 'delcare supplier', teams))).toContain('Did you mean "declare supplier"?');
    expect(toPlainText(await bot.say('lead', 'help declare ai', teams))).toContain('Usage: declare ai <tool>');
    expect(toPlainText(await bot.say('lead', 'poam done POAM-0099', teams))).toContain('"poam" lists your POA&M items.');
  });
});

describe('one "did you mean" rule', () => {
  it('ignores case, allows a third of the letters (at least two) to differ, and stays quiet beyond that', () => {
    expect(didYouMean('ctl-cr-10', ['CTL-CR-01', 'CTL-AC-01'])).toBe('CTL-CR-01');
    expect(didYouMean('A5.15', ['A.5.15', 'A.8.1'])).toBe('A.5.15');
    expect(didYouMean('hlep', ['help', 'status'])).toBe('help');
    expect(didYouMean('CTL-XX-99', ['CTL-AC-01'])).toBeUndefined();
    expect(didYouMean('anything', [])).toBeUndefined();
  });
});
