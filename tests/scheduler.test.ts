import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { createTestBot, FakeChatPort, type CastKey, type TestBot } from './helpers/bot.js';
import {
  ackCampaignAudience, ackCampaigns, controls, evidenceRequests, nudgeLog, outbox, people, poamItems, poamMilestones, policies,
  policyAcknowledgements, policyVersions, schedulerRuns, suppliers, trainingAttestations, trainingCourses,
} from '../src/db/schema/index.js';
import { deliverDue } from '../src/core/delivery.js';
import { toPlainText, type Button, type Reply } from '../src/core/reply.js';
import {
  JOBS, dailyNudges, defaultNudgeSettings, nextWorkingMoment, periodOf, runScheduledJob, startScheduler, weeklyDigest,
} from '../src/scheduler/index.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { assembleCore } from '../src/app.js';

const settings = defaultNudgeSettings({ timezone: 'Europe/Berlin' });
/** 06:00 in Berlin on that day: when the daily run fires by default. */
const morning = (isoDay: string, time = '06:00') => DateTime.fromISO(`${isoDay}T${time}`, { zone: 'Europe/Berlin' }).toJSDate();

/** A person's outbox rows, oldest first. */
const inboxOf = async (bot: TestBot, who: CastKey) => (await bot.outboxFor(who)).sort((a, b) => a.id - b.id);

const buttonsOf = (r: Reply): Button[] => r.blocks.flatMap((b) =>
  b.type === 'actions' ? b.buttons : b.type === 'list' ? b.items.flatMap((i) => i.buttons ?? []) : []);

describe('evidence periods', () => {
  it('names each period and its last day as the due date', () => {
    expect(periodOf('2026-11-03', 'monthly')).toEqual({ id: '2026-11', dueOn: '2026-11-30' });
    expect(periodOf('2026-11-03', 'quarterly')).toEqual({ id: '2026-Q4', dueOn: '2026-12-31' });
    expect(periodOf('2026-02-03', 'semiannual')).toEqual({ id: '2026-H1', dueOn: '2026-06-30' });
    expect(periodOf('2026-02-03', 'yearly')).toEqual({ id: '2026', dueOn: '2026-12-31' });
  });
});

describe('working hours', () => {
  const hours = { workingHours: { start: 9 * 60, end: 17 * 60 }, workWeekends: false };
  it('moves a moment at night to the start of the working day, in the person\'s zone', () => {
    // 02:00 in New York on a Wednesday.
    const night = DateTime.fromISO('2027-03-03T02:00', { zone: 'America/New_York' }).toJSDate();
    expect(nextWorkingMoment(night, 'America/New_York', hours)).toEqual(DateTime.fromISO('2027-03-03T09:00', { zone: 'America/New_York' }).toJSDate());
  });
  it('keeps a moment inside working hours, and moves an evening or a weekend to the next working morning', () => {
    const noon = morning('2027-03-03', '12:00');
    expect(nextWorkingMoment(noon, 'Europe/Berlin', hours)).toEqual(noon);
    expect(nextWorkingMoment(morning('2027-03-05', '17:30'), 'Europe/Berlin', hours)).toEqual(morning('2027-03-08', '09:00'));
    expect(nextWorkingMoment(morning('2027-03-06', '10:00'), 'Europe/Berlin', { ...hours, workWeekends: true })).toEqual(morning('2027-03-06', '10:00'));
  });
});

