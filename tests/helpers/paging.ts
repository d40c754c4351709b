import { expect } from 'vitest';
import type { Block, Reply } from '../../src/core/reply.js';
import type { CastKey, TestBot } from './bot.js';

export const listIn = (r: Reply) => r.blocks.find((b): b is Extract<Block, { type: 'list' }> => b.type === 'list')!;
/** The reference each entry's title starts with, in the order shown. */
export const refsIn = (r: Reply) => listIn(r).items.map((i) => i.title.split(' ')[0]);

export interface WalkedPage { number: number; total: number; title: string; refs: string[]; command: string }

/** Follows the Next (or Previous) button from `line` to the end, as a person clicking it would. */
export async function walk(bot: TestBot, who: CastKey, line: string, way: 'next' | 'previous', between?: (pageNo: number) => Promise<void>) {
  const pages: WalkedPage[] = [];
  let command: string | undefined = line;
  while (command) {
    const answer = await bot.say(who, `/isms ${command}`);
    const list = listIn(answer);
    pages.push({ number: list.page!.number, total: list.page!.total, title: list.title!, refs: refsIn(answer), command });
    await between?.(list.page!.number);
    command = list.page![way];
  }
  return pages;
}

/**
 * What a person sees paging through `command` (a list of `all`, in order): Next from the first page to
 * the last, Previous from the last back to the first, and each page typed by its number, all the same
 * pages; buttons near either end name the page alone, those in the middle also carry a position.
 */
export async function expectPagesOf(bot: TestBot, who: CastKey, command: string, all: string[]) {
  const total = Math.ceil(all.length / 10);
  const forward = await walk(bot, who, command, 'next');
  expect(forward.map((p) => p.number)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  expect(forward.flatMap((p) => p.refs)).toEqual(all);
  expect(forward.slice(1, 5).map((p) => p.command)).toEqual([2, 3, 4, 5].map((n) => `${command} --page ${n}`));
  expect(forward[5].command).toMatch(new RegExp(`^${command} --page 6 --after \\d+$`));

  const backward = await walk(bot, who, `${command} --page ${total}`, 'previous');
  expect(backward.map((p) => p.number)).toEqual(Array.from({ length: total }, (_, i) => total - i));
  expect(backward.flatMap((p) => [...p.refs].reverse())).toEqual([...all].reverse());
  expect(backward.some((p) => p.command.includes('--before'))).toBe(true);

  for (const page of forward) {
    expect(refsIn(await bot.say(who, `/isms ${command} --page ${page.number}`))).toEqual(page.refs);
  }
  return forward;
}
