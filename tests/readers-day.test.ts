import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { eq } from 'drizzle-orm';
import {
  ackCampaignAudience, ackCampaigns, evidenceItems, people, policies, policyVersions, trainingAttestations, trainingCourses,
} from '../src/db/schema/index.js';
import { dailyNudges, defaultNudgeSettings } from '../src/scheduler/index.js';
import { createTestBot, type CastKey, type TestBot } from './helpers/bot.js';
import { toPlainText, type Reply } from '../src/core/reply.js';
import { addControl, addEvidenceRequest, addPolicy, addPolicyVersion } from './helpers/fixtures.js';

/**
 * A command's "today" is the day on the clock of the person typing it: near midnight, New York and
 * Tokyo are on another day than UTC, and a person means their own.
 */
describe('"today" is the day of the person typing the command', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  const livesIn = (who: CastKey, timezone: string) => bot.t.db.update(people).set({ timezone }).where(eq(people.id, bot.ids[who]));

  // 01:30 UTC on 16 June: 21:30 on 15 June in New York.
  const newYorkEvening = { now: new Date('2026-06-16T01:30:00Z') };

  async function requestDue(dueOn: string) {
    const control = await addControl(bot.t.db, { code: 'CTL-BK-01', title: 'Backups', ownerId: bot.ids.owner });
    return addEvidenceRequest(bot.t.db, { controlId: control.id, ownerId: bot.ids.owner, dueOn });
  }

  it('a request due today is not overdue in the evening in New York, and evidence submitted then is effective that day', async () => {
    await livesIn('owner', 'America/New_York');
    const request = await requestDue('2026-06-15');
    const list = await bot.sayText('owner', '/isms evidence', newYorkEvening);
    expect(list).toContain('due 2026-06-15');
    expect(list).not.toContain('(overdue)');

    await bot.say('owner', `/isms evidence submit ${request.ref} "Restore test passed"`, newYorkEvening);
    const [item] = await bot.t.db.select().from(evidenceItems).where(eq(evidenceItems.requestId, request.id));
    expect(item.effectiveOn).toBe('2026-06-15');
    // Their today may be given explicitly; tomorrow (UTC's day) is still in the future for them.
    const tomorrow = await bot.sayText('owner', `/isms evidence submit ${request.ref} "again" --effective 2026-06-16`, newYorkEvening);
    expect(tomorrow).toContain('The effective date 2026-06-16 is in the future.');
    expect(tomorrow).toContain('today (2026-06-15)');
  });

  it('a management-body member in Tokyo attests a course completed this morning there, while it is still yesterday in UTC', async () => {
    await livesIn('board', 'Asia/Tokyo');
    await bot.t.db.insert(trainingCourses).values({ code: 'MB-CYBER', title: 'Cybersecurity risk for the management body', audienceRole: 'management_body', validityMonths: 12 });
    // 23:30 UTC on 9 March: 08:30 on 10 March in Tokyo.
    const answer = await bot.sayText('board', '/isms attest MB-CYBER completed on 2026-03-10', { now: new Date('2026-03-09T23:30:00Z') });
    expect(answer).not.toContain('in the future');
    expect(answer).toContain('valid until 2027-03-10');
    const rows = await bot.t.db.select().from(trainingAttestations).where(eq(trainingAttestations.personId, bot.ids.board));
    expect(rows.map((r) => r.completedOn)).toEqual(['2026-03-10']);
  });

  it('an ISMS lead in New York asks for evidence due today, in the evening there', async () => {
    await livesIn('lead', 'America/New_York');
    await addControl(bot.t.db, { code: 'CTL-BK-01', title: 'Backups', ownerId: bot.ids.owner });
    const answer = await bot.say('lead', '/isms evidence request CTL-BK-01 --due 2026-06-15', newYorkEvening);
    expect(answer.outcome).toBe('recorded');
  });

  it('a management-body member in Tokyo sees the day an approval was asked on their calendar', async () => {
    await livesIn('board', 'Asia/Tokyo');
    // 16:00 UTC on 15 June: 01:00 on 16 June in Tokyo.
    await bot.say('lead', '/isms policy add Access control --text "Grant the least privilege needed."', { now: new Date('2026-06-15T16:00:00Z') });
    const list = await bot.sayText('board', '/isms approvals', { now: new Date('2026-06-16T00:30:00Z') });
    expect(list).toContain('asked by Lena Lead on 2026-06-16');
  });

  describe('someone whose zone the register does not know reads the organisation\'s clock, as their nudges do', () => {
    afterEach(() => { vi.unstubAllEnvs(); });

    async function askedAt(at: string) {
      await bot.t.db.update(people).set({ timezone: null }).where(eq(people.id, bot.ids.board));
      await bot.say('lead', '/isms policy add Access control --text "Grant the least privilege needed."', { now: new Date(at) });
      return bot.sayText('board', '/isms approvals', { now: new Date(at) });
    }

    it('a management-body member without a zone sees the day an approval was asked in Berlin, the default', async () => {
      // 22:30 UTC on 15 June: 00:30 on 16 June in Berlin.
      expect(await askedAt('2026-06-15T22:30:00Z')).toContain('asked by Lena Lead on 2026-06-16');
    });

    it('and in the zone ISMS_DEFAULT_TIMEZONE names', async () => {
      vi.stubEnv('ISMS_DEFAULT_TIMEZONE', 'America/Los_Angeles');
      // 01:30 UTC on 16 June: 18:30 on 15 June in Los Angeles.
      expect(await askedAt('2026-06-16T01:30:00Z')).toContain('asked by Lena Lead on 2026-06-15');
    });
  });
});

