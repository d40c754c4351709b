import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { trainingAttestations, trainingCourses } from '../src/db/schema/index.js';
import { findForm, toPlainText, type Reply } from '../src/core/reply.js';
import { createTestBot, type TestBot } from './helpers/bot.js';

const now = new Date('2026-03-10T09:00:00Z');

function buttonCommands(r: Reply): string[] {
  return r.blocks.flatMap((b) => (b.type === 'list' ? b.items.flatMap((i) => i.buttons ?? []) : b.type === 'actions' ? b.buttons : []))
    .map((btn) => btn.command);
}

describe('/isms training and /isms attest', () => {
  let bot: TestBot;
  const courseId: Record<string, number> = {};

  beforeEach(async () => {
    bot = await createTestBot();
    const courses = await bot.t.db.insert(trainingCourses).values([
      { code: 'MB-CYBER', title: 'Cybersecurity risk for the management body', audienceRole: 'management_body', validityMonths: 12, legalBasis: 'NIS2 Art. 20(2); DORA Art. 5(4)' },
      { code: 'SEC-AWARE', title: 'Security awareness', audienceRole: null, validityMonths: 12 },
      { code: 'CTL-OWN', title: 'Control ownership', audienceRole: 'control_owner', validityMonths: 24 },
    ]).returning();
    for (const c of courses) courseId[c.code] = c.id;
  });
  afterEach(async () => { await bot.destroy(); });

  const attestationsOf = (personId: number) =>
    bot.t.db.select().from(trainingAttestations).where(eq(trainingAttestations.personId, personId));

  it('lists only the courses that apply to me, each due with an Attest button', async () => {
    const staffView = await bot.say('staff', '/isms training', { now });
    expect(buttonCommands(staffView)).toEqual(['attest SEC-AWARE']);
    const staffText = await bot.sayText('staff', '/isms training', { now });
    expect(staffText).toContain('SEC-AWARE — Security awareness — due — not attested yet');
    expect(staffText).not.toContain('MB-CYBER');
    expect(staffText).not.toContain('CTL-OWN');

    const boardView = await bot.say('board', '/isms training', { now });
    expect(buttonCommands(boardView)).toEqual(['attest MB-CYBER', 'attest SEC-AWARE']);
    expect(buttonCommands(await bot.say('owner', '/isms training', { now }))).toEqual(['attest CTL-OWN', 'attest SEC-AWARE']);
  });

  it('lists my courses in the training report\'s order of codes on every database, whatever its locale: character by character', async () => {
    await bot.t.db.insert(trainingCourses).values(['aws-basics', 'Übung', 'ZERO-TRUST'].map((code) => ({ code, title: `Course ${code}`, audienceRole: null, validityMonths: 12 })));
    const order = ['attest SEC-AWARE', 'attest ZERO-TRUST', 'attest aws-basics', 'attest Übung'];
    expect(buttonCommands(await bot.say('staff', '/isms training', { now }))).toEqual(order);
    expect(findForm(await bot.say('staff', '/isms attest', { now }))?.fields[0].options?.map((o) => `attest ${o.value}`)).toEqual(order);
    // Everyone's every course is never attested: the report lists them by name, then by course code.
    const report: string[] = [];
    for (let page: string | undefined = 'training report'; page;) {
      const answer = await bot.say('lead', `/isms ${page}`, { now });
      report.push(toPlainText(answer));
      page = answer.blocks.flatMap((b) => (b.type === 'list' ? [b.page?.next] : []))[0];
    }
    const staffRows = report.join('\n').split('\n').filter((line) => line.includes('Sam Staff')).map((line) => /— (\S+)/.exec(line)?.[1]);
    expect(staffRows.map((code) => `attest ${code}`)).toEqual(order);
  });

  it('refuses a staff member who attests the management-body training, says why, and writes nothing', async () => {
    const audit = await bot.auditCount();
    const answer = await bot.sayText('staff', '/isms attest MB-CYBER completed on 2026-03-01', { now });
    expect(answer).toContain('Only members of the management body can attest MB-CYBER');
    expect(answer).toContain('NIS2 Art. 20(2) / DORA Art. 5(4)');
    expect(answer).toContain('Nothing was recorded');
    expect(await attestationsOf(bot.ids.staff)).toHaveLength(0);
    expect(await bot.auditCount()).toBe(audit);
  });

  it('records a board member\'s attestation as the NIS2/DORA training, valid for one year', async () => {
    const audit = await bot.auditCount();
    const answer = await bot.sayText('board', '/isms attest MB-CYBER completed on 2026-03-01 --evidence https://lms.example/cert/77', { now });
    expect(answer).toContain('management-body training attestation for MB-CYBER under NIS2 Art. 20(2) / DORA Art. 5(4)');
    expect(answer).toContain('valid until 2027-03-01');
    const rows = await attestationsOf(bot.ids.board);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ courseId: courseId['MB-CYBER'], completedOn: '2026-03-01', expiresOn: '2027-03-01', evidenceRef: 'https://lms.example/cert/77', channel: 'test' });
    expect(await bot.auditCount()).toBe(audit + 1);
    expect(await bot.sayText('board', '/isms training', { now })).toContain('MB-CYBER — Cybersecurity risk for the management body — valid until 2027-03-01');
  });

  it('refuses a course for a role I do not hold', async () => {
    const answer = await bot.sayText('staff', '/isms attest CTL-OWN', { now });
    expect(answer).toContain('CTL-OWN (Control ownership) is for the control owner role, which does not include you');
    expect(await attestationsOf(bot.ids.staff)).toHaveLength(0);
  });

  it('uses today when no date is given, and the course\'s validity for the expiry', async () => {
    const answer = await bot.sayText('owner', '/isms attest ctl-own', { now });
    expect(answer).toContain('Recorded your completion of CTL-OWN (Control ownership) on 2026-03-10, valid until 2028-03-10');
    expect(await attestationsOf(bot.ids.owner)).toMatchObject([{ completedOn: '2026-03-10', expiresOn: '2028-03-10' }]);
  });

  it('says someone is up to date on their one course, or on all of their courses, in plain English', async () => {
    await bot.say('staff', '/isms attest SEC-AWARE', { now });
    expect(await bot.sayText('staff', '/isms training', { now })).toContain('You are up to date on the one course that applies to you.');
    await bot.say('owner', '/isms attest SEC-AWARE', { now });
    await bot.say('owner', '/isms attest CTL-OWN', { now });
    expect(await bot.sayText('owner', '/isms training', { now })).toContain('You are up to date on all 2 courses that apply to you.');
  });

  it('names a badly written date, a future date and an unknown course, and writes nothing', async () => {
    const audit = await bot.auditCount();
    const badDate = await bot.sayText('staff', '/isms attest SEC-AWARE completed on 2026-02-30', { now });
    expect(badDate).toContain('completed: must be a date written YYYY-MM-DD');
    expect(badDate).toContain('Nothing was recorded');
    const future = await bot.sayText('staff', '/isms attest SEC-AWARE completed on 2026-03-11', { now });
    expect(future).toContain('The completion date 2026-03-11 is in the future (today is 2026-03-10)');
    const unknown = await bot.sayText('staff', '/isms attest NOPE-1', { now });
    expect(unknown).toContain('There is no training course "NOPE-1"');
    expect(unknown).toContain('"/isms training" lists the courses');
    expect(await attestationsOf(bot.ids.staff)).toHaveLength(0);
    expect(await bot.auditCount()).toBe(audit);
  });

  it('records a delivery repeated by the platform once', async () => {
    const first = await bot.say('staff', '/isms attest SEC-AWARE', { now, idempotencyKey: 'click-attest-1' });
    const again = await bot.say('staff', '/isms attest SEC-AWARE', { now, idempotencyKey: 'click-attest-1' });
    expect(again).toEqual(first);
    expect(await attestationsOf(bot.ids.staff)).toHaveLength(1);
    const typedTwice = await bot.sayText('staff', '/isms attest SEC-AWARE', { now });
    expect(typedTwice).toContain('You already attested SEC-AWARE completed on 2026-03-10');
    expect(await attestationsOf(bot.ids.staff)).toHaveLength(1);
  });

  it('shows an attestation that expires within 30 days, and one that has expired, as due again', async () => {
    await bot.t.db.insert(trainingAttestations).values({ personId: bot.ids.lead, courseId: courseId['SEC-AWARE'], completedOn: '2025-03-25', expiresOn: '2026-03-25', channel: 'import' });
    expect(await bot.sayText('lead', '/isms training', { now })).toContain('SEC-AWARE — Security awareness — expires on 2026-03-25 — attest again soon');
    const later = new Date('2026-04-02T09:00:00Z');
    expect(await bot.sayText('lead', '/isms training', { now: later })).toContain('SEC-AWARE — Security awareness — due — expired on 2026-03-25');
  });

  it('opens a form offering my courses when given no arguments, and the submitted form records the attestation', async () => {
    const form = findForm(await bot.say('auditor', '/isms attest', { now }));
    expect(form?.fields.map((f) => f.name)).toEqual(['course', 'completed', 'evidence']);
    expect(form?.fields[0].options?.map((o) => o.value)).toEqual(['SEC-AWARE']);
    const answer = await bot.router.submit('attest', { course: 'SEC-AWARE', completed: '2026-02-20', evidence: '' }, { actor: await bot.actor('auditor'), channel: 'test', now });
    expect(JSON.stringify(answer)).toContain('valid until 2027-02-20');
    expect(await attestationsOf(bot.ids.auditor)).toMatchObject([{ completedOn: '2026-02-20', expiresOn: '2027-02-20', evidenceRef: null }]);
  });

  it('reports each person a course applies to, most urgent first, with completion, expiry and status, and offers the export', async () => {
    await bot.t.db.insert(trainingAttestations).values([
      { personId: bot.ids.board, courseId: courseId['MB-CYBER'], completedOn: '2025-03-20', expiresOn: '2026-03-20', channel: 'test' },
      { personId: bot.ids.board, courseId: courseId['SEC-AWARE'], completedOn: '2025-06-01', expiresOn: '2026-06-01', channel: 'test' },
      { personId: bot.ids.owner, courseId: courseId['SEC-AWARE'], completedOn: '2025-01-15', expiresOn: '2026-01-15', channel: 'test' },
    ]);
    const report = await bot.say('auditor', '/isms training report', { now });
    const lines = toPlainText(report);
    expect(lines).toContain('Training obligations: 7 — 4 never attested, 1 expired, 1 expiring within 30 days, 1 valid.');
    const rows = report.blocks.flatMap((b) => (b.type === 'list' ? b.items : []));
    expect(rows.map((r) => `${r.title}: ${r.detail}`)).toEqual([
      'Ada Auditor — SEC-AWARE Security awareness: never attested',
      'Lena Lead — SEC-AWARE Security awareness: never attested',
      'Olga Owner — CTL-OWN Control ownership: never attested',
      'Sam Staff — SEC-AWARE Security awareness: never attested',
      'Olga Owner — SEC-AWARE Security awareness: expired',
      'Bruno Board — MB-CYBER Cybersecurity risk for the management body: expiring within 30 days',
      'Bruno Board — SEC-AWARE Security awareness: valid',
    ]);
    expect(rows[5].fields).toEqual([
      { label: 'Email', value: 'bruno@test.example' }, { label: 'Completed on', value: '2025-03-20' }, { label: 'Expires on', value: '2026-03-20' },
    ]);
    expect(rows[0].fields).toContainEqual({ label: 'Completed on', value: 'never' });
    expect(buttonCommands(report)).toEqual(['export training']);

    // A wider window makes the valid one expiring too; the board member may read the report.
    const wider = await bot.sayText('board', '/isms training report --within 90', { now });
    expect(wider).toContain('2 expiring within 90 days, 0 valid');
    expect(await bot.sayText('lead', '/isms training report --page 2', { now })).toContain('The training report has 1 page, so there is no page 2.');
  });

  it('tells the report\'s readers when no course binds the management body, and refuses staff', async () => {
    await bot.t.db.delete(trainingCourses).where(eq(trainingCourses.code, 'MB-CYBER'));
    expect(await bot.sayText('lead', '/isms training report', { now }))
      .toContain('No course is set for the management body, whose members must be trained under NIS2 Art. 20(2) / DORA Art. 5(4): Bruno Board.');
    const refused = await bot.sayText('staff', '/isms training report', { now });
    expect(refused).toContain('may use "/isms training report"');
    expect(refused).not.toContain('Training obligations');
  });
});
