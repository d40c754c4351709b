import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { and, asc, eq } from 'drizzle-orm';
import {
  ackCampaigns, auditEvents, managementApprovals, outbox, people, policies, policyAcknowledgements, policyVersions,
} from '../src/db/schema/index.js';
import { findForm, toPlainText, type Reply } from '../src/core/reply.js';
import { createTestBot, type CastKey, type TestBot } from './helpers/bot.js';
import { expectPagesOf, listIn, refsIn } from './helpers/paging.js';

const NOW = new Date('2026-06-15T09:00:00Z');
const at = { now: NOW };
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

describe('policy lifecycle', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  /** Everything a refused command must leave as it was. */
  const written = async () => ({
    audit: await bot.auditCount(),
    policies: (await bot.t.db.select().from(policies)).length,
    versions: (await bot.t.db.select().from(policyVersions)).length,
    approvals: (await bot.t.db.select().from(managementApprovals)).length,
    campaigns: (await bot.t.db.select().from(ackCampaigns)).length,
    outbox: (await bot.t.db.select().from(outbox)).length,
  });
  const requestsAbout = (subjectRef: string) => bot.t.db.select().from(managementApprovals)
    .where(eq(managementApprovals.subjectRef, subjectRef)).orderBy(asc(managementApprovals.id));
  const pendingAbout = async (subjectRef: string) => {
    const [pending] = await bot.t.db.select().from(managementApprovals)
      .where(and(eq(managementApprovals.subjectRef, subjectRef), eq(managementApprovals.status, 'pending')));
    return pending;
  };
  const versionRow = async (policyRef: string, version: string) => {
    const [row] = await bot.t.db.select({ v: policyVersions }).from(policyVersions).innerJoin(policies, eq(policies.id, policyVersions.policyId))
      .where(and(eq(policies.ref, policyRef), eq(policyVersions.version, version)));
    return row.v;
  };
  /** Adds in-scope staff so that lists run over more than one page. */
  const addStaff = async (n: number) => {
    for (let i = 1; i <= n; i++) {
      await bot.t.db.insert(people).values({ name: `Zed Extra ${String(i).padStart(2, '0')}`, email: `zed${i}@test.example`, roles: ['staff'], inScope: true });
    }
  };

  describe('/isms policy add', () => {
    it('the ISMS lead adds a policy with owner and first text: POL ref, audit events, version 1.0 sent to the management body', async () => {
      const before = await written();
      const answer = await bot.sayText('lead', '/isms policy add Acceptable   use --owner @Olga --text "Use company devices with care."', at);
      expect(answer).toContain('Added POL-0001 Acceptable use to the policy register.');
      expect(answer).toContain('Owner: Olga Owner <olga@test.example>');
      expect(answer).toContain('Published POL-0001 Acceptable use version 1.0.');
      expect(answer).toContain('Management-body approval: awaiting management-body approval (APR-0001)');

      const [policy] = await bot.t.db.select().from(policies);
      expect(policy).toMatchObject({ ref: 'POL-0001', title: 'Acceptable use', ownerId: bot.ids.owner });
      const v1 = await versionRow('POL-0001', '1.0');
      expect(v1).toMatchObject({ content: 'Use company devices with care.', contentSha256: sha256('Use company devices with care.'), publishedBy: bot.ids.lead, approvedBy: null });
      const [request] = await requestsAbout('POL-0001 v1.0');
      expect(request).toMatchObject({ ref: 'APR-0001', subjectKind: 'policy_version', status: 'pending', requestedBy: bot.ids.lead });
      expect(request.state).toEqual({ policy: 'POL-0001', version: '1.0', contentSha256: sha256('Use company devices with care.'), url: null });
      const actions = (await bot.t.db.select().from(auditEvents)).slice(before.audit).map((e) => `${e.action} ${e.entity} ${e.entityRef}`);
      expect(actions).toEqual(['create policy POL-0001', 'publish policy_version POL-0001 v1.0', 'request management_approval APR-0001']);
      const card = (await bot.outboxFor('board')).map((m) => toPlainText(m.reply as Reply));
      expect(card).toHaveLength(1);
      expect(card[0]).toContain('Lena Lead asks the management body to approve Acceptable use POL-0001 version 1.0 (APR-0001).');
      expect(card[0]).toContain(`Content SHA-256: ${sha256('Use company devices with care.')}`);
      expect(await bot.outboxFor('lead')).toEqual([]);
    });

    it('without text it only registers the policy; the form asks title, owner, text and link', async () => {
      expect(await bot.sayText('lead', '/isms policy add Clean desk --owner olga@test.example', at))
        .toContain('Publish its first version with "/isms policy publish POL-0001 <text>"');
      expect(await bot.t.db.select().from(policyVersions)).toEqual([]);
      expect(await bot.t.db.select().from(managementApprovals)).toEqual([]);
      expect(findForm(await bot.say('lead', '/isms policy add', at))?.fields.map((f) => f.name)).toEqual(['title', 'owner', 'text', 'url']);
    });

    it('a title already in the register (case and spacing aside) is pointed at; other roles are refused; nothing is written', async () => {
      await bot.say('lead', '/isms policy add Clean Desk', at);
      const before = await written();
      expect(await bot.sayText('lead', '/isms policy add "  clean   DESK " --text "Clear your desk every evening."', at))
        .toContain('There is already a policy called Clean Desk: POL-0001.');
      for (const who of ['board', 'owner', 'staff', 'auditor'] as CastKey[]) {
        expect(await bot.sayText(who, '/isms policy add Remote work --text "Work safely from home."', at)).toContain('Only the ISMS lead may use "/isms policy add"');
      }
      expect(await bot.sayText('lead', '/isms policy add Remote work --owner nobody@test.example', at)).toContain('owner: nobody in the register');
      expect(await bot.sayText('lead', '/isms policy add Remote work --text Work safely from home', at)).toContain('Put the text in double quotes after --text');
      expect(await written()).toEqual(before);
    });
  });

  describe('management-body approval of major versions', () => {
    it('the publisher, even as a management-body member, cannot approve; another member does, and approved_by is filled by that decision', async () => {
      await bot.t.db.update(people).set({ roles: ['isms_lead', 'management_body', 'staff'] }).where(eq(people.id, bot.ids.lead));
      await bot.say('lead', '/isms policy add Passwords --text "Use a password manager and long passphrases."', at);
      const request = await pendingAbout('POL-0001 v1.0');
      expect((await bot.outboxFor('lead')).filter((m) => m.kind === 'approval')).toEqual([]);

      const before = await written();
      const own = await bot.sayText('lead', `/isms approve ${request.ref}`, at);
      expect(own).toContain(`so another member of the management body decides ${request.ref}`);
      expect(own).toContain('Ask Bruno Board.');
      for (const who of ['owner', 'staff', 'auditor'] as CastKey[]) {
        expect(await bot.sayText(who, `/isms approve ${request.ref}`, at)).toContain('Only the management body may use "/isms approve"');
      }
      expect(await written()).toEqual(before);
      expect((await versionRow('POL-0001', '1.0')).approvedBy).toBeNull();

      const decidedAt = new Date('2026-06-16T10:00:00Z');
      expect(await bot.sayText('board', `/isms approve ${request.ref}`, { now: decidedAt })).toContain(`Approved: Passwords POL-0001 version 1.0 (${request.ref}).`);
      const approved = await versionRow('POL-0001', '1.0');
      expect(approved.approvedBy).toBe(bot.ids.board);
      expect(approved.approvedAt?.toISOString()).toBe(decidedAt.toISOString());
      const [event] = await bot.t.db.select().from(auditEvents).where(and(eq(auditEvents.entity, 'policy_version'), eq(auditEvents.action, 'approve')));
      expect(event).toMatchObject({ entityRef: 'POL-0001 v1.0', actorId: bot.ids.board });

      // A minor version rests on 1.0's approval: nothing is asked, and its campaign may start.
      const minor = await bot.sayText('lead', '/isms policy publish POL-0001 "Use a password manager, long passphrases and MFA."', at);
      expect(minor).toContain('Published POL-0001 Passwords version 1.1.');
      expect(minor).toContain(`Management-body approval: minor version of 1.0, which is approved by Bruno Board on 2026-06-16 (${request.ref})`);
      expect(await requestsAbout('POL-0001 v1.1')).toEqual([]);
      expect(await bot.sayText('lead', '/isms campaign POL-0001', at)).toContain('Started CMP-0001 for POL-0001 Passwords version 1.1');
    });

    it('a campaign waits for approval (naming the request and who can decide) and starts after it', async () => {
      await bot.say('lead', '/isms policy add Backup --text "Back up daily and test restores monthly."', at);
      const request = await pendingAbout('POL-0001 v1.0');
      const before = await written();
      const refused = await bot.sayText('lead', '/isms campaign POL-0001', at);
      expect(refused).toContain(`POL-0001 Backup version 1.0 waits for the management body's approval (${request.ref}), so no campaign starts yet.`);
      expect(refused).toContain(`Bruno Board can approve it with "/isms approve ${request.ref}"`);
      expect(await written()).toEqual(before);

      await bot.say('board', `/isms reject ${request.ref} restore tests must be quarterly at least`, at);
      const rejected = await written();
      expect(await bot.sayText('lead', '/isms campaign POL-0001', at))
        .toContain(`is not approved by the management body: rejected by Bruno Board on 2026-06-15: restore tests must be quarterly at least (${request.ref}). No campaign starts.`);
      expect(await written()).toEqual(rejected);

      await bot.say('lead', '/isms policy publish POL-0001 2.0 --major "Back up daily, test restores quarterly."', at);
      const second = await pendingAbout('POL-0001 v2.0');
      await bot.say('board', `/isms approve ${second.ref}`, at);
      expect(await bot.sayText('lead', '/isms campaign POL-0001', at)).toContain('Started CMP-0001 for POL-0001 Backup version 2.0: asked 5 people');
    });

    it('a new text for a version nobody was asked about makes its pending or approved decision stale and is asked again', async () => {
      await bot.say('lead', '/isms policy add Remote work', at);
      await bot.say('lead', '/isms policy publish POL-0001 2.0 "Work from home on managed devices."', at);
      const first = await pendingAbout('POL-0001 v2.0');

      const revised = await bot.sayText('lead', '/isms policy publish POL-0001 2.0 "Work from home or abroad on managed devices."', at);
      expect(revised).toContain('Replaced the text of POL-0001 Remote work version 2.0; nobody had been asked to acknowledge it yet.');
      const [withdrawn, second] = await requestsAbout('POL-0001 v2.0');
      expect(withdrawn).toMatchObject({ ref: first.ref, status: 'withdrawn' });
      expect(withdrawn.staleReason).toContain('the text of POL-0001 version 2.0 was replaced');
      expect(second).toMatchObject({ status: 'pending', staleAt: null });
      expect(second.state).toMatchObject({ contentSha256: sha256('Work from home or abroad on managed devices.') });
      expect(await bot.sayText('board', `/isms approve ${first.ref}`, at)).toContain(`${first.ref} was withdrawn`);

      await bot.say('board', `/isms approve ${second.ref}`, at);
      expect((await versionRow('POL-0001', '2.0')).approvedBy).toBe(bot.ids.board);
      await bot.say('lead', '/isms policy publish POL-0001 2.0 "Work from home only, on managed devices."', at);
      const [, approvedThen, third] = await requestsAbout('POL-0001 v2.0');
      expect(approvedThen).toMatchObject({ ref: second.ref, status: 'approved' });
      expect(approvedThen.staleAt?.toISOString()).toBe(NOW.toISOString());
      expect(third).toMatchObject({ status: 'pending' });
      expect(await versionRow('POL-0001', '2.0')).toMatchObject({ content: 'Work from home only, on managed devices.', approvedBy: null, approvedAt: null });
      expect(await bot.sayText('auditor', '/isms policies --all', at)).toContain(`Management-body approval: awaiting management-body approval (${third.ref})`);
      expect(await bot.sayText('lead', '/isms campaign POL-0001', at)).toContain(`(${third.ref}), so no campaign starts yet`);

      // Once people are asked, the text stays: a change is a new version.
      await bot.say('board', `/isms approve ${third.ref}`, at);
      await bot.say('lead', '/isms campaign POL-0001', at);
      const before = await written();
      expect(await bot.sayText('lead', '/isms policy publish POL-0001 2.0 "Something else"', at)).toContain('People have been asked to acknowledge it, so its text stays');
      expect(await written()).toEqual(before);
    });

    it('a version recorded before approvals in chat is sent to the management body by publishing the same text again, once', async () => {
      const [policy] = await bot.t.db.insert(policies).values({ ref: 'POL-0001', title: 'Old policy' }).returning();
      await bot.t.db.insert(policyVersions).values({ policyId: policy.id, version: '1.0', major: 1, minor: 0, content: 'Old text', contentSha256: sha256('Old text') });
      expect(await bot.sayText('lead', '/isms campaign POL-0001', at)).toContain('not submitted to the management body');
      expect(await bot.sayText('lead', '/isms policy publish POL-0001 1.0 "Old text"', at)).toContain('Asked the management body to approve POL-0001 Old policy version 1.0 as published.');
      const before = await written();
      expect(await bot.sayText('lead', '/isms policy publish POL-0001 1.0 "Old text"', at)).toContain('already published with this text and waits for the management body\'s approval (APR-0001)');
      expect(await written()).toEqual(before);
    });
  });

  describe('/isms campaign', () => {
    const approvedPolicy = async (title: string, content: string, extra = '') => {
      await bot.say('lead', `/isms policy add ${title} ${extra} --text "${content}"`, at);
      const [policy] = await bot.t.db.select().from(policies).where(eq(policies.title, title));
      await bot.say('board', `/isms approve ${(await pendingAbout(`${policy.ref} v1.0`)).ref}`, at);
      return policy;
    };
    /**
     * `count` more people in scope (the k-th named `name(k)`), a campaign of a new policy to everyone, and those
     * `acknowledges` picks acknowledged: everyone's emails in the order the lists show them, by whether they acknowledged.
     * Names are ordered with ASCII letters case-blind and every other character by its code, ties by who was added first.
     */
    const largeCampaign = async (count: number, name: (k: number) => string, email: (k: number) => string, acknowledges: (k: number) => boolean) => {
      const extra = await bot.t.db.insert(people).values(Array.from({ length: count }, (_, k) => ({
        name: name(k), email: email(k), roles: ['staff' as const], inScope: true,
      }))).returning();
      const policy = await approvedPolicy('Clean desk', 'Leave nothing on your desk.');
      await bot.say('lead', `/isms campaign ${policy.ref}`, at);
      const version = await versionRow(policy.ref, '1.0');
      const acknowledge = (who: typeof extra) => bot.t.db.insert(policyAcknowledgements).values(who.map((p) => ({
        personId: p.id, policyVersionId: version.id, contentSha256: version.contentSha256, acknowledgedAt: NOW, channel: 'slack',
      })));
      const acked = extra.filter((_, k) => acknowledges(k));
      await acknowledge(acked);
      const key = (n: string) => n.replace(/[A-Z]/g, (c) => c.toLowerCase());
      const everyone = [...await bot.t.db.select().from(people)].sort((a, b) => (key(a.name) < key(b.name) ? -1 : key(a.name) > key(b.name) ? 1 : a.id - b.id));
      const pending = everyone.filter((p) => !acked.some((a) => a.id === p.id)).map((p) => p.email);
      const done = everyone.filter((p) => acked.some((a) => a.id === p.id)).map((p) => p.email);
      return { policy, extra, acknowledge, pending, done };
    };
    type ListBlock = Extract<Reply['blocks'][number], { type: 'list' }>;
    const list = (r: Reply, title: string) => r.blocks.find((b): b is ListBlock => b.type === 'list' && b.title === title)!;
    const emails = (r: Reply, title: string) => list(r, title).items.map((i) => i.detail!.split(',')[0]);

    it('the same version and audience with an open campaign is pointed at, with its progress; nobody is asked twice', async () => {
      const policy = await approvedPolicy('Access control', 'Grant the least privilege needed.');
      await bot.say('lead', `/isms campaign ${policy.ref}`, at);
      await bot.say('staff', `/isms ack ${policy.ref}`, at);
      const before = await written();
      const again = await bot.sayText('lead', `/isms campaign ${policy.ref} all`, at);
      expect(again).toContain(`CMP-0001 already asks everyone in scope to acknowledge ${policy.ref} Access control version 1.0: 1 of 5 people acknowledged so far.`);
      expect(again).toContain('[Who has not acknowledged yet] /isms campaign status CMP-0001');
      expect(await bot.sayText('lead', `/isms campaign ${policy.ref} role:control_owner`, at)).toContain('Started CMP-0002');
      const afterRole = await written();
      expect(await bot.sayText('lead', `/isms campaign ${policy.ref} role:control_owner`, at)).toContain('CMP-0002 already asks everyone with role:control_owner');
      expect(await bot.sayText('lead', `/isms campaign ${policy.ref} sam@test.example, olga@test.example`, at)).toContain('Started CMP-0003');
      expect(await bot.sayText('lead', `/isms campaign ${policy.ref} olga@test.example sam@test.example`, at)).toContain('CMP-0003 already asks these people');
      expect(before.campaigns + 2).toBe((await written()).campaigns);
      expect(afterRole.outbox).toBe(before.outbox + 1);
    });

    it('an ISMS lead in New York reads the days a campaign started and people acknowledged on their own calendar', async () => {
      await bot.t.db.update(people).set({ timezone: 'America/New_York' }).where(eq(people.id, bot.ids.lead));
      const policy = await approvedPolicy('Access control', 'Grant the least privilege needed.');
      // 01:30 UTC on 16 June: 21:30 on 15 June in New York.
      const evening = { now: new Date('2026-06-16T01:30:00Z') };
      await bot.say('lead', `/isms campaign ${policy.ref}`, evening);
      await bot.say('staff', `/isms ack ${policy.ref}`, evening);
      expect(await bot.sayText('lead', `/isms campaign ${policy.ref}`, evening)).toContain('Campaign: CMP-0001, started 2026-06-15');
      const status = await bot.sayText('lead', '/isms campaign status CMP-0001', evening);
      expect(status).toContain('Campaign: CMP-0001, started 2026-06-15 by Lena Lead');
      expect(status).toContain('sam@test.example, on 2026-06-15');
      await bot.say('lead', `/isms ack ${policy.ref}`, evening);
      expect(await bot.sayText('lead', `/isms ack ${policy.ref}`, evening)).toContain('version 1.0 on 2026-06-15. Nothing new was recorded.');
    });

    it('"campaign status CMP-…" shows any campaign, with who has and has not acknowledged, page by page', async () => {
      await addStaff(12);
      const policy = await approvedPolicy('Incident reporting', 'Report incidents within one hour.');
      await bot.say('lead', `/isms campaign ${policy.ref} role:control_owner`, at);
      await bot.say('lead', `/isms campaign ${policy.ref}`, at);
      for (const who of ['staff', 'owner', 'auditor'] as CastKey[]) await bot.say(who, `/isms ack ${policy.ref}`, at);

      const older = await bot.sayText('lead', '/isms campaign status CMP-1', at);
      expect(older).toContain(`${policy.ref} Incident reporting version 1.0: 1 of 1 acknowledged in CMP-0001.`);

      const first = await bot.sayText('lead', '/isms campaign status CMP-0002', at);
      expect(first).toContain('3 of 17 acknowledged in CMP-0002.');
      const [notYet, done] = first.split('\nAcknowledged\n');
      expect(notYet.match(/ {2}• /g)).toHaveLength(10);
      expect(notYet).toContain('Bruno Board');
      expect(notYet).not.toContain('Zed Extra 10');
      expect(done).toContain('Sam Staff — sam@test.example, on 2026-06-15');
      expect(done).toContain('page 1 of 2 — next: /isms campaign status CMP-0002 --page 2');

      const second = await bot.sayText('lead', '/isms campaign status CMP-0002 --page 2', at);
      expect(second.split('\nAcknowledged\n')[0].match(/ {2}• /g)).toHaveLength(4);
      expect(second).toContain('Zed Extra 12');
      expect(second).toContain('No more on this page.');
      expect(await bot.sayText('lead', '/isms campaign status CMP-0002 --page 3', at)).toContain('has 2 pages, so there is no page 3');
      expect(await bot.sayText('lead', '/isms campaign status CMP-0009', at)).toContain('There is no acknowledgement campaign CMP-0009.');
      expect(await bot.sayText('lead', `/isms campaign status ${policy.ref}`, at)).toContain('in CMP-0002');
      expect(await bot.sayText('staff', '/isms campaign status CMP-0002', at)).toContain('Only the ISMS lead may use "/isms campaign status"');
    });

    it('"campaign status" pages a large audience by name, people of the same name in the order they were added, the middle and last pages as the whole list has them', async () => {
      // 60 more people in scope, three of each name; every fourth of them has acknowledged.
      const { policy, pending, done } = await largeCampaign(60, (k) => `Kim Member ${String(Math.floor(k / 3)).padStart(2, '0')}`, (k) => `kim${k}@test.example`,
        (k) => k % 4 === 1);
      expect([pending.length, done.length]).toEqual([50, 15]);

      const middle = await bot.say('lead', '/isms campaign status CMP-0001 --page 3', at);
      expect(toPlainText(middle)).toContain(`${policy.ref} Clean desk version 1.0: 15 of 65 acknowledged in CMP-0001.`);
      expect(emails(middle, 'Not yet acknowledged')).toEqual(pending.slice(20, 30));
      expect(list(middle, 'Acknowledged')).toMatchObject({ items: [], empty: 'No more on this page.', page: { number: 3, total: 5 } });
      const fourth = await bot.say('lead', '/isms campaign status CMP-0001 --page 4', at);
      expect(emails(fourth, 'Not yet acknowledged')).toEqual(pending.slice(30, 40));
      const last = await bot.say('lead', '/isms campaign status CMP-0001 --page 5', at);
      expect(emails(last, 'Not yet acknowledged')).toEqual(pending.slice(40, 50));
      expect(list(last, 'Acknowledged').page).toEqual({ number: 5, total: 5, previous: 'campaign status CMP-0001 --page 4', next: undefined });
      const second = await bot.say('lead', '/isms campaign status CMP-0001 --page 2', at);
      expect(emails(second, 'Acknowledged')).toEqual(done.slice(10, 15));
      expect(list(second, 'Acknowledged').items[0].detail).toBe(`${done[10]}, on 2026-06-15`);
    });

    it('"campaign status" Next and Previous walk both lists of a large audience, each person once; a middle page\'s button carries its positions and says so once someone before them acknowledged', async () => {
      // 400 more people in scope, two of each name; every third of them has acknowledged.
      const { policy, extra, acknowledge, pending, done } = await largeCampaign(400, (k) => `Kim Member ${String(Math.floor(k / 2)).padStart(3, '0')}`,
        (k) => `kim${k}@test.example`, (k) => k % 3 === 1);
      expect([pending.length, done.length]).toEqual([272, 133]);

      const walk = async (line: string, way: 'next' | 'previous') => {
        const pages: { command: string; pending: string[]; done: string[] }[] = [];
        for (let command: string | undefined = line; command;) {
          const answer = await bot.say('lead', `/isms ${command}`, at);
          pages.push({ command, pending: emails(answer, 'Not yet acknowledged'), done: emails(answer, 'Acknowledged') });
          command = list(answer, 'Acknowledged').page![way];
        }
        return pages;
      };
      const forward = await walk('campaign status CMP-0001', 'next');
      expect(forward.length).toBe(28);
      expect(forward.flatMap((p) => p.pending)).toEqual(pending);
      expect(forward.flatMap((p) => p.done)).toEqual(done);
      // Page 7 is far from both ends of both lists; page 12 only of the longer one.
      expect(forward[6].command).toMatch(/^campaign status CMP-0001 --page 7 --after \d+ --acknowledged-after \d+$/);
      expect(forward[11].command).toMatch(/^campaign status CMP-0001 --page 12 --after \d+$/);
      const backward = await walk('campaign status CMP-0001 --page 28', 'previous');
      expect(backward.flatMap((p) => [...p.pending].reverse())).toEqual([...pending].reverse());
      expect(backward.flatMap((p) => [...p.done].reverse())).toEqual([...done].reverse());
      expect(backward.some((p) => p.command.includes('--acknowledged-before'))).toBe(true);

      // Someone listed on page 2 acknowledges: page 6's Next no longer starts where it says.
      await acknowledge(extra.filter((p) => p.email === pending[15]));
      const refused = await bot.sayText('lead', `/isms ${forward[6].command}`, at);
      expect(refused).toContain('That page button no longer matches the status of CMP-0001');
      expect(refused).toContain('"/isms campaign status CMP-0001 --page 7" shows page 7 as it is now.');
      const seventh = await bot.say('lead', '/isms campaign status CMP-0001 --page 7', at);
      expect(emails(seventh, 'Not yet acknowledged')).toEqual(pending.filter((_, i) => i !== 15).slice(60, 70));
      expect(toPlainText(seventh)).toContain(`${policy.ref} Clean desk version 1.0: 134 of 405 acknowledged in CMP-0001.`);
      expect(await bot.sayText('lead', '/isms campaign status CMP-0001 --page 29', at)).toContain('The status of CMP-0001 has 28 pages, so there is no page 29.');
    });

    it('"campaign status" lists names in one order on every database, whatever its locale: letter case aside, accented letters after z, page by page', async () => {
      // 200 more people in scope, names in both letter cases and accented; every third of them has acknowledged. ASCII
      // letters compare case-blind, everything else by its character: "anna", "Anna", "bob", "Bob", "zoe", "Zoe", then "Émile", "émile".
      const firsts = ['anna', 'Anna', 'Émile', 'zoe', 'Zoe', 'émile', 'bob', 'Bob'];
      const { pending, done } = await largeCampaign(200, (k) => `${firsts[k % firsts.length]} Member ${String(Math.floor(k / 8)).padStart(2, '0')}`,
        (k) => `m${k}@test.example`, (k) => k % 3 === 1);
      expect(pending.length).toBeGreaterThan(110);

      const names = (r: Reply, title: string) => list(r, title).items.map((i) => i.title);
      const first = await bot.say('lead', '/isms campaign status CMP-0001', at);
      expect(names(first, 'Not yet acknowledged').slice(0, 4)).toEqual(['Ada Auditor', 'anna Member 00', 'anna Member 01', 'Anna Member 01']);
      const last = await bot.say('lead', `/isms campaign status CMP-0001 --page ${list(first, 'Acknowledged').page!.total}`, at);
      expect(names(last, 'Not yet acknowledged').at(-1)).toBe('émile Member 24');

      // Every page by Next from the first and by Previous from the last, those far from both ends by the position
      // their button carries: each person once, in that order.
      const walk = async (line: string, way: 'next' | 'previous') => {
        const seen = { pending: [] as string[], done: [] as string[], buttons: 0 };
        for (let command: string | undefined = line; command;) {
          if (/--(after|before)/.test(command)) seen.buttons++;
          const answer = await bot.say('lead', `/isms ${command}`, at);
          const [notYet, acknowledged] = [emails(answer, 'Not yet acknowledged'), emails(answer, 'Acknowledged')];
          seen.pending = way === 'next' ? [...seen.pending, ...notYet] : [...notYet, ...seen.pending];
          seen.done = way === 'next' ? [...seen.done, ...acknowledged] : [...acknowledged, ...seen.done];
          command = list(answer, 'Acknowledged').page![way];
        }
        return seen;
      };
      for (const [line, way] of [['campaign status CMP-0001', 'next'], [`campaign status CMP-0001 --page ${list(first, 'Acknowledged').page!.total}`, 'previous']] as const) {
        const seen = await walk(line, way);
        expect(seen).toEqual({ pending, done, buttons: expect.any(Number) });
        expect(seen.buttons).toBeGreaterThan(0);
      }
    });

    it('the acknowledgement card shows the text (long text cut, the rest one command away), the version and its SHA-256', async () => {
      const long = Array.from({ length: 400 }, (_, i) => `Rule ${i + 1} applies.`).join(' ');
      const policy = await approvedPolicy('Long policy', long);
      await bot.say('lead', `/isms campaign ${policy.ref} sam@test.example`, at);
      const [message] = (await bot.outboxFor('staff')).filter((m) => m.kind === 'policy_ack');
      const card = toPlainText(message.reply as Reply);
      expect(card).toContain('Lena Lead asks you to read POL-0001 Long policy, version 1.0, and acknowledge it.');
      expect(card).toContain(`Content SHA-256: ${sha256(long)}`);
      expect(card).toContain('Rule 1 applies.');
      expect(card).not.toContain('Rule 400 applies.');
      expect(card).toMatch(/The text goes on for \d+ more characters: "\/isms policy text POL-0001" shows all of it\./);
      expect(card).toContain('[Acknowledge version 1.0] /isms ack POL-0001 --version 1.0');

      const pages = [1, 2, 3].map((page) => bot.sayText('staff', `/isms policy text POL-0001 --page ${page}`, at));
      const [one, two, three] = await Promise.all(pages);
      expect(one).toContain('POL-0001 Long policy, version 1.0 (page 1 of 3):');
      expect(one).toContain('[Next page] /isms policy text POL-0001 --page 2');
      expect(two).toContain('[Previous page] /isms policy text POL-0001 --page 1');
      expect(three).toContain('Rule 400 applies.');

      const linked = await approvedPolicy('Linked policy', 'Summary of the linked policy.', '--url https://intranet.example.com/linked');
      await bot.say('lead', `/isms campaign ${linked.ref} sam@test.example`, at);
      const linkedCard = toPlainText((await bot.outboxFor('staff')).filter((m) => m.kind === 'policy_ack')[1].reply as Reply);
      expect(linkedCard).toContain('Read the full text: https://intranet.example.com/linked');
      expect(linkedCard).toContain('Summary of the linked policy.');
    });
  });

  describe('the same command five times at once', () => {
    const fiveAtOnce = (who: CastKey, line: string) => Promise.all(Array.from({ length: 5 }, () => bot.sayText(who, line, at)));

    it('policy add: one policy, one version, one approval request; the others point at it', async () => {
      const replies = await fiveAtOnce('lead', '/isms policy add Clean desk --text "Clear your desk every evening."');
      expect(replies.filter((r) => r.includes('Added POL-0001 Clean desk'))).toHaveLength(1);
      expect(replies.filter((r) => r.includes('There is already a policy called Clean desk: POL-0001.'))).toHaveLength(4);
      expect(await bot.t.db.select().from(policies)).toHaveLength(1);
      expect(await requestsAbout('POL-0001 v1.0')).toHaveLength(1);
      expect(await bot.outboxFor('board')).toHaveLength(1);
    });

    it('campaign: one campaign, one message each; the others point at it', async () => {
      await bot.say('lead', '/isms policy add Clean desk --text "Clear your desk every evening."', at);
      await bot.say('board', `/isms approve ${(await pendingAbout('POL-0001 v1.0')).ref}`, at);
      const replies = await fiveAtOnce('lead', '/isms campaign POL-0001');
      expect(replies.filter((r) => r.includes('Started CMP-0001'))).toHaveLength(1);
      expect(replies.filter((r) => r.includes('CMP-0001 already asks everyone in scope'))).toHaveLength(4);
      expect(await bot.t.db.select().from(ackCampaigns)).toHaveLength(1);
      expect((await bot.outboxFor('staff')).filter((m) => m.kind === 'policy_ack')).toHaveLength(1);
    });
  });

  describe('/isms policies --all', () => {
    it('lists every policy with its version, approval in words and acknowledgement rate, for the lead, auditor and management body only', async () => {
      await bot.say('lead', '/isms policy add Clean desk --text "Clear your desk."', at);
      await bot.say('board', `/isms approve ${(await pendingAbout('POL-0001 v1.0')).ref}`, at);
      await bot.say('lead', '/isms policy add Remote work --text "Work safely from home."', at);
      await bot.say('lead', '/isms policy add Drafts only', at);
      await bot.t.db.insert(people).values({ name: 'Otto Outside', email: 'otto@test.example', roles: ['staff'], inScope: false });
      for (const who of ['staff', 'owner'] as CastKey[]) await bot.say(who, '/isms ack POL-0001', at);
      await bot.say('lead', '/isms ack POL-0002', at);

      for (const who of ['lead', 'auditor', 'board'] as CastKey[]) {
        const list = await bot.sayText(who, '/isms policies --all', at);
        expect(list).toContain('3 policies in the register; acknowledgements count the 5 people in scope.');
        expect(list).toContain('• POL-0001 Clean desk — version 1.0, published 2026-06-15');
        expect(list).toContain('Management-body approval: approved by Bruno Board on 2026-06-15 (APR-0001)');
        expect(list).toContain('Acknowledged: 2 of 5 people in scope (40%)');
        expect(list).toContain('Management-body approval: awaiting management-body approval (APR-0002)');
        expect(list).toContain('Acknowledged: 1 of 5 people in scope (20%)');
        expect(list).toContain('• POL-0003 Drafts only — no version published yet');
      }
      const before = await written();
      expect(await bot.sayText('staff', '/isms policies --all', at)).toContain('Only the ISMS lead, an auditor or the management body may use "/isms policies --all".');
      expect(await bot.sayText('owner', '/isms policies --all', at)).toContain('Only the ISMS lead');
      expect(await written()).toEqual(before);
      // Plain "policies" still lists what waits for the person's acknowledgement.
      expect(await bot.sayText('staff', '/isms policies', at)).toContain('POL-0002 Remote work — version 1.0');
    });

    it('pages through many policies', async () => {
      for (let i = 1; i <= 11; i++) await bot.say('lead', `/isms policy add Policy number ${i}`, at);
      expect(await bot.sayText('auditor', '/isms policies --all', at)).toContain('page 1 of 2 — next: /isms policies --all --page 2');
      const second = await bot.sayText('auditor', '/isms policies --all --page 2', at);
      expect(second).toContain('POL-0011 Policy number 11');
      expect(second).not.toContain('POL-0010');
    });

    it('pages a long policy list in reference order, the same pages by Next, Previous and page number; a policy removed before a button\'s page makes it say so', async () => {
      // Recorded in an order that does not follow the references: 125 policies, 13 pages.
      const refs = Array.from({ length: 125 }, (_, k) => `POL-${String(((k * 37) % 125) + 1).padStart(4, '0')}`);
      await bot.t.db.insert(policies).values(refs.map((ref) => ({ ref, title: `Policy ${ref}` })));
      const inOrder = [...refs].sort();
      const pages = await expectPagesOf(bot, 'auditor', 'policies --all', inOrder);
      expect(pages[12].refs).toEqual(inOrder.slice(120));

      const next = listIn(await bot.say('auditor', '/isms policies --all --page 6', at)).page!.next!;
      expect(refsIn(await bot.say('auditor', `/isms ${next}`, at))).toEqual(inOrder.slice(60, 70));
      await bot.t.db.delete(policies).where(eq(policies.ref, 'POL-0003'));
      const stale = await bot.sayText('auditor', `/isms ${next}`, at);
      expect(stale).toContain('That page button no longer matches the policy list: entries were added or removed before its position');
      expect(stale).toContain('"/isms policies --all --page 7" shows page 7 as it is now.');
      expect(refsIn(await bot.say('auditor', '/isms policies --all --page 7', at))).toEqual(inOrder.slice(61, 71));
      // Nothing waits for this person's acknowledgement (no policy has a version): a position in it is out of date.
      expect(await bot.sayText('staff', `/isms policies ${next.replace('policies --all ', '')}`, at)).toContain('Your list of policies to acknowledge has nothing after');
    });

    it('"policies" pages what waits for the person\'s acknowledgement in reference order, counted whole, the version in force of each', async () => {
      const refs = Array.from({ length: 160 }, (_, k) => `POL-${String(((k * 37) % 160) + 1).padStart(4, '0')}`);
      const rows = await bot.t.db.insert(policies).values(refs.map((ref) => ({ ref, title: `Policy ${ref}` }))).returning();
      // Every policy but every eighth has a version 1.0, every third also a 1.1; the staff member acknowledged every fifth's version in force.
      const versions = await bot.t.db.insert(policyVersions).values(rows.flatMap((p, k) => (k % 8 === 7 ? [] : [
        { policyId: p.id, version: '1.0', major: 1, minor: 0, content: 'Text', contentSha256: 'a' },
        ...(k % 3 === 0 ? [{ policyId: p.id, version: '1.1', major: 1, minor: 1, content: 'Text', contentSha256: 'b' }] : []),
      ]))).returning();
      const inForce = new Map(rows.map((p, k) => [p.ref, versions.filter((v) => v.policyId === p.id).at(k % 3 === 0 ? 1 : 0)]));
      const acked = rows.filter((_, k) => k % 5 === 0 && k % 8 !== 7);
      await bot.t.db.insert(policyAcknowledgements).values(acked.map((p) => ({
        personId: bot.ids.staff, policyVersionId: inForce.get(p.ref)!.id, contentSha256: 'a', acknowledgedAt: NOW, channel: 'slack',
      })));
      // An acknowledgement of an older version does not count.
      await bot.t.db.insert(policyAcknowledgements).values({ personId: bot.ids.staff, policyVersionId: versions.find((v) => v.policyId === rows[3].id && v.version === '1.0')!.id,
        contentSha256: 'a', acknowledgedAt: NOW, channel: 'slack' });
      const waiting = rows.filter((p, k) => k % 8 !== 7 && !acked.includes(p)).map((p) => p.ref).sort();
      expect(waiting.length).toBeGreaterThan(110);
      await expectPagesOf(bot, 'staff', 'policies', waiting);
      const page4 = await bot.say('staff', '/isms policies --page 4', at);
      expect(toPlainText(page4)).toContain(`${waiting.length} policies wait for your acknowledgement`);
      expect(listIn(page4).items.map((i) => i.detail)).toEqual(waiting.slice(30, 40).map((ref) => `version ${inForce.get(ref)!.version}`));
    });
  });
});