/**
 * A message to someone other than the person typing shows its days on the recipient's clock: at 13:30 UTC
 * on 15 June it is already 01:30 on 16 June in Auckland.
 */
describe('days in messages to others are on the recipient\'s clock', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  const aucklandSmallHours = { now: new Date('2026-06-15T13:30:00Z') };
  const livesIn = (who: CastKey, timezone: string) => bot.t.db.update(people).set({ timezone }).where(eq(people.id, bot.ids[who]));
  const messagesTo = async (who: CastKey, kind: string) =>
    (await bot.outboxFor(who)).filter((m) => m.kind === kind).map((m) => toPlainText(m.reply as Reply));

  it('a management-body member in Auckland reads the day an approval was requested on their calendar', async () => {
    await livesIn('board', 'Pacific/Auckland');
    await bot.say('lead', '/isms policy add Access control --text "Grant the least privilege needed."', aucklandSmallHours);
    const [card] = await messagesTo('board', 'approval');
    expect(card).toContain('Requested: 2026-06-16 by Lena Lead');
  });

  it('a scope change put to a management-body member in Auckland shows the day the lead accepted it on their calendar', async () => {
    await livesIn('board', 'Pacific/Auckland');
    await bot.say('owner', '/isms scope add "Customer portal" public web app on AWS', aucklandSmallHours);
    await bot.say('lead', '/isms triage accept SC-0001', aucklandSmallHours);
    const [card] = await messagesTo('board', 'approval');
    expect(card).toContain('Accepted: 2026-06-16');
    expect(card).toContain('Requested: 2026-06-16 by Lena Lead');
  });

  it('the management review pack sent to a member in Auckland says the day its document is dated, and the moment on their calendar', async () => {
    await livesIn('board', 'Pacific/Auckland');
    await bot.say('lead', '/isms review prepare', aucklandSmallHours);
    const [message] = await messagesTo('board', 'review_pack');
    expect(message).toContain('the ISO 27001 cl. 9.3.2 inputs as the register stands on 2026-06-15 (UTC, as the pack document is dated; 2026-06-16 01:30 Pacific/Auckland on your clock).');
  });

  it('a policy reminder to someone in Los Angeles says the campaign was asked on their day, not the organisation\'s', async () => {
    await livesIn('staff', 'America/Los_Angeles');
    const db = bot.t.db;
    const [policy] = await db.insert(policies).values({ ref: 'POL-0001', title: 'Information security policy' }).returning();
    const [version] = await db.insert(policyVersions).values({ policyId: policy.id, version: '2.0', major: 2, minor: 0, content: 'x', contentSha256: 'x' }).returning();
    // 04:00 UTC on 1 February: 05:00 that day in Berlin, still 20:00 on 31 January in Los Angeles.
    const [campaign] = await db.insert(ackCampaigns).values({ ref: 'CMP-0001', policyVersionId: version.id, audience: 'people', startedBy: bot.ids.lead, startedAt: new Date('2027-02-01T04:00:00Z') }).returning();
    await db.insert(ackCampaignAudience).values({ campaignId: campaign.id, personId: bot.ids.staff });
    await dailyNudges(db, new Date('2027-02-09T05:00:00Z'), defaultNudgeSettings({ timezone: 'Europe/Berlin' }));
    const [reminder] = await messagesTo('staff', 'policy_ack');
    expect(reminder).toContain('asked on 2027-01-31');
  });
});

/** What the reader asks about was decided or retired by someone else: the day is on the reader's clock, not UTC's. */
describe('days in answers about others\' decisions are on the reader\'s clock', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    await bot.t.db.update(people).set({ timezone: 'America/Los_Angeles' }).where(eq(people.id, bot.ids.lead));
  });
  afterEach(async () => { await bot.destroy(); });

  // 01:30 UTC on 16 June: 18:30 on 15 June in Los Angeles.
  const laEvening = { now: new Date('2026-06-16T01:30:00Z') };

  it('an ISMS lead in Los Angeles reads the day the management body approved a policy on their calendar', async () => {
    await bot.say('lead', '/isms policy add Access control --text "Grant the least privilege needed."', laEvening);
    await bot.say('board', '/isms approve APR-0001', laEvening);
    expect(await bot.sayText('lead', '/isms policies --all', laEvening)).toContain('approved by Bruno Board on 2026-06-15 (APR-0001)');
  });

  it('and the day of an approval recorded on the policy version itself', async () => {
    const policy = await addPolicy(bot.t.db, { title: 'Cryptography' });
    const version = await addPolicyVersion(bot.t.db, { policyId: policy.id, version: '1.0', content: 'AES-256' });
    await bot.t.db.update(policyVersions).set({ approvedBy: bot.ids.board, approvedAt: laEvening.now }).where(eq(policyVersions.id, version.id));
    expect(await bot.sayText('lead', '/isms policies --all', laEvening)).toContain('approved by Bruno Board on 2026-06-15 (recorded on the version)');
  });

  it('an asset and an interested party retired in the evening in Los Angeles read as retired that day', async () => {
    await bot.say('lead', '/isms asset add "Legacy CRM"', laEvening);
    expect(await bot.sayText('lead', '/isms asset retire AST-0001 "replaced by the new CRM"', laEvening)).toContain('retired on 2026-06-15: replaced by the new CRM');
    expect(await bot.sayText('lead', '/isms assets --all', laEvening)).toContain('retired on 2026-06-15');
    await bot.say('lead', '/isms party add BaFin "incident reports within 4 hours" --kind regulator', laEvening);
    expect(await bot.sayText('lead', '/isms party retire BaFin "no longer supervised"', laEvening)).toContain('retired on 2026-06-15: no longer supervised');
  });
});