describe('an evidence request from creation to the management body', () => {
  let bot: TestBot;
  let controlId: number;
  beforeEach(async () => {
    bot = await createTestBot();
    [{ id: controlId }] = await bot.t.db.insert(controls).values({ code: 'CTL-AC-01', title: 'Access review', ownerId: bot.ids.owner, evidenceFrequency: 'quarterly' }).returning();
  });
  afterEach(async () => { await bot.destroy(); });

  const request = async () => (await bot.t.db.select().from(evidenceRequests).where(eq(evidenceRequests.controlId, controlId)))[0];
  const texts = async (who: 'owner' | 'lead' | 'board') => (await inboxOf(bot, who)).filter((m) => m.kind !== 'digest').map((m) => toPlainText(m.reply as Reply));
  /** The daily runs that moved the request up the ladder before: created 03-17, reminded 03-24 and 04-01, the manager told 04-07. */
  const ladderUntil = async (lastDay: string) => {
    for (const day of ['2027-03-17', '2027-03-24', '2027-04-01', '2027-04-07'].filter((d) => d <= lastDay)) {
      await dailyNudges(bot.t.db, morning(day), settings);
    }
  };

  it('creates nothing more than 14 days before the period ends', async () => {
    await dailyNudges(bot.t.db, morning('2027-03-16'), settings);
    expect(await request()).toBeUndefined();
  });

  it('creates the request 14 days ahead, tells the owner with a button, and a re-run creates nothing twice', async () => {
    const audit = await bot.auditCount();
    await dailyNudges(bot.t.db, morning('2027-03-17'), settings);
    await dailyNudges(bot.t.db, morning('2027-03-17', '07:00'), settings);
    expect(await request()).toMatchObject({ ref: 'EVR-0001', cycle: '2027-Q1', dueOn: '2027-03-31', status: 'open', escalationLevel: 0, ownerId: bot.ids.owner });
    expect(await bot.auditCount()).toBe(audit + 1);
    const inbox = await bot.outboxFor('owner');
    expect(inbox).toHaveLength(1);
    expect(toPlainText(inbox[0].reply as Reply)).toContain('EVR-0001 New evidence request: show that CTL-AC-01 Access review works for 2027-Q1 — due in 14 days (2027-03-31)');
    expect(buttonsOf(inbox[0].reply as Reply)).toEqual([{ label: 'Submit evidence', command: 'evidence submit EVR-0001', style: 'primary' }]);
  });

  it('reminds the owner a week before the due date, and again the day after', async () => {
    await ladderUntil('2027-03-17');
    await dailyNudges(bot.t.db, morning('2027-03-23'), settings);
    expect((await request()).escalationLevel).toBe(0);
    await dailyNudges(bot.t.db, morning('2027-03-24'), settings);
    expect((await request()).escalationLevel).toBe(1);
    expect((await texts('owner')).at(-1)).toContain('EVR-0001 evidence that CTL-AC-01 Access review works (2027-Q1) — due in 7 days (2027-03-31)');
    await dailyNudges(bot.t.db, morning('2027-04-01'), settings);
    expect((await request()).escalationLevel).toBe(2);
    expect((await texts('owner')).at(-1)).toContain('Reminder: EVR-0001 evidence that CTL-AC-01 Access review works (2027-Q1) — overdue by 1 day (was due 2027-03-31)');
    expect(await texts('owner')).toHaveLength(3);
  });

  it('tells the owner\'s manager a week after the due date, not the owner', async () => {
    await ladderUntil('2027-04-01');
    await dailyNudges(bot.t.db, morning('2027-04-07'), settings);
    expect((await request()).escalationLevel).toBe(3);
    const told = await texts('lead');
    expect(told).toHaveLength(1);
    expect(told[0]).toContain('EVR-0001 evidence that CTL-AC-01 Access review works (2027-Q1), owned by Olga Owner — overdue by 7 days');
    expect(told[0]).toContain('You are told as their manager');
    expect(await texts('owner')).toHaveLength(3);
  });

  it('puts it on the management body\'s digest two weeks after the due date', async () => {
    await ladderUntil('2027-04-07');
    await dailyNudges(bot.t.db, morning('2027-04-14'), settings);
    expect((await request()).escalationLevel).toBe(4);
    expect(await texts('board')).toHaveLength(0);
    await weeklyDigest(bot.t.db, morning('2027-04-19', '07:00'), settings);
    const [digest] = await bot.outboxFor('board');
    expect(digest.kind).toBe('digest');
    const body = toPlainText(digest.reply as Reply);
    expect(body).toContain('Escalated to the management body: 1 item is overdue');
    expect(body).toContain('EVR-0001 evidence for CTL-AC-01 Access review (2027-Q1) — Olga Owner, overdue by 19 days');
    const lead = toPlainText((await bot.outboxFor('lead')).find((m) => m.kind === 'digest')!.reply as Reply);
    expect(lead).toContain('Weekly ISMS digest for 2027-W16');
    expect(lead).toContain('Evidence requests overdue: 1');
  });

  it('stops the ladder once the evidence is in', async () => {
    const [{ id }] = await bot.t.db.insert(controls).values({ code: 'CTL-BC-02', title: 'Backup restore test', ownerId: bot.ids.owner, evidenceFrequency: 'quarterly' }).returning();
    await dailyNudges(bot.t.db, morning('2027-06-16'), settings);
    const [created] = await bot.t.db.select().from(evidenceRequests).where(eq(evidenceRequests.controlId, id));
    expect(created).toMatchObject({ cycle: '2027-Q2', dueOn: '2027-06-30' });
    await dailyNudges(bot.t.db, morning('2027-06-23'), settings);
    expect((await bot.t.db.select().from(evidenceRequests).where(eq(evidenceRequests.id, created.id)))[0].escalationLevel).toBe(1);
    // The owner submits (what "/isms evidence submit" records on the request).
    await bot.t.db.update(evidenceRequests).set({ status: 'submitted' }).where(eq(evidenceRequests.id, created.id));
    const before = (await bot.t.db.select().from(outbox).orderBy(outbox.id)).length;
    for (const day of ['2027-07-01', '2027-07-07', '2027-07-14']) await dailyNudges(bot.t.db, morning(day), settings);
    expect((await bot.t.db.select().from(evidenceRequests).where(eq(evidenceRequests.id, created.id)))[0].escalationLevel).toBe(1);
    const after = await bot.t.db.select().from(outbox).orderBy(outbox.id);
    expect(after.slice(before).map((m) => toPlainText(m.reply as Reply)).join('\n')).not.toContain(created.ref);
  });
});

