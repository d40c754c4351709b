import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asc, eq, sql } from 'drizzle-orm';
import { auditEvents, people, riskAcceptances, riskAppetite, risks, trainingAttestations, trainingCourses } from '../src/db/schema/index.js';
import { findForm, toPlainText, type Block, type Reply } from '../src/core/reply.js';
import { nextRef } from '../src/core/refs.js';
import type { Db } from '../src/db/client.js';
import { createTestBot, type TestBot } from './helpers/bot.js';

const NOW = new Date('2026-10-01T10:00:00Z');
const at = { now: NOW };

const listIn = (r: Reply) => r.blocks.find((b): b is Extract<Block, { type: 'list' }> => b.type === 'list')!;
const refsIn = (r: Reply) => listIn(r).items.map((i) => i.title.split(' ')[0]);
const itemFor = (r: Reply, ref: string) => listIn(r).items.find((i) => i.title.startsWith(`${ref} `))!;
const field = (r: Reply, ref: string, label: string) => itemFor(r, ref).fields?.find((f) => f.label === label)?.value;

async function addRisk(db: Db, values: { title: string; residual: number; inherent?: number; ownerId?: number; treatment?: 'mitigate' | 'accept' }) {
  const [risk] = await db.insert(risks).values({
    ref: await nextRef(db, 'R'), title: values.title, likelihood: 4, impact: 5,
    inherentScore: values.inherent ?? 20, residualScore: values.residual,
    treatment: values.treatment ?? 'mitigate', ownerId: values.ownerId,
  }).returning();
  return risk;
}

async function addAppetite(bot: TestBot, maxResidualScore: number) {
  await bot.t.db.insert(riskAppetite).values({
    maxResidualScore, statement: `We accept residual risks scored up to ${maxResidualScore}.`,
    approvedBy: bot.ids.board, approvedAt: new Date('2026-01-15T09:00:00Z'),
  });
}

const acceptancesOf = async (bot: TestBot, riskId: number) =>
  bot.t.db.select().from(riskAcceptances).where(eq(riskAcceptances.riskId, riskId)).orderBy(asc(riskAcceptances.id));
const allAcceptances = async (bot: TestBot) => bot.t.db.select().from(riskAcceptances);
/** The database's own message for a refused statement (drizzle wraps it as the cause). */
const refusal = (statement: PromiseLike<unknown>) => Promise.resolve(statement).then(
  () => 'the statement was not refused',
  (e: Error & { cause?: Error }) => e.cause?.message ?? e.message,
);
/** The management body's own training, attested and valid on NOW. */
async function trainBoard(bot: TestBot) {
  const [course] = await bot.t.db.insert(trainingCourses).values({ code: 'MB-CYBER', title: 'Cybersecurity for the management body', audienceRole: 'management_body', validityMonths: 12 }).returning();
  await bot.t.db.insert(trainingAttestations).values({ personId: bot.ids.board, courseId: course.id, completedOn: '2026-03-01', expiresOn: '2027-03-01', channel: 'test' });
}
const riskRow = async (bot: TestBot, id: number) => (await bot.t.db.select().from(risks).where(eq(risks.id, id)))[0];

