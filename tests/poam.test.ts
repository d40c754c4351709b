import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { auditEvents, people, poamExtensions, poamItems, poamMilestones } from '../src/db/schema/index.js';
import { findForm, toPlainText, type Reply } from '../src/core/reply.js';
import { createTestBot, type TestBot } from './helpers/bot.js';

const now = new Date('2026-03-10T09:00:00Z');

function buttonCommands(r: Reply): string[] {
  return r.blocks.flatMap((b) => (b.type === 'list' ? b.items.flatMap((i) => i.buttons ?? []) : b.type === 'actions' ? b.buttons : []))
    .map((btn) => btn.command);
}

describe('/isms poam', () => {
  let bot: TestBot;
  const itemId: Record<string, number> = {};

  beforeEach(async () => {
    bot = await createTestBot();
    const items = await bot.t.db.insert(poamItems).values([
      { ref: 'POAM-0001', weakness: 'No MFA on the VPN', source: 'audit_finding', sourceRef: 'AF-0001', ownerId: bot.ids.owner, dueOn: '2026-04-30' },
      { ref: 'POAM-0002', weakness: 'Backups never restored in a test', source: 'risk', ownerId: bot.ids.staff, dueOn: '2026-02-28' },
      { ref: 'POAM-0003', weakness: 'Old firewall rule set', source: 'risk', ownerId: bot.ids.owner, dueOn: '2026-01-31', status: 'completed', completedAt: new Date('2026-01-20T10:00:00Z') },
      { ref: 'POAM-0004', weakness: 'Supplier contracts lack exit clauses', source: 'evidence_gap', ownerId: bot.ids.owner, dueOn: '2026-04-30' },
    ]).returning();
    for (const i of items) itemId[i.ref] = i.id;
    await bot.t.db.insert(poamMilestones).values([
      { itemId: itemId['POAM-0001'], seq: 1, description: 'Choose an MFA product', dueOn: '2026-03-01' },
      { itemId: itemId['POAM-0001'], seq: 2, description: 'Roll out to all VPN users', dueOn: '2026-04-15' },
    ]);
  });
  afterEach(async () => { await bot.destroy(); });

  const item = async (ref: string) => (await bot.t.db.select().from(poamItems).where(eq(poamItems.ref, ref)))[0];
  const milestones = () => bot.t.db.select().from(poamMilestones).where(eq(poamMilestones.itemId, itemId['POAM-0001'])).orderBy(poamMilestones.seq);
  const extensions = () => bot.t.db.select().from(poamExtensions).orderBy(poamExtensions.id);
  /** The owner asks to move POAM-0004 to 2026-06-30 (PEX-0001); the ISMS lead approves it. */
  const requestExtension = () => bot.say('owner', '/isms poam extend POAM-0004 2026-06-30 "the supplier renegotiation runs until June"', { now });
  const approveExtension = () => bot.say('lead', '/isms poam approve PEX-0001 "agreed in the risk meeting"', { now });

  describe('listing', () => {
    it('shows my open items with milestones, due dates, overdue marks and buttons', async () => {
      const answer = await bot.say('owner', '/isms poam', { now });
      const shown = toPlainText(answer);
      expect(shown).toContain('POAM-0001 — No MFA on the VPN — due 2026-04-30 · open');
      expect(shown).toContain('Milestone 1: Choose an MFA product: due 2026-03-01 (overdue)');
      expect(shown).toContain('Milestone 2: Roll out to all VPN users: due 2026-04-15');
      expect(shown).not.toContain('POAM-0002');
      expect(shown).not.toContain('POAM-0003');
      expect(buttonCommands(answer)).toEqual([
        'poam done POAM-0001 1', 'poam done POAM-0001 2', 'poam extend POAM-0001',
        'poam done POAM-0004', 'poam extend POAM-0004',
      ]);
    });

    it('lets the ISMS lead see every open item with its owner, and nobody else', async () => {
      const lead = await bot.sayText('lead', '/isms poam --all', { now });
      expect(lead).toContain('Open POA&M items: 3, 1 overdue');
      expect(lead).toContain('POAM-0002 — Backups never restored in a test — due 2026-02-28 (overdue)');
      expect(lead).toContain('Owner: Sam Staff');
      expect(lead).not.toContain('POAM-0003');
      const staff = await bot.sayText('staff', '/isms poam --all', { now });
      expect(staff).toContain('Only the ISMS lead, auditors and the management body can list everyone\'s POA&M items');
    });

    it('says once that I own nothing open', async () => {
      const shown = await bot.sayText('auditor', '/isms poam', { now });
      expect(shown).toContain('You own no open POA&M items.');
      expect(shown).not.toContain('Nothing open');
    });
  });

  describe('marking done', () => {
    it('refuses someone who neither owns the item nor leads the ISMS, and writes nothing', async () => {
      const audit = await bot.auditCount();
      const answer = await bot.sayText('staff', '/isms poam done POAM-0001 1', { now });
      expect(answer).toContain('Only the owner of POAM-0001 (Olga Owner) or the ISMS lead may mark its milestones done');
      expect(answer).toContain('Nothing was recorded');
      expect((await milestones()).every((m) => m.doneAt === null)).toBe(true);
      expect(await bot.auditCount()).toBe(audit);
    });

    it('will not complete an item while milestones are open, and says which', async () => {
      const answer = await bot.sayText('owner', '/isms poam done POAM-0001', { now });
      expect(answer).toContain('POAM-0001 still has open milestones: 1 (Choose an MFA product, due 2026-03-01); 2 (Roll out to all VPN users, due 2026-04-15)');
      expect((await item('POAM-0001')).status).toBe('open');
    });

    it('marks a milestone done with who and when, once', async () => {
      const audit = await bot.auditCount();
      const answer = await bot.sayText('owner', '/isms poam done POAM-0001 1', { now });
      expect(answer).toContain('Marked milestone 1 of POAM-0001 done: Choose an MFA product');
      expect(answer).toContain('Still open: 2 (Roll out to all VPN users, due 2026-04-15)');
      const [first, second] = await milestones();
      expect(first.doneAt?.toISOString()).toBe(now.toISOString());
      expect(first.doneBy).toBe(bot.ids.owner);
      expect(second.doneAt).toBeNull();
      expect(await bot.auditCount()).toBe(audit + 1);
      const again = await bot.sayText('owner', '/isms poam done POAM-0001 1', { now });
      expect(again).toContain('Milestone 1 of POAM-0001 was already marked done on 2026-03-10 by Olga Owner');
      expect(await bot.auditCount()).toBe(audit + 1);
    });

    it('the owner in New York reads the day a milestone was done on their calendar', async () => {
      await bot.t.db.update(people).set({ timezone: 'America/New_York' }).where(eq(people.id, bot.ids.owner));
      // 01:30 UTC on 11 March: 21:30 on 10 March in New York.
      await bot.say('owner', '/isms poam done POAM-0001 1', { now: new Date('2026-03-11T01:30:00Z') });
      expect(await bot.sayText('owner', '/isms poam', { now: new Date('2026-03-11T02:00:00Z') })).toContain('Milestone 1: Choose an MFA product: done on 2026-03-10');
    });

    it('names an unknown milestone and an unknown item', async () => {
      expect(await bot.sayText('owner', '/isms poam done POAM-0001 7', { now })).toContain('POAM-0001 has no milestone 7; its milestones are 1, 2');
      const unknown = await bot.sayText('owner', '/isms poam done POAM-0099', { now });
      expect(unknown).toContain('POAM-0099 does not exist');
      expect(unknown).toContain('"/isms poam" lists your POA&M items');
      expect(await bot.sayText('owner', '/isms poam done X-12', { now })).toContain('item: must be a reference like POAM-0001, not "X-12"');
    });

    it('marks the item done, awaiting verification, once the ISMS lead marks the last milestone and the owner says what was done', async () => {
      await bot.say('owner', '/isms poam done POAM-0001 1', { now });
      const last = await bot.say('lead', '/isms poam done poam-1 2', { now });
      expect(toPlainText(last)).toContain('All milestones of POAM-0001 are done');
      expect(buttonCommands(last)).toEqual(['poam done POAM-0001']);
      expect((await milestones())[1].doneBy).toBe(bot.ids.lead);
      const audit = await bot.auditCount();
      // The button names only the item: the owner is asked for the closure evidence.
      expect(findForm(await bot.say('owner', '/isms poam done POAM-0001', { now }))?.hidden).toEqual({ via: 'form', item: 'POAM-0001' });
      expect(await bot.sayText('owner', '/isms poam done POAM-0001 MFA enforced for every VPN user', { now }))
        .toContain('Marked POAM-0001 (No MFA on the VPN) done, awaiting verification (PCL-0001)');
      expect(await item('POAM-0001')).toMatchObject({ status: 'awaiting_verification', completedAt: null });
      expect(await bot.auditCount()).toBe(audit + 2);
      expect(await bot.sayText('owner', '/isms poam done POAM-0001 again', { now })).toContain('POAM-0001 is already marked done and waits for an ISMS lead to verify it');
    });
  });

  describe('extensions', () => {
    it('refuses a request from someone who does not own the item, and a date not after the due date', async () => {
      const audit = await bot.auditCount();
      expect(await bot.sayText('staff', '/isms poam extend POAM-0004 2026-06-30 "need more time"', { now }))
        .toContain('Only the owner of POAM-0004 (Olga Owner) or the ISMS lead may request an extension of it');
      expect(await bot.sayText('owner', '/isms poam extend POAM-0004 2026-04-30 "need more time"', { now }))
        .toContain('The new due date 2026-04-30 must be after the current due date of POAM-0004, 2026-04-30');
      expect(await bot.sayText('owner', '/isms poam extend POAM-0004 2026-13-01 "need more time"', { now }))
        .toContain('date: must be a date written YYYY-MM-DD');
      expect(await extensions()).toHaveLength(0);
      expect(await bot.auditCount()).toBe(audit);
    });

    it('records a request once, asks the ISMS lead with Approve / Reject, and allows one open request per item', async () => {
      const audit = await bot.auditCount();
      const line = '/isms poam extend POAM-0004 2026-06-30 "the supplier renegotiation runs until June"';
      const first = await bot.say('owner', line, { now, idempotencyKey: 'evt-ext-1' });
      const again = await bot.say('owner', line, { now, idempotencyKey: 'evt-ext-1' });
      expect(again).toEqual(first);
      expect(toPlainText(first)).toContain('Requested an extension of POAM-0004 to 2026-06-30 (PEX-0001)');
      expect(await extensions()).toMatchObject([{
        ref: 'PEX-0001', itemId: itemId['POAM-0004'], status: 'requested', previousDueOn: '2026-04-30', requestedDueOn: '2026-06-30',
        reason: 'the supplier renegotiation runs until June', requestedBy: bot.ids.owner,
      }]);
      expect(await bot.auditCount()).toBe(audit + 1);
      const leadInbox = await bot.outboxFor('lead');
      expect(leadInbox).toHaveLength(1);
      expect(leadInbox[0].kind).toBe('poam_extension');
      const message = leadInbox[0].reply as Reply;
      expect(toPlainText(message)).toContain('Olga Owner asks to extend POAM-0004 (Supplier contracts lack exit clauses) from 2026-04-30 to 2026-06-30');
      expect(buttonCommands(message)).toEqual(['poam approve PEX-0001', 'poam reject PEX-0001']);

      const second = await bot.sayText('owner', '/isms poam extend POAM-0004 2026-07-31 "or July"', { now });
      expect(second).toContain('PEX-0001 already asks to extend POAM-0004 to 2026-06-30');
      expect(await extensions()).toHaveLength(1);
    });

    it('shows the pending request on the item, with decision buttons for the ISMS lead', async () => {
      await requestExtension();
      const owner = await bot.say('owner', '/isms poam', { now });
      expect(toPlainText(owner)).toContain('Extension requested: PEX-0001: to 2026-06-30, awaiting the ISMS lead');
      expect(buttonCommands(owner)).not.toContain('poam extend POAM-0004');
      expect(buttonCommands(await bot.say('lead', '/isms poam --all', { now }))).toContain('poam approve PEX-0001');
    });

    it('offers open items to choose in its form, soonest due first, and asks for the reference as text past a hundred', async () => {
      const itemField = async (who: 'lead' | 'owner') => findForm(await bot.say(who, '/isms poam extend', { now }))!.fields.find((f) => f.name === 'item')!;
      expect((await itemField('owner')).options?.map((o) => o.value)).toEqual(['POAM-0001', 'POAM-0004']);
      expect((await itemField('lead')).options?.map((o) => o.label)).toEqual([
        'POAM-0002 — Backups never restored in a test (due 2026-02-28)', 'POAM-0001 — No MFA on the VPN (due 2026-04-30)',
        'POAM-0004 — Supplier contracts lack exit clauses (due 2026-04-30)',
      ]);
      await bot.t.db.insert(poamItems).values(Array.from({ length: 97 }, (_, i) => ({
        ref: `POAM-${String(i + 100).padStart(4, '0')}`, weakness: `Weakness ${i}`, source: 'risk' as const, ownerId: bot.ids.staff, dueOn: '2026-09-30',
      })));
      expect((await itemField('lead')).options).toHaveLength(100);
      await bot.t.db.insert(poamItems).values({ ref: 'POAM-0999', weakness: 'One more', source: 'risk', ownerId: bot.ids.staff, dueOn: '2026-10-31' });
      const typed = await itemField('lead');
      expect(typed.type).toBe('text');
      expect(typed.options).toBeUndefined();
      expect(typed.hint).toBe('The POA&M item, e.g. POAM-0001 (more than 100 to choose from: type it)');
    });

    it('says the management body decides a request the only ISMS lead made, in the answer and on the item', async () => {
      const asked = await bot.sayText('lead', '/isms poam extend POAM-0002 2026-05-31 "the restore test needs a second site"', { now });
      expect(asked).toContain('Requested an extension of POAM-0002 to 2026-05-31 (PEX-0001). The management body (every ISMS lead had a part in it) will approve or reject it;');
      expect(await bot.sayText('staff', '/isms poam', { now })).toContain('Extension requested: PEX-0001: to 2026-05-31, awaiting the management body (every ISMS lead had a part in it)');
      expect(toPlainText(await requestExtension())).toContain('The ISMS lead will approve or reject it;');
    });

    it('lets only the ISMS lead approve; approval moves the due date and tells the owner', async () => {
      await requestExtension();
      expect(await bot.sayText('owner', '/isms poam approve PEX-0001', { now })).toContain('Only the ISMS lead or the management body may use "/isms poam approve"');
      const audit = await bot.auditCount();
      const answer = await bot.sayText('lead', '/isms poam approve PEX-0001 "agreed in the risk meeting"', { now });
      expect(answer).toContain('Approved PEX-0001: POAM-0004 is now due on 2026-06-30 (was 2026-04-30). Olga Owner has been told.');
      expect((await item('POAM-0004')).dueOn).toBe('2026-06-30');
      expect((await extensions())[0]).toMatchObject({ status: 'approved', decidedBy: bot.ids.lead, decidedAt: now, decisionNote: 'agreed in the risk meeting' });
      expect(await bot.auditCount()).toBe(audit + 2);
      const [moved] = await bot.t.db.select().from(auditEvents).where(eq(auditEvents.action, 'extend_due_date'));
      expect(moved).toMatchObject({ entityRef: 'POAM-0004', before: expect.objectContaining({ dueOn: '2026-04-30' }), after: expect.objectContaining({ dueOn: '2026-06-30' }) });
      const ownerInbox = await bot.outboxFor('owner');
      expect(ownerInbox).toHaveLength(1);
      expect(toPlainText(ownerInbox[0].reply as Reply)).toContain('Lena Lead approved your extension request PEX-0001: POAM-0004 (Supplier contracts lack exit clauses) is now due on 2026-06-30');
    });

    it('refuses to decide a request twice', async () => {
      await requestExtension();
      await approveExtension();
      const audit = await bot.auditCount();
      const twice = await bot.sayText('lead', '/isms poam reject PEX-0001 "changed my mind"', { now });
      expect(twice).toContain('PEX-0001 was already approved by Lena Lead on 2026-03-10');
      expect((await extensions())[0].status).toBe('approved');
      expect((await item('POAM-0004')).dueOn).toBe('2026-06-30');
      expect(await bot.auditCount()).toBe(audit);
      expect(await bot.sayText('lead', '/isms poam approve PEX-0042', { now })).toContain('PEX-0042 does not exist');
    });

    it('opens the form from the "Request extension" button, and a rejection asks for a note and keeps the due date', async () => {
      await requestExtension();
      await approveExtension();
      const form = findForm(await bot.say('owner', '/isms poam extend POAM-0004', { now }));
      expect(form).toMatchObject({ command: 'poam extend', hidden: { item: 'POAM-0004' } });
      expect(form?.fields.map((f) => f.name)).toEqual(['date', 'reason']);
      const requested = await bot.router.submit('poam extend', { ...form!.hidden, date: '2026-08-31', reason: 'holiday season' }, { actor: await bot.actor('owner'), channel: 'test', now });
      expect(toPlainText(requested)).toContain('(PEX-0002)');

      const rejectForm = findForm(await bot.say('lead', '/isms poam reject PEX-0002', { now }));
      expect(rejectForm).toMatchObject({ command: 'poam reject', hidden: { extension: 'PEX-0002' } });
      expect((await extensions())[1].status).toBe('requested');
      const rejected = await bot.router.submit('poam reject', { ...rejectForm!.hidden, note: 'exposure too high; add a compensating control' }, { actor: await bot.actor('lead'), channel: 'test', now });
      expect(toPlainText(rejected)).toContain('Rejected PEX-0002: POAM-0004 stays due on 2026-06-30');
      expect((await extensions())[1]).toMatchObject({ status: 'rejected', decisionNote: 'exposure too high; add a compensating control' });
      expect((await item('POAM-0004')).dueOn).toBe('2026-06-30');
      const ownerInbox = await bot.outboxFor('owner');
      expect(ownerInbox.map((m) => toPlainText(m.reply as Reply)).at(-1)).toContain('Lena Lead rejected your extension request PEX-0002');
    });
  });
});