describe('one message per person per run', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  it('groups three due items of one person into one message with a button per item, and delivers it once', async () => {
    const db = bot.t.db;
    const [control] = await db.insert(controls).values({ code: 'CTL-LOG-01', title: 'Log review', ownerId: bot.ids.staff, evidenceFrequency: 'on_demand' }).returning();
    await db.insert(evidenceRequests).values({ ref: 'EVR-0009', controlId: control.id, ownerId: bot.ids.staff, dueOn: '2027-05-10', cycle: 'adhoc' });
    await db.insert(poamItems).values({ ref: 'POAM-0001', weakness: 'MFA missing on VPN', source: 'risk', ownerId: bot.ids.staff, dueOn: '2027-05-08' });
    const [course] = await db.insert(trainingCourses).values({ code: 'SEC-AWARE', title: 'Security awareness' }).returning();
    await db.insert(trainingAttestations).values({ personId: bot.ids.staff, courseId: course.id, completedOn: '2026-05-10', expiresOn: '2027-05-10', channel: 'test' });

    const summary = await dailyNudges(db, morning('2027-05-03'), settings);
    const inbox = await bot.outboxFor('staff');
    expect(inbox).toHaveLength(1);
    const message = inbox[0].reply as Reply;
    expect(toPlainText(message)).toContain('3 things need your attention');
    expect(buttonsOf(message).map((b) => b.command)).toEqual(['evidence submit EVR-0009', 'poam done POAM-0001', 'attest SEC-AWARE']);
    expect(summary).toMatchObject({ nudges: expect.any(Number), messages: expect.any(Number) });
    expect((await db.select().from(nudgeLog).where(eq(nudgeLog.recipientId, bot.ids.staff))).map((n) => n.outboxId)).toEqual([inbox[0].id, inbox[0].id, inbox[0].id]);

    const port = new FakeChatPort();
    await deliverDue(db, [port], morning('2027-05-03', '09:00'));
    expect(port.textsFor('sam@test.example')).toHaveLength(1);
    // Nothing new is due the next day: no second message.
    await dailyNudges(db, morning('2027-05-04'), settings);
    expect(await bot.outboxFor('staff')).toHaveLength(1);
  });

  it('sends a nudge that falls due at 02:00 in the recipient\'s zone at the start of their working day there', async () => {
    const db = bot.t.db;
    await db.update(people).set({ timezone: 'America/New_York' }).where(eq(people.id, bot.ids.auditor));
    await db.insert(poamItems).values({ ref: 'POAM-0002', weakness: 'Audit log retention too short', source: 'audit_finding', ownerId: bot.ids.auditor, dueOn: '2027-05-20' });
    const night = DateTime.fromISO('2027-05-13T02:00', { zone: 'America/New_York' }).toJSDate();
    await dailyNudges(db, night, settings);
    const [nudge] = await bot.outboxFor('auditor');
    const startOfDay = DateTime.fromISO('2027-05-13T09:00', { zone: 'America/New_York' }).toJSDate();
    expect(nudge.notBefore).toEqual(startOfDay);
    const port = new FakeChatPort();
    await deliverDue(db, [port], night);
    await deliverDue(db, [port], new Date(startOfDay.getTime() - 60_000));
    expect(port.textsFor('ada@test.example')).toEqual([]);
    await deliverDue(db, [port], startOfDay);
    expect(port.textsFor('ada@test.example')).toHaveLength(1);
  });
});

