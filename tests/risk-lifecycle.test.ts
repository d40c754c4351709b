import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { and, asc, desc, eq, gt, sql } from 'drizzle-orm';
import {
  auditEvents, controls, managementApprovals, people, riskAcceptanceProposals, riskAcceptances, riskAppetite, riskAssessments, risks,
  trainingAttestations, trainingCourses,
} from '../src/db/schema/index.js';
import { toActor } from '../src/core/actor.js';
import { appendAudit } from '../src/core/audit.js';
import { toPlainText, type Block, type Reply } from '../src/core/reply.js';
import { verifyRegister } from '../src/core/verify.js';
import { defaultNudgeSettings, reopenExpiredRisks } from '../src/scheduler/index.js';
import { ARTEFACTS } from '../src/domain/exports/artefacts.js';
import { ImportError, importYaml } from '../src/import/index.js';
import { createTestBot, type CastKey, type TestBot } from './helpers/bot.js';
import { auditSeededRows } from './helpers/fixtures.js';

const NOW = new Date('2026-10-01T10:00:00Z');
const at = { now: NOW };
const settings = defaultNudgeSettings({ timezone: 'Europe/Berlin' });

const listIn = (r: Reply) => r.blocks.find((b): b is Extract<Block, { type: 'list' }> => b.type === 'list')!;
const itemFor = (r: Reply, ref: string) => listIn(r).items.find((i) => i.title.startsWith(`${ref} `))!;
const field = (r: Reply, ref: string, label: string) => itemFor(r, ref).fields?.find((f) => f.label === label)?.value;

/** The register as a user would notice a change: rows of every risk table and the audit trail's length. */
async function snapshot(bot: TestBot) {
  const db = bot.t.db;
  return {
    audit: await bot.auditCount(),
    risks: await db.select().from(risks).orderBy(asc(risks.id)),
    assessments: (await db.select().from(riskAssessments)).length,
    acceptances: (await db.select().from(riskAcceptances)).length,
    proposals: (await db.select().from(riskAcceptanceProposals)).length,
    appetite: (await db.select().from(riskAppetite)).length,
    approvals: await db.select().from(managementApprovals).orderBy(asc(managementApprovals.id)),
  };
}

/** The rows of one export artefact, as the export writes them. */
const exported = async (bot: TestBot, name: string) =>
  (await ARTEFACTS.find((a) => a.name === name)!.page(bot.t.db, 0, 100, {})).map((r) => r.row);

async function trainBoardMember(bot: TestBot, personId: number, completedOn = '2026-03-01', expiresOn = '2027-03-01') {
  let [course] = await bot.t.db.select().from(trainingCourses).where(eq(trainingCourses.code, 'MB-CYBER'));
  if (!course) {
    [course] = await bot.t.db.insert(trainingCourses).values({
      code: 'MB-CYBER', title: 'Cybersecurity for the management body', audienceRole: 'management_body', validityMonths: 12,
    }).returning();
    await appendAudit(bot.t.db, { id: null, label: 'test fixture' }, { action: 'create', entity: 'training_course', entityRef: course.code, after: course });
  }
  await bot.t.db.insert(trainingAttestations).values({ personId, courseId: course.id, completedOn, expiresOn, channel: 'test' });
}

const riskRow = async (bot: TestBot, ref: string) => (await bot.t.db.select().from(risks).where(eq(risks.ref, ref)))[0];
const acceptancesOf = async (bot: TestBot, ref: string) => {
  const risk = await riskRow(bot, ref);
  return bot.t.db.select().from(riskAcceptances).where(eq(riskAcceptances.riskId, risk.id)).orderBy(asc(riskAcceptances.id));
};
const textsFor = async (bot: TestBot, who: CastKey, kind?: string) =>
  (await bot.outboxFor(who)).filter((m) => !kind || m.kind === kind).map((m) => toPlainText(m.reply as Reply));

/** A register with an approved appetite of 12, two assets, two controls and three risks added in chat. */
async function seeded(): Promise<TestBot> {
  const bot = await createTestBot();
  await bot.t.db.insert(controls).values([{ code: 'CTL-BK-01', title: 'Offline backups' }, { code: 'CTL-AC-01', title: 'Access control' }]);
  await auditSeededRows(bot.t.db);
  await bot.say('lead', '/isms asset add "File servers" "shared drives"', at); // AST-0001
  await bot.say('lead', '/isms asset add "Laptops" "staff laptops"', at); // AST-0002
  await bot.t.db.insert(riskAppetite).values({
    maxResidualScore: 12, statement: 'We accept residual risks scored up to 12.', approvedBy: bot.ids.board, approvedAt: new Date('2026-01-15T09:00:00Z'),
  });
  return bot;
}

