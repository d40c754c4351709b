import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import {
  auditFindings, controlMappings, frameworkRequirements, outbox, people, poamExtensions, poamItems, scopeChanges, type Role,
} from '../src/db/schema/index.js';
import { toActor } from '../src/core/actor.js';
import { toPlainText, type Block, type Reply } from '../src/core/reply.js';
import { createTestBot, type CastKey, type TestBot } from './helpers/bot.js';
import { addControl } from './helpers/fixtures.js';
import { loadReferenceData } from '../src/refdata/index.js';

const now = new Date('2026-10-01T10:00:00Z');
const listIn = (r: Reply) => r.blocks.find((b): b is Extract<Block, { type: 'list' }> => b.type === 'list')!;

describe('separation of duties', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  /** Adds someone to the register; returns a function that runs a command line as them. */
  const addPerson = async (name: string, email: string, roles: Role[]) => {
    const [p] = await bot.t.db.insert(people).values({ name, email, roles, timezone: 'Europe/Berlin' }).returning();
    return async (line: string) => toPlainText(await bot.router.handle(line, { actor: toActor(p), channel: 'test', now }));
  };
  const addSecondLead = () => addPerson('Leo Second', 'leo@test.example', ['isms_lead']);
  const as = (who: CastKey, line: string) => bot.sayText(who, line, { now });

  /** Runs the line, expects the refusal, and checks that nothing was written (audit trail and the given status). */
  async function refused(run: () => Promise<string>, message: string, status: () => Promise<unknown>) {
    const [audit, before] = [await bot.auditCount(), await status()];
    const answer = await run();
    expect(answer).toContain(message);
    expect(answer).toContain('Nothing was recorded');
    expect(await bot.auditCount()).toBe(audit);
    expect(await status()).toEqual(before);
    return answer;
  }
  const triageStatus = async () => (await bot.t.db.select().from(scopeChanges).where(eq(scopeChanges.ref, 'SC-0001')))[0].status;
  const extension = async (ref: string) => (await bot.t.db.select().from(poamExtensions).where(eq(poamExtensions.ref, ref)))[0];
  const extensionState = async () => {
    const [e] = await bot.t.db.select().from(poamExtensions);
    const [item] = await bot.t.db.select().from(poamItems).where(eq(poamItems.id, e.itemId));
    return { status: e.status, dueOn: item.dueOn };
  };
  const findingStatus = async () => (await bot.t.db.select().from(auditFindings).where(eq(auditFindings.ref, 'AF-0001')))[0]?.status ?? 'none';

  describe('triage', () => {
    it('an ISMS lead cannot decide their own declaration; the other lead is told and decides; the management body is refused', async () => {
      const leo = await addSecondLead();
      expect(await as('lead', '/isms declare ai ChatGPT')).toContain('AI-0001');
      const [leoId] = (await bot.t.db.select().from(people).where(eq(people.email, 'leo@test.example'))).map((p) => p.id);
      expect((await bot.t.db.select().from(outbox).where(eq(outbox.recipientId, leoId))).map((m) => m.kind)).toEqual(['triage']);
      expect((await bot.outboxFor('board')).filter((m) => m.kind === 'triage')).toHaveLength(0);
      expect((await bot.t.db.select().from(scopeChanges))).toHaveLength(1);

      const answer = await refused(() => as('lead', '/isms triage accept SC-0001 fine'),
        'You declared AI-0001 yourself, so someone else decides it: another ISMS lead or, where there is none, the management body.', triageStatus);
      expect(answer).toContain('Ask Leo Second (ISMS lead).');
      await refused(() => as('lead', '/isms triage reject SC-0001 no'), 'You declared AI-0001 yourself', triageStatus);
      await refused(() => as('board', '/isms triage accept SC-0001 fine'),
        'AI-0001 is for an ISMS lead to decide: the management body steps in only where every ISMS lead had a part in the work.', triageStatus);
      // The declarer's own list says who decides instead of offering buttons that would refuse.
      const own = listIn(await bot.say('lead', '/isms triage', { now })).items[0];
      expect(own.detail).toContain('declared by you on 2026-10-01; another ISMS lead or the management body decides it');
      expect(own.buttons).toBeUndefined();

      expect(await leo('/isms triage accept SC-0001 "assessed"')).toContain('Accepted SC-0001');
      expect((await bot.t.db.select().from(scopeChanges))[0]).toMatchObject({ status: 'accepted', decidedBy: leoId });
    });

    it('with no other ISMS lead, the management body is told of the lead\'s declaration and decides it', async () => {
      await as('lead', '/isms declare ai ChatGPT');
      const told = (await bot.outboxFor('board')).filter((m) => m.kind === 'triage');
      expect(told.map((m) => toPlainText(m.reply as Reply))).toEqual([expect.stringContaining('New for triage: Lena Lead declared the AI tool ChatGPT')]);

      const answer = await refused(() => as('lead', '/isms triage accept SC-0001 fine'), 'You declared AI-0001 yourself', triageStatus);
      expect(answer).toContain('No other ISMS lead is free of it: ask Bruno Board (management body).');
      expect(await as('board', '/isms triage reject SC-0001 "no customer data in US tools"')).toContain('Rejected SC-0001');
      expect((await bot.t.db.select().from(scopeChanges))[0]).toMatchObject({ status: 'rejected', decidedBy: bot.ids.board });
    });
  });

  describe('POA&M extensions', () => {
    beforeEach(async () => {
      await bot.t.db.insert(poamItems).values([
        { ref: 'POAM-0001', weakness: 'No MFA on the VPN', source: 'risk', ownerId: bot.ids.lead, dueOn: '2026-11-30' },
        { ref: 'POAM-0002', weakness: 'Backups never restored', source: 'risk', ownerId: bot.ids.owner, dueOn: '2026-11-30' },
      ]);
    });

    it('the sole ISMS lead decides neither their own request nor one they asked for on another item: the management body does', async () => {
      await as('lead', '/isms poam extend POAM-0001 2026-12-31 "vendor late"'); // PEX-0001 on the lead's own item
      expect((await bot.outboxFor('board')).filter((m) => m.kind === 'poam_extension')).toHaveLength(1);
      const leadsList = listIn(await bot.say('lead', '/isms poam --all', { now })).items.flatMap((i) => i.buttons ?? []).map((b) => b.command);
      expect(leadsList).not.toContain('poam approve PEX-0001');
      const answer = await refused(() => as('lead', '/isms poam approve PEX-0001 ok'),
        'You asked for PEX-0001 yourself, so someone else decides it', extensionState);
      expect(answer).toContain('ask Bruno Board (management body)');
      expect(await as('board', '/isms poam approve PEX-0001 "agreed"')).toContain('Approved PEX-0001: POAM-0001 is now due on 2026-12-31');

      await as('lead', '/isms poam extend POAM-0002 2026-12-31 "Olga is on leave"'); // PEX-0002 on Olga's item
      const pex2 = async () => (await extension('PEX-0002')).status;
      await refused(() => as('lead', '/isms poam reject PEX-0002 no'), 'You asked for PEX-0002 yourself', pex2);
      expect(await as('board', '/isms poam reject PEX-0002 "Olga\'s deputy takes it over"')).toContain('Rejected PEX-0002');
      expect(await extension('PEX-0002')).toMatchObject({ status: 'rejected', decidedBy: bot.ids.board });
    });

    it('another ISMS lead decides a lead\'s request, the management body is refused, and an owning lead does not decide either', async () => {
      const leo = await addSecondLead();
      await as('owner', '/isms poam extend POAM-0002 2026-12-31 "supplier late"'); // PEX-0001, asked by Olga
      await refused(() => as('board', '/isms poam approve PEX-0001 ok'), 'PEX-0001 is for an ISMS lead to decide', extensionState);
      expect(await leo('/isms poam approve PEX-0001 "agreed"')).toContain('Approved PEX-0001');

      await as('owner', '/isms poam extend POAM-0002 2027-01-31 "again"'); // PEX-0002
      expect(await as('lead', '/isms poam approve PEX-0002 ok')).toContain('Approved PEX-0002');

      // Leo asks for more time on Lena's item: both leads had a part in it, so the management body decides.
      await leo('/isms poam extend POAM-0001 2026-12-31 "vendor late"'); // PEX-0003
      const pex3 = async () => (await extension('PEX-0003')).status;
      await refused(() => as('lead', '/isms poam approve PEX-0003 ok'), 'You own POAM-0001, which PEX-0003 would extend, so someone else decides it', pex3);
      await refused(() => leo('/isms poam approve PEX-0003 ok'), 'You asked for PEX-0003 yourself', pex3);
      expect(await as('board', '/isms poam approve PEX-0003 ok')).toContain('Approved PEX-0003');
    });
  });

  describe('closing findings', () => {
    beforeEach(async () => { await loadReferenceData(bot.t.db); });
    it('the lead who completed the corrective action does not close the finding; the sole lead\'s goes to the management body', async () => {
      await as('auditor', '/isms finding add minor_nc 9.2 "No audit programme" --owner olga@test.example --due 2026-12-31'); // AF-0001, POAM-0001
      expect(await as('lead', '/isms poam done POAM-0001 "programme approved"')).toContain('Marked POAM-0001');
      expect(await as('board', '/isms poam verify POAM-0001')).toContain('Verified POAM-0001');
      const answer = await refused(() => as('lead', '/isms finding close AF-0001 "programme approved"'),
        'You completed POAM-0001, the corrective action of AF-0001, yourself, so someone else closes it', findingStatus);
      expect(answer).toContain('ask Bruno Board (management body)');
      await refused(() => as('owner', '/isms finding close AF-0001 "done"'), 'Only the ISMS lead, an auditor or the management body may use', findingStatus);
      expect(await as('board', '/isms finding close AF-0001 "programme approved"')).toContain('Closed AF-0001');
    });

    it('a lead who owns the corrective action is refused, so is the management body while another lead is free; that lead closes', async () => {
      const leo = await addSecondLead();
      await as('auditor', '/isms finding add minor_nc 9.2 "No audit programme" --owner lena@test.example --due 2026-12-31');
      await as('lead', '/isms poam done POAM-0001 "programme approved"');
      expect(await leo('/isms poam verify POAM-0001')).toContain('Verified POAM-0001');
      await refused(() => as('lead', '/isms finding close AF-0001 "programme approved"'), 'You completed POAM-0001', findingStatus);
      await refused(() => as('board', '/isms finding close AF-0001 "programme approved"'), 'AF-0001 is for an ISMS lead to decide', findingStatus);
      expect(await leo('/isms finding close AF-0001 "programme approved"')).toContain('Closed AF-0001');
    });
  });

  it('an auditor who owns a control neither raises nor closes findings against its clause; another auditor does', async () => {
    const control = await addControl(bot.t.db, { code: 'CTL-AC-01', ownerId: bot.ids.auditor });
    const [a515] = await bot.t.db.insert(frameworkRequirements).values({ framework: 'ISO27001:2022', reference: 'A.5.15' }).returning();
    await bot.t.db.insert(controlMappings).values({ controlId: control.id, requirementId: a515.id });
    const alan = await addPerson('Alan Second', 'alan@test.example', ['auditor']);

    const answer = await refused(() => as('auditor', '/isms finding add ofi A.5.15 "Use the HR leaver feed"'),
      'You own CTL-AC-01, a control for A.5.15, so someone else raises findings on it: another auditor (ISO 27001 cl. 9.2', findingStatus);
    expect(answer).toContain('Ask Alan Second (auditor).');
    expect(await alan('/isms finding add ofi A.5.15 "Use the HR leaver feed"')).toContain('Recorded AF-0001');
    await refused(() => as('auditor', '/isms finding close AF-0001 "wired in"'), 'You own CTL-AC-01, a control for A.5.15, so someone else closes findings on it', findingStatus);
    expect(await alan('/isms finding close AF-0001 "wired in"')).toContain('Closed AF-0001');
  });
});