describe('/isms risks', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    await addAppetite(bot, 12);
    await addRisk(bot.t.db, { title: 'Ransomware on file servers', inherent: 20, residual: 16, ownerId: bot.ids.owner });
    await addRisk(bot.t.db, { title: 'Laptop theft', inherent: 12, residual: 6, ownerId: bot.ids.owner });
    await addRisk(bot.t.db, { title: 'Cloud provider outage', inherent: 15, residual: 12, ownerId: bot.ids.lead });
    for (let i = 4; i <= 12; i++) await addRisk(bot.t.db, { title: `Risk ${i}`, residual: 4, ownerId: bot.ids.lead });
  });
  afterEach(async () => { await bot.destroy(); });

  it('pages the register ten at a time, with owner, scores, treatment and the appetite mark', async () => {
    const first = await bot.say('lead', '/isms risks', at);
    expect(refsIn(first)).toEqual(['R-0001', 'R-0002', 'R-0003', 'R-0004', 'R-0005', 'R-0006', 'R-0007', 'R-0008', 'R-0009', 'R-0010']);
    expect(listIn(first).page).toEqual({ number: 1, total: 2, next: 'risks --page 2', previous: undefined });
    expect(itemFor(first, 'R-0001')).toMatchObject({ title: 'R-0001 Ransomware on file servers', detail: 'above appetite' });
    expect(itemFor(first, 'R-0001').fields).toEqual([
      { label: 'Owner', value: 'Olga Owner' },
      { label: 'Inherent score', value: '20' },
      { label: 'Residual score', value: '16' },
      { label: 'Treatment', value: 'mitigate' },
      { label: 'Risk appetite', value: 'above the appetite (residual score up to 12)' },
    ]);
    // A residual score equal to the appetite is within it.
    expect(itemFor(first, 'R-0003').detail).toBe('within appetite');
    expect(itemFor(first, 'R-0002').detail).toBe('within appetite');
    expect(toPlainText(first)).toContain('Risk appetite in force: residual score up to 12 (since 2026-01-15). We accept residual risks scored up to 12.');

    const second = await bot.say('lead', '/isms risks --page 2', at);
    expect(refsIn(second)).toEqual(['R-0011', 'R-0012']);
    expect(listIn(second).page).toMatchObject({ number: 2, total: 2, next: undefined, previous: 'risks --page 1' });
  });

  it('says how many pages there are when asked for one past the end, or for a page that is not a number', async () => {
    expect(await bot.sayText('auditor', '/isms risks --page 3', at)).toContain('The risk register has 2 pages, so there is no page 3');
    expect(await bot.sayText('auditor', '/isms risks --page two', at)).toContain('page: must be a page number');
  });

  it('offers "Accept risk" to the ISMS lead within the appetite (not on their own risks), and above it to the lead and the management body, who ask the body', async () => {
    const accept = (ref: string) => [{ label: 'Accept risk', command: `risk accept ${ref}` }];
    const board = await bot.say('board', '/isms risks', at);
    expect(itemFor(board, 'R-0001').buttons).toEqual(accept('R-0001'));
    expect(itemFor(board, 'R-0002').buttons).toBeUndefined();
    expect(itemFor(board, 'R-0003').buttons).toBeUndefined();
    const lead = await bot.say('lead', '/isms risks', at);
    expect(itemFor(lead, 'R-0001').buttons).toEqual(accept('R-0001'));
    expect(itemFor(lead, 'R-0002').buttons).toEqual(accept('R-0002'));
    // R-0003 is the lead's own risk: nobody accepts their own.
    expect(itemFor(lead, 'R-0003').buttons).toBeUndefined();
    const auditor = await bot.say('auditor', '/isms risks', at);
    expect(listIn(auditor).items.flatMap((i) => i.buttons ?? [])).toEqual([]);
  });

  it('shows an owner only the risks they own, and someone who owns none an empty list', async () => {
    const owner = await bot.say('owner', '/isms risks', at);
    expect(listIn(owner).title).toBe('Your risks');
    expect(refsIn(owner)).toEqual(['R-0001', 'R-0002']);
    expect(listIn(owner).items.flatMap((i) => i.buttons ?? [])).toEqual([]);
    const staff = await bot.sayText('staff', '/isms risks', at);
    expect(staff).toContain('You own no risks in the register.');
    expect(staff).not.toContain('R-0001');
  });

  it('marks against the newest risk appetite row', async () => {
    await addAppetite(bot, 16);
    const answer = await bot.say('lead', '/isms risks', at);
    expect(itemFor(answer, 'R-0001').detail).toBe('within appetite');
    expect(field(answer, 'R-0001', 'Risk appetite')).toBe('within the appetite (residual score up to 16)');
  });
});