describe('/isms risk add', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await seeded(); });
  afterEach(async () => { await bot.destroy(); });

  it('the ISMS lead adds risks with gapless references, links to assets and controls, a threat, and a first assessment', async () => {
    const added = await bot.say('lead', '/isms risk add "Ransomware on file servers" "encrypts shared drives" --likelihood 4 --impact 5 --residual 2x4 '
      + '--treatment mitigate --owner olga@test.example --assets AST-0001,ast-2 --controls ctl-bk-01,CTL-AC-01 --threat T-IS-004', at);
    expect(toPlainText(added)).toContain('Added Ransomware on file servers to the risk register as R-0001.');
    expect(added.about).toBe('R-0001');
    await bot.say('lead', '/isms risk add "Laptop theft" --likelihood 3 --impact 4 --residual 6 --treatment mitigate', at);
    expect(await riskRow(bot, 'R-0001')).toMatchObject({
      title: 'Ransomware on file servers', likelihood: 4, impact: 5, inherentScore: 20, residualScore: 8, treatment: 'mitigate',
      ownerId: bot.ids.owner, threatRef: 'T-IS-004', status: 'open',
    });
    expect(await riskRow(bot, 'R-0002')).toMatchObject({ inherentScore: 12, residualScore: 6, ownerId: null });

    const listed = await bot.say('lead', '/isms risks', at);
    expect(field(listed, 'R-0001', 'Assets')).toBe('AST-0001 File servers, AST-0002 Laptops');
    expect(field(listed, 'R-0001', 'Controls')).toBe('CTL-AC-01, CTL-BK-01');
    expect(field(listed, 'R-0001', 'Threat')).toBe('T-IS-004 Control degradation and operational drift');
    expect(field(listed, 'R-0002', 'Assets')).toBeUndefined();

    const [first] = await bot.t.db.select().from(riskAssessments).orderBy(asc(riskAssessments.id));
    expect(first).toMatchObject({ assessedBy: bot.ids.lead, residualScoreBefore: null, residualScoreAfter: 8, inherentScoreAfter: 20 });
    const created = (await bot.t.db.select().from(auditEvents).where(eq(auditEvents.entityRef, 'R-0001'))).find((e) => e.entity === 'risk')!;
    expect(created.after).toMatchObject({ assets: ['AST-0001', 'AST-0002'], controls: ['CTL-AC-01', 'CTL-BK-01'] });

    expect((await exported(bot, 'risks'))[0]).toMatchObject({ ref: 'R-0001', linkedAssets: 'AST-0001 File servers; AST-0002 Laptops', controls: 'CTL-AC-01; CTL-BK-01', threat: 'T-IS-004 Control degradation and operational drift' });
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
  });

  it('a title typed without quotes keeps its first word, and the answer shows the description the other words became', async () => {
    const added = await bot.sayText('lead', '/isms risk add Ransomware on the ledger --likelihood 3 --impact 4 --treatment mitigate', at);
    expect(added).toContain('Added Ransomware to the risk register as R-0001.');
    expect(added).toContain('  Description: on the ledger\n');
    expect(await riskRow(bot, 'R-0001')).toMatchObject({ title: 'Ransomware', description: 'on the ledger' });
    expect(await bot.sayText('lead', '/isms risk add Phishing --likelihood 3 --impact 4 --treatment mitigate', at)).not.toContain('Description');
  });

  it('refuses everyone but the ISMS lead, and unknown links, a residual above the inherent score or a repeated title, writing nothing', async () => {
    await bot.say('lead', '/isms risk add "Laptop theft" --likelihood 3 --impact 4 --treatment mitigate', at);
    const before = await snapshot(bot);
    for (const who of ['owner', 'board', 'auditor', 'staff'] as const) {
      expect(await bot.sayText(who, '/isms risk add "Phishing" --likelihood 3 --impact 3 --treatment mitigate', at), who)
        .toContain('Only the ISMS lead may use "/isms risk add"');
    }
    expect(await bot.sayText('lead', '/isms risk add "Phishing" --likelihood 3 --impact 3 --treatment mitigate --assets AST-0009', at))
      .toContain('assets: AST-0009 is not in the asset register.');
    expect(await bot.sayText('lead', '/isms risk add "Phishing" --likelihood 3 --impact 3 --treatment mitigate --controls CTL-XX-99', at))
      .toContain('controls: CTL-XX-99 is not a control code in the register.');
    expect(await bot.sayText('lead', '/isms risk add "Phishing" --likelihood 2 --impact 3 --residual 9 --treatment mitigate', at))
      .toContain('residual: 9 is above the inherent score 6');
    expect(await bot.sayText('lead', '/isms risk add "Phishing" --likelihood 6 --impact 3 --treatment mitigate', at))
      .toContain('likelihood: must be between 1 and 5');
    expect(await bot.sayText('lead', '/isms risk add "laptop  THEFT" --likelihood 3 --impact 3 --treatment mitigate', at))
      .toContain('"Laptop theft" is already in the risk register as R-0001.');
    expect(await snapshot(bot)).toEqual(before);
    // A refused add takes no reference: the next one is R-0002.
    expect(await bot.sayText('lead', '/isms risk add "Phishing" --likelihood 3 --impact 3 --treatment mitigate', at)).toContain('as R-0002.');
  });
});

describe('/isms risk update', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await seeded();
    await bot.say('lead', '/isms risk add "Ransomware on file servers" --likelihood 4 --impact 5 --residual 16 --treatment mitigate --owner olga@test.example', at);
    await bot.say('lead', '/isms risk add "Cloud outage" --likelihood 3 --impact 5 --residual 10 --treatment mitigate --owner lena@test.example', at);
  });
  afterEach(async () => { await bot.destroy(); });

  it('the owner reassesses their own risk, the lead any; each keeps the scores before and after with who, when and why', async () => {
    const later = new Date('2026-10-05T10:00:00Z');
    const owner = await bot.sayText('owner', '/isms risk update R-0001 --residual 3x4 backups are now tested monthly', { now: later });
    expect(owner).toContain('Reassessed R-0001 (Ransomware on file servers): inherent 20 → 20, residual 16 → 12.');
    expect(await bot.sayText('lead', '/isms risk update R-0002 --likelihood 2 "second region live"', { now: later }))
      .toContain('Reassessed R-0002 (Cloud outage): inherent 15 → 10, residual 10 → 10.');
    expect(await bot.sayText('lead', '/isms risk update R-0001 --impact 4 "insurance caps the loss"', { now: later })).toContain('inherent 20 → 16');

    const history = await bot.t.db.select().from(riskAssessments).orderBy(asc(riskAssessments.id));
    expect(history.slice(2)).toMatchObject([
      { assessedBy: bot.ids.owner, assessedAt: later, residualScoreBefore: 16, residualScoreAfter: 12, inherentScoreBefore: 20, inherentScoreAfter: 20, rationale: 'backups are now tested monthly' },
      { assessedBy: bot.ids.lead, likelihoodBefore: 3, likelihoodAfter: 2, inherentScoreBefore: 15, inherentScoreAfter: 10 },
      { assessedBy: bot.ids.lead, impactBefore: 5, impactAfter: 4, residualScoreBefore: 12, residualScoreAfter: 12 },
    ]);
    const events = await bot.t.db.select().from(auditEvents).where(eq(auditEvents.entityRef, 'R-0001')).orderBy(asc(auditEvents.seq));
    expect(events.slice(-4).map((e) => [e.entity, e.action])).toEqual([
      ['risk_assessment', 'assess'], ['risk', 'update'], ['risk_assessment', 'assess'], ['risk', 'update'],
    ]);
    expect(events.at(-1)!.after).toMatchObject({ impact: 4, inherentScore: 16, residualScore: 12 });
    // The history is append-only.
    const refused = await bot.t.db.execute(sql`update risk_assessments set rationale = 'x' where id = ${history[0].id}`).then(() => 'not refused', (e: Error & { cause?: Error }) => e.cause?.message ?? e.message);
    expect(refused).toContain('risk_assessments is append-only');
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
  });

  it('refuses people who neither own the risk nor lead the ISMS, and a reassessment that changes nothing, writing nothing', async () => {
    const before = await snapshot(bot);
    for (const who of ['owner', 'board', 'auditor', 'staff'] as const) {
      expect(await bot.sayText(who, '/isms risk update R-0002 --residual 5 "better"', at), who).toContain('Only R-0002\'s owner or the ISMS lead may reassess it.');
    }
    expect(await bot.sayText('owner', '/isms risk update R-0001 --residual 16 "same"', at)).toContain('nothing changed');
    expect(await bot.sayText('owner', '/isms risk update R-0001 --likelihood 1 "rare"', at)).toContain('residual: 16 is above the inherent score 5');
    expect(await snapshot(bot)).toEqual(before);
  });
});

