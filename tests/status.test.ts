import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import {
  controls, evidenceRequests, managementApprovals, people, poamExtensions, poamItems, poamMilestones, policies, policyAcknowledgements,
  policyVersions, scopeChanges, trainingAttestations, trainingCourses,
} from '../src/db/schema/index.js';
import { toPlainText, type Reply } from '../src/core/reply.js';
import { toActor, type Actor } from '../src/core/actor.js';
import { programmeFigures } from '../src/domain/status/queries.js';
import { createTestBot, type TestBot } from './helpers/bot.js';

const now = new Date('2026-03-10T09:00:00Z');

function buttonCommands(r: Reply): string[] {
  return r.blocks.flatMap((b) => (b.type === 'list' ? b.items.flatMap((i) => i.buttons ?? []) : [])).map((btn) => btn.command);
}

const decisionButtons = (r: Reply) => buttonCommands(r).filter((c) => /^(triage (accept|reject)|poam (approve|reject)) /.test(c));

describe('/isms status', () => {
  let bot: TestBot;

  beforeEach(async () => {
    bot = await createTestBot();
    const db = bot.t.db;
    const { lead, board, owner, staff, auditor } = bot.ids;
    // A second board member without a valid attestation; the auditor is outside ISMS scope.
    const [board2] = await db.insert(people).values({ name: 'Berta Board', email: 'berta@test.example', roles: ['management_body'] }).returning();
    await db.update(people).set({ inScope: false }).where(eq(people.id, auditor));

    const [control] = await db.insert(controls).values({ code: 'CTL-AC-01', title: 'Access review', ownerId: owner }).returning();
    await db.insert(evidenceRequests).values([
      { ref: 'EVR-0001', controlId: control.id, ownerId: owner, dueOn: '2026-03-01', cycle: '2026-Q1' },
      { ref: 'EVR-0002', controlId: control.id, ownerId: owner, dueOn: '2026-04-01', cycle: '2026-Q2' },
      { ref: 'EVR-0003', controlId: control.id, ownerId: owner, dueOn: '2026-01-01', cycle: '2025-Q4', status: 'accepted' },
      { ref: 'EVR-0004', controlId: control.id, ownerId: staff, dueOn: '2026-02-01', cycle: '2025-Q3' },
    ]);

    const [p1, p2] = await db.insert(policies).values([
      { ref: 'POL-0001', title: 'Information security policy', ownerId: lead },
      { ref: 'POL-0002', title: 'Acceptable use policy', ownerId: lead },
    ]).returning();
    const version = (policyId: number, v: string) => ({
      policyId, version: v, major: Number(v.split('.')[0]), minor: Number(v.split('.')[1]), content: `text ${v}`, contentSha256: `sha-${policyId}-${v}`,
    });
    const [p1v10, p1v11, p2v10, p2v20] = await db.insert(policyVersions)
      .values([version(p1.id, '1.0'), version(p1.id, '1.1'), version(p2.id, '1.0'), version(p2.id, '2.0')]).returning();
    const ack = (personId: number, v: typeof p1v10) => ({ personId, policyVersionId: v.id, contentSha256: v.contentSha256, channel: 'test' });
    await db.insert(policyAcknowledgements).values([
      ack(owner, p1v11),
      ack(owner, p2v10), // superseded by 2.0, which the owner has not acknowledged
      ack(board, p1v10), // superseded by 1.1
      ack(lead, p1v11), ack(lead, p2v20),
    ]);

    await db.insert(scopeChanges).values({ ref: 'SC-0001', kind: 'new_supplier', subject: 'Acme Cloud', declaredBy: staff });

    const [mb, aware] = await db.insert(trainingCourses).values([
      { code: 'MB-CYBER', title: 'Cybersecurity risk for the management body', audienceRole: 'management_body' },
      { code: 'SEC-AWARE', title: 'Security awareness', audienceRole: null },
    ]).returning();
    await db.insert(trainingAttestations).values([
      { personId: board, courseId: mb.id, completedOn: '2025-06-01', expiresOn: '2026-06-01', channel: 'test' },
      { personId: board2.id, courseId: mb.id, completedOn: '2025-01-15', expiresOn: '2026-01-15', channel: 'test' },
      { personId: owner, courseId: aware.id, completedOn: '2025-03-20', expiresOn: '2026-03-20', channel: 'test' },
      { personId: lead, courseId: aware.id, completedOn: '2026-01-10', expiresOn: '2027-01-10', channel: 'test' },
      { personId: staff, courseId: aware.id, completedOn: '2026-01-10', expiresOn: '2027-01-10', channel: 'test' },
    ]);

    const [poam1, poam2] = await db.insert(poamItems).values([
      { ref: 'POAM-0001', weakness: 'No MFA on the VPN', source: 'audit_finding', ownerId: owner, dueOn: '2026-03-05' },
      { ref: 'POAM-0002', weakness: 'Backups never restored in a test', source: 'risk', ownerId: staff, dueOn: '2026-05-31' },
      { ref: 'POAM-0003', weakness: 'Old firewall rules', source: 'risk', ownerId: owner, dueOn: '2026-01-31', status: 'completed' },
    ]).returning();
    await db.insert(poamMilestones).values([
      { itemId: poam1.id, seq: 1, description: 'Choose an MFA product', dueOn: '2026-02-15' },
      { itemId: poam1.id, seq: 2, description: 'Roll out', dueOn: '2026-03-05', doneAt: new Date('2026-03-01T12:00:00Z'), doneBy: owner },
    ]);
    await db.insert(poamExtensions).values({ ref: 'PEX-0001', itemId: poam2.id, previousDueOn: '2026-05-31', requestedDueOn: '2026-07-31', reason: 'tape library on order', requestedBy: staff });
  });
  afterEach(async () => { await bot.destroy(); });

  it('gathers my to-do: evidence I owe, policies to acknowledge, training due soon, POA&M items, with overdue marked', async () => {
    const audit = await bot.auditCount();
    const answer = await bot.say('owner', '/isms status', { now });
    const shown = toPlainText(answer);
    expect(shown).toContain('Olga Owner, 5 things wait for you, 3 overdue.');
    expect(shown).toContain('EVR-0001 — CTL-AC-01 Access review — due 2026-03-01 (overdue) · 2026-Q1');
    expect(shown).toContain('EVR-0002 — CTL-AC-01 Access review — due 2026-04-01 · 2026-Q2');
    expect(shown).not.toContain('EVR-0003');
    expect(shown).not.toContain('EVR-0004');
    expect(shown).toContain('POL-0002 — Acceptable use policy — version 2.0 not acknowledged yet');
    expect(shown).not.toContain('POL-0001');
    expect(shown).toContain('SEC-AWARE — Security awareness — expires on 2026-03-20 — attest again soon');
    expect(shown).toContain('POAM-0001 — No MFA on the VPN — due 2026-03-05 (overdue)');
    expect(shown).toContain('Milestone 1: Choose an MFA product: due 2026-02-15 (overdue)');
    expect(shown).toContain('Milestone 2: Roll out: done on 2026-03-01');
    expect(shown).not.toContain('POAM-0003');
    expect(shown).not.toContain('Programme at a glance');
    expect(buttonCommands(answer)).toEqual([
      'evidence submit EVR-0001', 'evidence submit EVR-0002', 'ack POL-0002 --version 2.0',
      'attest SEC-AWARE', 'poam done POAM-0001 1', 'poam extend POAM-0001',
    ]);
    expect(await bot.auditCount()).toBe(audit);
  });

  it('keeps a board member\'s view to their own items', async () => {
    const shown = await bot.sayText('board', '/isms status', { now });
    expect(shown).toContain('SEC-AWARE — Security awareness — due — not attested yet');
    expect(shown).not.toContain('MB-CYBER'); // valid until 2026-06-01, more than 30 days away
    expect(shown).toContain('POL-0001 — Information security policy — version 1.1 not acknowledged yet');
  });

  it('counts approvals waiting for the management body among a board member\'s things, except their own requests', async () => {
    const { lead, board } = bot.ids;
    const approval = (ref: string, subjectRef: string, requestedBy: number) => ({
      ref, subjectKind: 'supplier', subjectRef, title: `Supplier ${subjectRef}`, state: {}, stateSha256: `sha-${ref}`, requestedBy,
    });
    await bot.t.db.insert(managementApprovals).values([approval('APR-0001', 'SUP-0001', lead), approval('APR-0002', 'SUP-0002', board)]);
    const answer = await bot.say('board', '/isms status', { now });
    const shown = toPlainText(answer);
    expect(shown).toContain('1 request for approval waits for a decision of the management body');
    expect(buttonCommands(answer)).toContain('approvals');
    expect(toPlainText(await bot.say('lead', '/isms status', { now }))).not.toContain('waits for a decision');
  });

  it('says so when nothing is waiting', async () => {
    expect(await bot.sayText('auditor', '/isms status', { now })).toContain('Nothing is waiting for you, Ada Auditor.');
  });

  it('gives the ISMS lead the programme at a glance', async () => {
    const shown = await bot.sayText('lead', '/isms status', { now });
    expect(shown).toContain('Programme at a glance');
    expect(shown).toContain('Evidence requests: 3 open, 2 overdue');
    expect(shown).toContain('Scope changes awaiting triage: 1');
    expect(shown).toContain('POA&M items: 2 open, 1 overdue');
    expect(shown).toContain('Extension requests pending: 1');
    // Five people in scope (the auditor is not) times two policies: the lead's two and the owner's one count.
    expect(shown).toContain('Policy acknowledgement (current versions): 30% (3 of 10)');
    expect(shown).toContain('Management-body training: 1 of 2 members hold a valid attestation');
  });

  it('counts the management body\'s cover by any valid attestation, and acknowledgements of the versions in force by people in scope only', async () => {
    const db = bot.t.db;
    const { auditor, staff, board } = bot.ids;
    const figures = () => programmeFigures(db, '2026-03-10');
    expect(await figures()).toEqual({
      evidenceOpen: 3, evidenceOverdue: 2, scopeChangesProposed: 1, poamOpen: 2, poamOverdue: 1, extensionsPending: 1,
      policyAcks: 3, policyAcksExpected: 10, boardCourses: 1, boardMembers: 2, boardMembersCovered: 1,
      riskAppetite: null, risksOpen: 0, risksOverAppetite: 0, approvalsPending: 0,
    });
    // A member's valid attestation need not be their latest: one that lasts longer still covers them.
    const [berta] = await db.select().from(people).where(eq(people.email, 'berta@test.example'));
    const [mb] = await db.select().from(trainingCourses).where(eq(trainingCourses.code, 'MB-CYBER'));
    await db.insert(trainingAttestations).values({ personId: berta.id, courseId: mb.id, completedOn: '2024-12-01', expiresOn: '2026-12-01', channel: 'test' });
    expect(await figures()).toMatchObject({ boardMembers: 2, boardMembersCovered: 2 });
    await db.update(people).set({ roles: ['staff'] }).where(eq(people.id, board));
    expect(await figures()).toMatchObject({ boardMembers: 1, boardMembersCovered: 1 });
    expect(await programmeFigures(db, '2026-12-02')).toMatchObject({ boardMembers: 1, boardMembersCovered: 0 });

    const versions = await db.select().from(policyVersions);
    const inForce = versions.filter((v) => v.version === '1.1' || v.version === '2.0');
    const ack = (personId: number, v: (typeof versions)[number]) => ({ personId, policyVersionId: v.id, contentSha256: v.contentSha256, channel: 'test' });
    // The auditor, outside ISMS scope, acknowledges both versions in force: owed by nobody outside scope, counted for nobody.
    await db.insert(policyAcknowledgements).values(inForce.map((v) => ack(auditor, v)));
    expect(await figures()).toMatchObject({ policyAcks: 3, policyAcksExpected: 10 });
    // The staff member acknowledges both, then leaves scope: counted, then neither counted nor owed.
    await db.insert(policyAcknowledgements).values(inForce.map((v) => ack(staff, v)));
    expect(await figures()).toMatchObject({ policyAcks: 5, policyAcksExpected: 10 });
    await db.update(people).set({ inScope: false }).where(eq(people.id, staff));
    expect(await figures()).toMatchObject({ policyAcks: 3, policyAcksExpected: 8 });
    // A new version of the first policy: its acknowledgements so far are of a superseded version; the auditor back in scope owes both.
    const [p1] = await db.select().from(policies).where(eq(policies.ref, 'POL-0001'));
    await db.insert(policyVersions).values({ policyId: p1.id, version: '1.10', major: 1, minor: 10, content: 'text 1.10', contentSha256: 'sha-1.10' });
    await db.update(people).set({ inScope: true }).where(eq(people.id, auditor));
    expect(await figures()).toMatchObject({ policyAcks: 2, policyAcksExpected: 10 });
    await db.insert(policyAcknowledgements).values({ personId: board, policyVersionId: versions.find((v) => v.version === '1.1')!.id, contentSha256: 'x', channel: 'test' });
    expect(await figures()).toMatchObject({ policyAcks: 2, policyAcksExpected: 10 });
  });

  it('drops a policy from my to-do once I acknowledge it with its button, and the rate follows', async () => {
    const before = await bot.say('owner', '/isms status', { now });
    const ack = buttonCommands(before).find((c) => c.startsWith('ack '))!;
    await bot.say('owner', ack, { now });
    expect(await bot.sayText('owner', '/isms status', { now })).not.toContain('POL-0002');
    expect(await bot.sayText('lead', '/isms status', { now })).toContain('Policy acknowledgement (current versions): 40% (4 of 10)');
  });

  it('counts a new attestation in the coverage at once', async () => {
    const [berta] = await bot.t.db.select().from(people).where(eq(people.email, 'berta@test.example'));
    const answer = await bot.router.handle('/isms attest MB-CYBER', { actor: toActor(berta), channel: 'test', now });
    expect(toPlainText(answer)).toContain('valid until 2027-03-10');
    expect(await bot.sayText('lead', '/isms status', { now })).toContain('Management-body training: 2 of 2 members hold a valid attestation');
  });

  it('lists the triage items and extension requests the ISMS lead may decide, oldest first, each with its buttons, and how to see the rest', async () => {
    const db = bot.t.db;
    const { lead, staff, owner } = bot.ids;
    await db.insert(scopeChanges).values([
      { ref: 'SC-0002', kind: 'new_system', subject: 'Payroll app', declaredBy: lead, declaredAt: new Date('2026-03-01T10:00:00Z') },
      { ref: 'SC-0003', kind: 'new_ai_usage', subject: 'Meeting notes AI', declaredBy: owner, declaredAt: new Date('2026-03-02T10:00:00Z') },
      { ref: 'SC-0004', kind: 'retired_system', subject: 'Old CRM', declaredBy: staff, declaredAt: new Date('2026-03-03T10:00:00Z') },
      { ref: 'SC-0005', kind: 'new_geography', subject: 'Canada', declaredBy: staff, declaredAt: new Date('2026-03-04T10:00:00Z') },
      { ref: 'SC-0006', kind: 'new_supplier', subject: 'Globex', declaredBy: owner, declaredAt: new Date('2026-03-05T10:00:00Z') },
    ]);
    await db.update(scopeChanges).set({ declaredAt: new Date('2026-02-20T10:00:00Z') }).where(eq(scopeChanges.ref, 'SC-0001'));
    await db.update(poamExtensions).set({ requestedAt: new Date('2026-03-06T10:00:00Z') }).where(eq(poamExtensions.ref, 'PEX-0001'));
    const [leads] = await db.insert(poamItems).values({ ref: 'POAM-0004', weakness: 'No log review', source: 'risk', ownerId: lead, dueOn: '2026-04-30' }).returning();
    const [owners] = await db.select().from(poamItems).where(eq(poamItems.ref, 'POAM-0001'));
    await db.insert(poamExtensions).values([
      { ref: 'PEX-0002', itemId: leads.id, previousDueOn: '2026-04-30', requestedDueOn: '2026-06-30', reason: 'SIEM late', requestedBy: lead },
      { ref: 'PEX-0003', itemId: owners.id, previousDueOn: '2026-03-05', requestedDueOn: '2026-04-30', reason: 'token shortage', requestedBy: lead },
    ]);
    const answer = await bot.say('lead', '/isms status', { now });
    const shown = toPlainText(answer);
    expect(shown).toContain('Lena Lead, 7 things wait for you.');
    expect(shown).toContain('SC-0001 — new supplier: Acme Cloud — declared by Sam Staff on 2026-02-20');
    expect(shown).toContain('SC-0003 — new AI use: Meeting notes AI — declared by Olga Owner on 2026-03-02');
    expect(shown).toContain('and 2 more: /isms triage');
    expect(shown).not.toContain('SC-0002'); // the lead's own declaration is for someone else to decide
    expect(shown).toContain('PEX-0001 — POAM-0002 Backups never restored in a test — Sam Staff asks to move the due date from 2026-05-31 to 2026-07-31 (asked on 2026-03-06)');
    expect(shown).toContain('Reason: tape library on order');
    expect(shown).not.toContain('PEX-0002 — '); // the lead's own item (listed among their items, without decision buttons)
    expect(shown).not.toContain('PEX-0003 — '); // asked for by the lead
    expect(buttonCommands(answer)).toEqual([
      'triage accept SC-0001', 'triage reject SC-0001', 'triage accept SC-0003', 'triage reject SC-0003', 'triage accept SC-0004', 'triage reject SC-0004', 'triage',
      'poam approve PEX-0001', 'poam reject PEX-0001', 'poam done POAM-0004',
    ]);
    expect(await bot.sayText('owner', '/isms status', { now })).not.toContain('SC-0001');
    // In Teams, where commands are typed without "/isms".
    expect(toPlainText(await bot.say('lead', 'status', { now, channel: 'teams' }))).toContain('and 2 more: triage\n');
  });
  /** The lead declared SC-0002, asked to extend their own POAM-0004 (PEX-0002) and Olga's POAM-0001 (PEX-0003). */
  async function leadsOwnWork() {
    const db = bot.t.db;
    const { lead, owner } = bot.ids;
    await db.insert(scopeChanges).values([
      { ref: 'SC-0002', kind: 'new_system', subject: 'Payroll app', declaredBy: lead, declaredAt: new Date('2026-03-01T10:00:00Z') },
      { ref: 'SC-0003', kind: 'new_ai_usage', subject: 'Meeting notes AI', declaredBy: owner, declaredAt: new Date('2026-03-02T10:00:00Z') },
    ]);
    const [leads] = await db.insert(poamItems).values({ ref: 'POAM-0004', weakness: 'No log review', source: 'risk', ownerId: lead, dueOn: '2026-04-30' }).returning();
    const [owners] = await db.select().from(poamItems).where(eq(poamItems.ref, 'POAM-0001'));
    await db.insert(poamExtensions).values([
      { ref: 'PEX-0002', itemId: leads.id, previousDueOn: '2026-04-30', requestedDueOn: '2026-06-30', reason: 'SIEM late', requestedBy: lead, requestedAt: new Date('2026-03-07T10:00:00Z') },
      { ref: 'PEX-0003', itemId: owners.id, previousDueOn: '2026-03-05', requestedDueOn: '2026-04-30', reason: 'token shortage', requestedBy: lead, requestedAt: new Date('2026-03-08T10:00:00Z') },
    ]);
  }

  it('lists for a management-body member the triage items and extension requests every ISMS lead had a part in, with their buttons', async () => {
    await leadsOwnWork();
    const answer = await bot.say('board', '/isms status', { now });
    const shown = toPlainText(answer);
    expect(shown).toContain('SC-0002 — new system: Payroll app — declared by Lena Lead on 2026-03-01');
    expect(shown).toContain('PEX-0002 — POAM-0004 No log review — Lena Lead asks to move the due date from 2026-04-30 to 2026-06-30');
    expect(shown).toContain('PEX-0003 — POAM-0001 No MFA on the VPN — Lena Lead asks to move the due date from 2026-03-05 to 2026-04-30');
    // What the lead is free to decide stays the lead's.
    expect(shown).not.toContain('SC-0001');
    expect(shown).not.toContain('SC-0003');
    expect(shown).not.toContain('PEX-0001');
    expect(decisionButtons(answer)).toEqual([
      'triage accept SC-0002', 'triage reject SC-0002', 'poam approve PEX-0002', 'poam reject PEX-0002', 'poam approve PEX-0003', 'poam reject PEX-0003',
    ]);

    // A second ISMS lead, who had no part in them, decides them instead.
    await bot.t.db.insert(people).values({ name: 'Lars Lead', email: 'lars@test.example', roles: ['isms_lead'] });
    const after = await bot.say('board', '/isms status', { now });
    expect(decisionButtons(after)).toEqual([]);
    expect(toPlainText(after)).not.toContain('SC-0002');
  });

  it('shows each person exactly the decision buttons the decide commands accept from them', async () => {
    await leadsOwnWork();
    const db = bot.t.db;
    const [bertaPerson] = await db.select().from(people).where(eq(people.email, 'berta@test.example'));
    const readers: { who: string; actor: () => Promise<Actor> }[] = [
      ...(['lead', 'board', 'owner', 'staff', 'auditor'] as const).map((who) => ({ who, actor: () => bot.actor(who) })),
      { who: 'berta', actor: async () => toActor(bertaPerson) },
    ];
    async function everyoneSeesWhatTheyMayDecide() {
      const pending = [
        ...(await db.select({ ref: scopeChanges.ref }).from(scopeChanges).where(eq(scopeChanges.status, 'proposed'))).map((r) => `triage reject ${r.ref}`),
        ...(await db.select({ ref: poamExtensions.ref }).from(poamExtensions).where(eq(poamExtensions.status, 'requested'))).map((r) => `poam reject ${r.ref}`),
      ].sort();
      for (const reader of readers) {
        const actor = await reader.actor();
        const shown = decisionButtons(await bot.router.handle('/isms status', { actor, channel: 'test', now })).filter((c) => c.includes(' reject ')).sort();
        // A reject without its reason writes nothing: the command either asks for the reason or refuses the person.
        const accepted: string[] = [];
        for (const line of pending) {
          const answer = await bot.router.handle(`/isms ${line}`, { actor, channel: 'test', now });
          if (answer.outcome === 'form') accepted.push(line);
          else expect(answer.outcome, `${reader.who}: ${line}`).toBe('refused');
        }
        expect(shown, reader.who).toEqual(accepted);
        // The triage list offers the same.
        const listed = decisionButtons(await bot.router.handle('/isms triage', { actor, channel: 'test', now })).filter((c) => c.includes(' reject ')).sort();
        expect(listed, `${reader.who}: /isms triage`).toEqual(accepted.filter((c) => c.startsWith('triage ')));
      }
    }
    // One ISMS lead: the management body decides the lead's own work.
    await everyoneSeesWhatTheyMayDecide();

    // A second lead, who declared SC-0004 and asked for PEX-0004 on his own item: each lead decides the other's, the management body none.
    const [lars] = await db.insert(people).values({ name: 'Lars Lead', email: 'lars@test.example', roles: ['isms_lead'] }).returning();
    readers.push({ who: 'lars', actor: async () => toActor(lars) });
    await db.insert(scopeChanges).values({ ref: 'SC-0004', kind: 'new_geography', subject: 'Canada', declaredBy: lars.id, declaredAt: new Date('2026-03-03T10:00:00Z') });
    const [larsItem] = await db.insert(poamItems).values({ ref: 'POAM-0005', weakness: 'No DLP', source: 'risk', ownerId: lars.id, dueOn: '2026-04-30' }).returning();
    await db.insert(poamExtensions).values({ ref: 'PEX-0004', itemId: larsItem.id, previousDueOn: '2026-04-30', requestedDueOn: '2026-05-31', reason: 'budget', requestedBy: lars.id });
    await everyoneSeesWhatTheyMayDecide();
  });
});
