import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { createTestBot, FakeChatPort, type TestBot } from './helpers/bot.js';
import { ackCampaigns, outbox, people, poamItems, policies, policyVersions } from '../src/db/schema/index.js';
import { enqueue } from '../src/core/outbox.js';
import { deliverDue } from '../src/core/delivery.js';
import { DeliveryError, type ChatPort } from '../src/core/port.js';
import { replyText } from '../src/core/reply.js';
import { dailyNudges, defaultNudgeSettings } from '../src/scheduler/index.js';

const settings = defaultNudgeSettings({ timezone: 'Europe/Berlin' });
const berlin = (iso: string) => DateTime.fromISO(iso, { zone: 'Europe/Berlin' }).toJSDate();
const workingTime = { timezone: 'Europe/Berlin', workingHours: settings.workingHours, workWeekends: false };

describe('/isms pause', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });
  const now = berlin('2027-03-01T10:00');
  const pausedUntil = async () => (await bot.t.db.select().from(people).where(eq(people.id, bot.ids.staff)))[0].pausedUntil;

  it('is refused to anyone but the ISMS lead, and records nothing', async () => {
    const audit = await bot.auditCount();
    const answer = await bot.sayText('owner', '/isms pause sam@test.example 2027-03-15', { now });
    expect(answer).toContain('Only the ISMS lead may use "/isms pause"');
    expect(await pausedUntil()).toBeNull();
    expect(await bot.auditCount()).toBe(audit);
  });

  it('names a date in the past and an unknown person, and records nothing', async () => {
    const audit = await bot.auditCount();
    expect(await bot.sayText('lead', '/isms pause sam@test.example 2027-02-20', { now })).toContain('until: 2027-02-20 is in the past');
    expect(await bot.sayText('lead', '/isms pause nobody@test.example 2027-03-15', { now })).toContain('person: nobody in the register matches "nobody@test.example"');
    expect(await bot.sayText('lead', '/isms pause sam@test.example 2027-02-30', { now })).toContain('until: must be a date written YYYY-MM-DD');
    expect(await pausedUntil()).toBeNull();
    expect(await bot.auditCount()).toBe(audit);
  });

  it('holds nudges to a person on leave until the morning they are back, and their items\' ladders with them', async () => {
    const audit = await bot.auditCount();
    // A message queued before the leave was entered.
    await enqueue(bot.t.db, { recipientId: bot.ids.staff, kind: 'triage', idempotencyKey: 'before-leave', reply: replyText('queued before the leave'), notBefore: now });
    const answer = await bot.sayText('lead', '/isms pause "Sam Staff" 2027-03-15', { now });
    expect(answer).toContain('Nudges to Sam Staff wait until 2027-03-15');
    expect(answer).toContain('1 message already queued for them will arrive on 2027-03-15');
    expect(await pausedUntil()).toEqual(berlin('2027-03-15T00:00'));
    expect(await bot.auditCount()).toBe(audit + 1);

    await bot.t.db.insert(poamItems).values({ ref: 'POAM-0001', weakness: 'Unencrypted laptops', source: 'risk', ownerId: bot.ids.staff, dueOn: '2027-03-05' });
    await dailyNudges(bot.t.db, berlin('2027-03-02T06:00'), settings);
    const [item] = await bot.t.db.select().from(poamItems);
    expect(item.escalationLevel).toBe(0);

    const port = new FakeChatPort();
    await deliverDue(bot.t.db, [port], berlin('2027-03-02T10:00'), 50, { workingTime });
    await deliverDue(bot.t.db, [port], berlin('2027-03-15T08:59'), 50, { workingTime });
    expect(port.textsFor('sam@test.example')).toEqual([]);
    await deliverDue(bot.t.db, [port], berlin('2027-03-15T09:00'), 50, { workingTime });
    expect(port.textsFor('sam@test.example')).toEqual(['queued before the leave']);

    // Back from leave: the ladder climbs again.
    await dailyNudges(bot.t.db, berlin('2027-03-15T06:00'), settings);
    expect((await bot.t.db.select().from(poamItems))[0].escalationLevel).toBe(1);
  });

  it('takes "today" on the organisation\'s clock for someone whose timezone is not known, as their nudges are timed', async () => {
    await bot.t.db.update(people).set({ timezone: null }).where(eq(people.id, bot.ids.staff));
    // 23:30 UTC on 1 March is already 2 March in Berlin, the organisation's zone.
    const lateEvening = new Date('2027-03-01T23:30:00Z');
    expect(await bot.sayText('lead', '/isms pause sam@test.example 2027-03-01', { now: lateEvening })).toContain('until: 2027-03-01 is in the past');
    expect(await bot.sayText('lead', '/isms pause sam@test.example 2027-03-15', { now: lateEvening })).toContain('Nudges to Sam Staff wait until 2027-03-15');
    expect(await pausedUntil()).toEqual(berlin('2027-03-15T00:00'));
    expect(await bot.sayText('lead', '/isms pause sam@test.example 2027-03-02', { now: lateEvening })).toContain('Sam Staff is back');
  });

  it('lifts a pause when given today', async () => {
    await bot.say('lead', '/isms pause sam@test.example 2027-04-01', { now });
    expect(await bot.sayText('lead', '/isms pause sam@test.example 2027-03-01', { now })).toContain('Sam Staff is back');
    expect(await pausedUntil()).toBeNull();
  });

  it('asks for the person and the date when given nothing', async () => {
    const form = (await bot.say('lead', '/isms pause', { now })).blocks.find((b) => b.type === 'form');
    expect(form?.type === 'form' && form.form.fields.map((f) => f.name)).toEqual(['person', 'until']);
  });
});

