import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { createTestBot, type CastKey, type TestBot } from './helpers/bot.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { migrateBefore } from './helpers/migrations.js';
import { migrate } from '../src/db/migrate.js';
import { outbox, people, trainingAttestations, trainingCourses } from '../src/db/schema/index.js';
import { toPlainText, type Reply } from '../src/core/reply.js';
import { defaultNudgeSettings, remindTraining } from '../src/scheduler/index.js';

const settings = defaultNudgeSettings({ timezone: 'Europe/Berlin' });
/** 06:00 in Berlin on that day: when the daily run fires by default. */
const morning = (isoDay: string, time = '06:00') => DateTime.fromISO(`${isoDay}T${time}`, { zone: 'Europe/Berlin' }).toJSDate();

/**
 * The training reminders a person sees over days the scheduler runs on: only the days named run, so a
 * gap between them is the scheduler stopped (an outage, a redeploy).
 */
describe('training reminders over time', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    // Everyone joined long ago: their rounds count from then, not from a test's first day.
    await bot.t.db.update(people).set({ createdAt: morning('2026-01-05') });
  });
  afterEach(async () => { await bot.destroy(); });

  const texts = async (who: CastKey) => (await bot.outboxFor(who)).sort((a, b) => a.id - b.id).map((m) => toPlainText(m.reply as Reply));
  const runOn = async (...days: string[]) => { for (const day of days) await remindTraining(bot.t.db, morning(day), settings); };
  const course = async (values: Partial<typeof trainingCourses.$inferInsert> & { code: string }) =>
    (await bot.t.db.insert(trainingCourses).values({ title: `${values.code} course`, createdAt: morning('2026-01-05'), ...values }).returning())[0];

  it('catches up the reminder due while the scheduler was stopped, on its first day back, once', async () => {
    const mb = await course({ code: 'MB-CYBER', audienceRole: 'management_body' });
    await bot.t.db.insert(trainingAttestations).values({ personId: bot.ids.board, courseId: mb.id, completedOn: '2026-04-30', expiresOn: '2027-04-30', channel: 'test' });
    await runOn('2027-03-20');
    expect(await texts('board')).toEqual([]);
    // Stopped from 21 March to 25 April: the 30-day and 7-day thresholds passed meanwhile; the nearer one is sent.
    await runOn('2027-04-26', '2027-04-27', '2027-04-29');
    expect(await texts('board')).toHaveLength(1);
    expect((await texts('board'))[0]).toContain('MB-CYBER course: your training expires in 4 days (2027-04-30)');
    await runOn('2027-04-30');
    expect((await texts('board')).at(-1)).toContain('your training expires today');
    // Stopped again over the expiry: reminded once it is back, weeks later, and never again.
    await runOn('2027-05-25', '2027-05-26', '2027-08-01');
    expect(await texts('board')).toHaveLength(3);
    expect((await texts('board')).at(-1)).toContain('MB-CYBER course: your training expired on 2027-04-30');
  });

  it('stops the reminders of an attestation renewed between two of them, and reminds of the renewal when it expires', async () => {
    const aware = await course({ code: 'SEC-AWARE' });
    await bot.t.db.insert(trainingAttestations).values({ personId: bot.ids.staff, courseId: aware.id, completedOn: '2026-05-10', expiresOn: '2027-05-10', channel: 'test' });
    await runOn('2027-04-10');
    expect(await texts('staff')).toEqual([expect.stringContaining('SEC-AWARE course: your training expires in 30 days (2027-05-10)')]);
    await bot.say('staff', '/isms attest SEC-AWARE completed on 2027-04-20', { now: morning('2027-04-20', '10:00') });
    await runOn('2027-04-21', '2027-05-03', '2027-05-10', '2027-05-11', '2028-03-20');
    expect(await texts('staff')).toHaveLength(1);
    await runOn('2028-03-21');
    expect((await texts('staff')).at(-1)).toContain('SEC-AWARE course: your training expires in 30 days (2028-04-20)');
  });

  it('reminds someone whose new role brings a course at the next run, not at their next round, and stops when the role goes', async () => {
    await course({ code: 'MB-CYBER', audienceRole: 'management_body' });
    // 2027-03-03 is in the middle of a weekly round counted from 2026-01-05 (the next starts on 8 March).
    await runOn('2027-03-03');
    expect(await texts('board')).toEqual([expect.stringContaining('MB-CYBER course: you have not attested this training yet')]);
    expect(await texts('staff')).toEqual([]);
    await bot.t.db.update(people).set({ roles: ['staff', 'management_body'] }).where(eq(people.id, bot.ids.staff));
    await bot.t.db.update(people).set({ roles: ['staff'] }).where(eq(people.id, bot.ids.board));
    await runOn('2027-03-04', '2027-03-07');
    expect(await texts('staff')).toEqual([expect.stringContaining('MB-CYBER course: you have not attested this training yet')]);
    await runOn('2027-03-08');
    expect(await texts('staff')).toHaveLength(2);
    expect(await texts('board')).toHaveLength(1);
  });

  it('reminds everyone in scope of a new course at the next run, then once a week from the day it was added', async () => {
    await runOn('2027-03-03');
    await course({ code: 'SEC-NEW', createdAt: morning('2027-03-03', '10:00') });
    await runOn('2027-03-04', '2027-03-09');
    for (const who of ['lead', 'staff', 'auditor'] as const) {
      expect(await texts(who)).toEqual([expect.stringContaining('SEC-NEW course: you have not attested this training yet')]);
    }
    await runOn('2027-03-10');
    expect(await texts('auditor')).toHaveLength(2);
  });

  it('reminds someone on leave when a threshold passed once they are back', async () => {
    const aware = await course({ code: 'SEC-AWARE' });
    await bot.t.db.insert(trainingAttestations).values({ personId: bot.ids.owner, courseId: aware.id, completedOn: '2026-05-10', expiresOn: '2027-05-10', channel: 'test' });
    await bot.t.db.update(people).set({ pausedUntil: morning('2027-05-05', '10:00') }).where(eq(people.id, bot.ids.owner));
    await runOn('2027-04-10', '2027-05-03', '2027-05-05');
    expect(await texts('owner')).toEqual([]);
    await runOn('2027-05-06', '2027-05-07');
    expect(await texts('owner')).toEqual([expect.stringContaining('SEC-AWARE course: your training expires in 4 days (2027-05-10)')]);
  });

  it('applies changed reminder thresholds from the next run', async () => {
    const aware = await course({ code: 'SEC-AWARE' });
    await bot.t.db.insert(trainingAttestations).values({ personId: bot.ids.staff, courseId: aware.id, completedOn: '2026-06-30', expiresOn: '2027-06-30', channel: 'test' });
    await runOn('2027-05-01');
    expect(await texts('staff')).toEqual([]);
    await remindTraining(bot.t.db, morning('2027-05-02'), { ...settings, trainingReminderDays: [60, 30, 7, 0] });
    expect(await texts('staff')).toEqual([expect.stringContaining('SEC-AWARE course: your training expires in 59 days (2027-06-30)')]);
  });
});

