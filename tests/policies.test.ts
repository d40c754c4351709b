import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { ackCampaignAudience, ackCampaigns, auditEvents, managementApprovals, outbox, people, policyAcknowledgements, policyVersions } from '../src/db/schema/index.js';
import { findForm, toPlainText, type Reply } from '../src/core/reply.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { addPolicy, addPolicyVersion } from './helpers/fixtures.js';

const NOW = new Date('2026-06-15T09:00:00Z');
const at = { now: NOW };
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const buttons = (r: Reply) => r.blocks.flatMap((b) => (b.type === 'list' ? b.items.flatMap((i) => i.buttons ?? []) : b.type === 'actions' ? b.buttons : []));

describe('policies', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  /** A version recorded before approvals in chat: the lead sends it to the management body, which approves it. */
  const approveByBoard = async (policyRef: string, version: string, content: string, url?: string) => {
    await bot.say('lead', `/isms policy publish ${policyRef} ${version}${url ? ` --url ${url}` : ''} "${content}"`, at);
    const [request] = await bot.t.db.select().from(managementApprovals)
      .where(and(eq(managementApprovals.subjectRef, `${policyRef} v${version}`), eq(managementApprovals.status, 'pending')));
    expect(await bot.sayText('board', `/isms approve ${request.ref}`, at)).toContain(`Approved: `);
  };

  const acksOf = async (versionId: number) =>
    bot.t.db.select().from(policyAcknowledgements).where(eq(policyAcknowledgements.policyVersionId, versionId));

  it('"/isms policies" lists policies whose current version I have not acknowledged, with an Acknowledge button and the link', async () => {
    const policy = await addPolicy(bot.t.db, { title: 'Acceptable Use' });
    await addPolicyVersion(bot.t.db, { policyId: policy.id, version: '1.0', content: 'Old text' });
    await addPolicyVersion(bot.t.db, { policyId: policy.id, version: '1.2', content: 'Use company devices with care.', url: 'https://intranet.example.com/aup' });
    await addPolicy(bot.t.db, { title: 'Never published' });

    const answer = await bot.say('staff', '/isms policies', at);
    const plain = await bot.sayText('staff', '/isms policies', at);
    expect(plain).toContain(`${policy.ref} Acceptable Use — version 1.2`);
    expect(plain).toContain('https://intranet.example.com/aup');
    expect(plain).not.toContain('Never published');
    expect(buttons(answer)).toEqual([{ label: 'Acknowledge version 1.2', command: `ack ${policy.ref} --version 1.2`, style: 'primary' }]);
  });

  it('"/isms ack" records the exact version and its content hash; again says "already acknowledged on <date>" and writes nothing', async () => {
    const policy = await addPolicy(bot.t.db, { title: 'Clean Desk' });
    await addPolicyVersion(bot.t.db, { policyId: policy.id, version: '1.0', content: 'Clear your desk v1' });
    const current = await addPolicyVersion(bot.t.db, { policyId: policy.id, version: '1.1', content: 'Clear your desk v1.1' });
    const before = await bot.auditCount();

    const answer = toPlainText(await bot.say('staff', `/isms ack ${policy.ref}`, { ...at, channel: 'teams' }));
    expect(answer).toContain(`you acknowledged ${policy.ref} Clean Desk version 1.1`);
    // On the person's clock (Europe/Berlin), as other answers show moments; no raw ISO timestamp.
    expect(answer).toContain('Acknowledged: 2026-06-15 11:00 Europe/Berlin');
    expect(answer).not.toContain(NOW.toISOString());
    const [ack] = await acksOf(current.id);
    expect(ack).toMatchObject({ personId: bot.ids.staff, contentSha256: sha256('Clear your desk v1.1'), channel: 'teams' });
    expect(ack.acknowledgedAt.toISOString()).toBe(NOW.toISOString());
    expect(await bot.auditCount()).toBe(before + 1);

    const again = await bot.sayText('staff', `/isms ack ${policy.ref.toLowerCase()}`, { now: new Date('2026-06-20T09:00:00Z') });
    expect(again).toContain(`You already acknowledged ${policy.ref} Clean Desk version 1.1 on 2026-06-15.`);
    expect(await acksOf(current.id)).toHaveLength(1);
    expect(await bot.auditCount()).toBe(before + 1);

    expect(await bot.sayText('staff', '/isms policies', at)).not.toContain('Clean Desk');
  });

  it('records the channel the acknowledgement came from', async () => {
    const policy = await addPolicy(bot.t.db, { title: 'Remote Work' });
    const version = await addPolicyVersion(bot.t.db, { policyId: policy.id, version: '1.0', content: 'Work safely from home' });
    await bot.say('owner', `ack ${policy.ref} --version 1.0`, { ...at, channel: 'slack' });
    const [ack] = await acksOf(version.id);
    expect(ack).toMatchObject({ personId: bot.ids.owner, channel: 'slack' });
  });

  it('refuses an unknown policy, a policy never published, and a button for a version that is no longer current', async () => {
    const unpublished = await addPolicy(bot.t.db, { title: 'Draft Policy' });
    const policy = await addPolicy(bot.t.db, { title: 'Passwords' });
    await addPolicyVersion(bot.t.db, { policyId: policy.id, version: '1.0', content: 'Long passwords' });
    await addPolicyVersion(bot.t.db, { policyId: policy.id, version: '2.0', content: 'Passkeys' });
    const before = await bot.auditCount();
    const acksBefore = (await bot.t.db.select().from(policyAcknowledgements)).length;

    expect(await bot.sayText('staff', '/isms ack POL-0999', at)).toContain('There is no policy POL-0999.');
    expect(await bot.sayText('staff', '/isms ack policy-one', at)).toContain('policy: must be a reference like POL-0001');
    expect(await bot.sayText('staff', `/isms ack ${unpublished.ref}`, at)).toContain(`${unpublished.ref} Draft Policy has no published version yet.`);
    const stale = await bot.sayText('staff', `ack ${policy.ref} --version 1.0`, at);
    expect(stale).toContain(`${policy.ref} is now at version 2.0, not 1.0.`);

    expect((await bot.t.db.select().from(policyAcknowledgements)).length).toBe(acksBefore);
    expect(await bot.auditCount()).toBe(before);
  });

  it('acknowledging version 2 leaves the record of who acknowledged version 1 intact', async () => {
    const policy = await addPolicy(bot.t.db, { title: 'Information Classification' });
    const v1 = await addPolicyVersion(bot.t.db, { policyId: policy.id, version: '1.0', content: 'Three levels' });
    await bot.say('staff', `/isms ack ${policy.ref}`, at);
    await bot.say('owner', `/isms ack ${policy.ref}`, at);
    const v1Acks = await acksOf(v1.id);
    expect(v1Acks.map((a) => a.personId).sort()).toEqual([bot.ids.staff, bot.ids.owner].sort());

    const published = await bot.sayText('lead', `/isms policy publish ${policy.ref} 2.0 --major "Four levels, with a new Secret level"`, at);
    expect(published).toContain(`Published ${policy.ref} Information Classification version 2.0.`);
    expect(published).toContain('Acknowledgements of version 1.0 stay on record.');
    expect(await bot.sayText('staff', '/isms policies', at)).toContain(`${policy.ref} Information Classification — version 2.0`);

    await bot.say('staff', `/isms ack ${policy.ref}`, { now: new Date('2026-07-01T08:00:00Z') });
    const [v2] = await bot.t.db.select().from(policyVersions).where(eq(policyVersions.version, '2.0'))
      .then((rows) => rows.filter((r) => r.policyId === policy.id));
    const v2Acks = await acksOf(v2.id);
    expect(v2Acks).toHaveLength(1);
    expect(v2Acks[0]).toMatchObject({ personId: bot.ids.staff, contentSha256: sha256('Four levels, with a new Secret level') });
    expect(await acksOf(v1.id)).toEqual(v1Acks);
  });

  it('offers the policies to choose in the forms of ack, policy text, campaign and policy publish, in reference order, and asks for the reference as text past a hundred', async () => {
    const published = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const policy = await addPolicy(bot.t.db, { title: `Policy ${i}` });
        await addPolicyVersion(bot.t.db, { policyId: policy.id, version: '1.0', content: `Text ${i}` });
      }
    };
    await published(100);
    await addPolicy(bot.t.db, { title: 'Draft, never published' });
    await bot.say('staff', '/isms ack POL-0001', at);
    const field = async (who: 'staff' | 'lead', line: string) => findForm(await bot.say(who, `/isms ${line}`, at))!.fields.find((f) => f.name === 'policy')!;

    // A hundred in force, one of them acknowledged already; a hundred and one policies in all.
    const ack = await field('staff', 'ack');
    expect(ack.type).toBe('select');
    expect(ack.options).toHaveLength(99);
    expect(ack.options?.[0]).toEqual({ value: 'POL-0002', label: 'POL-0002 Policy 1 (version 1.0)' });
    expect(ack.options?.at(-1)?.value).toBe('POL-0100');
    for (const line of ['policy text', 'campaign']) {
      const chosen = await field(line === 'campaign' ? 'lead' : 'staff', line);
      expect(chosen.type, line).toBe('select');
      expect(chosen.options?.map((o) => o.value), line).toEqual(Array.from({ length: 100 }, (_, i) => `POL-${String(i + 1).padStart(4, '0')}`));
    }
    const publish = await field('lead', 'policy publish');
    expect(publish.type).toBe('text');
    expect(publish.options).toBeUndefined();
    expect(publish.hint).toBe('The policy, e.g. POL-0001 (more than 100 to choose from: type it)');

    await published(2);
    expect((await field('staff', 'ack')).hint).toBe('The policy you have read, e.g. POL-0001 (more than 100 to choose from: type it)');
    expect((await field('staff', 'policy text')).hint).toBe('The policy to read, e.g. POL-0001 (more than 100 to choose from: type it)');
    expect(await field('lead', 'campaign')).toMatchObject({
      type: 'text', hint: 'The policy whose version in force people are asked to acknowledge (more than 100 to choose from: type it)',
    });
    // Typed, it acknowledges as chosen; with that, a hundred are left to choose from again.
    expect(await bot.sayText('staff', '/isms ack POL-0103', at)).toContain('you acknowledged POL-0103 Policy 1 version 1.0');
    const again = await field('staff', 'ack');
    expect(again.type).toBe('select');
    expect(again.options?.map((o) => o.value)).toEqual([...Array.from({ length: 99 }, (_, i) => `POL-${String(i + 2).padStart(4, '0')}`), 'POL-0102']);
  });

  describe('/isms policy publish', () => {
    it('publishes a new version with its content hash, approver and time; the words after --major stay in the text', async () => {
      const policy = await addPolicy(bot.t.db, { title: 'Supplier Security' });
      await addPolicyVersion(bot.t.db, { policyId: policy.id, version: '1.0', content: 'Assess suppliers' });
      const before = await bot.auditCount();

      const answer = await bot.say('lead', `/isms policy publish ${policy.ref} --major --url https://intranet.example.com/supplier Assess suppliers yearly`, at);
      const content = 'Assess suppliers yearly';
      const rows = (await bot.t.db.select().from(policyVersions).where(eq(policyVersions.policyId, policy.id))).sort((a, b) => a.id - b.id);
      expect(rows).toHaveLength(2);
      expect(rows[0].content).toBe('Assess suppliers');
      expect(rows[1]).toMatchObject({
        version: '2.0', major: 2, minor: 0, content, contentSha256: sha256(content), url: 'https://intranet.example.com/supplier',
        publishedBy: bot.ids.lead, approvedBy: null, approvedAt: null,
      });
      expect(rows[1].publishedAt.toISOString()).toBe(NOW.toISOString());
      expect(JSON.stringify(answer)).toContain(sha256(content));
      // A major version waits for the management body: no campaign button yet.
      expect(toPlainText(answer)).toMatch(/Management-body approval: awaiting management-body approval \(APR-\d{4}\)/);
      expect(buttons(answer)).not.toContainEqual(expect.objectContaining({ command: `campaign ${policy.ref}` }));
      expect(await bot.auditCount()).toBe(before + 2);

      await bot.say('lead', `/isms policy publish ${policy.ref} "Also assess sub-processors"`, at);
      const latest = (await bot.t.db.select().from(policyVersions).where(eq(policyVersions.policyId, policy.id))).map((r) => r.version).sort();
      expect(latest).toEqual(['1.0', '2.0', '2.1']);
    });

    it('refuses anyone but the ISMS lead, an older version, --major without a higher major number, a bad link and missing text', async () => {
      const policy = await addPolicy(bot.t.db, { title: 'Cryptography' });
      await addPolicyVersion(bot.t.db, { policyId: policy.id, version: '2.0', content: 'AES-256' });
      const before = await bot.auditCount();
      const versionsBefore = (await bot.t.db.select().from(policyVersions)).length;

      expect(await bot.sayText('owner', `/isms policy publish ${policy.ref} 3.0 "New text"`, at)).toContain('Only the ISMS lead may use "/isms policy publish"');
      expect(await bot.sayText('lead', `/isms policy publish ${policy.ref} 1.5 "New text"`, at)).toContain('Version 1.5 is not newer than 2.0');
      expect(await bot.sayText('lead', `/isms policy publish ${policy.ref} 2.1 --major "New text"`, at)).toContain('--major needs a higher major number than 2.0');
      expect(await bot.sayText('lead', `/isms policy publish ${policy.ref} 2.1 --url intranet/crypto "New text"`, at)).toContain('url: must be a web link starting with https:// (or http://), e.g. https://intranet.example/policies/isp');
      const notALink = await bot.sayText('lead', `/isms policy publish ${policy.ref} 2.1 --url "not a link" "New text"`, at);
      expect(notALink.match(/must be a web link/g)).toHaveLength(1);
      expect(await bot.sayText('lead', `/isms policy publish ${policy.ref} 2.1`, at)).toContain('content: give the text of the policy');

      expect((await bot.t.db.select().from(policyVersions)).length).toBe(versionsBefore);
      expect(await bot.auditCount()).toBe(before);
    });

    it('opens a form without arguments, and the submitted form publishes', async () => {
      const policy = await addPolicy(bot.t.db, { title: 'Mobile Devices' });
      const form = findForm(await bot.say('lead', '/isms policy publish', at));
      expect(form?.fields.map((f) => f.name)).toEqual(['policy', 'version', 'major', 'url', 'content']);
      expect(form?.fields[0].options?.map((o) => o.value)).toContain(policy.ref);
      const answer = await bot.router.submit('policy publish', { policy: policy.ref, version: '', major: 'no', content: 'Lock your phone' },
        { actor: await bot.actor('lead'), channel: 'test', now: NOW });
      expect(JSON.stringify(answer)).toContain(`Published ${policy.ref} Mobile Devices version 1.0.`);
    });
  });

  describe('/isms campaign', () => {
    let outsider: typeof people.$inferSelect;
    beforeEach(async () => {
      [outsider] = await bot.t.db.insert(people).values({ name: 'Otto Outside', email: 'otto@test.example', roles: ['staff'], inScope: false }).returning();
    });

    it('asks everyone in scope who has not acknowledged the current version, once each, and the status shows who has', async () => {
      const policy = await addPolicy(bot.t.db, { title: 'Incident Reporting' });
      const version = await addPolicyVersion(bot.t.db, { policyId: policy.id, version: '1.0', content: 'Report incidents within 1 hour', url: 'https://intranet.example.com/ir' });
      await approveByBoard(policy.ref, '1.0', 'Report incidents within 1 hour', 'https://intranet.example.com/ir');
      await bot.say('owner', `/isms ack ${policy.ref}`, at);
      const before = await bot.auditCount();

      const answer = await bot.sayText('lead', `/isms campaign ${policy.ref}`, at);

      const [campaign] = await bot.t.db.select().from(ackCampaigns).where(eq(ackCampaigns.policyVersionId, version.id));
      expect(campaign).toMatchObject({ audience: 'all', startedBy: bot.ids.lead });
      expect(campaign.ref).toMatch(/^CMP-\d{4}$/);
      expect(answer).toContain(`Started ${campaign.ref} for ${policy.ref} Incident Reporting version 1.0: asked 4 people to acknowledge it.`);
      const audience = await bot.t.db.select().from(ackCampaignAudience).where(eq(ackCampaignAudience.campaignId, campaign.id));
      expect(audience.map((a) => a.personId).sort()).toEqual(Object.values(bot.ids).sort());
      expect(audience.map((a) => a.personId)).not.toContain(outsider.id);

      const messages = await bot.t.db.select().from(outbox).where(eq(outbox.campaignId, campaign.id));
      expect(messages.map((m) => m.recipientId).sort()).toEqual([bot.ids.lead, bot.ids.board, bot.ids.staff, bot.ids.auditor].sort());
      const toStaff = messages.find((m) => m.recipientId === bot.ids.staff)!;
      expect(toStaff).toMatchObject({ kind: 'policy_ack', idempotencyKey: `campaign:${campaign.ref}:${bot.ids.staff}` });
      expect(buttons(toStaff.reply as Reply)).toEqual([expect.objectContaining({ command: `ack ${policy.ref} --version 1.0` })]);
      expect(JSON.stringify(toStaff.reply)).toContain('https://intranet.example.com/ir');
      expect(await bot.auditCount()).toBe(before + 1);

      // The staff member clicks the button in the message.
      await bot.say('staff', buttons(toStaff.reply as Reply)[0].command, { now: new Date('2026-06-16T12:00:00Z') });

      const status = await bot.sayText('lead', `/isms campaign status ${policy.ref}`, at);
      expect(status).toContain(`${policy.ref} Incident Reporting version 1.0: 2 of 5 acknowledged in ${campaign.ref}.`);
      const [pendingPart, donePart] = status.split('Acknowledged\n');
      expect(donePart).toContain('Sam Staff — sam@test.example, on 2026-06-16');
      expect(donePart).toContain('Olga Owner');
      expect(pendingPart).toContain('Not yet acknowledged');
      expect(pendingPart).toContain('Bruno Board');
      expect(pendingPart).not.toContain('Sam Staff');
    });

    it('takes a role or a list of emails as audience', async () => {
      const policy = await addPolicy(bot.t.db, { title: 'Access Control' });
      await addPolicyVersion(bot.t.db, { policyId: policy.id, version: '1.0', content: 'Least privilege' });
      await approveByBoard(policy.ref, '1.0', 'Least privilege');

      expect(await bot.sayText('lead', `/isms campaign ${policy.ref} role:control_owner`, at)).toContain('asked 1 person');
      const byRole = await bot.t.db.select().from(ackCampaigns).where(eq(ackCampaigns.audience, 'role:control_owner'));
      expect(byRole).toHaveLength(1);

      expect(await bot.sayText('lead', `/isms campaign ${policy.ref} SAM@test.example, ada@test.example`, at)).toContain('asked 2 people');
      const [byList] = await bot.t.db.select().from(ackCampaigns).where(eq(ackCampaigns.audience, 'people'));
      const listed = await bot.t.db.select().from(ackCampaignAudience).where(eq(ackCampaignAudience.campaignId, byList.id));
      expect(listed.map((a) => a.personId).sort()).toEqual([bot.ids.staff, bot.ids.auditor].sort());
      // The audit event names them, and their messages are queued, in the order they were typed.
      const [started] = await bot.t.db.select().from(auditEvents).where(and(eq(auditEvents.entity, 'ack_campaign'), eq(auditEvents.entityRef, byList.ref)));
      expect((started.after as { audienceIds: number[] }).audienceIds).toEqual([bot.ids.staff, bot.ids.auditor]);
      const queued = await bot.t.db.select().from(outbox).where(eq(outbox.campaignId, byList.id)).orderBy(outbox.id);
      expect(queued.map((m) => [m.recipientId, m.idempotencyKey, m.kind]))
        .toEqual([bot.ids.staff, bot.ids.auditor].map((id) => [id, `campaign:${byList.ref}:${id}`, 'policy_ack']));

      // The status follows the latest campaign's audience.
      expect(await bot.sayText('lead', `/isms campaign status ${policy.ref}`, at)).toContain(`0 of 2 acknowledged in ${byList.ref}`);
    });

    it('takes people in the audience as every command does: an email, a "name", a unique part of a name or an @handle', async () => {
      const policy = await addPolicy(bot.t.db, { title: 'Clean Desk' });
      await addPolicyVersion(bot.t.db, { policyId: policy.id, version: '1.0', content: 'Clear your desk' });
      await approveByBoard(policy.ref, '1.0', 'Clear your desk');

      const answer = await bot.sayText('lead', `/isms campaign ${policy.ref} --audience "Sam Staff, @ada, Olga; bruno@test.example"`, at);
      expect(answer).toContain('asked 4 people');
      const [campaign] = await bot.t.db.select().from(ackCampaigns).where(eq(ackCampaigns.audience, 'people'));
      const [started] = await bot.t.db.select().from(auditEvents).where(and(eq(auditEvents.entity, 'ack_campaign'), eq(auditEvents.entityRef, campaign.ref)));
      expect((started.after as { audienceIds: number[] }).audienceIds).toEqual([bot.ids.staff, bot.ids.auditor, bot.ids.owner, bot.ids.board]);
    });

    it('refuses an audience naming someone unknown or several people, naming the item, writing nothing', async () => {
      const policy = await addPolicy(bot.t.db, { title: 'Remote Work' });
      await addPolicyVersion(bot.t.db, { policyId: policy.id, version: '1.0', content: 'Use the VPN' });
      await approveByBoard(policy.ref, '1.0', 'Use the VPN');
      await bot.t.db.insert(people).values({ name: 'Sam Second', email: 'sam.second@test.example', roles: ['staff'] });
      const before = await bot.auditCount();
      const outboxBefore = (await bot.t.db.select().from(outbox)).length;

      const unknown = await bot.sayText('lead', `/isms campaign ${policy.ref} Olga Owner, Zed Nobody`, at);
      expect(unknown).toContain('audience: nobody in the register matches "Zed Nobody"');
      const ambiguous = await bot.sayText('lead', `/isms campaign ${policy.ref} --audience "Olga, Sam S"`, at);
      expect(ambiguous).toContain('audience: "Sam S" matches 2 people');
      expect(ambiguous).toContain('Sam Second <sam.second@test.example>');

      expect(await bot.t.db.select().from(ackCampaigns)).toHaveLength(0);
      expect(await bot.t.db.select().from(outbox)).toHaveLength(outboxBefore);
      expect(await bot.auditCount()).toBe(before);
    });

    it('says in its help that the audience takes emails, names or @handles', async () => {
      const help = await bot.sayText('lead', '/isms help campaign', at);
      expect(help).toMatch(/email address, a name or an @handle/);
    });

    it('refuses anyone but the ISMS lead, an unknown email or role, and a policy without campaign, writing nothing', async () => {
      const policy = await addPolicy(bot.t.db, { title: 'Backup' });
      await addPolicyVersion(bot.t.db, { policyId: policy.id, version: '1.0', content: 'Back up daily' });
      await approveByBoard(policy.ref, '1.0', 'Back up daily');
      const before = await bot.auditCount();
      const campaignsBefore = (await bot.t.db.select().from(ackCampaigns)).length;
      const outboxBefore = (await bot.t.db.select().from(outbox)).length;

      expect(await bot.sayText('staff', `/isms campaign ${policy.ref}`, at)).toContain('Only the ISMS lead may use "/isms campaign"');
      expect(await bot.sayText('staff', `/isms campaign status ${policy.ref}`, at)).toContain('Only the ISMS lead may use "/isms campaign status"');
      expect(await bot.sayText('lead', `/isms campaign ${policy.ref} nobody@test.example`, at)).toContain('audience: nobody in the register matches "nobody@test.example".');
      expect(await bot.sayText('lead', `/isms campaign ${policy.ref} role:wizard`, at)).toContain('There is no role "wizard".');
      expect(await bot.sayText('lead', `/isms campaign ${policy.ref} otto@test.example`, at)).toContain('Otto Outside <otto@test.example> is outside the ISMS scope.');
      expect(await bot.sayText('lead', `/isms campaign status ${policy.ref}`, at)).toContain(`${policy.ref} has had no acknowledgement campaign yet.`);

      expect((await bot.t.db.select().from(ackCampaigns)).length).toBe(campaignsBefore);
      expect((await bot.t.db.select().from(outbox)).length).toBe(outboxBefore);
      expect(await bot.auditCount()).toBe(before);
    });
  });
});
