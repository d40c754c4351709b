import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { people, trainingAttestations, trainingCourses } from '../src/db/schema/index.js';
import { FAULT_TEXT } from '../src/core/inbound.js';
import type { Page } from '../src/core/reply.js';
import { createTestBot, type CastKey, type TestBot } from './helpers/bot.js';
import { listIn } from './helpers/paging.js';

const now = new Date('2026-03-10T09:00:00Z');

describe('/isms training report at length: pages of the obligations, most urgent first', () => {
  let bot: TestBot;
  /** Every row of the report as "name — course: status", in the order a reader should see them. */
  let expected: string[];

  beforeEach(async () => {
    bot = await createTestBot();
    const [aware, board] = await bot.t.db.insert(trainingCourses).values([
      { code: 'SEC-AWARE', title: 'Security awareness', audienceRole: null, validityMonths: 12 },
      { code: 'MB-CYBER', title: 'Board cyber risk', audienceRole: 'management_body', validityMonths: 12 },
    ]).returning();
    // Names in mixed case (read case-blind: "xeno" before "Xray"), each shared by two people (the earlier added first).
    const names = Array.from({ length: 120 }, (_, i) => `${['xray', 'Xeno', 'XRAY', 'xeno'][i % 4]} ${String(i % 30).padStart(2, '0')}`);
    const added = await bot.t.db.insert(people).values(names.map((name, i) => ({ name, email: `p${i}@scale.example`, roles: ['staff' as const] }))).returning();
    // A third never attested; the rest expired, expiring within 30 days or valid, several on each day.
    const expiry = (i: number) => ['2025-12-01', '2026-02-28', '2026-03-20', '2026-04-01', '2026-12-31'][i % 5];
    await bot.t.db.insert(trainingAttestations).values(added.flatMap((p, i) => (i % 3 === 1 ? [] : [{
      personId: p.id, courseId: aware.id, completedOn: '2025-06-01', expiresOn: expiry(i), channel: 'test',
    }])));
    await bot.t.db.insert(trainingAttestations).values({ personId: bot.ids.board, courseId: board.id, completedOn: '2025-04-01', expiresOn: '2026-04-01', channel: 'test' });
    const everyone = await bot.t.db.select().from(people);
    const rank = (e?: string) => (!e ? 0 : e < '2026-03-10' ? 1 : e <= '2026-04-09' ? 2 : 3);
    const state = ['never attested', 'expired', 'expiring within 30 days', 'valid'];
    const rows = everyone.flatMap((p) => {
      const i = added.findIndex((a) => a.id === p.id);
      const e = i >= 0 && i % 3 !== 1 ? expiry(i) : undefined;
      return [
        { p, code: 'SEC-AWARE', title: 'Security awareness', e },
        ...(p.id === bot.ids.board ? [{ p, code: 'MB-CYBER', title: 'Board cyber risk', e: '2026-04-01' }] : []),
      ];
    });
    rows.sort((a, b) => rank(a.e) - rank(b.e) || (a.e ?? '').localeCompare(b.e ?? '')
      || (a.p.name.toLowerCase() < b.p.name.toLowerCase() ? -1 : a.p.name.toLowerCase() > b.p.name.toLowerCase() ? 1 : 0)
      || a.p.id - b.p.id || (a.code < b.code ? -1 : 1));
    expected = rows.map((r) => `${r.p.name} — ${r.code} ${r.title}: ${state[rank(r.e)]}`);
  });
  afterEach(async () => { await bot.destroy(); });

  const shown = async (who: CastKey, line: string) => {
    const list = listIn(await bot.say(who, `/isms ${line}`, { now }));
    return { page: list.page!, rows: list.items.map((i) => `${i.title}: ${i.detail}`) };
  };
  /** Presses Next (or Previous) from `line` to the end, as a reader would. */
  const walk = async (line: string, way: 'next' | 'previous') => {
    const pages: { command: string; page: Page; rows: string[] }[] = [];
    for (let command: string | undefined = line; command;) {
      const { page, rows } = await shown('auditor', command);
      pages.push({ command, page, rows });
      command = page[way];
    }
    return pages;
  };

  it('shows every obligation once, by severity, soonest expiry, then name read case-blind, the same by Next, Previous or page number', async () => {
    expect(expected).toHaveLength(126);
    const summary = await bot.sayText('auditor', '/isms training report', { now });
    expect(summary).toContain('Training obligations: 126 — 45 never attested, 32 expired, 33 expiring within 30 days, 16 valid.');

    const forward = await walk('training report', 'next');
    expect(forward.map((p) => p.page.number)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    expect(forward.flatMap((p) => p.rows)).toEqual(expected);
    expect(forward[0].rows.slice(0, 3)).toEqual([
      'Ada Auditor — SEC-AWARE Security awareness: never attested', 'Bruno Board — SEC-AWARE Security awareness: never attested',
      'Lena Lead — SEC-AWARE Security awareness: never attested',
    ]);
    // Pages far from both ends are reached from the row their button names.
    expect(forward[4].command).toBe('training report --page 5');
    expect(forward[6].command).toMatch(/^training report --page 7 --after \d+:\d+$/);

    const backward = await walk('training report --page 13', 'previous');
    expect(backward.map((p) => p.page.number)).toEqual(Array.from({ length: 13 }, (_, i) => 13 - i));
    expect(backward.flatMap((p) => [...p.rows].reverse())).toEqual([...expected].reverse());
    expect(backward.some((p) => / --before \d+:\d+$/.test(p.command))).toBe(true);
    for (const p of forward) expect((await shown('auditor', `training report --page ${p.page.number}`)).rows).toEqual(p.rows);
  });

  it('keeps --within on its page buttons and counts by it', async () => {
    const first = await shown('lead', 'training report --within 300');
    expect(first.page.next).toBe('training report --within 300 --page 2');
    const summary = await bot.sayText('lead', '/isms training report --within 300', { now });
    expect(summary).toContain('Training obligations: 126 — 45 never attested, 32 expired, 49 expiring within 300 days, 0 valid.');
    const last = await shown('lead', 'training report --within 300 --page 13');
    expect(last.rows).toEqual(expected.slice(120).map((r) => r.replace(': valid', ': expiring within 300 days')));
  });

  it('refuses a tampered or stale page button with what is wrong with it', async () => {
    const next = (await shown('auditor', 'training report --page 6')).page.next!;
    expect((await shown('auditor', next)).rows).toEqual(expected.slice(60, 70));
    for (const [line, said] of [
      ['training report --page 7 --after 999999:1', 'That page button no longer matches the training report'],
      ['training report --page 7 --after x', 'after: must be the position a Next or Previous button carries, e.g. 120:3'],
      [next.replace('--page 7', '--page 8'), 'That page button no longer matches the training report'],
      [`${next} --before ${next.split(' ').pop()}`, 'A page button carries either --after or --before, not both.'],
    ]) {
      const answer = await bot.sayText('auditor', `/isms ${line}`, { now });
      expect(answer, line).toContain(said);
      expect(answer, line).not.toContain(FAULT_TEXT);
    }
    // Someone on the earlier pages attests: the button's row moved, so the page it names is no longer page 7.
    await bot.say('lead', '/isms attest SEC-AWARE completed on 2026-03-01', { now });
    expect(await bot.sayText('auditor', `/isms ${next}`, { now })).toContain('"/isms training report --page 7" shows page 7 as it is now.');
  });
});

describe('/isms training report: whose obligations, and which attestation it shows', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  const report = async () => {
    const answer = await bot.say('auditor', '/isms training report', { now });
    return listIn(answer).items.map((i) => `${i.title}: ${i.detail} (${i.fields!.map((f) => f.value).join(', ')})`);
  };

  it('shows the latest attestation by completion day, even when an earlier one lasts longer, and only the courses that apply today', async () => {
    const db = bot.t.db;
    const { lead, owner, staff, board } = bot.ids;
    const [aware, mb] = await db.insert(trainingCourses).values([
      { code: 'SEC-AWARE', title: 'Security awareness', audienceRole: null, validityMonths: 12 },
      { code: 'MB-CYBER', title: 'Board cyber risk', audienceRole: 'management_body', validityMonths: 12 },
    ]).returning();
    const attest = (personId: number, courseId: number, completedOn: string, expiresOn: string) => ({ personId, courseId, completedOn, expiresOn, channel: 'test' });
    await db.insert(trainingAttestations).values([
      // The lead's validity was shortened: the later completion expires first, and it is the one that counts.
      attest(lead, aware.id, '2025-01-10', '2027-01-10'), attest(lead, aware.id, '2025-06-01', '2026-03-20'),
      // The owner's older attestation lapsed, the newer one holds.
      attest(owner, aware.id, '2024-02-01', '2025-02-01'), attest(owner, aware.id, '2026-02-01', '2027-02-01'),
      // The staff member attested the board's course, which does not bind them.
      attest(staff, mb.id, '2026-01-05', '2027-01-05'),
      attest(board, mb.id, '2025-03-01', '2026-03-01'),
    ]);
    expect(await report()).toEqual([
      'Ada Auditor — SEC-AWARE Security awareness: never attested (ada@test.example, never, —)',
      'Bruno Board — SEC-AWARE Security awareness: never attested (bruno@test.example, never, —)',
      'Sam Staff — SEC-AWARE Security awareness: never attested (sam@test.example, never, —)',
      'Bruno Board — MB-CYBER Board cyber risk: expired (bruno@test.example, 2025-03-01, 2026-03-01)',
      'Lena Lead — SEC-AWARE Security awareness: expiring within 30 days (lena@test.example, 2025-06-01, 2026-03-20)',
      'Olga Owner — SEC-AWARE Security awareness: valid (olga@test.example, 2026-02-01, 2027-02-01)',
    ]);
    expect(await bot.sayText('auditor', '/isms training report', { now }))
      .toContain('Training obligations: 6 — 3 never attested, 1 expired, 1 expiring within 30 days, 1 valid.');

    // The staff member joins the management body, the auditor leaves ISMS scope, the lead's latest attestation is withdrawn.
    await db.update(people).set({ roles: ['staff', 'management_body'] }).where(eq(people.id, staff));
    await db.update(people).set({ inScope: false }).where(eq(people.id, bot.ids.auditor));
    await db.delete(trainingAttestations).where(and(eq(trainingAttestations.personId, lead), eq(trainingAttestations.completedOn, '2025-06-01')));
    expect(await report()).toEqual([
      'Bruno Board — SEC-AWARE Security awareness: never attested (bruno@test.example, never, —)',
      'Sam Staff — SEC-AWARE Security awareness: never attested (sam@test.example, never, —)',
      'Bruno Board — MB-CYBER Board cyber risk: expired (bruno@test.example, 2025-03-01, 2026-03-01)',
      'Sam Staff — MB-CYBER Board cyber risk: valid (sam@test.example, 2026-01-05, 2027-01-05)',
      'Lena Lead — SEC-AWARE Security awareness: valid (lena@test.example, 2025-01-10, 2027-01-10)',
      'Olga Owner — SEC-AWARE Security awareness: valid (olga@test.example, 2026-02-01, 2027-02-01)',
    ]);

    // Nobody bound to the board's course any more once its audience changes: the report says the management body has none.
    await db.update(trainingCourses).set({ audienceRole: 'auditor' }).where(eq(trainingCourses.id, mb.id));
    const text = await bot.sayText('auditor', '/isms training report', { now });
    expect(text).toContain('Training obligations: 5 — 3 never attested, 0 expired, 0 expiring within 30 days, 2 valid.');
    expect(text).toContain('No course is set for the management body');
  });
});
