import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poamItems, risks } from '../src/db/schema/index.js';
import { toPlainText, type Block, type Reply } from '../src/core/reply.js';
import { nextRef } from '../src/core/refs.js';
import { loadReferenceData } from '../src/refdata/index.js';
import { createTestBot, type TestBot } from './helpers/bot.js';

/*
 * The management body oversees the ISMS (NIS2 Art. 20, DORA Art. 5): it reads every register,
 * and writes none of them by reading. Staff are refused the whole-organisation views.
 */

const NOW = new Date('2026-11-20T10:00:00Z');
const listTitle = (r: Reply) => r.blocks.find((b): b is Extract<Block, { type: 'list' }> => b.type === 'list')?.title;

describe('the management body reads every register; staff are refused', () => {
  let bot: TestBot;
  let auditBefore: number;
  beforeAll(async () => {
    bot = await createTestBot();
    await loadReferenceData(bot.t.db);
    await bot.t.db.insert(risks).values({
      ref: await nextRef(bot.t.db, 'R'), title: 'Ransomware on the file server', likelihood: 4, impact: 4, inherentScore: 16, residualScore: 9,
      treatment: 'mitigate', ownerId: bot.ids.owner,
    });
    await bot.t.db.insert(poamItems).values({
      ref: await nextRef(bot.t.db, 'POAM'), weakness: 'No MFA on the VPN', source: 'risk', ownerId: bot.ids.owner, dueOn: '2027-01-15',
    });
    await bot.say('lead', '/isms asset add CRM', { now: NOW });
    await bot.say('lead', '/isms party add BaFin', { now: NOW });
    await bot.say('auditor', '/isms finding add ofi A.5.15 "Use the HR leaver feed"', { now: NOW });
    auditBefore = await bot.auditCount();
  }, 60_000);
  afterAll(async () => {
    // Reading wrote nothing.
    expect(await bot.auditCount()).toBe(auditBefore);
    await bot.destroy();
  });

  it.each([
    ['register ai', 'AI register'],
    ['register suppliers', 'Supplier register'],
    ['register scope', 'Scope-change log'],
    ['register evidence', 'Evidence requests'],
    ['register poam', 'POA&M'],
    ['poam --all', 'POA&M — all open items'],
    ['findings', 'Audit findings'],
    ['reviews', 'Management reviews'],
    ['assets', 'Asset register'],
    ['parties', 'Interested parties'],
  ])('"%s": the management body gets the listing, staff are refused', async (command, title) => {
    const board = await bot.say('board', `/isms ${command}`, { now: NOW });
    expect(board.outcome).toBe('info');
    expect(listTitle(board)?.toLowerCase()).toContain(title.toLowerCase());
    const staff = await bot.say('staff', `/isms ${command}`, { now: NOW });
    expect(staff.outcome).toBe('refused');
    expect(toPlainText(staff)).toMatch(/Only the .*management body/);
  });

  it.each(['soa ISO27001:2022', 'coverage ISO27001:2022'])('"%s": the management body gets it, staff are refused', async (command) => {
    const board = await bot.say('board', `/isms ${command}`, { now: NOW });
    expect(board.outcome).toBe('info');
    expect(toPlainText(board)).toContain('ISO/IEC 27001:2022');
    expect((await bot.say('staff', `/isms ${command}`, { now: NOW })).outcome).toBe('refused');
  });

  it('"risks": the management body gets the whole register, staff only their own', async () => {
    const board = toPlainText(await bot.say('board', '/isms risks', { now: NOW }));
    expect(board).toContain('Risk register');
    expect(board).toContain('R-0001 Ransomware on the file server');
    const staff = toPlainText(await bot.say('staff', '/isms risks', { now: NOW }));
    expect(staff).not.toContain('R-0001');
  });

  it('"poam --all" offers the management body no buttons for work that is not theirs', async () => {
    const board = await bot.say('board', '/isms poam --all', { now: NOW });
    const items = board.blocks.flatMap((b) => (b.type === 'list' ? b.items : []));
    expect(items.map((i) => i.title)).toEqual(['POAM-0001 — No MFA on the VPN']);
    expect(items.flatMap((i) => i.buttons ?? [])).toEqual([]);
  });
});