describe('a register from before the remembered reminder days (migration 0028)', () => {
  let t: TestDatabase | undefined;
  afterEach(async () => { await t?.destroy(); t = undefined; });

  it('sends after the upgrade what is due and not sent yet, and nothing the nudge log already holds', async () => {
    t = await createTestDatabase({ migrate: false });
    await migrateBefore(t.db, '0028');
    const db = t.db;
    const [ann, ben, cat] = await db.insert(people).values(['ann', 'ben', 'cat'].map((name) => ({ name, email: `${name}@example.org`, roles: ['staff' as const], createdAt: morning('2027-01-04') }))).returning();
    const [aware] = await db.insert(trainingCourses).values({ code: 'SEC-AWARE', title: 'Security awareness', createdAt: morning('2027-04-01') }).returning();
    await db.insert(trainingAttestations).values([
      { personId: ann.id, courseId: aware.id, completedOn: '2026-05-01', expiresOn: '2027-05-01', channel: 'test' },
      { personId: cat.id, courseId: aware.id, completedOn: '2026-04-15', expiresOn: '2027-04-15', channel: 'test' },
    ]);
    // What the sweep sent before the upgrade: Ann's 30-day reminder, and Ben's second weekly round.
    const [sent] = await db.insert(outbox).values({ idempotencyKey: 'earlier', recipientId: ann.id, kind: 'nudge', reply: { blocks: [] }, status: 'sent' }).returning();
    await db.execute(sql`insert into nudge_log (key, outbox_id, item_ref, recipient_id) values
      (${`training:SEC-AWARE:${ann.id}:2027-05-01:d30`}, ${sent.id}, 'SEC-AWARE', ${ann.id}), (${`training:SEC-AWARE:${ben.id}:never:r1`}, ${sent.id}, 'SEC-AWARE', ${ben.id})`);
    expect((await migrate(db)).applied).toContain('0028_training_reminder_days');

    // Each run's messages by recipient, the runs in order.
    const inbox = async () => (await db.select().from(outbox).where(sql`${outbox.idempotencyKey} <> 'earlier'`).orderBy(outbox.notBefore, outbox.recipientId))
      .map((m) => [m.recipientId, toPlainText(m.reply as Reply)]);
    await remindTraining(db, morning('2027-04-10'), settings);
    expect(await inbox()).toEqual([[cat.id, expect.stringContaining('SEC-AWARE Security awareness: your training expires in 5 days (2027-04-15)')]]);
    await remindTraining(db, morning('2027-04-24'), settings);
    expect((await inbox()).slice(1)).toEqual([
      [ann.id, expect.stringContaining('your training expires in 7 days (2027-05-01)')],
      [ben.id, expect.stringContaining('you have not attested this training yet')],
      [cat.id, expect.stringContaining('your training expired on 2027-04-15')],
    ]);
  });
});
