import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { auditEvents, policyVersions, scopeChanges, suppliers, trainingAttestations, trainingCourses } from '../src/db/schema/index.js';
import { createTestBot, type CastKey, type TestBot } from './helpers/bot.js';
import { addPolicy, addPolicyVersion } from './helpers/fixtures.js';

const now = new Date('2026-06-15T09:00:00Z');

/**
 * The same command typed five times at the same moment, without a delivery id (the terminal, or a
 * platform that gives none): one of them is recorded, the others say why nothing was.
 */
describe('five identical commands at once are recorded once', () => {
  let bot: TestBot;
  beforeAll(async () => { bot = await createTestBot(); });
  afterAll(async () => { await bot.destroy(); });

  const fiveAtOnce = (who: CastKey, line: string) =>
    Promise.all(Array.from({ length: 5 }, () => bot.sayText(who, line, { now })));

  /** One of the five replies says `success`; each of the other four says every one of `refusal`. Returns the one. */
  function oneRecorded(replies: string[], success: string, ...refusal: string[]): string {
    const recorded = replies.filter((r) => r.includes(success));
    expect(recorded, replies.join('\n---\n')).toHaveLength(1);
    for (const r of replies.filter((x) => !x.includes(success))) for (const words of refusal) expect(r).toContain(words);
    return recorded[0];
  }

  const auditFor = async (entityRef: string) =>
    (await bot.t.db.select().from(auditEvents).where(eq(auditEvents.entityRef, entityRef))).map((e) => `${e.action} ${e.entity}`);

  it('declare supplier: one supplier, one scope change, one triage message; the others name its reference', async () => {
    const auditBefore = await bot.auditCount();
    const triageBefore = (await bot.outboxFor('lead')).length;

    const replies = await fiveAtOnce('staff', '/isms declare supplier "Acme Cloud" "managed Kubernetes" --ict yes --critical yes --data customer');

    const rows = await bot.t.db.select().from(suppliers).where(eq(suppliers.name, 'Acme Cloud'));
    expect(rows).toHaveLength(1);
    const recorded = oneRecorded(replies, 'Recorded Acme Cloud in the supplier register',
      `Acme Cloud is already in the supplier register as ${rows[0].ref} (status declared).`, 'Nothing new was recorded.');
    expect(recorded).toContain(rows[0].ref);
    const changes = await bot.t.db.select().from(scopeChanges).where(eq(scopeChanges.subjectRef, rows[0].ref));
    expect(changes).toHaveLength(1);
    expect(await bot.auditCount()).toBe(auditBefore + 2);
    expect(await auditFor(rows[0].ref)).toEqual(['declare supplier']);
    expect(await auditFor(changes[0].ref)).toEqual(['propose scope_change']);
    expect(await bot.outboxFor('lead')).toHaveLength(triageBefore + 1);
  });

  it('scope add: one proposal and one triage message; the others name the waiting proposal', async () => {
    const auditBefore = await bot.auditCount();
    const triageBefore = (await bot.outboxFor('lead')).length;

    const replies = await fiveAtOnce('owner', '/isms scope add "Customer portal" "public web app"');

    const rows = await bot.t.db.select().from(scopeChanges).where(eq(scopeChanges.subject, 'Customer portal'));
    expect(rows).toHaveLength(1);
    const recorded = oneRecorded(replies, 'Proposed adding Customer portal to the scope',
      `Customer portal is already waiting for triage as ${rows[0].ref}.`, 'Nothing new was recorded.');
    expect(recorded).toContain(rows[0].ref);
    expect(await bot.auditCount()).toBe(auditBefore + 1);
    expect(await auditFor(rows[0].ref)).toEqual(['propose scope_change']);
    expect(await bot.outboxFor('lead')).toHaveLength(triageBefore + 1);
  });

  it('scope retire: one proposal; the others name the waiting proposal', async () => {
    const auditBefore = await bot.auditCount();

    const replies = await fiveAtOnce('owner', '/isms scope retire "Old fax server" "nobody faxes"');

    const rows = await bot.t.db.select().from(scopeChanges).where(eq(scopeChanges.subject, 'Old fax server'));
    expect(rows).toHaveLength(1);
    oneRecorded(replies, 'Proposed retiring Old fax server from the scope',
      `Old fax server is already waiting for triage as ${rows[0].ref}.`, 'Nothing new was recorded.');
    expect(await bot.auditCount()).toBe(auditBefore + 1);
  });

  it('attest: one attestation for the person, course and day; the others say it is already attested', async () => {
    const [course] = await bot.t.db.insert(trainingCourses).values({ code: 'SEC-AWARE', title: 'Security awareness', validityMonths: 12 }).returning();
    const auditBefore = await bot.auditCount();

    const replies = await fiveAtOnce('staff', '/isms attest SEC-AWARE');

    const rows = await bot.t.db.select().from(trainingAttestations).where(eq(trainingAttestations.courseId, course.id));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ personId: bot.ids.staff, completedOn: '2026-06-15' });
    oneRecorded(replies, 'Recorded your completion of SEC-AWARE',
      'You already attested SEC-AWARE completed on 2026-06-15 (valid until 2027-06-15); nothing new was recorded.');
    expect(await bot.auditCount()).toBe(auditBefore + 1);
    expect(await auditFor(`SEC-AWARE#${rows[0].id}`)).toEqual(['attest training_attestation']);
  });

  it('policy publish: one new version; the others say that version is already published', async () => {
    const policy = await addPolicy(bot.t.db, { title: 'Clean Desk' });
    await addPolicyVersion(bot.t.db, { policyId: policy.id, version: '1.0', content: 'Clear your desk' });
    const auditBefore = await bot.auditCount();

    const replies = await fiveAtOnce('lead', `/isms policy publish ${policy.ref} "Clear your desk and lock your screen"`);

    const rows = await bot.t.db.select().from(policyVersions).where(eq(policyVersions.policyId, policy.id));
    expect(rows.map((r) => r.version).sort()).toEqual(['1.0', '1.1']);
    oneRecorded(replies, `Published ${policy.ref} Clean Desk version 1.1.`,
      `Version 1.1 of ${policy.ref} Clean Desk is already published with this text. Nothing new was recorded.`);
    expect(await bot.auditCount()).toBe(auditBefore + 1);
    expect(await auditFor(`${policy.ref} v1.1`)).toEqual(['publish policy_version']);
  });

  it('policy publish of a given version number: one version; the others say it is already published', async () => {
    const policy = await addPolicy(bot.t.db, { title: 'Remote Work' });
    await addPolicyVersion(bot.t.db, { policyId: policy.id, version: '1.0', content: 'Work from home with care' });
    const auditBefore = await bot.auditCount();

    const replies = await fiveAtOnce('lead', `/isms policy publish ${policy.ref} 2.0 --major "Work from approved places only"`);

    const rows = await bot.t.db.select().from(policyVersions).where(eq(policyVersions.policyId, policy.id));
    expect(rows.map((r) => r.version).sort()).toEqual(['1.0', '2.0']);
    oneRecorded(replies, `Published ${policy.ref} Remote Work version 2.0.`, `Version 2.0 of ${policy.ref} Remote Work is already published`);
    // The version and the one request for the management body's approval of it.
    expect(await bot.auditCount()).toBe(auditBefore + 2);
    expect(await auditFor(`${policy.ref} v2.0`)).toEqual(['publish policy_version']);
  });

  it('different declarations at the same moment are all recorded, none fails on the locks of another', async () => {
    for (let round = 1; round <= 5; round++) {
      const replies = await Promise.all([
        bot.sayText('staff', `/isms declare supplier "Vendor ${round}" --ict yes --critical no --data none`, { now }),
        bot.sayText('owner', `/isms scope add "System ${round}"`, { now }),
        bot.sayText('staff', `/isms declare ai "Assistant ${round}"`, { now }),
        bot.sayText('owner', `/isms scope retire "Server ${round}"`, { now }),
      ]);
      expect(replies[0]).toContain(`Recorded Vendor ${round} in the supplier register`);
      expect(replies[1]).toContain(`Proposed adding System ${round} to the scope`);
      expect(replies[2]).toContain(`Recorded Assistant ${round} in the AI register`);
      expect(replies[3]).toContain(`Proposed retiring Server ${round} from the scope`);
    }
  });
});
