import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import {
  assets, auditFindings, controls, evidenceRequests, interestedParties, managementApprovals, managementReviews, poamClosures, poamItems, risks, scopeChanges,
} from '../src/db/schema/index.js';
import { FAULT_TEXT } from '../src/core/inbound.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { expectPagesOf, listIn, refsIn } from './helpers/paging.js';

/** 125 entries: 13 pages, the middle ones far enough from both ends for their buttons to carry a position. */
const ROWS = 125;
const pad = (i: number) => String(i).padStart(4, '0');

describe('paging long lists: the same pages, buttons and page numbers at any position', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  describe('evidence review queue, soonest due first', () => {
    // Due dates that do not follow the references, several requests sharing each date; every fourth request is still open.
    const dueOn = (i: number) => `2027-01-${String((i * 7) % 28 + 1).padStart(2, '0')}`;
    let queue: string[];
    beforeEach(async () => {
      const [{ id: controlId }] = await bot.t.db.insert(controls).values({ code: 'CTL-PG-01', title: 'Paging', ownerId: bot.ids.owner }).returning();
      const rows = Array.from({ length: ROWS + 40 }, (_, k) => ({
        ref: `EVR-${pad(k + 1)}`, controlId, ownerId: bot.ids.owner, dueOn: dueOn(k + 1), cycle: `2027-${k + 1}`,
        status: (k % 4 === 3 && k < 160 ? 'open' : 'submitted') as 'open' | 'submitted',
      }));
      await bot.t.db.insert(evidenceRequests).values(rows);
      queue = rows.filter((r) => r.status === 'submitted')
        .sort((a, b) => a.dueOn.localeCompare(b.dueOn) || a.ref.localeCompare(b.ref)).map((r) => r.ref);
    });

    it('walks the queue forward and back in due-date order, each submission exactly once, as typed page numbers show it', async () => {
      expect(queue.length).toBe(125);
      const forward = await expectPagesOf(bot, 'lead', 'evidence review', queue);
      expect(forward[12].number).toBe(13);
    });

    it('refuses a tampered or stale page button with what is wrong with it', async () => {
      const next = listIn(await bot.say('lead', '/isms evidence review --page 6')).page!.next!;
      expect(refsIn(await bot.say('lead', `/isms ${next}`))).toEqual(queue.slice(60, 70));
      for (const [line, expected] of [
        ['evidence review --page 7 --after 999999', 'That page button no longer matches the list of evidence waiting for review'],
        ['evidence review --page 7 --after x', 'after: must be the position a Next or Previous button carries'],
        [next.replace('--page 7', '--page 8'), 'That page button no longer matches the list of evidence waiting for review'],
      ]) {
        const answer = await bot.sayText('lead', `/isms ${line}`);
        expect(answer, line).toContain(expected);
        expect(answer, line).not.toContain(FAULT_TEXT);
      }
    });
  });

  describe('POA&M, soonest due first', () => {
    const now = new Date('2027-01-15T09:00:00Z');
    // Due dates that do not follow the references, several items sharing each date; owners alternate; every
    // seventh item is completed (not listed), every eleventh says it is done and waits for verification.
    const dueOn = (i: number) => `2027-01-${String((i * 7) % 28 + 1).padStart(2, '0')}`;
    const status = (k: number) => (k % 7 === 6 ? 'completed' : k % 11 === 10 ? 'awaiting_verification' : k % 2 ? 'in_progress' : 'open');
    /** `count` items as above; the listed ones in list order, and the owner's. */
    const seed = async (count: number) => {
      const rows = Array.from({ length: count }, (_, k) => ({
        ref: `POAM-${pad(k + 1)}`, weakness: `Weakness ${k + 1}`, source: 'risk' as const, ownerId: k % 3 === 2 ? bot.ids.staff : bot.ids.owner,
        dueOn: dueOn(k + 1), status: status(k) as 'open' | 'in_progress' | 'completed' | 'awaiting_verification',
      }));
      const inserted = await bot.t.db.insert(poamItems).values(rows).returning();
      const awaiting = inserted.filter((i) => i.status === 'awaiting_verification');
      if (awaiting.length) {
        await bot.t.db.insert(poamClosures).values(awaiting.map((i) => ({ ref: `PCL-${i.ref.slice(5)}`, itemId: i.id, text: 'done', submittedBy: i.ownerId })));
      }
      const listed = rows.filter((r) => r.status !== 'completed').sort((a, b) => a.dueOn.localeCompare(b.dueOn) || a.ref.localeCompare(b.ref));
      return { listed, all: listed.map((r) => r.ref), owners: listed.filter((r) => r.ownerId === bot.ids.owner).map((r) => r.ref) };
    };
    /** Its owner says the item is done (unless they already did) and the ISMS lead verifies it: it leaves the list. */
    const close = async (ref: string) => {
      const [item] = await bot.t.db.select().from(poamItems).where(eq(poamItems.ref, ref));
      if (item.status !== 'awaiting_verification') {
        expect(await bot.sayText(item.ownerId === bot.ids.owner ? 'owner' : 'staff', `/isms poam done ${ref} "patched"`, { now })).toContain('awaiting verification');
      }
      expect(await bot.sayText('lead', `/isms poam verify ${ref}`, { now })).toContain(`Verified ${ref}`);
    };

    it("walks everyone's items (--all) and an owner's own forward and back, each item once, counting the whole list", async () => {
      const { listed, all, owners } = await seed(250);
      expect(owners.length).toBeGreaterThan(120);
      await expectPagesOf(bot, 'lead', 'poam --all', all);
      await expectPagesOf(bot, 'owner', 'poam', owners);
      // The counts are the whole list's, whichever page is shown.
      const awaiting = listed.filter((r) => r.status === 'awaiting_verification');
      const open = listed.filter((r) => r.status !== 'awaiting_verification');
      const overdue = open.filter((r) => r.dueOn < '2027-01-15');
      const page9 = await bot.sayText('lead', '/isms poam --all --page 9', { now });
      expect(page9).toContain(`Open POA&M items: ${open.length}, ${overdue.length} overdue; ${awaiting.length} completed, awaiting verification.`);
      const mine = (r: { ownerId: number }) => r.ownerId === bot.ids.owner;
      expect(await bot.sayText('owner', '/isms poam --page 2', { now })).toContain(
        `Your open POA&M items: ${open.filter(mine).length}, ${overdue.filter(mine).length} overdue; ${awaiting.filter(mine).length} completed, awaiting verification.`);
      const pages = Math.ceil(all.length / 10);
      expect(await bot.sayText('lead', `/isms poam --all --page ${pages + 1}`, { now }))
        .toContain(`The list of open POA&M items has ${pages} pages, so there is no page ${pages + 1}.`);
    });

    it('page 2 of 25 shows items 11 to 20 soonest due first; Next after an item on the page is closed shows the next page as it now is', async () => {
      const { all } = await seed(29);
      expect(all.length).toBe(25);
      const page2 = await bot.say('lead', '/isms poam --all --page 2', { now });
      expect(refsIn(page2)).toEqual(all.slice(10, 20));
      expect(listIn(page2).page).toMatchObject({ number: 2, total: 3, next: 'poam --all --page 3', previous: 'poam --all --page 1' });
      const closed = all[13];
      await close(closed);
      const next = await bot.say('lead', `/isms ${listIn(page2).page!.next}`, { now });
      expect(refsIn(next)).toEqual(all.filter((ref) => ref !== closed).slice(20, 30));
      expect(listIn(next).page).toMatchObject({ number: 3, total: 3, next: undefined });
    });

    it("a middle page's Next, once an item before its position is closed, says so and which page to type instead", async () => {
      const { all } = await seed(170);
      const page7 = await bot.say('lead', '/isms poam --all --page 7', { now });
      const next = listIn(page7).page!.next!;
      expect(next).toMatch(/^poam --all --page 8 --after \d+$/);
      await close(all[65]);
      const refused = await bot.sayText('lead', `/isms ${next}`, { now });
      expect(refused).toContain('That page button no longer matches the list of open POA&M items');
      expect(refused).toContain('"/isms poam --all --page 8" shows page 8 as it is now.');
      expect(refused).not.toContain(FAULT_TEXT);
      expect(refsIn(await bot.say('lead', '/isms poam --all --page 8', { now }))).toEqual(all.filter((ref) => ref !== all[65]).slice(70, 80));
    });
  });

  it('an owner\'s open evidence requests, soonest due first, counted whole', async () => {
    const [{ id: controlId }] = await bot.t.db.insert(controls).values({ code: 'CTL-PG-02', title: 'Paging', ownerId: bot.ids.owner }).returning();
    // Due dates that do not follow the references; every fifth request is someone else's, every seventh already submitted.
    const rows = Array.from({ length: 190 }, (_, k) => ({
      ref: `EVR-${pad(k + 1)}`, controlId, ownerId: k % 5 === 4 ? bot.ids.staff : bot.ids.owner, dueOn: `2027-02-${String((k * 11) % 28 + 1).padStart(2, '0')}`,
      cycle: `2027-${k + 1}`, status: (k % 7 === 6 ? 'submitted' : 'open') as 'open' | 'submitted',
    }));
    await bot.t.db.insert(evidenceRequests).values(rows);
    const mine = rows.filter((r) => r.ownerId === bot.ids.owner && r.status === 'open')
      .sort((a, b) => a.dueOn.localeCompare(b.dueOn) || a.ref.localeCompare(b.ref)).map((r) => r.ref);
    expect(mine.length).toBeGreaterThan(120);
    await expectPagesOf(bot, 'owner', 'evidence', mine);
    expect(await bot.sayText('owner', '/isms evidence --page 3')).toContain(`You have ${mine.length} open evidence requests.`);
    const pages = Math.ceil(mine.length / 10);
    expect(await bot.sayText('owner', `/isms evidence --page ${pages + 1}`))
      .toContain(`Your list of open evidence requests has ${pages} pages, so there is no page ${pages + 1}.`);
  });

  it('risk register: an owner walks the risks they own, the lead the whole register', async () => {
    // Every fifth risk belongs to someone else: the owner's list skips it, the lead's shows it.
    const rows = Array.from({ length: 160 }, (_, k) => ({
      ref: `RSK-${pad(k + 1)}`, title: `Risk ${k + 1}`, likelihood: 2, impact: 3, inherentScore: 6, residualScore: 4,
      treatment: 'mitigate' as const, ownerId: k % 5 === 4 ? bot.ids.staff : bot.ids.owner,
    }));
    await bot.t.db.insert(risks).values(rows);
    await expectPagesOf(bot, 'owner', 'risks', rows.filter((r) => r.ownerId === bot.ids.owner).map((r) => r.ref));
    await expectPagesOf(bot, 'lead', 'risks', rows.map((r) => r.ref));
  });

  it('asset register and interested parties: the entries in use, or every one with --all', async () => {
    const retired = (k: number) => (k % 6 === 5 ? new Date('2026-01-01T00:00:00Z') : null);
    const assetRows = Array.from({ length: 150 }, (_, k) => ({ ref: `AST-${pad(k + 1)}`, name: `Asset ${k + 1}`, retiredAt: retired(k), retiredReason: retired(k) && 'gone' }));
    await bot.t.db.insert(assets).values(assetRows);
    await expectPagesOf(bot, 'lead', 'assets', assetRows.filter((a) => !a.retiredAt).map((a) => a.ref));
    await expectPagesOf(bot, 'lead', 'assets --all', assetRows.map((a) => a.ref));

    const partyRows = Array.from({ length: 150 }, (_, k) => ({ name: `Party-${pad(k + 1)} group`, retiredAt: retired(k), retiredReason: retired(k) && 'gone' }));
    await bot.t.db.insert(interestedParties).values(partyRows);
    await expectPagesOf(bot, 'lead', 'parties', partyRows.filter((p) => !p.retiredAt).map((p) => p.name.split(' ')[0]));
  });

  it('approvals: those waiting oldest first, and with --all every request newest first', async () => {
    // Every sixth request went stale: it no longer waits, but --all lists it.
    const rows = Array.from({ length: 150 }, (_, k) => ({
      ref: `APR-${pad(k + 1)}`, subjectKind: 'risk_acceptance', subjectRef: `RSK-${pad(k + 1)}`, title: `Accept RSK-${pad(k + 1)}`,
      state: {}, stateSha256: 'x', requestedBy: bot.ids.lead, staleAt: k % 6 === 5 ? new Date('2026-01-01T00:00:00Z') : null,
    }));
    await bot.t.db.insert(managementApprovals).values(rows);
    await expectPagesOf(bot, 'lead', 'approvals', rows.filter((r) => !r.staleAt).map((r) => r.ref));
    await expectPagesOf(bot, 'lead', 'approvals --all', rows.map((r) => r.ref).reverse());
  });

  it('triage and audit findings: what waits, oldest first', async () => {
    const changes = Array.from({ length: 150 }, (_, k) => ({
      ref: `SCP-${pad(k + 1)}`, kind: 'new_geography' as const, subject: `Region ${k + 1}`, declaredBy: bot.ids.staff,
      status: (k % 6 === 5 ? 'rejected' : 'proposed') as 'rejected' | 'proposed',
    }));
    await bot.t.db.insert(scopeChanges).values(changes);
    await expectPagesOf(bot, 'lead', 'triage', changes.filter((c) => c.status === 'proposed').map((c) => c.ref));

    const findings = Array.from({ length: 150 }, (_, k) => ({
      ref: `AF-${pad(k + 1)}`, type: 'observation' as const, description: `Finding ${k + 1}`, status: (k % 6 === 5 ? 'closed' : 'open') as 'closed' | 'open',
    }));
    await bot.t.db.insert(auditFindings).values(findings);
    await expectPagesOf(bot, 'lead', 'findings', findings.filter((f) => f.status === 'open').map((f) => f.ref));
    await expectPagesOf(bot, 'lead', 'findings --all', findings.map((f) => f.ref));
  });

  it('management reviews: newest held first, reviews held on the same day newest recorded first', async () => {
    // Held on dates that do not follow the references, several on the same day.
    const rows = Array.from({ length: 125 }, (_, k) => ({
      ref: `MR-${pad(k + 1)}`, heldOn: `2026-${String((k * 5) % 12 + 1).padStart(2, '0')}-15`, attendees: [], inputs: 'Inputs',
    }));
    await bot.t.db.insert(managementReviews).values(rows);
    const newestFirst = [...rows].sort((a, b) => b.heldOn.localeCompare(a.heldOn) || b.ref.localeCompare(a.ref)).map((r) => r.ref);
    await expectPagesOf(bot, 'lead', 'reviews', newestFirst);
  });
});
