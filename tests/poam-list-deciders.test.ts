import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { people, poamExtensions, poamItems } from '../src/db/schema/index.js';
import type { Reply } from '../src/core/reply.js';
import { toActor, type Actor } from '../src/core/actor.js';
import { createTestBot, type TestBot } from './helpers/bot.js';

const now = new Date('2026-03-10T09:00:00Z');

const decisionButtons = (r: Reply) => r.blocks.flatMap((b) => (b.type === 'list' ? b.items.flatMap((i) => i.buttons ?? []) : []))
  .map((btn) => btn.command).filter((c) => /^poam (approve|reject) /.test(c));

/** "poam --all" offers each reader the Approve/Reject buttons of exactly the extension requests they may decide. */
describe('/isms poam --all: extension decisions', () => {
  let bot: TestBot;
  let readers: { who: string; actor: () => Promise<Actor> }[];

  beforeEach(async () => {
    bot = await createTestBot();
    const db = bot.t.db;
    const { lead, owner } = bot.ids;
    const [berta] = await db.insert(people).values({ name: 'Berta Board', email: 'berta@test.example', roles: ['management_body'] }).returning();
    readers = [
      ...(['lead', 'board', 'owner', 'staff', 'auditor'] as const).map((who) => ({ who, actor: () => bot.actor(who) })),
      { who: 'berta', actor: async () => toActor(berta) },
    ];
    const [olgas, lenas, olgas2] = await db.insert(poamItems).values([
      { ref: 'POAM-0001', weakness: 'No MFA on the VPN', source: 'risk', ownerId: owner, dueOn: '2026-04-30' },
      { ref: 'POAM-0002', weakness: 'No log review', source: 'risk', ownerId: lead, dueOn: '2026-04-30' },
      { ref: 'POAM-0003', weakness: 'Backups never restored', source: 'risk', ownerId: owner, dueOn: '2026-05-31' },
    ]).returning();
    await db.insert(poamExtensions).values([
      // Olga asks for her own item: the lead decides.
      { ref: 'PEX-0001', itemId: olgas.id, previousDueOn: '2026-04-30', requestedDueOn: '2026-06-30', reason: 'tokens late', requestedBy: owner },
      // The lead asks for their own item, and for Olga's: every lead had a part, so the management body decides.
      { ref: 'PEX-0002', itemId: lenas.id, previousDueOn: '2026-04-30', requestedDueOn: '2026-06-30', reason: 'SIEM late', requestedBy: lead },
      { ref: 'PEX-0003', itemId: olgas2.id, previousDueOn: '2026-05-31', requestedDueOn: '2026-07-31', reason: 'tape library', requestedBy: lead },
    ]);
  });
  afterEach(async () => { await bot.destroy(); });

  /** For each reader: the buttons "poam --all" shows, and the decisions "poam reject" (without its reason, which writes nothing) accepts. */
  async function shownAndAccepted() {
    const pending = (await bot.t.db.select({ ref: poamExtensions.ref }).from(poamExtensions).where(eq(poamExtensions.status, 'requested')).orderBy(poamExtensions.id))
      .map((r) => `poam reject ${r.ref}`);
    const result: Record<string, { shown: string[]; accepted: string[] }> = {};
    for (const reader of readers) {
      const actor = await reader.actor();
      const answer = await bot.router.handle('/isms poam --all', { actor, channel: 'test', now });
      const accepted: string[] = [];
      for (const line of pending) {
        if ((await bot.router.handle(`/isms ${line}`, { actor, channel: 'test', now })).outcome === 'form') accepted.push(line);
      }
      result[reader.who] = { shown: answer.outcome === 'refused' ? [] : decisionButtons(answer).filter((c) => c.includes(' reject ')).sort(), accepted };
    }
    return result;
  }

  it('gives a management-body member the buttons of the requests every ISMS lead had a part in, and nobody the buttons of their own', async () => {
    const board = await bot.say('board', '/isms poam --all', { now });
    expect(decisionButtons(board)).toEqual(['poam approve PEX-0002', 'poam reject PEX-0002', 'poam approve PEX-0003', 'poam reject PEX-0003']);
    expect(decisionButtons(await bot.say('lead', '/isms poam --all', { now }))).toEqual(['poam approve PEX-0001', 'poam reject PEX-0001']);
    expect(decisionButtons(await bot.say('auditor', '/isms poam --all', { now }))).toEqual([]);

    const seen = await shownAndAccepted();
    for (const [who, { shown, accepted }] of Object.entries(seen)) expect(shown, who).toEqual(accepted);
    expect(seen.berta.shown).toEqual(['poam reject PEX-0002', 'poam reject PEX-0003']);
    expect(seen.owner.shown).toEqual([]);
  });

  it('takes the buttons from the management body once an ISMS lead who had no part in them is there', async () => {
    const [lars] = await bot.t.db.insert(people).values({ name: 'Lars Lead', email: 'lars@test.example', roles: ['isms_lead'] }).returning();
    readers.push({ who: 'lars', actor: async () => toActor(lars) });
    const seen = await shownAndAccepted();
    for (const [who, { shown, accepted }] of Object.entries(seen)) expect(shown, who).toEqual(accepted);
    expect(seen.board.shown).toEqual([]);
    expect(seen.lars.shown).toEqual(['poam reject PEX-0001', 'poam reject PEX-0002', 'poam reject PEX-0003']);
  });
});
