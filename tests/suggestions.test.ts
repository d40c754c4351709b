import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asc, eq } from 'drizzle-orm';
import { controls, interestedParties, people } from '../src/db/schema/index.js';
import { findControl } from '../src/domain/evidence/lookup.js';
import { personNamed } from '../src/core/actor.js';
import { didYouMean, nearest } from '../src/core/suggest.js';
import { Shell } from '../adapters/shell/shell.js';
import { assembleCore } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { answerTo } from './helpers/process.js';
import { countingStatements } from './helpers/statements.js';

/**
 * "Did you mean" for a mistyped control code or person, in a register of a few hundred of each: the
 * suggestion is the one the nearest of every code or name in the register would be (the register's
 * order breaking ties), for the slips people make: a letter left out, doubled, swapped with the next,
 * hit beside, or the whole typed in lower case.
 */
const DOMAINS = ['AC', 'CR', 'OPS', 'HR', 'NET', 'SUP', 'BCM', 'LOG', 'PHY', 'DEV', 'AI', 'IR'];
const CODES = DOMAINS.flatMap((d) => Array.from({ length: 25 }, (_, i) => `CTL-${d}-${String(i + 1).padStart(2, '0')}`));
const FIRST = ['Sam', 'Lena', 'Jonas', 'Priya', 'Olga', 'Bruno', 'Ada', 'Iris', 'Marek', 'Jürgen', 'Zoë', 'Aoife', 'Chen', 'Fatima', 'Luca', 'Noor', 'Tomasz', 'Eva', 'Kofi', 'Hana'];
const LAST = ['Novak', 'Fischer', 'Weber', 'Raman', 'Lindqvist', 'Weiß', 'Okafor', 'García', 'Murphy', 'Kowalski', 'Nakamura', 'Haddad', 'Rossi', 'Jensen', 'Silva'];
const NAMES = FIRST.flatMap((f) => LAST.map((l) => `${f} ${l}`));
const emailOf = (name: string) => `${name.toLowerCase().replace('ß', 'ss').normalize('NFD').replace(/[^a-z ]/g, '').replace(' ', '.')}@corp.example`;

/** The i-th slip of the keyboard in a word. */
function slip(word: string, i: number): string {
  const at = (i * 7) % (word.length - 1);
  const c = word[at];
  switch (i % 5) {
    case 0: return word.slice(0, at) + word.slice(at + 1);
    case 1: return word.slice(0, at) + c + word.slice(at);
    case 2: return word.slice(0, at) + word[at + 1] + c + word.slice(at + 2);
    case 3: return word.slice(0, at) + String.fromCharCode(c.charCodeAt(0) + 1) + word.slice(at + 1);
    default: return (word.slice(0, at) + word.slice(at + 1)).toLowerCase();
  }
}

const thrown = async (p: Promise<unknown>) => p.then(() => undefined, (e: Error) => e.message);