describe('/isms nudges', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });
  const now = berlin('2027-03-01T10:00');

  it('is refused to anyone but the ISMS lead', async () => {
    expect(await bot.sayText('staff', '/isms nudges', { now })).toContain('Only the ISMS lead may use "/isms nudges"');
  });

  it('shows what is queued, sent and failed, the last error of each failed message, and campaign progress', async () => {
    const db = bot.t.db;
    const [policy] = await db.insert(policies).values({ ref: 'POL-0001', title: 'Acceptable use' }).returning();
    const [version] = await db.insert(policyVersions).values({ policyId: policy.id, version: '1.0', major: 1, minor: 0, content: 'x', contentSha256: 'x' }).returning();
    const [campaign] = await db.insert(ackCampaigns).values({ ref: 'CMP-0001', policyVersionId: version.id, audience: 'all', startedBy: bot.ids.lead }).returning();
    for (const who of ['owner', 'staff', 'auditor'] as const) {
      await enqueue(db, { recipientId: bot.ids[who], kind: 'policy_ack', idempotencyKey: `campaign:${who}`, reply: replyText('please acknowledge'), notBefore: now, campaignId: campaign.id });
    }
    await enqueue(db, { recipientId: bot.ids.board, kind: 'digest', idempotencyKey: 'later', reply: replyText('next week'), notBefore: berlin('2027-03-08T09:00') });

    const refusing: ChatPort = {
      platform: 'test',
      canReach: () => true,
      send: async (person) => {
        if (person.email === 'ada@test.example') throw new DeliveryError('Slack refused the message: user_not_found', undefined, true);
      },
    };
    await deliverDue(db, [refusing], now, 2);
    await deliverDue(db, [refusing], now, 1);

    const answer = await bot.sayText('lead', '/isms nudges', { now });
    expect(answer).toContain('Outbox: 1 queued (1 waiting for working hours, leave or a retry), 0 being sent, 2 sent, 1 failed.');
    expect(answer).toContain('CMP-0001 POL-0001 Acceptable use 1.0 — 2 of 3 sent (66%), 1 failed');
    expect(answer).toMatch(/#\d+ policy_ack to Ada Auditor — Slack refused the message: user_not_found/);
    // When it was queued reads on the lead's clock, as other answers show moments.
    expect(answer).toMatch(/Queued: \d{4}-\d{2}-\d{2} \d{2}:\d{2} Europe\/Berlin/);
    const rows = await db.select().from(outbox);
    expect(rows.filter((r) => r.status === 'failed')).toHaveLength(1);
  });

  it('lists who is on leave', async () => {
    await bot.say('lead', '/isms pause bruno@test.example 2027-03-20', { now });
    expect(await bot.sayText('lead', '/isms nudges', { now })).toContain('Bruno Board — until 2027-03-20');
  });

  it('lists the ten back soonest of many on leave, and says how many are away', async () => {
    await bot.t.db.insert(people).values(Array.from({ length: 14 }, (_, i) => ({
      name: `Away ${String(i + 1).padStart(2, '0')}`, email: `away${i + 1}@test.example`, pausedUntil: berlin(`2027-04-${String(15 - i).padStart(2, '0')}T00:00`),
    })));
    const answer = await bot.say('lead', '/isms nudges', { now });
    const leave = answer.blocks.find((b) => b.type === 'list' && b.title?.startsWith('On leave'));
    expect(leave).toMatchObject({ type: 'list', title: 'On leave (nudges wait): the 10 back soonest of 14' });
    expect(leave?.type === 'list' && leave.items.map((i) => i.title)).toEqual(Array.from({ length: 10 }, (_, i) => `Away ${String(14 - i).padStart(2, '0')}`));
  });
});