describe('/isms risk accept', () => {
  let bot: TestBot;
  let ransomware: typeof risks.$inferSelect;
  let laptops: typeof risks.$inferSelect;
  let phishing: typeof risks.$inferSelect;
  beforeEach(async () => {
    bot = await createTestBot();
    await addAppetite(bot, 12);
    ransomware = await addRisk(bot.t.db, { title: 'Ransomware on file servers', residual: 16, ownerId: bot.ids.owner });
    laptops = await addRisk(bot.t.db, { title: 'Laptop theft', inherent: 12, residual: 6, ownerId: bot.ids.owner });
    await addRisk(bot.t.db, { title: 'Cloud provider outage', residual: 15, ownerId: bot.ids.lead });
    phishing = await addRisk(bot.t.db, { title: 'Phishing', residual: 14, ownerId: bot.ids.lead });
    await addRisk(bot.t.db, { title: 'Insider data theft', residual: 18, ownerId: bot.ids.lead });
  });
  afterEach(async () => { await bot.destroy(); });

  it('sends the ISMS lead\'s acceptance of a risk above the appetite to the management body, accepting nothing yet', async () => {
    const answer = await bot.sayText('lead', '/isms risk accept R-0001 "too expensive to mitigate" --until 2027-06-30', at);
    expect(answer).toContain('R-0001 (Ransomware on file servers) has residual score 16, above the risk appetite of 12: only the management body may accept it');
    expect(answer).toContain('NIS2 Art. 20(1) and DORA Art. 5');
    expect(answer).toContain('Asked the management body to accept it until 2027-06-30: APR-0001. Asked Bruno Board (management body).');
    expect(await allAcceptances(bot)).toEqual([]);
    expect((await riskRow(bot, ransomware.id)).treatment).toBe('mitigate');
  });

  it('refuses people who are neither ISMS lead nor management body', async () => {
    const audit = await bot.auditCount();
    for (const who of ['owner', 'auditor', 'staff'] as const) {
      expect(await bot.sayText(who, '/isms risk accept R-0002 "minor"', at), who).toContain('Only the ISMS lead or the management body may use "/isms risk accept"');
    }
    expect(await allAcceptances(bot)).toEqual([]);
    expect(await bot.auditCount()).toBe(audit);
  });

  it('lets the management body accept an above-appetite risk, keeping the residual score of that moment', async () => {
    await trainBoard(bot);
    await bot.say('lead', '/isms risk accept R-0001 "mitigation costs more than the exposure" --until 2027-06-30', at);
    const audit = await bot.auditCount();
    const answer = await bot.say('board', '/isms approve APR-0001', at);
    expect(toPlainText(answer)).toContain('✔ Approved: acceptance of R-0001 Ransomware on file servers at residual score 16 (APR-0001).');

    const [acceptance] = await acceptancesOf(bot, ransomware.id);
    expect(acceptance).toMatchObject({
      residualScoreAtDecision: 16, decision: 'accept', rationale: 'mitigation costs more than the exposure',
      decidedBy: bot.ids.board, decidedAt: NOW, expiresOn: new Date('2027-06-30T00:00:00Z'),
    });
    expect((await riskRow(bot, ransomware.id)).treatment).toBe('accept');
    // The approval's decision, then the acceptance and the risk.
    expect(await bot.auditCount()).toBe(audit + 3);
    const events = await bot.t.db.select().from(auditEvents).where(eq(auditEvents.entityRef, 'R-0001')).orderBy(asc(auditEvents.seq));
    expect(events.map((e) => [e.entity, e.action])).toEqual([['risk_acceptance_proposal', 'propose'], ['risk_acceptance', 'accept'], ['risk', 'accept']]);
    expect(events[2].before).toMatchObject({ treatment: 'mitigate', residualScore: 16, status: 'open' });
    expect(events[2].after).toMatchObject({ treatment: 'accept', residualScore: 16, status: 'accepted' });

    // The register lists it as accepted, without the button.
    const listed = await bot.say('board', '/isms risks', at);
    expect(itemFor(listed, 'R-0001').detail).toBe('above appetite · accepted');
    expect(itemFor(listed, 'R-0001').buttons).toBeUndefined();
    expect(field(listed, 'R-0001', 'Acceptance')).toBe('accepted by Bruno Board on 2026-10-01 at residual score 16, until 2027-06-30');

    // The risk gets worse later: the decision keeps the score it was taken at, and the risk needs a new one.
    await bot.t.db.update(risks).set({ residualScore: 20 }).where(eq(risks.id, ransomware.id));
    const [kept] = await acceptancesOf(bot, ransomware.id);
    expect(kept.residualScoreAtDecision).toBe(16);
    const after = await bot.say('board', '/isms risks', at);
    expect(field(after, 'R-0001', 'Residual score')).toBe('20');
    expect(field(after, 'R-0001', 'Acceptance')).toContain('the residual score has risen since, needs a new decision');
    expect(itemFor(after, 'R-0001').buttons).toEqual([{ label: 'Accept risk', command: 'risk accept R-0001' }]);
  });

  it('lets the ISMS lead accept a risk within the appetite', async () => {
    const audit = await bot.auditCount();
    const answer = await bot.sayText('lead', '/isms risk accept r-2 residual risk is low and insured --until 2027-06-30', at);
    expect(answer).toContain('Accepted R-0002 (Laptop theft) at residual score 6, within the risk appetite of 12, until 2027-06-30.');
    expect(answer).toContain('Accepted until: 2027-06-30');
    const [acceptance] = await acceptancesOf(bot, laptops.id);
    expect(acceptance).toMatchObject({
      residualScoreAtDecision: 6, rationale: 'residual risk is low and insured', decidedBy: bot.ids.lead, expiresOn: new Date('2027-06-30T00:00:00Z'), supersedes: null,
    });
    expect((await riskRow(bot, laptops.id)).treatment).toBe('accept');
    expect(await bot.auditCount()).toBe(audit + 2);
  });

  it('an acceptance until a day still holds in the evening of that day in New York', async () => {
    await bot.t.db.update(people).set({ timezone: 'America/New_York' }).where(eq(people.id, bot.ids.lead));
    await bot.say('lead', '/isms risk accept r-2 residual risk is low and insured --until 2026-10-15', at);
    // 01:30 UTC on 16 October: 21:30 on 15 October in New York.
    const listed = await bot.say('lead', '/isms risks', { now: new Date('2026-10-16T01:30:00Z') });
    expect(itemFor(listed, 'R-0002').detail).toBe('within appetite · accepted');
    expect(field(listed, 'R-0002', 'Acceptance')).toBe('accepted by Lena Lead on 2026-10-01 at residual score 6, until 2026-10-15');
  });

  it('asks for a missing rationale and expiry in a form, writes nothing, and records once the form is submitted', async () => {
    const audit = await bot.auditCount();
    const asked = await bot.say('lead', '/isms risk accept R-0002', at);
    expect(toPlainText(asked)).toContain('Accepting R-0002 needs a rationale (why the organisation accepts this risk) and the last day it holds (--until)');
    expect(toPlainText(asked)).toContain('Nothing was recorded.');
    const form = findForm(asked);
    expect(form).toMatchObject({ command: 'risk accept', hidden: { risk: 'R-0002' } });
    expect(form?.fields.find((f) => f.name === 'rationale')).toMatchObject({ required: true });
    expect(form?.fields.find((f) => f.name === 'until')).toMatchObject({ required: true });
    expect(await acceptancesOf(bot, laptops.id)).toEqual([]);
    expect(await bot.auditCount()).toBe(audit);

    // An empty rationale from the form asks again.
    const empty = await bot.router.submit('risk accept', { ...form!.hidden, rationale: '   ', until: '2027-03-31' }, { actor: await bot.actor('lead'), channel: 'test', now: NOW });
    expect(toPlainText(empty)).toContain('needs a rationale');
    expect(await acceptancesOf(bot, laptops.id)).toEqual([]);

    const submitted = await bot.router.submit('risk accept', { ...form!.hidden, rationale: 'insured', until: '2027-03-31' },
      { actor: await bot.actor('lead'), channel: 'test', now: NOW });
    expect(toPlainText(submitted)).toContain('Accepted R-0002');
    expect(await acceptancesOf(bot, laptops.id)).toMatchObject([{ residualScoreAtDecision: 6, rationale: 'insured' }]);
  });

  it('offers in its form the risks one may accept, above the appetite or owned by someone else, and asks for the reference as text past a hundred', async () => {
    const riskField = async () => findForm(await bot.say('lead', '/isms risk accept', at))!.fields.find((f) => f.name === 'risk')!;
    await addRisk(bot.t.db, { title: 'Lost visitor badge', residual: 5, ownerId: bot.ids.lead });
    await addRisk(bot.t.db, { title: 'Unowned printer', residual: 3 });
    // The lead's own risk within the appetite (R-0006) is not theirs to accept; those above it are the management body's.
    const board = ', for the management body';
    expect((await riskField()).options).toEqual([
      { value: 'R-0001', label: `R-0001 Ransomware on file servers — residual 16${board}` }, { value: 'R-0002', label: 'R-0002 Laptop theft — residual 6' },
      { value: 'R-0003', label: `R-0003 Cloud provider outage — residual 15${board}` }, { value: 'R-0004', label: `R-0004 Phishing — residual 14${board}` },
      { value: 'R-0005', label: `R-0005 Insider data theft — residual 18${board}` }, { value: 'R-0007', label: 'R-0007 Unowned printer — residual 3' },
    ]);
    await bot.t.db.insert(risks).values(Array.from({ length: 94 }, (_, i) => ({
      ref: `R-${String(100 + i).padStart(4, '0')}`, title: `Supplier risk ${i}`, likelihood: 2, impact: 2, inherentScore: 4, residualScore: 4,
      treatment: 'mitigate' as const, ownerId: bot.ids.owner,
    })));
    expect((await riskField()).options).toHaveLength(100);
    await addRisk(bot.t.db, { title: 'One more', residual: 4, ownerId: bot.ids.owner });
    const typed = await riskField();
    expect(typed.type).toBe('text');
    expect(typed.options).toBeUndefined();
    expect(typed.hint).toBe('The risk, e.g. R-0003 (more than 100 to choose from: type it)');
  });

  it('names the problem with a bad date, a past date, an unknown or malformed reference, and writes nothing', async () => {
    const audit = await bot.auditCount();
    const before = (await allAcceptances(bot)).length;
    expect(await bot.sayText('board', '/isms risk accept R-0004 "ok" --until 2027-02-30', at))
      .toContain('until: must be a date written YYYY-MM-DD, e.g. 2026-12-31');
    expect(await bot.sayText('board', '/isms risk accept R-0004 "ok" --until 31.12.2027', at))
      .toContain('until: must be a date written YYYY-MM-DD');
    const past = await bot.sayText('board', '/isms risk accept R-0004 "ok" --until 2026-10-01', at);
    expect(past).toContain('until: 2026-10-01 is not in the future');
    expect(past).toContain('Nothing was recorded');
    const unknown = await bot.sayText('board', '/isms risk accept R-0099 "ok"', at);
    expect(unknown).toContain('R-0099 does not exist. Nothing was recorded.');
    expect(unknown).toContain('"/isms risks" lists the risk register');
    expect(await bot.sayText('board', '/isms risk accept POAM-1 "ok"', at)).toContain('risk: must be a reference like R-0001, not "POAM-1"');
    expect((await allAcceptances(bot)).length).toBe(before);
    expect((await riskRow(bot, phishing.id)).treatment).toBe('mitigate');
    expect(await bot.auditCount()).toBe(audit);
  });

  it('records a repeated delivery of the same click once', async () => {
    const audit = await bot.auditCount();
    const line = '/isms risk accept R-0002 "accepted in the ISMS meeting of 30 September" --until 2027-09-30';
    const first = await bot.sayText('lead', line, { ...at, idempotencyKey: 'slack-event-77' });
    const again = await bot.sayText('lead', line, { ...at, idempotencyKey: 'slack-event-77' });
    expect(first).toContain('Accepted R-0002');
    expect(again).toBe(first);
    expect(await acceptancesOf(bot, laptops.id)).toHaveLength(1);
    expect(await bot.auditCount()).toBe(audit + 2);
  });

  it('keeps acceptance decisions append-only in the database', async () => {
    await bot.say('lead', '/isms risk accept r-2 residual risk is low and insured --until 2027-06-30', at);
    const [acceptance] = await acceptancesOf(bot, laptops.id);
    expect(await refusal(bot.t.db.update(riskAcceptances).set({ residualScoreAtDecision: 1 }).where(eq(riskAcceptances.id, acceptance.id))))
      .toContain('risk_acceptances is append-only');
    expect(await refusal(bot.t.db.execute(sql`delete from risk_acceptances where id = ${acceptance.id}`)))
      .toContain('risk_acceptances is append-only');
    const [unchanged] = await acceptancesOf(bot, laptops.id);
    expect(unchanged).toEqual(acceptance);
  });
});