describe('"Did you mean" for a mistyped control code or person', () => {
  let bot: TestBot;
  beforeAll(async () => {
    bot = await createTestBot();
    await bot.t.db.insert(controls).values(CODES.map((code) => ({ code, title: `Control ${code}` })));
    await bot.t.db.insert(people).values(NAMES.map((name) => ({ name, email: emailOf(name), roles: ['staff' as const] })));
  });
  afterAll(async () => { await bot.destroy(); });

  it('suggests the control meant, as the nearest of every code would', async () => {
    expect(await bot.sayText('lead', '/isms evidence show CTL-AC-1')).toContain('There is no control "CTL-AC-1". Did you mean CTL-AC-01?');
    expect(await bot.sayText('lead', '/isms evidence show CTL-OSP-14')).toContain('Did you mean CTL-OPS-14?');
    expect(await bot.sayText('lead', '/isms evidence show ctl-net-7')).toContain('Did you mean CTL-NET-07?');
    expect(await bot.sayText('lead', '/isms evidence show CTL-XYZ-99')).toContain('There is no control "CTL-XYZ-99". Nothing was recorded.');
    expect(await bot.sayText('lead', '/isms evidence show CTL-XYZ-99')).not.toContain('Did you mean');

    const all = (await bot.t.db.select({ code: controls.code }).from(controls).orderBy(asc(controls.id))).map((c) => c.code);
    const known = new Set(all.map((c) => c.toLowerCase()));
    let checked = 0;
    for (const [i, code] of all.entries()) {
      if (i % 3) continue;
      const typed = slip(code, i);
      if (known.has(typed.toLowerCase())) continue;
      const meant = didYouMean(typed, all);
      expect(await thrown(findControl(bot.t.db, typed)), typed).toBe(`There is no control "${typed}".${meant ? ` Did you mean ${meant}?` : ''}`);
      checked++;
    }
    expect(checked).toBeGreaterThan(80);
  });

  it('suggests the person meant by name or email, as the nearest of everyone would', async () => {
    expect(await bot.sayText('lead', '/isms person "Sam Nowak"')).toContain('Did you mean Sam Novak <sam.novak@corp.example>?');
    expect(await bot.sayText('lead', '/isms person "Jurgen Weis"')).toContain('Did you mean Jürgen Weiß <jurgen.weiss@corp.example>?');
    expect(await bot.sayText('lead', '/isms person iris.lindqvist@corp.exmple')).toContain('Did you mean Iris Lindqvist <iris.lindqvist@corp.example>?');
    expect(await bot.sayText('lead', '/isms person "Quentin Blake"')).toContain('nobody in the register matches "Quentin Blake".');
    expect(await bot.sayText('lead', '/isms person "Quentin Blake"')).not.toContain('Did you mean');

    const everyone = await bot.t.db.select().from(people).orderBy(asc(people.id));
    let checked = 0;
    for (const [i, p] of everyone.entries()) {
      if (i % 3) continue;
      const typed = slip(i % 2 ? p.email : p.name, i);
      const message = await thrown(personNamed(bot.t.db, 'person', typed));
      // A part of a name, or several people: found or asked about without a suggestion, as before.
      if (!message?.includes('nobody in the register matches')) continue;
      const meant = didYouMean(typed, everyone.map((q) => (typed.includes('@') ? q.email : q.name)));
      const match = everyone.find((q) => q.email === meant || q.name === meant);
      expect(message, typed).toBe(`person: nobody in the register matches "${typed}".${match ? ` Did you mean ${match.name} <${match.email}>?` : ''}`);
      checked++;
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('finds a name typed as the register has it, letter case aside, by the index of names, and a handle or part of a name in one pass', async () => {
    const { value, statements } = await countingStatements(() => personNamed(bot.t.db, 'person', 'sam novak'));
    expect(value.name).toBe('Sam Novak');
    // The name is seeked in people_name_key, whose expression is lower(name collate "C"): one statement, no other.
    expect(statements).toHaveLength(1);
    expect(statements[0]).toContain('lower("people"."name" collate "C") = lower(');
    // Letters outside ASCII in other case, a handle and a unique part of a name are found as before.
    expect((await personNamed(bot.t.db, 'person', 'JÜRGEN WEIß')).name).toBe('Jürgen Weiß');
    expect((await personNamed(bot.t.db, 'person', '@zoë.garcía')).name).toBe('Zoë García');
    expect((await personNamed(bot.t.db, 'person', 'fatima haddad')).email).toBe('fatima.haddad@corp.example');
    // A handle or the whole name wins over a longer name holding it.
    const [longer] = await bot.t.db.insert(people).values({ name: 'Ada Weberova', email: 'ada.weberova@corp.example' }).returning();
    expect((await personNamed(bot.t.db, 'person', '@ada.weber')).name).toBe('Ada Weber');
    expect((await personNamed(bot.t.db, 'person', 'ADA   weber')).name).toBe('Ada Weber');
    expect(await thrown(personNamed(bot.t.db, 'person', 'Ada Webe'))).toContain('person: "Ada Webe" matches 2 people: Ada Weber <ada.weber@corp.example>, Ada Weberova <ada.weberova@corp.example>.');
    await bot.t.db.delete(people).where(eq(people.id, longer.id));
    expect(await thrown(personNamed(bot.t.db, 'person', 'Nakamura'))).toContain('person: "Nakamura" matches 20 people: Sam Nakamura <sam.nakamura@corp.example>, Lena Nakamura');
    // A mistyped name: the index, one pass for a handle or part of a name, the names most alike, the one meant.
    const mistyped = await countingStatements(() => thrown(personNamed(bot.t.db, 'person', 'Sam Nowak')));
    expect(mistyped.value).toBe('person: nobody in the register matches "Sam Nowak". Did you mean Sam Novak <sam.novak@corp.example>?');
    expect(mistyped.statements).toHaveLength(4);
  });

  it('"/as" in the terminal suggests the person meant, as the nearest of every name and email would, without reading everyone', async () => {
    const everyone = await bot.t.db.select().from(people).orderBy(asc(people.id));
    const typedOnes = ['Sam Nowak', 'iris.lindqvist@corp.exmple', 'zoe.garcia@corp', 'kofi.okafor@', ...everyone.filter((_, i) => i % 25 === 3).map((p, i) => slip(i % 2 ? p.email : p.name, i))];
    // The answer the whole register gave: the one email starting so, else the nearest of every name and email.
    const expected = (typed: string) => {
      const q = typed.toLowerCase();
      const byEmail = q.includes('@') ? everyone.filter((p) => p.email.toLowerCase().startsWith(q)) : [];
      const near = nearest(typed, everyone.flatMap((p) => [p.name, p.email]));
      return byEmail.length === 1 ? byEmail[0] : near && everyone.find((p) => p.name === near.match || p.email === near.match);
    };
    const screen: string[] = [];
    const input = new PassThrough();
    const output = new Writable({ write(chunk, _enc, done) { screen.push(String(chunk)); done(); } });
    const shell = new Shell(assembleCore(loadConfig({}), createLogger('silent', output), bot.t), { input, output });
    input.end(typedOnes.map((t) => `/as ${t}\n/as lena@test.example\n`).join(''));
    const { statements } = await countingStatements(() => shell.run());
    const out = screen.join('');
    let from = 0;
    let suggested = 0;
    for (const typed of typedOnes) {
      const answer = answerTo(out, `/as ${typed}`, from);
      from = out.indexOf(`> /as ${typed}\n`, from) + 1;
      if (!answer.includes('Nobody in the register matches')) continue;
      const meant = expected(typed);
      expect(answer, typed).toContain(`✖ Nobody in the register matches "${typed}".${meant ? ` Did you mean ${meant.name} ("/as ${meant.email}")?` : ' Use an email address or a name.'}`);
      if (meant) suggested++;
    }
    expect(suggested).toBeGreaterThan(8);
    expect(out).toContain('Did you mean Sam Novak ("/as sam.novak@corp.example")?');
    expect(out).toContain('Did you mean Zoë García ("/as zoe.garcia@corp.example")?');
    // Every read of the people is bounded: by a condition or by a limit.
    expect(statements.filter((q) => /from "people"/.test(q) && !/\b(where|limit)\b/i.test(q))).toEqual([]);
  });

  it('suggests the interested party meant to retire among hundreds, as the nearest of every party in the list would, reading only those most alike', async () => {
    const PARTIES = NAMES.map((n) => `${n} Holding`);
    await bot.t.db.insert(interestedParties).values(PARTIES.map((name) => ({ name, kind: 'customer' })));
    await bot.t.db.update(interestedParties).set({ retiredAt: new Date('2026-11-01T00:00:00Z'), retiredReason: 'sold' }).where(eq(interestedParties.name, 'Ada Weber Holding'));
    const listed = (await bot.t.db.select().from(interestedParties).orderBy(asc(interestedParties.id))).filter((p) => !p.retiredAt).map((p) => p.name);
    const { value: retired, statements } = await countingStatements(() => bot.sayText('lead', '/isms party retire "Ada Webr Holding" gone'));
    // The retired one is not suggested, as before.
    expect(retired).toContain(`There is no interested party named "Ada Webr Holding".${didYouMean('Ada Webr Holding', listed) ? ` Did you mean "${didYouMean('Ada Webr Holding', listed)}"?` : ''}`);
    expect(retired).not.toContain('Did you mean "Ada Weber Holding"');
    expect(await bot.sayText('lead', '/isms party retire "Sam Nowak Holding" gone')).toContain('Did you mean "Sam Novak Holding"?');
    // Every statement reading the parties reads at most a few of them.
    expect(statements.filter((q) => /from "interested_parties"/.test(q) && !/\blimit\b/i.test(q))).toEqual([]);
    let checked = 0;
    for (const [i, name] of listed.entries()) {
      if (i % 7) continue;
      const typed = slip(name, i);
      if (listed.some((n) => n.toLowerCase().replace(/\s+/g, ' ') === typed.toLowerCase().trim().replace(/\s+/g, ' '))) continue;
      const meant = didYouMean(typed, listed);
      expect(await bot.sayText('lead', `/isms party retire "${typed}" gone`), typed).toContain(`There is no interested party named "${typed}".${meant ? ` Did you mean "${meant}"?` : ''}`);
      checked++;
    }
    expect(checked).toBeGreaterThan(30);
  });
});