describe('/isms risk appetite', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await seeded();
    await bot.say('lead', '/isms risk add "Ransomware on file servers" --likelihood 4 --impact 5 --residual 14 --treatment mitigate --owner olga@test.example', at);
  });
  afterEach(async () => { await bot.destroy(); });

  it('the ISMS lead proposes; the earlier appetite stays in force until the management body approves the new one', async () => {
    const proposed = await bot.sayText('lead', '/isms risk appetite 15 "We accept residual risks up to 15."', at);
    expect(proposed).toContain('Proposed a risk appetite of residual score up to 15: it is in force once the management body approves it (APR-0001). Asked Bruno Board (management body).');
    expect(proposed).toContain('In force until approved: residual score up to 12 (since 2026-01-15)');
    expect(await textsFor(bot, 'board')).toEqual([expect.stringContaining('Lena Lead asks the management body to approve risk appetite version 2: residual score up to 15 (APR-0001).')]);

    const pending = await bot.say('lead', '/isms risks', at);
    expect(toPlainText(pending)).toContain('Risk appetite in force: residual score up to 12 (since 2026-01-15).');
    expect(toPlainText(pending)).toContain('Proposed risk appetite, not in force until the management body approves it: residual score up to 15. We accept residual risks up to 15. (awaiting management-body approval (APR-0001))');
    expect(itemFor(pending, 'R-0001').detail).toBe('above appetite');
    // The lead's status counts against the appetite in force, not the proposal.
    expect(await bot.sayText('lead', '/isms status', at)).toContain('1 of 1 (appetite: residual score up to 12)');

    expect(await bot.sayText('board', '/isms approve APR-0001', { now: new Date('2026-10-02T10:00:00Z') })).toContain('Approved: risk appetite version 2');
    const approved = await bot.say('lead', '/isms risks', at);
    expect(toPlainText(approved)).toContain('Risk appetite in force: residual score up to 15 (since 2026-10-02). We accept residual risks up to 15.');
    expect(toPlainText(approved)).not.toContain('Proposed risk appetite');
    expect(itemFor(approved, 'R-0001').detail).toBe('within appetite');
    expect(await bot.sayText('lead', '/isms status', at)).toContain('0 of 1 (appetite: residual score up to 15)');
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
  });

  it('refuses everyone but the ISMS lead, writing nothing; the proposer cannot approve it; the same proposal twice is one request', async () => {
    const before = await snapshot(bot);
    for (const who of ['owner', 'board', 'auditor', 'staff'] as const) {
      expect(await bot.sayText(who, '/isms risk appetite 15 "more"', at), who).toContain('Only the ISMS lead may use "/isms risk appetite"');
    }
    expect(await bot.sayText('lead', '/isms risk appetite 30 "more"', at)).toContain('must be between 1 and 25');
    expect(await bot.sayText('lead', '/isms risk appetite 12 "We accept residual risks scored up to 12."', at)).toContain('The risk appetite in force already reads so');
    expect(await snapshot(bot)).toEqual(before);

    // A lead who is also on the management body proposes: another member decides.
    await bot.t.db.update(people).set({ roles: ['isms_lead', 'management_body'] }).where(eq(people.id, bot.ids.lead));
    await bot.say('lead', '/isms risk appetite 15 "We accept up to 15."', at);
    expect(await bot.sayText('lead', '/isms risk appetite 15 "We accept up to 15."', at)).toContain('Already proposed');
    expect(await bot.t.db.select().from(riskAppetite)).toHaveLength(2);
    expect(await bot.sayText('lead', '/isms approve APR-0001', at)).toContain('so another member of the management body decides APR-0001');
    expect((await bot.t.db.select().from(managementApprovals))).toMatchObject([{ status: 'pending' }]);
  });
});

