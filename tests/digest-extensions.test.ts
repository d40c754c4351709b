import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { people, poamExtensions, poamItems } from '../src/db/schema/index.js';
import { toActor } from '../src/core/actor.js';
import { toPlainText, type Reply } from '../src/core/reply.js';
import { defaultNudgeSettings, weeklyDigest } from '../src/scheduler/index.js';
import { createTestBot, type CastKey, type TestBot } from './helpers/bot.js';

const settings = defaultNudgeSettings({ timezone: 'Europe/Berlin' });
/** Monday 7 December 2026, 07:00 in Berlin. */
const monday = DateTime.fromISO('2026-12-07T07:00', { zone: 'Europe/Berlin' }).toJSDate();
const TITLE = 'Extension requests waiting for your decision';

/** The request refs a digest lists under the extension title, in order, and the "and N more" line. */
function listed(r: Reply): string[] {
  return r.blocks.flatMap((b) => (b.type === 'list' && b.title === TITLE ? b.items.map((i) => (i.title.startsWith('…') ? i.title : i.title.split(' ')[0])) : []));
}
const buttons = (r: Reply) => r.blocks.flatMap((b) => (b.type === 'actions' ? b.buttons.map((x) => x.command) : []));

/** The weekly digest lists for each person the POA&M extension requests they may decide, oldest first. */
describe('the weekly digest\'s extension requests', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    const { lead, owner } = bot.ids;
    const [olgas, lenas, olgas2] = await bot.t.db.insert(poamItems).values([
      { ref: 'POAM-0001', weakness: 'No MFA on the VPN', source: 'risk', ownerId: owner, dueOn: '2027-01-31' },
      { ref: 'POAM-0002', weakness: 'No log review', source: 'risk', ownerId: lead, dueOn: '2027-01-31' },
      { ref: 'POAM-0003', weakness: 'Backups never restored', source: 'risk', ownerId: owner, dueOn: '2027-01-31' },
    ]).returning();
    const ask = (ref: string, itemId: number, requestedBy: number, day: string) => ({
      ref, itemId, previousDueOn: '2027-01-31', requestedDueOn: '2027-03-31', reason: 'later delivery', requestedBy, requestedAt: new Date(`${day}T10:00:00Z`),
    });
    await bot.t.db.insert(poamExtensions).values([
      ask('PEX-0001', olgas.id, owner, '2026-12-03'), // the lead decides
      ask('PEX-0002', lenas.id, lead, '2026-12-02'), // every lead had a part: the management body decides
      ask('PEX-0003', olgas2.id, lead, '2026-12-01'),
    ]);
  });
  afterEach(async () => { await bot.destroy(); });

  const digestOf = async (who: CastKey | number) => {
    const id = typeof who === 'number' ? who : bot.ids[who];
    const messages = (await bot.t.db.query.outbox.findMany()).filter((m) => m.recipientId === id && m.kind === 'digest');
    return messages[0]?.reply as Reply | undefined;
  };

  /** What "poam reject" (without its reason, so nothing is written) accepts from the person. */
  async function decidableBy(personId: number): Promise<string[]> {
    const [row] = await bot.t.db.select().from(people).where(eq(people.id, personId));
    const accepted: string[] = [];
    for (const { ref } of await bot.t.db.select({ ref: poamExtensions.ref }).from(poamExtensions).orderBy(poamExtensions.requestedAt)) {
      const answer = await bot.router.handle(`/isms poam reject ${ref}`, { actor: toActor(row), channel: 'test', now: monday });
      if (answer.outcome === 'form') accepted.push(ref);
    }
    return accepted;
  }

  it('with one ISMS lead: the lead reads the owner\'s requests, the management body the lead\'s, each with a button to the list', async () => {
    await weeklyDigest(bot.t.db, monday, settings);
    const lead = (await digestOf('lead'))!;
    expect(listed(lead)).toEqual(['PEX-0001']);
    expect(listed(lead)).toEqual(await decidableBy(bot.ids.lead));
    expect(toPlainText(lead)).toContain('1 POA&M extension request waits for your decision.');
    expect(toPlainText(lead)).toContain('PEX-0001 POAM-0001 No MFA on the VPN — Olga Owner asks to move the due date from 2027-01-31 to 2027-03-31');
    expect(buttons(lead)).toContain('poam --all');

    const board = (await digestOf('board'))!;
    expect(listed(board)).toEqual(['PEX-0003', 'PEX-0002']);
    expect(listed(board)).toEqual(await decidableBy(bot.ids.board));
    expect(toPlainText(board)).toContain('2 POA&M extension requests wait for your decision (the management body decides those every ISMS lead had a part in).');
    expect(buttons(board)).toContain('poam --all');
    expect(listed((await digestOf('owner')) ?? { blocks: [] })).toEqual([]);
  });

  it('lists a few, oldest first, and says how many more; a free ISMS lead takes them from the management body', async () => {
    const { owner } = bot.ids;
    const items = await bot.t.db.insert(poamItems).values(Array.from({ length: 10 }, (_, i) => ({
      ref: `POAM-${String(i + 4).padStart(4, '0')}`, weakness: `Weakness ${i + 4}`, source: 'risk' as const, ownerId: owner, dueOn: '2027-01-31',
    }))).returning();
    await bot.t.db.insert(poamExtensions).values(items.map((item, i) => ({
      ref: `PEX-${String(i + 4).padStart(4, '0')}`, itemId: item.id, previousDueOn: '2027-01-31', requestedDueOn: '2027-03-31', reason: 'later delivery',
      requestedBy: owner, requestedAt: new Date(Date.UTC(2026, 10, 20 + i, 10)),
    })));
    const [lars] = await bot.t.db.insert(people).values({ name: 'Lars Lead', email: 'lars@test.example', roles: ['isms_lead'], timezone: 'Europe/Berlin' }).returning();
    await weeklyDigest(bot.t.db, monday, settings);

    const larsDigest = (await digestOf(lars.id))!;
    expect(listed(larsDigest)).toEqual([...(await decidableBy(lars.id)).slice(0, 10), '… and 3 more']);
    expect(listed(larsDigest).slice(0, 3)).toEqual(['PEX-0004', 'PEX-0005', 'PEX-0006']);
    expect(toPlainText(larsDigest)).toContain('13 POA&M extension requests wait for your decision.');

    const lena = (await digestOf('lead'))!;
    expect(listed(lena)).toEqual([...(await decidableBy(bot.ids.lead)).slice(0, 10), '… and 1 more']);
    expect(listed(lena)).not.toContain('PEX-0002');
    // Nothing was escalated and a lead is free to decide every request: the management body gets no digest.
    expect(await digestOf('board')).toBeUndefined();
  });
});
