import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { people, trainingAttestations, trainingCourses } from '../src/db/schema/index.js';
import { rows } from '../src/db/migrate.js';
import { courseCompletion } from '../src/domain/training/obligations.js';
import { compileReviewPack } from '../src/domain/reviews/review-pack.js';
import { defaultNudgeSettings, weeklyDigest } from '../src/scheduler/index.js';
import { toPlainText, type Reply } from '../src/core/reply.js';
import type { Db } from '../src/db/client.js';
import { createTestBot, type TestBot } from './helpers/bot.js';

const now = new Date('2026-03-10T09:00:00Z');
const today = '2026-03-10';

/** The figure the lead's weekly digest run on `day` shows as "Training expired". */
async function digestExpired(bot: TestBot, day: string): Promise<number> {
  await weeklyDigest(bot.t.db, new Date(`${day}T06:00:00Z`), defaultNudgeSettings());
  const digest = (await bot.outboxFor('lead')).find((m) => m.kind === 'digest')!;
  await bot.t.db.execute(sql`delete from outbox where kind = 'digest'`);
  return Number(/Training expired: (\d+)/.exec(toPlainText(digest.reply as Reply))![1]);
}

/**
 * Every person with every course that applies to them (as courseAppliesTo says), `p` and `c`, and their
 * latest attestation of it, `l`, read from every person and attestation: what the kept standing must equal.
 */
const obligationsFrom = sql`${trainingCourses} c
    join ${people} p on (c.audience_role is null and p.in_scope) or c.audience_role = any(p.roles)
    left join (
      select distinct on (a.person_id, a.course_id) a.person_id, a.course_id, a.id, a.completed_on, a.expires_on from ${trainingAttestations} a
      order by a.person_id, a.course_id, a.completed_on desc, a.id desc
    ) l on l.person_id = p.id and l.course_id = c.id`;

/** Each course's completion as counted over every person and every attestation: what the figures must equal. */
async function counted(db: Db, day: string) {
  return rows<{ code: string; done: number; expected: number }>(await db.execute(sql`
    select c.code, count(*)::int as expected, (count(*) filter (where l.expires_on >= ${day}::date))::int as done
    from ${obligationsFrom} group by c.code order by c.code`));
}

/** People and courses attested whose every attestation has expired, counted over every attestation. */
async function expiredCounted(db: Db, day: string): Promise<number> {
  return rows<{ n: number }>(await db.execute(sql`select count(*)::int as n from (
    select distinct on (person_id, course_id) expires_on from training_attestations order by person_id, course_id, expires_on desc) latest
    where expires_on < ${day}::date`))[0].n;
}