describe('/isms risk accept: acceptance, supersession and staleness', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await seeded();
    await bot.say('lead', '/isms risk add "Ransomware on file servers" --likelihood 4 --impact 5 --residual 16 --treatment mitigate --owner olga@test.example', at); // R-0001, above
    await bot.say('lead', '/isms risk add "Laptop theft" --likelihood 3 --impact 4 --residual 6 --treatment mitigate --owner olga@test.example', at); // R-0002, within
    await bot.say('lead', '/isms risk add "Cloud outage" --likelihood 3 --impact 4 --residual 8 --treatment mitigate --owner lena@test.example', at); // R-0003, within, the lead's own
  });
  afterEach(async () => { await bot.destroy(); });

  it('nobody accepts their own risk: the lead is refused on their own, with nothing written, and the management body steps in', async () => {
    const before = await snapshot(bot);
    const own = await bot.sayText('lead', '/isms risk accept R-0003 "low" --until 2027-06-30', at);
    expect(own).toContain('You own R-0003, so someone else accepts it');
    expect(own).toContain('ask Bruno Board (management body)');
    expect(await snapshot(bot)).toEqual(before);
    // The owner is neither lead nor management body.
    expect(await bot.sayText('owner', '/isms risk accept R-0002 "low" --until 2027-06-30', at)).toContain('Only the ISMS lead or the management body may use "/isms risk accept"');
    // With every lead part of it, the management body accepts it.
    expect(await bot.sayText('board', '/isms risk accept R-0003 "low" --until 2027-06-30', at)).toContain('Accepted R-0003 (Cloud outage) at residual score 8, within the risk appetite of 12');
    // While a lead is free, a management-body member does not accept within the appetite.
    expect(await bot.sayText('board', '/isms risk accept R-0002 "low" --until 2027-06-30', at)).toContain('is for an ISMS lead to decide');
    expect(await acceptancesOf(bot, 'R-0002')).toEqual([]);
  });

  it('accepting again supersedes the earlier acceptance and links to it; the old row is kept unchanged', async () => {
    await bot.say('lead', '/isms risk accept R-0002 "insured" --until 2027-03-31', at);
    const again = await bot.sayText('lead', '/isms risk accept R-0002 "insured, renewed" --until 2027-09-30', { now: new Date('2026-11-01T10:00:00Z') });
    expect(again).toContain('This decision replaces the earlier acceptance.');
    const [first, second] = await acceptancesOf(bot, 'R-0002');
    expect(first).toMatchObject({ rationale: 'insured', supersedes: null, expiresOn: new Date('2027-03-31T00:00:00Z') });
    expect(second).toMatchObject({ rationale: 'insured, renewed', supersedes: first.id, expiresOn: new Date('2027-09-30T00:00:00Z') });
    // Each acceptance is superseded at most once.
    const twice = await bot.t.db.insert(riskAcceptances).values({ ...second, id: undefined, supersedes: first.id }).then(() => 'not refused', (e: Error & { cause?: Error }) => e.cause?.message ?? e.message);
    expect(twice).toContain('risk_acceptances_supersedes_once');
    expect(await textsFor(bot, 'owner')).toEqual([
      expect.stringContaining('Lena Lead accepted your risk R-0002 (Laptop theft) at residual score 6 until 2027-03-31: insured.'),
      expect.stringContaining('Lena Lead accepted your risk R-0002 (Laptop theft) at residual score 6 until 2027-09-30: insured, renewed.'),
    ]);
    const listed = await bot.say('lead', '/isms risks', at);
    expect(itemFor(listed, 'R-0002').detail).toBe('within appetite · accepted');
    expect(field(listed, 'R-0002', 'Acceptance')).toBe('accepted by Lena Lead on 2026-11-01 at residual score 6, until 2027-09-30');
    expect((await exported(bot, 'risk-acceptances')).map((r) => r.supersedes)).toEqual([null, '2026-10-01T10:00:00.000Z']);
  });

  it('above the appetite the management body decides: a member without valid board training is refused; a trained one accepts', async () => {
    await bot.say('lead', '/isms risk accept R-0001 "mitigation costs more than the exposure" --until 2027-06-30', at);
    const [asked] = await bot.t.db.select().from(managementApprovals);
    expect(asked).toMatchObject({ ref: 'APR-0001', subjectKind: 'risk_acceptance', subjectRef: 'R-0001', status: 'pending' });
    expect(field(await bot.say('owner', '/isms risks', at), 'R-0001', 'Acceptance by the management body')).toBe('awaiting management-body approval (APR-0001)');
    expect(asked.state).toEqual({ risk: 'R-0001', residualScore: 16, expiresOn: '2027-06-30', rationale: 'mitigation costs more than the exposure' });

    // No attestation at all, then one that expired the day before.
    let before = await snapshot(bot);
    const untrained = await bot.sayText('board', '/isms approve APR-0001', at);
    expect(untrained).toContain('You cannot decide acceptance of R-0001 Ransomware on file servers at residual score 16 (APR-0001): no management-body training course is in the register');
    expect(await snapshot(bot)).toEqual(before);
    await trainBoardMember(bot, bot.ids.board, '2025-09-30', '2026-09-30');
    before = await snapshot(bot);
    const expired = await bot.sayText('board', '/isms approve APR-0001', at);
    expect(expired).toContain('your management-body training is not valid today (2026-10-01): MB-CYBER due — expired on 2026-09-30');
    expect(expired).toContain('Attest it with "/isms attest MB-CYBER completed on YYYY-MM-DD"');
    expect(await snapshot(bot)).toEqual(before);
    expect(await acceptancesOf(bot, 'R-0001')).toEqual([]);

    await trainBoardMember(bot, bot.ids.board, '2026-09-30', '2027-09-30');
    expect(await bot.sayText('board', '/isms approve APR-0001 in line with the board minutes', at)).toContain('Approved: acceptance of R-0001');
    expect(await acceptancesOf(bot, 'R-0001')).toMatchObject([{
      residualScoreAtDecision: 16, decidedBy: bot.ids.board, rationale: 'mitigation costs more than the exposure', approvalId: asked.id,
      expiresOn: new Date('2027-06-30T00:00:00Z'),
    }]);
    expect(await riskRow(bot, 'R-0001')).toMatchObject({ status: 'accepted', treatment: 'accept' });
    expect(await textsFor(bot, 'lead')).toContainEqual(expect.stringContaining('Bruno Board approved acceptance of R-0001'));
    expect(await textsFor(bot, 'owner')).toEqual([expect.stringContaining('Bruno Board accepted your risk R-0001 (Ransomware on file servers) at residual score 16 until 2027-06-30')]);
    const listed = await bot.say('owner', '/isms risks', at);
    expect(itemFor(listed, 'R-0001').detail).toBe('above appetite · accepted');
    expect(field(listed, 'R-0001', 'Acceptance by the management body')).toBe('approved by Bruno Board on 2026-10-01 (APR-0001)');
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
  });

  it('the risk owner on the management body cannot approve the acceptance of their own risk', async () => {
    const [dora] = await bot.t.db.insert(people).values({ name: 'Dora Director', email: 'dora@test.example', roles: ['management_body'], timezone: 'Europe/Berlin' }).returning();
    await appendAudit(bot.t.db, { id: null, label: 'test fixture' }, { action: 'create', entity: 'person', entityRef: dora.email, after: dora });
    await trainBoardMember(bot, dora.id);
    await bot.t.db.update(risks).set({ ownerId: dora.id }).where(eq(risks.ref, 'R-0001'));
    await bot.say('lead', '/isms risk accept R-0001 "too costly" --until 2027-06-30', at);
    const before = await snapshot(bot);
    const own = await bot.router.handle('/isms approve APR-0001', { actor: toActor(dora), channel: 'test', now: NOW });
    expect(toPlainText(own)).toContain('You own R-0001, so another member of the management body decides APR-0001');
    expect(await snapshot(bot)).toEqual(before);
  });

  it('a changed residual score marks the approval stale and reopens the accepted risk', async () => {
    await trainBoardMember(bot, bot.ids.board);
    await bot.say('lead', '/isms risk accept R-0001 "too costly" --until 2027-06-30', at);
    await bot.say('board', '/isms approve APR-0001', at);
    expect((await riskRow(bot, 'R-0001')).status).toBe('accepted');

    const update = await bot.sayText('owner', '/isms risk update R-0001 --residual 15 "one control lapsed"', at);
    expect(update).toContain('R-0001 was accepted at residual score 16; it is open again and needs a new acceptance decision.');
    expect(update).toContain('The management body\'s APR-0001 no longer covers it.');
    expect(await riskRow(bot, 'R-0001')).toMatchObject({ status: 'open', residualScore: 15 });
    const [approval] = await bot.t.db.select().from(managementApprovals);
    expect(approval).toMatchObject({ status: 'approved', staleReason: 'the residual score of R-0001 changed from 16 to 15' });
    expect(approval.staleAt).toEqual(NOW);
    expect(await textsFor(bot, 'lead')).toContainEqual(expect.stringContaining('APR-0001 (acceptance of R-0001 Ransomware on file servers at residual score 16) no longer covers it'));
    const listed = await bot.say('lead', '/isms risks', at);
    expect(itemFor(listed, 'R-0001').detail).toBe('above appetite');
    expect(field(listed, 'R-0001', 'Acceptance')).toContain('reopened since, needs a new decision');
    expect(field(listed, 'R-0001', 'Acceptance by the management body'))
      .toBe('approved by Bruno Board on 2026-10-01, now stale: the residual score of R-0001 changed from 16 to 15 (APR-0001)');
    expect(itemFor(listed, 'R-0001').buttons).toEqual([{ label: 'Accept risk', command: 'risk accept R-0001' }]);

    // A pending request is withdrawn by a score change too, and asking again links the new acceptance to the old one.
    await bot.say('lead', '/isms risk accept R-0001 "still too costly" --until 2027-06-30', at);
    await bot.say('owner', '/isms risk update R-0001 --residual 14 "patching"', at);
    expect((await bot.t.db.select().from(managementApprovals).where(eq(managementApprovals.ref, 'APR-0002')))[0]).toMatchObject({ status: 'withdrawn' });
    await bot.say('lead', '/isms risk accept R-0001 "still too costly" --until 2027-06-30', at);
    expect(await bot.sayText('board', '/isms approve APR-0003', at)).toContain('Approved: acceptance of R-0001 Ransomware on file servers at residual score 14');
    const [first, second] = await acceptancesOf(bot, 'R-0001');
    expect(second).toMatchObject({ residualScoreAtDecision: 14, supersedes: first.id });
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
  });
});