describe('reminders that repeat', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });
  const lastText = async (who: CastKey) => {
    const inbox = await inboxOf(bot, who);
    return inbox.length ? toPlainText(inbox.at(-1)!.reply as Reply) : '';
  };

  it('reminds people who have not acknowledged a policy campaign once a week, and stops when they have', async () => {
    const db = bot.t.db;
    const [policy] = await db.insert(policies).values({ ref: 'POL-0001', title: 'Information security policy' }).returning();
    const [version] = await db.insert(policyVersions).values({ policyId: policy.id, version: '2.0', major: 2, minor: 0, content: 'x', contentSha256: 'x' }).returning();
    const [campaign] = await db.insert(ackCampaigns).values({ ref: 'CMP-0001', policyVersionId: version.id, audience: 'people', startedBy: bot.ids.lead, startedAt: morning('2027-02-01', '10:00') }).returning();
    await db.insert(ackCampaignAudience).values([bot.ids.staff, bot.ids.owner].map((personId) => ({ campaignId: campaign.id, personId })));
    await db.insert(policyAcknowledgements).values({ personId: bot.ids.owner, policyVersionId: version.id, contentSha256: 'x', channel: 'test' });

    await dailyNudges(db, morning('2027-02-05'), settings);
    expect(await bot.outboxFor('staff')).toHaveLength(0);
    await dailyNudges(db, morning('2027-02-08'), settings);
    await dailyNudges(db, morning('2027-02-09'), settings);
    const inbox = await bot.outboxFor('staff');
    expect(inbox).toHaveLength(1);
    expect(inbox[0]).toMatchObject({ kind: 'policy_ack', campaignId: campaign.id });
    expect(await lastText('staff')).toContain('POL-0001 Information security policy, version 2.0: please read and acknowledge it');
    expect(buttonsOf(inbox[0].reply as Reply)).toEqual([{ label: 'Acknowledge', command: 'ack POL-0001', style: 'primary' }]);
    expect(await bot.outboxFor('owner')).toHaveLength(0);

    await dailyNudges(db, morning('2027-02-15'), settings);
    expect(await bot.outboxFor('staff')).toHaveLength(2);
    await db.insert(policyAcknowledgements).values({ personId: bot.ids.staff, policyVersionId: version.id, contentSha256: 'x', channel: 'test' });
    await dailyNudges(db, morning('2027-02-22'), settings);
    expect(await bot.outboxFor('staff')).toHaveLength(2);
  });

  it('reminds a management body member 30 and 7 days before their annual training expires, once each', async () => {
    const db = bot.t.db;
    const [course] = await db.insert(trainingCourses).values({ code: 'MB-CYBER', title: 'Cybersecurity for the management body', audienceRole: 'management_body', validityMonths: 12, legalBasis: 'NIS2 Art. 20(2)' }).returning();
    await db.insert(trainingAttestations).values({ personId: bot.ids.board, courseId: course.id, completedOn: '2026-04-30', expiresOn: '2027-04-30', channel: 'test' });
    await dailyNudges(db, morning('2027-03-30'), settings);
    expect(await bot.outboxFor('board')).toHaveLength(0);
    await dailyNudges(db, morning('2027-03-31'), settings);
    await dailyNudges(db, morning('2027-04-01'), settings);
    expect(await bot.outboxFor('board')).toHaveLength(1);
    expect(await lastText('board')).toContain('MB-CYBER Cybersecurity for the management body: your training expires in 30 days (2027-04-30) — required by NIS2 Art. 20(2)');
    await dailyNudges(db, morning('2027-04-23'), settings);
    expect(await bot.outboxFor('board')).toHaveLength(2);
    expect(await lastText('board')).toContain('expires in 7 days');
  });

  it('nudges everyone a course applies to who never attested it, once a week, in working hours; valid attestations get none, expiring ones still do', async () => {
    const db = bot.t.db;
    // The obligations began a month before; the rounds of reminders count from then.
    await db.update(people).set({ createdAt: morning('2027-01-04') });
    const [, secAware] = await db.insert(trainingCourses).values([
      { code: 'MB-CYBER', title: 'Cybersecurity for the management body', audienceRole: 'management_body', legalBasis: 'NIS2 Art. 20(2); DORA Art. 5(4)', createdAt: morning('2027-01-04') },
      { code: 'SEC-AWARE', title: 'Security awareness', createdAt: morning('2027-01-04') },
    ]).returning();
    await db.insert(trainingAttestations).values([
      { personId: bot.ids.board, courseId: secAware.id, completedOn: '2027-01-20', expiresOn: '2028-01-20', channel: 'test' },
      { personId: bot.ids.staff, courseId: secAware.id, completedOn: '2027-01-20', expiresOn: '2028-01-20', channel: 'test' },
      { personId: bot.ids.owner, courseId: secAware.id, completedOn: '2026-02-10', expiresOn: '2027-02-10', channel: 'test' },
    ]);
    await db.update(people).set({ pausedUntil: morning('2027-03-01') }).where(eq(people.id, bot.ids.auditor));

    await dailyNudges(db, morning('2027-02-03'), settings);
    const again = await dailyNudges(db, morning('2027-02-03', '07:00'), settings);
    const nextDay = await dailyNudges(db, morning('2027-02-04'), settings);
    expect(again).toMatchObject({ messages: 0, nudges: 0 });
    expect(nextDay).toMatchObject({ messages: 0, nudges: 0 });

    const [board] = await bot.outboxFor('board');
    expect(await bot.outboxFor('board')).toHaveLength(1);
    expect(toPlainText(board.reply as Reply)).toBe('MB-CYBER Cybersecurity for the management body: you have not attested this training yet — required by NIS2 Art. 20(2); DORA Art. 5(4); attest once you have completed it\n  [Attest] /isms attest MB-CYBER');
    // Before working hours: the message waits until 09:00 in the person's zone.
    expect(board.notBefore).toEqual(morning('2027-02-03', '09:00'));
    expect(await lastText('lead')).toContain('SEC-AWARE Security awareness: you have not attested this training yet');
    expect(await bot.outboxFor('lead')).toHaveLength(1);
    expect(await lastText('owner')).toContain('SEC-AWARE Security awareness: your training expires in 7 days (2027-02-10)');
    expect(await bot.outboxFor('owner')).toHaveLength(1);
    expect(await bot.outboxFor('staff')).toHaveLength(0);
    // On leave: not nudged about SEC-AWARE, which applies to them as they are in scope.
    expect(await bot.outboxFor('auditor')).toHaveLength(0);

    // A week on, the next round: those who still have not attested are nudged again, once.
    await bot.say('lead', '/isms attest SEC-AWARE completed on 2027-02-05', { now: morning('2027-02-05', '10:00') });
    await dailyNudges(db, morning('2027-02-10'), settings);
    await dailyNudges(db, morning('2027-02-10', '07:00'), settings);
    expect(await bot.outboxFor('board')).toHaveLength(2);
    expect(await bot.outboxFor('lead')).toHaveLength(1);
    expect(await bot.outboxFor('staff')).toHaveLength(0);
  });

  it('reminds a supplier\'s owner of the review two weeks ahead and on the day', async () => {
    const db = bot.t.db;
    await db.insert(suppliers).values({ ref: 'SUP-0001', name: 'Acme Cloud', ownerId: bot.ids.owner, nextReviewOn: '2027-09-15' });
    await dailyNudges(db, morning('2027-08-31'), settings);
    expect(await lastText('owner')).toBe('');
    await dailyNudges(db, morning('2027-09-01'), settings);
    expect(await lastText('owner')).toContain('SUP-0001 Acme Cloud: supplier review — due in 14 days (2027-09-15)');
    await dailyNudges(db, morning('2027-09-15'), settings);
    expect(await lastText('owner')).toContain('due today');
    expect(await bot.outboxFor('owner')).toHaveLength(2);
  });

  it('reminds the owner of an overdue POA&M milestone once a week', async () => {
    const db = bot.t.db;
    const [item] = await db.insert(poamItems).values({ ref: 'POAM-0005', weakness: 'Patch backlog', source: 'risk', ownerId: bot.ids.board, dueOn: '2028-01-31' }).returning();
    await db.insert(poamMilestones).values({ itemId: item.id, seq: 1, description: 'Inventory of unpatched hosts', dueOn: '2027-10-01' });
    const before = (await bot.outboxFor('board')).length;
    await dailyNudges(db, morning('2027-10-01'), settings);
    expect(await bot.outboxFor('board')).toHaveLength(before);
    await dailyNudges(db, morning('2027-10-02'), settings);
    await dailyNudges(db, morning('2027-10-05'), settings);
    expect(await bot.outboxFor('board')).toHaveLength(before + 1);
    expect(await lastText('board')).toContain('POAM-0005 milestone 1: Inventory of unpatched hosts — overdue by 1 day');
    await dailyNudges(db, morning('2027-10-09'), settings);
    expect(await bot.outboxFor('board')).toHaveLength(before + 2);
  });
});

