import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asc } from 'drizzle-orm';
import { controls, people } from '../src/db/schema/index.js';
import { findControl } from '../src/domain/evidence/lookup.js';
import { personNamed } from '../src/core/actor.js';
import { didYouMean } from '../src/core/suggest.js';
import { createTestBot, type TestBot } from './helpers/bot.js';

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
});