describe('expired risk acceptances', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await seeded();
    await bot.say('lead', '/isms risk add "Laptop theft" --likelihood 3 --impact 4 --residual 6 --treatment mitigate --owner olga@test.example', at);
    await bot.say('lead', '/isms risk accept R-0001 "insured" --until 2026-10-15', at);
  });
  afterEach(async () => { await bot.destroy(); });

  const morning = (day: string) => new Date(`${day}T06:00:00Z`);

  it('reopen once the last day has passed, with an audit event, and tell the owner once', async () => {
    expect(await reopenExpiredRisks(bot.t.db, morning('2026-10-15'), settings)).toMatchObject({ messages: 0 });
    expect((await riskRow(bot, 'R-0001')).status).toBe('accepted');

    const summary = await reopenExpiredRisks(bot.t.db, morning('2026-10-16'), settings);
    expect(summary).toMatchObject({ 'risk acceptances expired': 1, messages: 1 });
    expect((await riskRow(bot, 'R-0001')).status).toBe('open');
    const told = await textsFor(bot, 'owner', 'risk');
    expect(told).toEqual([expect.stringContaining('R-0001 Laptop theft: its acceptance ran out on 2026-10-15, so the risk is open again')]);

    for (const day of ['2026-10-16', '2026-10-17', '2026-11-01']) await reopenExpiredRisks(bot.t.db, morning(day), settings);
    expect(await textsFor(bot, 'owner', 'risk')).toHaveLength(1);
    const reopened = (await bot.t.db.select().from(auditEvents).where(eq(auditEvents.entityRef, 'R-0001'))).filter((e) => e.action === 'reopen');
    expect(reopened).toHaveLength(1);
    expect(reopened[0]).toMatchObject({ entity: 'risk', actorLabel: 'ISMS scheduler', before: expect.objectContaining({ status: 'accepted' }), after: expect.objectContaining({ status: 'open' }) });
    const listed = await bot.say('lead', '/isms risks', { now: morning('2026-10-17') });
    expect(field(listed, 'R-0001', 'Acceptance')).toContain('until 2026-10-15 — expired, needs a new decision');
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
  });

  it('tell the ISMS leads when the risk has no owner', async () => {
    await bot.say('lead', '/isms risk add "Shadow IT" --likelihood 2 --impact 3 --treatment mitigate', at);
    await bot.say('lead', '/isms risk accept R-0002 "small" --until 2026-10-10', at);
    await reopenExpiredRisks(bot.t.db, morning('2026-10-12'), settings);
    expect(await textsFor(bot, 'lead', 'risk')).toEqual([expect.stringContaining('R-0002 Shadow IT: its acceptance ran out on 2026-10-10')]);
    expect(await textsFor(bot, 'owner', 'risk')).toEqual([]);
  });
});