describe('scheduled fires across replicas', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  it('runs each fire once, however many replicas fire it', async () => {
    await bot.t.db.insert(controls).values({ code: 'CTL-HR-01', title: 'Screening', ownerId: bot.ids.owner, evidenceFrequency: 'monthly' });
    const [daily] = JOBS;
    const fire = morning('2027-01-20');
    const outcomes = await Promise.all([1, 2, 3].map(() => runScheduledJob(bot.t.db, daily, fire, settings)));
    expect(outcomes.filter((o) => o.ran)).toHaveLength(1);
    expect(await bot.t.db.select().from(evidenceRequests)).toHaveLength(1);
    expect(await bot.outboxFor('owner')).toHaveLength(1);
    const [run] = await bot.t.db.select().from(schedulerRuns).where(and(eq(schedulerRuns.job, daily.name), eq(schedulerRuns.fireAt, fire)));
    expect(run.summary).toMatchObject({ 'evidence requests created': 1, messages: 1 });
    expect((await runScheduledJob(bot.t.db, daily, morning('2027-01-21'), settings)).ran).toBe(true);
    expect(await bot.t.db.select().from(evidenceRequests)).toHaveLength(1);
  });
});

describe('startScheduler', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  it('fires the daily run at its cron time and delivers what it queues through the ports, once', async () => {
    await bot.t.db.insert(controls).values({ code: 'CTL-OPS-01', title: 'Change approval', ownerId: bot.ids.owner, evidenceFrequency: 'monthly' });
    const core = { ...assembleCore(loadConfig({}), createLogger('silent'), bot.t), router: bot.router };
    const port = new FakeChatPort();
    const startedAt = new Date();
    const scheduler = startScheduler(core, [port], {
      nudges: { evidenceLeadDays: 31, workingHours: { start: 0, end: 24 * 60 }, workWeekends: true },
      delivery: { intervalMs: 50 },
      jobs: [JOBS[0]],
      // This one is about the cron fire: no run of this morning's missed fire at start.
      catchUp: false,
      // A fixed moment (the delivery worker sends on the real clock, so this one is today).
      clock: () => startedAt,
    });
    try {
      // node-cron holds the configured time: 06:00 in the organisation's timezone.
      const next = scheduler.nextRun(JOBS[0].name);
      expect(next && DateTime.fromJSDate(next).setZone('Europe/Berlin').toFormat('HH:mm')).toBe('06:00');
      // Two fires for the same moment (a replica, a restart) run the job once.
      await scheduler.fire(JOBS[0].name);
      await scheduler.fire(JOBS[0].name);
      await vi.waitFor(() => expect(port.textsFor('olga@test.example')).toHaveLength(1), { timeout: 30_000, interval: 50 });
    } finally {
      await scheduler.stop();
    }
    expect(port.textsFor('olga@test.example')[0]).toContain('New evidence request: show that CTL-OPS-01 Change approval works');
    expect(await bot.t.db.select().from(evidenceRequests)).toHaveLength(1);
    expect(await bot.t.db.select().from(schedulerRuns)).toHaveLength(1);
  });
});