describe('training completion figures (status, digest, review pack)', () => {
  let bot: TestBot;
  let db: Db;
  let aware: number;
  let board: number;
  let vera: number;
  let rolf: number;

  const attest = (personId: number, courseId: number, completedOn: string, expiresOn: string) =>
    db.insert(trainingAttestations).values({ personId, courseId, completedOn, expiresOn, channel: 'test' });

  beforeEach(async () => {
    bot = await createTestBot();
    db = bot.t.db;
    const { lead, owner, staff, auditor } = bot.ids;
    const [mb, sec] = await db.insert(trainingCourses).values([
      { code: 'MB-CYBER', title: 'Cybersecurity risk for the management body', audienceRole: 'management_body' },
      { code: 'SEC-AWARE', title: 'Security awareness', audienceRole: null },
    ]).returning();
    aware = sec.id;
    board = mb.id;
    const added = await db.insert(people).values([
      { name: 'Vera Validity', email: 'vera@test.example', roles: ['staff'] },
      { name: 'Rolf Resigned', email: 'rolf@test.example', roles: ['management_body', 'staff'] },
    ]).returning();
    [vera, rolf] = added.map((p) => p.id);
    // Renewed every year: the latest one counts.
    await attest(lead, aware, '2024-01-10', '2025-01-10');
    await attest(lead, aware, '2025-01-09', '2026-01-09');
    await attest(lead, aware, '2026-01-10', '2027-01-10');
    // Expired, not renewed.
    await attest(owner, aware, '2025-03-01', '2026-03-01');
    // The staff member never attested, and is on leave: still bound.
    await db.update(people).set({ pausedUntil: new Date('2026-04-01T00:00:00Z') }).where(eq(people.id, staff));
    // Outside ISMS scope, with an attestation still valid: not bound.
    await db.update(people).set({ inScope: false }).where(eq(people.id, auditor));
    await attest(auditor, aware, '2026-01-01', '2027-01-01');
    // The validity shortened between two completions: the later one expired first, and it is the latest.
    await attest(vera, aware, '2025-06-01', '2027-06-01');
    await attest(vera, aware, '2025-09-01', '2026-03-01');
    // A board member who left the management body, their course expired; still bound to the all-staff course.
    await attest(rolf, board, '2025-01-01', '2026-01-01');
    await attest(rolf, aware, '2026-02-01', '2027-02-01');
    await db.update(people).set({ roles: ['staff'] }).where(eq(people.id, rolf));
    // The board member's course valid; the staff member joins the management body and has not attested it.
    await attest(bot.ids.board, board, '2025-06-01', '2026-06-01');
    await db.update(people).set({ roles: ['staff', 'management_body'] }).where(eq(people.id, staff));
  });
  afterEach(async () => { await bot.destroy(); });

  it('counts who is bound and who holds a valid latest attestation, course by course', async () => {
    const figures = [{ code: 'MB-CYBER', expected: 2, done: 1 }, { code: 'SEC-AWARE', expected: 6, done: 2 }];
    expect(await courseCompletion(db, today)).toEqual(figures);
    expect(await counted(db, today)).toEqual(figures);

    const lead = await bot.sayText('lead', '/isms status', { now });
    expect(lead).toContain('Training completion: 38% (3 of 8)');
    const boardView = await bot.sayText('board', '/isms status', { now });
    expect(boardView).toContain('Training completion: 38% (3 of 8)');

    const pack = await compileReviewPack(db, now);
    const lines = pack.sections.flatMap((s) => s.lines);
    expect(lines).toContain('Training MB-CYBER: 50% (1 of 2)');
    expect(lines).toContain('Training SEC-AWARE: 33% (2 of 6)');
  });

  it('counts on the lead\'s digest the training expired and not renewed, of anyone who attested it', async () => {
    // The owner's awareness course and the former board member's course; not the one whose later completion expired first.
    expect(await expiredCounted(db, today)).toBe(2);
    expect(await digestExpired(bot, today)).toBe(2);
  });

  it('follows every change of people, courses and attestations as the count over everything does', async () => {
    const same = async (day = today) => {
      expect(await courseCompletion(db, day)).toEqual(await counted(db, day));
      expect(await digestExpired(bot, day)).toBe(await expiredCounted(db, day));
    };
    await same();
    await same('2027-01-15');
    // Back in scope: the auditor's attestation counts.
    await db.update(people).set({ inScope: true }).where(eq(people.id, bot.ids.auditor));
    expect(await courseCompletion(db, today)).toEqual([{ code: 'MB-CYBER', expected: 2, done: 1 }, { code: 'SEC-AWARE', expected: 7, done: 3 }]);
    await same();
    // The board's course given to auditors instead: its members' attestations no longer count, the auditor is bound.
    await db.update(trainingCourses).set({ audienceRole: 'auditor' }).where(eq(trainingCourses.id, board));
    expect(await courseCompletion(db, today)).toEqual([{ code: 'MB-CYBER', expected: 1, done: 0 }, { code: 'SEC-AWARE', expected: 7, done: 3 }]);
    await same();
    await db.update(trainingCourses).set({ audienceRole: 'management_body' }).where(eq(trainingCourses.id, board));
    await same();
    // An attestation removed, another corrected.
    await db.delete(trainingAttestations).where(eq(trainingAttestations.personId, bot.ids.owner));
    await same();
    await db.update(trainingAttestations).set({ expiresOn: '2026-09-01' })
      .where(sql`${trainingAttestations.personId} = ${vera} and ${trainingAttestations.completedOn} = '2025-09-01'`);
    expect((await courseCompletion(db, today)).find((c) => c.code === 'SEC-AWARE')!.done).toBe(4);
    await same();
    // The former board member back on the board, then gone from the register's people altogether with a new one.
    await db.update(people).set({ roles: ['staff', 'management_body'] }).where(eq(people.id, rolf));
    await same();
    const [newcomer] = await db.insert(people).values({ name: 'Nina New', email: 'nina@test.example', roles: ['management_body'] }).returning();
    await same();
    await db.delete(people).where(eq(people.id, newcomer.id));
    await same();
    // A new all-staff course: everyone in scope bound, nobody done; and none bound to a course for a role nobody holds.
    await db.insert(trainingCourses).values([
      { code: 'PHISH-101', title: 'Phishing', audienceRole: null },
      { code: 'DPO-1', title: 'Data protection officers', audienceRole: 'dpo' },
    ]);
    expect((await courseCompletion(db, today)).find((c) => c.code === 'PHISH-101')).toEqual({ code: 'PHISH-101', expected: 7, done: 0 });
    await same();
    await attest(bot.ids.staff, aware, '2026-03-09', '2027-03-09');
    await same();
    await same('2027-03-10');
  });
});