describe('risks from an import file', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await seeded(); });
  afterEach(async () => { await bot.destroy(); });

  const importRisks = (yaml: string, now = NOW, by = 'lena@test.example') => importYaml(bot.t.db, yaml, 'risks.yaml', { now, by });
  const file = (ransomware: string, laptops: string, laptopsTreatment = 'mitigate') => 'risks:\n'
    + `  - { title: Ransomware on file servers, ${ransomware}, treatment: mitigate, owner: olga@test.example }\n`
    + `  - { title: Laptop theft, ${laptops}, treatment: ${laptopsTreatment} }\n`;
  const eventsOf = async (ref: string, seq = 0) => (await bot.t.db.select().from(auditEvents).where(and(eq(auditEvents.entityRef, ref), gt(auditEvents.seq, seq)))
    .orderBy(asc(auditEvents.seq))).map((e) => `${e.action} ${e.entity} ${e.entityRef} by ${e.actorLabel}`);
  const lastSeq = async () => (await bot.t.db.select().from(auditEvents).orderBy(desc(auditEvents.seq)).limit(1))[0].seq;
  /** The message of a refused import, checking that it wrote nothing. */
  /** `by`: who runs the import (Lena Lead unless given; '' for nobody named). */
  const refusal = async (yaml: string, by?: string) => {
    const before = await snapshot(bot);
    const error = await importRisks(yaml, NOW, by).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImportError);
    expect(await snapshot(bot)).toEqual(before);
    return (error as ImportError).message;
  };

  it('an imported risk gets its first assessment, as one added in chat does, named after the import and recorded under who runs it', async () => {
    await importRisks(file('likelihood: 4, impact: 5, residual_score: 16', 'likelihood: 3, impact: 4'));
    expect(await bot.t.db.select().from(riskAssessments).orderBy(asc(riskAssessments.id))).toMatchObject([
      { assessedBy: bot.ids.lead, assessedAt: NOW, residualScoreBefore: null, inherentScoreAfter: 20, residualScoreAfter: 16, rationale: 'first assessment, as the risk was imported from risks.yaml' },
      { assessedBy: bot.ids.lead, residualScoreBefore: null, inherentScoreAfter: 12, residualScoreAfter: 12 },
    ]);
    expect(await eventsOf('R-0001')).toEqual(['create risk R-0001 by import risks.yaml', 'assess risk_assessment R-0001 by import risks.yaml']);
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
  });

  it('an imported assessment is recorded under who runs the import, not the first ISMS lead; one who may not assess it, or nobody named, is refused, naming the row', async () => {
    // Sam is an ISMS lead too, after Lena: the import Sam runs records Sam's assessments.
    await bot.t.db.update(people).set({ roles: ['isms_lead', 'staff'] }).where(eq(people.id, bot.ids.staff));
    await importRisks(file('likelihood: 4, impact: 5', 'likelihood: 3, impact: 4'), NOW, 'sam@test.example');
    expect((await bot.t.db.select().from(riskAssessments).orderBy(asc(riskAssessments.id))).map((a) => a.assessedBy)).toEqual([bot.ids.staff, bot.ids.staff]);

    // As in chat: only an ISMS lead adds a risk; its owner or an ISMS lead reassesses it.
    const more = `${file('likelihood: 4, impact: 5', 'likelihood: 3, impact: 4')}  - { title: Phishing, likelihood: 4, impact: 3, treatment: mitigate }\n`;
    expect(await refusal(more, 'olga@test.example')).toBe('risks.yaml:4: risks[2]: Olga Owner <olga@test.example> runs this import, and this file adds Phishing '
      + 'with its first assessment, which only an ISMS lead may do ("/isms risk add"): have an ISMS lead run it, or leave the risk out');
    expect(await refusal(file('likelihood: 4, impact: 5', 'likelihood: 3, impact: 5'), 'olga@test.example')).toBe('risks.yaml:3: risks[1]: Olga Owner <olga@test.example> '
      + 'runs this import, and this file reassesses R-0002 (Laptop theft), which only its owner or an ISMS lead may do ("/isms risk update"): '
      + 'have an ISMS lead or the risk\'s owner run it, or leave the risk out');
    expect(await refusal(file('likelihood: 4, impact: 5, residual_score: 16', 'likelihood: 3, impact: 4'), '')).toBe('risks.yaml:2: risks[0]: this file reassesses R-0001 (Ransomware on file servers), '
      + 'which is recorded under the person running the import: name who runs it (npm run isms -- import <file> --as <email>), an ISMS lead or, for a risk already in the register, its owner');
    // Olga owns R-0001: she may reassess it.
    await importRisks(file('likelihood: 4, impact: 5, residual_score: 16', 'likelihood: 3, impact: 4'), NOW, 'olga@test.example');
    expect((await bot.t.db.select().from(riskAssessments).orderBy(asc(riskAssessments.id))).map((a) => a.assessedBy)).toEqual([bot.ids.staff, bot.ids.staff, bot.ids.owner]);
  });

  it('refuses a residual score above the inherent score, as risk add does, naming the row, and writes nothing', async () => {
    expect(await refusal(file('likelihood: 2, impact: 3, residual_score: 9', 'likelihood: 3, impact: 4, residual_score: 12'))).toBe(
      'risks.yaml:2: risks[0].residual_score: 9 is above the inherent score 6 (likelihood x impact); '
      + 'controls in place cannot make a risk worse: give a residual score up to 6, or raise the likelihood or impact');
  });

  it('scores a file changes are a reassessment, as "risk update" makes: kept in the history, an accepted risk reopened, the management body\'s approval stale', async () => {
    await importRisks(file('likelihood: 4, impact: 5, residual_score: 16', 'likelihood: 3, impact: 4, residual_score: 6')); // R-0001 above the appetite, R-0002 within
    await trainBoardMember(bot, bot.ids.board);
    await bot.say('lead', '/isms risk accept R-0001 "too costly" --until 2027-06-30', at);
    await bot.say('board', '/isms approve APR-0001', at);
    await bot.say('lead', '/isms risk accept R-0002 "insured" --until 2027-06-30', at);
    expect((await bot.t.db.select().from(risks).orderBy(asc(risks.id))).map((r) => r.status)).toEqual(['accepted', 'accepted']);
    const seq = await lastSeq();
    const later = new Date('2026-10-05T10:00:00Z');

    // R-0001's residual score changes; R-0002's likelihood alone, so its acceptance (and treatment) still holds.
    const again = file('likelihood: 4, impact: 5, residual_score: 10', 'likelihood: 2, impact: 4, residual_score: 6', 'accept');
    await importRisks(again, later);
    expect(await bot.t.db.select().from(riskAssessments).orderBy(asc(riskAssessments.id)).then((rows) => rows.slice(2))).toMatchObject([
      { assessedBy: bot.ids.lead, assessedAt: later, residualScoreBefore: 16, residualScoreAfter: 10, inherentScoreBefore: 20, inherentScoreAfter: 20, rationale: 'reassessed by the import risks.yaml' },
      { assessedBy: bot.ids.lead, likelihoodBefore: 3, likelihoodAfter: 2, inherentScoreBefore: 12, inherentScoreAfter: 8, residualScoreBefore: 6, residualScoreAfter: 6 },
    ]);
    expect(await riskRow(bot, 'R-0001')).toMatchObject({ status: 'open', residualScore: 10 });
    expect(await riskRow(bot, 'R-0002')).toMatchObject({ status: 'accepted', likelihood: 2 });
    expect(await eventsOf('R-0001', seq)).toEqual(['assess risk_assessment R-0001 by import risks.yaml', 'reopen risk R-0001 by import risks.yaml']);
    expect(await eventsOf('APR-0001', seq)).toEqual(['mark_stale management_approval APR-0001 by import risks.yaml']);
    expect(await bot.t.db.select().from(managementApprovals)).toMatchObject([
      { ref: 'APR-0001', status: 'approved', staleAt: later, staleReason: 'the residual score of R-0001 changed from 16 to 10 in the import risks.yaml' },
    ]);
    expect(await textsFor(bot, 'lead')).toContainEqual(expect.stringContaining('APR-0001 (acceptance of R-0001 Ransomware on file servers at residual score 16) no longer covers it'));
    const listed = await bot.say('lead', '/isms risks', { now: later });
    expect(field(listed, 'R-0001', 'Acceptance')).toContain('reopened since, needs a new decision');
    expect(itemFor(listed, 'R-0002').detail).toBe('within appetite · accepted');

    // The same file again changes nothing, and assesses nothing.
    const assessed = (await bot.t.db.select().from(riskAssessments)).length;
    expect(await importRisks(again, later)).toMatchObject({ risks: { unchanged: 2 } });
    expect(await bot.t.db.select().from(riskAssessments)).toHaveLength(assessed);
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
  });

  it('a field a file leaves out keeps what the register holds: a reassessment made in chat since is not undone, an accepted risk not reopened', async () => {
    await importRisks('risks:\n  - { title: Ransomware on file servers, description: encrypts shared drives, asset: File servers, scope_area: Head office, '
      + 'threat_ref: T-IS-004, likelihood: 4, impact: 5, treatment: mitigate, owner: olga@test.example }\n');
    expect(await riskRow(bot, 'R-0001')).toMatchObject({ inherentScore: 20, residualScore: 20 });
    await bot.say('lead', '/isms risk update R-0001 --residual 6 "backups tested monthly"', at);
    await bot.say('lead', '/isms risk accept R-0001 "insured" --until 2027-06-30', at);
    const accepted = await snapshot(bot);
    expect(accepted.risks).toMatchObject([{ residualScore: 6, status: 'accepted', treatment: 'accept', description: 'encrypts shared drives', scopeArea: 'Head office', threatRef: 'T-IS-004', ownerId: bot.ids.owner }]);

    // The file again without residual_score, or with its title and scores alone: nothing changes, nothing is assessed.
    expect(await importRisks('risks:\n  - { title: Ransomware on file servers, likelihood: 4, impact: 5, treatment: accept }\n')).toMatchObject({ risks: { unchanged: 1 } });
    expect(await importRisks('risks:\n  - { title: Ransomware on file servers, likelihood: 4, impact: 5 }\n')).toMatchObject({ risks: { unchanged: 1 } });
    expect(await snapshot(bot)).toEqual(accepted);

    // A likelihood x impact below the residual score kept: refused, naming both, rather than the score lowered unasked.
    expect(await refusal('risks:\n  - { title: Ransomware on file servers, likelihood: 1, impact: 5 }\n')).toBe('risks.yaml:2: risks[0].residual_score: '
      + 'left out, R-0001 keeps its residual score 6, which is above the inherent score 5 (likelihood x impact) this file gives it: '
      + 'write residual_score (up to 5), or a likelihood and impact scoring 6 or more');
    // A new risk still needs its treatment.
    expect(await refusal('risks:\n  - { title: Laptop theft, likelihood: 3, impact: 4 }\n'))
      .toBe('risks.yaml:2: risks[0].treatment: is required for a risk not yet in the register: one of mitigate, accept, transfer, avoid');
  });

  it('a registered risk\'s row may leave out likelihood and impact: both left out keep the register\'s scores, one given alone is a reassessment', async () => {
    await importRisks(file('likelihood: 4, impact: 5, residual_score: 16', 'likelihood: 3, impact: 4, residual_score: 6'));
    await bot.say('lead', '/isms risk accept R-0002 "insured" --until 2027-06-30', at);
    const seq = await lastSeq();
    const kept = await snapshot(bot);

    // Both left out: the scores stand and nothing is assessed, whatever else the row changes.
    expect(await importRisks('risks:\n  - { title: Ransomware on file servers }\n  - { ref: R-0002, title: Laptop theft, description: stolen from cars }\n'))
      .toMatchObject({ risks: { unchanged: 1, updated: 1 } });
    expect((await bot.t.db.select().from(risks).orderBy(asc(risks.id))).map((r) => [r.ref, r.likelihood, r.impact, r.residualScore, r.status]))
      .toEqual([['R-0001', 4, 5, 16, 'open'], ['R-0002', 3, 4, 6, 'accepted']]);
    expect((await bot.t.db.select().from(riskAssessments)).length).toBe(kept.assessments);

    // One given alone keeps the other from the register and is a reassessment; a changed residual score reopens the accepted risk.
    await importRisks('risks:\n  - { title: Ransomware on file servers, impact: 4 }\n  - { title: Laptop theft, likelihood: 2, residual_score: 4 }\n');
    expect((await bot.t.db.select().from(risks).orderBy(asc(risks.id))).map((r) => [r.ref, r.likelihood, r.impact, r.inherentScore, r.residualScore, r.status]))
      .toEqual([['R-0001', 4, 4, 16, 16, 'open'], ['R-0002', 2, 4, 8, 4, 'open']]);
    expect((await bot.t.db.select().from(riskAssessments).orderBy(asc(riskAssessments.id))).slice(kept.assessments)).toMatchObject([
      { assessedBy: bot.ids.lead, likelihoodBefore: 4, likelihoodAfter: 4, impactBefore: 5, impactAfter: 4, inherentScoreAfter: 16, rationale: 'reassessed by the import risks.yaml' },
      { likelihoodBefore: 3, likelihoodAfter: 2, impactBefore: 4, impactAfter: 4, residualScoreBefore: 6, residualScoreAfter: 4 },
    ]);
    expect(await eventsOf('R-0002', seq)).toEqual(['update risk R-0002 by import risks.yaml', 'assess risk_assessment R-0002 by import risks.yaml', 'reopen risk R-0002 by import risks.yaml']);
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });

    // A residual score above the register's likelihood x the file's impact is refused as in chat, naming the row.
    expect(await refusal('risks:\n  - { title: Laptop theft, impact: 1, residual_score: 4 }\n')).toBe('risks.yaml:2: risks[0].residual_score: 4 is above the inherent score 2 '
      + '(likelihood x impact); controls in place cannot make a risk worse: give a residual score up to 2, or raise the likelihood or impact');
    // A new risk needs both, each named.
    expect(await refusal('risks:\n  - { title: Shadow IT, impact: 2, treatment: mitigate }\n  - { title: Phishing, treatment: mitigate }\n'))
      .toBe('risks.yaml:2: risks[0].likelihood: is required for a risk not yet in the register: a whole number from 1 to 5 (a registered risk left without it keeps its own)');
    expect(await refusal('risks:\n  - { title: Phishing, treatment: mitigate }\n')).toBe([
      'risks.yaml:2: risks[0].likelihood: is required for a risk not yet in the register: a whole number from 1 to 5 (a registered risk left without it keeps its own)',
      'risks.yaml:2: risks[0].impact: is required for a risk not yet in the register: a whole number from 1 to 5 (a registered risk left without it keeps its own)',
    ].join('\n'));
  });

  it('a file does not change the treatment of an accepted risk while it stays accepted; changing its scores reopens it, as risk update does', async () => {
    await importRisks(file('likelihood: 3, impact: 4, residual_score: 6', 'likelihood: 3, impact: 4'));
    await bot.say('lead', '/isms risk accept R-0001 "insured" --until 2027-06-30', at);
    expect(await riskRow(bot, 'R-0001')).toMatchObject({ status: 'accepted', treatment: 'accept' });

    expect(await refusal(file('likelihood: 3, impact: 4, residual_score: 6', 'likelihood: 2, impact: 4'))).toBe('risks.yaml:2: risks[0].treatment: '
      + 'R-0001 (Ransomware on file servers) is accepted; an import does not change the treatment its acceptance set ("accept"): '
      + 'leave treatment out, or write accept; to reopen the risk, use "/isms risk update" or change its scores');

    await importRisks(file('likelihood: 3, impact: 4, residual_score: 8', 'likelihood: 3, impact: 4'));
    expect(await riskRow(bot, 'R-0001')).toMatchObject({ status: 'open', treatment: 'mitigate', residualScore: 8 });
  });

  it('a file does not make an open risk\'s treatment "accept": only an acceptance decision does; a new risk may be declared so, as risk add allows', async () => {
    await importRisks(file('likelihood: 4, impact: 5, residual_score: 16', 'likelihood: 3, impact: 4', 'accept'));
    expect(await riskRow(bot, 'R-0002')).toMatchObject({ status: 'open', treatment: 'accept' });
    expect(await bot.sayText('lead', '/isms risk add "Shadow IT" --likelihood 2 --impact 3 --treatment accept', at)).toContain('as R-0003.');
    expect(await riskRow(bot, 'R-0003')).toMatchObject({ status: 'open', treatment: 'accept' });

    // R-0001 is open, treated "mitigate", above the appetite: a file declaring it accepted is refused, naming the row and how to accept it.
    expect(await refusal(file('likelihood: 4, impact: 5, residual_score: 16', 'likelihood: 3, impact: 4', 'accept').replace('treatment: mitigate', 'treatment: accept')))
      .toBe('risks.yaml:2: risks[0].treatment: R-0001 (Ransomware on file servers) is open, treated "mitigate"; an import does not accept a risk: '
        + 'accept it with "/isms risk accept R-0001" (the management body approves it above the risk appetite), or leave treatment out, or write mitigate');
    expect(await riskRow(bot, 'R-0001')).toMatchObject({ status: 'open', treatment: 'mitigate' });
    expect(await bot.t.db.select().from(managementApprovals)).toEqual([]);
  });

  it('a risk appetite imported without approved_by is not approved: proposed by the ISMS lead and put to the management body, as "risk appetite" does, and the answer says so', async () => {
    const seq = await lastSeq();
    const appetite = 'risk_appetite: { max_residual_score: 10, statement: We accept residual risks scored up to 10. }\n';
    const notes: string[] = [];
    expect(await importYaml(bot.t.db, appetite, 'risks.yaml', { now: NOW, onNote: (n) => notes.push(n) })).toMatchObject({ risk_appetite: { updated: 1 } });
    expect(notes).toEqual(['The risk appetite version 2 was proposed by Lena Lead without an approval in the file: the management body is asked to approve it (APR-0001).']);
    expect(await bot.t.db.select().from(riskAppetite).orderBy(asc(riskAppetite.id))).toMatchObject([
      { maxResidualScore: 12, approvedBy: bot.ids.board },
      { maxResidualScore: 10, approvedBy: null, approvedAt: null, proposedBy: bot.ids.lead, proposedAt: NOW },
    ]);
    expect((await bot.t.db.select().from(auditEvents).where(gt(auditEvents.seq, seq)).orderBy(asc(auditEvents.seq))).map((e) => `${e.action} ${e.entity} ${e.entityRef}`))
      .toEqual(['propose risk_appetite risk appetite #2', 'request management_approval APR-0001']);
    expect(await bot.sayText('lead', '/isms risks', at)).toContain('Risk appetite in force: residual score up to 12');
    expect(await textsFor(bot, 'board', 'approval')).toEqual([expect.stringContaining('Lena Lead asks the management body to approve risk appetite version 2')]);
    // Imported again, it is the same proposal and the same request.
    expect(await importRisks(appetite)).toMatchObject({ risk_appetite: { unchanged: 1 } });
    expect(await bot.t.db.select().from(managementApprovals)).toHaveLength(1);
    await trainBoardMember(bot, bot.ids.board);
    await bot.say('board', '/isms approve APR-0001', at);
    expect(await bot.sayText('lead', '/isms risks', at)).toContain('Risk appetite in force: residual score up to 10');
  });

  it('refuses an approved_by for the risk appetite who is outside the management body or proposed it, naming the row, and writes nothing', async () => {
    await bot.say('lead', '/isms risk appetite 10 "We accept residual risks scored up to 10."', at);
    const appetite = (approver: string) => `risk_appetite:\n  max_residual_score: 10\n  statement: We accept residual risks scored up to 10.\n  approved_by: ${approver}\n`;
    expect(await refusal(appetite('olga@test.example'))).toBe('risks.yaml:4: risk_appetite.approved_by: Olga Owner <olga@test.example> is not in the management body, '
      + 'which approves the risk appetite: write the member who approved it, or leave approved_by out to ask the management body');
    await bot.t.db.update(people).set({ roles: ['isms_lead', 'management_body'] }).where(eq(people.id, bot.ids.lead));
    expect(await refusal(appetite('lena@test.example'))).toBe('risks.yaml:4: risk_appetite.approved_by: Lena Lead <lena@test.example> proposed the risk appetite '
      + 'as the file gives it, and nobody approves their own proposal: write another member of the management body who approved it, or leave approved_by out (the management body is asked)');
    // Another member's approval recorded by the file puts the version in force; the request it answers is withdrawn.
    await importRisks(appetite('bruno@test.example'));
    expect(await bot.sayText('lead', '/isms risks', at)).toContain('Risk appetite in force: residual score up to 10');
    expect(await bot.t.db.select().from(managementApprovals)).toMatchObject([{ ref: 'APR-0001', status: 'withdrawn' }]);
  });

  it('a risk appetite imported again without approved_by keeps its approval', async () => {
    const before = await bot.t.db.select().from(riskAppetite);
    expect(await importRisks('risk_appetite: { max_residual_score: 12, statement: We accept residual risks scored up to 12. }\n')).toMatchObject({ risk_appetite: { unchanged: 1 } });
    expect(await bot.t.db.select().from(riskAppetite)).toEqual(before);
  });
});
