import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { people, scopeChanges } from '../src/db/schema/index.js';
import { toActor } from '../src/core/actor.js';
import { toPlainText, type Reply } from '../src/core/reply.js';
import { defaultNudgeSettings, weeklyDigest } from '../src/scheduler/index.js';
import { createTestBot, type CastKey, type TestBot } from './helpers/bot.js';

const settings = defaultNudgeSettings({ timezone: 'Europe/Berlin' });
/** Monday 7 December 2026, 07:00 in Berlin. */
const monday = DateTime.fromISO('2026-12-07T07:00', { zone: 'Europe/Berlin' }).toJSDate();

/** The refs a digest lists under a title, in order. */
function listed(r: Reply, title: string): string[] {
  return r.blocks.flatMap((b) => (b.type === 'list' && b.title === title ? b.items.map((i) => i.title.split(' ')[0]) : []))
    .filter((ref) => ref.startsWith('SC-'));
}

/** The weekly digest lists for each person only the triage items they may decide, and names who decides their own. */
describe('the weekly digest\'s triage', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    await bot.t.db.insert(scopeChanges).values([
      { ref: 'SC-0001', kind: 'new_supplier', subject: 'Acme Cloud', declaredBy: bot.ids.owner, declaredAt: new Date('2026-12-01T10:00:00Z') },
      { ref: 'SC-0002', kind: 'new_system', subject: 'Payroll app', declaredBy: bot.ids.lead, declaredAt: new Date('2026-12-02T10:00:00Z') },
    ]);
  });
  afterEach(async () => { await bot.destroy(); });

  const digestOf = async (who: CastKey | number) => {
    const id = typeof who === 'number' ? who : bot.ids[who];
    const [row] = await bot.t.db.select().from(people).where(eq(people.id, id));
    const messages = (await bot.t.db.query.outbox.findMany()).filter((m) => m.recipientId === row.id && m.kind === 'digest');
    return { person: row, digest: messages[0]?.reply as Reply | undefined };
  };

  /** What "triage reject" (without its reason, so nothing is written) accepts from the person. */
  async function decidableBy(personId: number): Promise<string[]> {
    const [row] = await bot.t.db.select().from(people).where(eq(people.id, personId));
    const accepted: string[] = [];
    for (const { ref } of await bot.t.db.select({ ref: scopeChanges.ref }).from(scopeChanges).orderBy(scopeChanges.id)) {
      const answer = await bot.router.handle(`/isms triage reject ${ref}`, { actor: toActor(row), channel: 'test', now: monday });
      if (answer.outcome === 'form') accepted.push(ref);
    }
    return accepted;
  }

  it('with one ISMS lead: the lead reads the others\' declarations and who decides their own; the management body reads the lead\'s', async () => {
    await weeklyDigest(bot.t.db, monday, settings);
    const lead = (await digestOf('lead')).digest!;
    expect(listed(lead, 'Waiting for your triage')).toEqual(['SC-0001']);
    expect(listed(lead, 'Declared by you, so someone else decides it')).toEqual(['SC-0002']);
    expect(toPlainText(lead)).toContain('1 scope change waits for your triage.');
    expect(toPlainText(lead)).toContain('SC-0002 Payroll app — Bruno Board (management body) decides it');
    expect(listed(lead, 'Waiting for your triage')).toEqual(await decidableBy(bot.ids.lead));

    // Nothing was escalated, yet the management body decides the lead's own declaration: its digest says so.
    const board = (await digestOf('board')).digest!;
    expect(listed(board, 'Waiting for your triage')).toEqual(['SC-0002']);
    expect(toPlainText(board)).toContain('1 scope change waits for your triage (the management body decides those every ISMS lead had a part in).');
    expect(listed(board, 'Waiting for your triage')).toEqual(await decidableBy(bot.ids.board));
  });

  it('with two ISMS leads: each reads the other\'s declarations, and the management body nothing of triage', async () => {
    const [lars] = await bot.t.db.insert(people).values({ name: 'Lars Lead', email: 'lars@test.example', roles: ['isms_lead'], timezone: 'Europe/Berlin' }).returning();
    await bot.t.db.insert(scopeChanges).values({ ref: 'SC-0003', kind: 'new_geography', subject: 'Canada', declaredBy: lars.id, declaredAt: new Date('2026-12-03T10:00:00Z') });
    await weeklyDigest(bot.t.db, monday, settings);

    const lena = (await digestOf('lead')).digest!;
    expect(listed(lena, 'Waiting for your triage')).toEqual(['SC-0001', 'SC-0003']);
    expect(toPlainText(lena)).toContain('SC-0002 Payroll app — Lars Lead (ISMS lead) decides it');
    expect(listed(lena, 'Waiting for your triage')).toEqual(await decidableBy(bot.ids.lead));

    const larsDigest = (await digestOf(lars.id)).digest!;
    expect(listed(larsDigest, 'Waiting for your triage')).toEqual(['SC-0001', 'SC-0002']);
    expect(toPlainText(larsDigest)).toContain('SC-0003 Canada — Lena Lead (ISMS lead) decides it');
    expect(listed(larsDigest, 'Waiting for your triage')).toEqual(await decidableBy(lars.id));

    expect((await digestOf('board')).digest).toBeUndefined();
    expect(await decidableBy(bot.ids.board)).toEqual([]);
  });
});