describe('/isms risk accept without a recorded risk appetite', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    await addRisk(bot.t.db, { title: 'Laptop theft', inherent: 12, residual: 6, ownerId: bot.ids.owner });
  });
  afterEach(async () => { await bot.destroy(); });

  it('says no appetite is set, and leaves acceptance to the management body', async () => {
    const listed = await bot.say('lead', '/isms risks', at);
    expect(toPlainText(listed)).toContain('No risk appetite has been recorded');
    expect(itemFor(listed, 'R-0001').detail).toBe('no risk appetite set');

    const asked = await bot.sayText('lead', '/isms risk accept R-0001 "low" --until 2027-06-30', at);
    expect(asked).toContain('R-0001 (Laptop theft) has residual score 6, no risk appetite recorded: only the management body may accept it');
    expect(asked).toContain('Asked the management body to accept it until 2027-06-30: APR-0001.');
    expect(await allAcceptances(bot)).toEqual([]);

    await trainBoard(bot);
    expect(await bot.sayText('board', '/isms approve APR-0001', at)).toContain('Approved: acceptance of R-0001 Laptop theft at residual score 6 (APR-0001).');
    expect(await allAcceptances(bot)).toMatchObject([{ residualScoreAtDecision: 6, decidedBy: bot.ids.board }]);
  });
});
