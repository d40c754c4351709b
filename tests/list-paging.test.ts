import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  assets, auditFindings, controls, evidenceRequests, interestedParties, managementApprovals, managementReviews, risks, scopeChanges,
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
