import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { controls, evidenceRequests } from '../src/db/schema/index.js';
import { FAULT_TEXT } from '../src/core/inbound.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { listIn, refsIn, walk as walkPages } from './helpers/paging.js';

const ref = (i: number) => `EVR-${String(i).padStart(4, '0')}`;

/** 125 evidence requests: 13 pages, the middle ones far enough from both ends for their buttons to carry a position. */
const ROWS = 125;

describe('/isms register: paging a long register', () => {
  let bot: TestBot;
  let controlId: number;
  const add = async (from: number, to: number) => {
    await bot.t.db.insert(evidenceRequests).values(Array.from({ length: to - from + 1 }, (_, k) => ({
      ref: ref(from + k), controlId, ownerId: bot.ids.owner, dueOn: '2026-12-31', cycle: `2026-${from + k}`,
    })));
  };

  beforeEach(async () => {
    bot = await createTestBot();
    [{ id: controlId }] = await bot.t.db.insert(controls).values({ code: 'CTL-PG-01', title: 'Paging', ownerId: bot.ids.owner }).returning();
    await add(1, ROWS);
  });
  afterEach(async () => { await bot.destroy(); });

  const walk = (line: string, way: 'next' | 'previous', between?: (pageNo: number) => Promise<void>) => walkPages(bot, 'auditor', line, way, between);

  it('walks every page forward and back, each entry exactly once and in order, with the same pages as typed page numbers', async () => {
    const all = Array.from({ length: ROWS }, (_, i) => ref(i + 1));
    const forward = await walk('register evidence', 'next');
    expect(forward.map((p) => p.number)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    expect(forward.flatMap((p) => p.refs)).toEqual(all);
    expect(forward[0].title).toBe('Evidence requests (page 1 of 13)');
    expect(forward[12].title).toBe('Evidence requests (page 13 of 13)');
    // Buttons near either end are the typed page number; those in the middle also carry where the page starts.
    expect(forward.slice(1, 5).map((p) => p.command)).toEqual([2, 3, 4, 5].map((n) => `register evidence --page ${n}`));
    expect(forward.slice(5, 8).map((p) => p.command)).toEqual([6, 7, 8].map((n) => expect.stringMatching(new RegExp(`^register evidence --page ${n} --after \\d+$`))));
    expect(forward[8].command).toBe('register evidence --page 9');

    const backward = await walk(`register evidence --page 13`, 'previous');
    expect(backward.map((p) => p.number)).toEqual(Array.from({ length: 13 }, (_, i) => 13 - i));
    expect(backward.flatMap((p) => [...p.refs].reverse())).toEqual([...all].reverse());
    expect(backward.some((p) => p.command.includes('--before'))).toBe(true);

    for (const page of forward) {
      expect(refsIn(await bot.say('auditor', `/isms register evidence --page ${page.number}`))).toEqual(page.refs);
    }
  });

  it('shows each entry once when entries are added between page views, the new ones at the end', async () => {
    let added = ROWS;
    const forward = await walk('register evidence', 'next', async (pageNo) => {
      if (pageNo === 3 || pageNo === 7 || pageNo === 12) { await add(added + 1, added + 4); added += 4; }
    });
    const seen = forward.flatMap((p) => p.refs);
    expect(seen).toEqual(Array.from({ length: added }, (_, i) => ref(i + 1)));
    expect(forward.at(-1)!.total).toBe(Math.ceil(added / 10));

    const backward = await walk(`register evidence --page ${Math.ceil(added / 10)}`, 'previous', async (pageNo) => {
      if (pageNo === 8) { await add(added + 1, added + 3); added += 3; }
    });
    expect(backward.flatMap((p) => [...p.refs].reverse())).toEqual(Array.from({ length: added - 3 }, (_, i) => ref(added - 3 - i)));
  });

  it('refuses a tampered or stale page button with what is wrong with it, never an internal error', async () => {
    const middle = await bot.say('auditor', '/isms register evidence --page 6');
    const next = listIn(middle).page!.next!;
    const [, lastId] = next.match(/--after (\d+)$/)!;
    const firstId = Number(lastId) - 9;
    const cases: [string, string][] = [
      ['register evidence --page 7 --after abc', 'after: must be the position a Next or Previous button carries'],
      ['register evidence --page 7 --after "1; drop table evidence_requests"', 'after: must be the position a Next or Previous button carries'],
      ['register evidence --page 7 --after -3', 'after: must be the position a Next or Previous button carries: 1 or more'],
      ['register evidence --page 7 --after 2.5', 'after: must be the whole-number position'],
      ['register evidence --page 7 --after 99999999999', 'after: is not a position any Next or Previous button carries'],
      [`register evidence --page 7 --after ${Number(lastId) - 3}`, 'That page button no longer matches the evidence register'],
      [`register evidence --page 9 --after ${lastId}`, 'That page button no longer matches the evidence register'],
      [`register evidence --page 7 --after ${lastId} --before ${firstId}`, 'A page button carries either --after or --before, not both.'],
      ['register evidence --page 14 --after 2000000000', 'The evidence register has nothing after --after 2000000000'],
      ['register evidence --page 1 --before 1', 'The evidence register has nothing before --before 1'],
    ];
    for (const [line, expected] of cases) {
      const answer = await bot.sayText('auditor', `/isms ${line}`);
      expect(answer, line).toContain(expected);
      expect(answer, line).not.toContain(FAULT_TEXT);
    }
    // The untampered button still works, and says the page it shows.
    expect(refsIn(await bot.say('auditor', `/isms ${next}`))).toEqual(Array.from({ length: 10 }, (_, i) => ref(61 + i)));
    expect(listIn(await bot.say('auditor', `/isms register evidence --after ${lastId}`)).page?.number).toBe(7);

    // An entry removed before the button's position since it was shown: the button says so and names the page to type.
    await bot.t.db.delete(evidenceRequests).where(eq(evidenceRequests.ref, ref(5)));
    const stale = await bot.sayText('auditor', `/isms ${next}`);
    expect(stale).toContain('That page button no longer matches the evidence register: entries were added or removed before its position');
    expect(stale).toContain('"/isms register evidence --page 7" shows page 7 as it is now.');
  });
});
