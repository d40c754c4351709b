import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { and, count, eq } from 'drizzle-orm';
import { InboundPipeline, type PlatformProfile, type PlatformUser } from '../src/core/inbound.js';
import { toPlainText } from '../src/core/reply.js';
import { toActor } from '../src/core/actor.js';
import { verifyRegister } from '../src/core/verify.js';
import { appendAudit } from '../src/core/audit.js';
import { auditEvents, chatAddresses, outbox, people } from '../src/db/schema/index.js';
import { buildRouter } from '../src/commands.js';
import type { CommandRouter } from '../src/core/router.js';
import { createLogger } from '../src/log.js';
import { loadExampleOrganisation } from '../src/import/example.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { SlackWorkspace, blockText } from './helpers/fake-slack-workspace.js';
import { answerTo, exampleRegister, pipedSession, type Register } from './helpers/process.js';

const NOW = new Date('2026-06-15T09:00:00Z');
const SAM = 'sam.novak@northwind.example';
const IRIS = 'iris@northwind.example';

/** A platform account as the platform describes it. */
const account = (platform: 'slack' | 'teams', id: string, profile: PlatformProfile): PlatformUser => ({ platform, id, profile: async () => profile });

describe('person and person unlink, on the example organisation', () => {
  let t: TestDatabase;
  let router: CommandRouter;
  let pipeline: InboundPipeline;

  beforeEach(async () => {
    t = await createTestDatabase();
    await loadExampleOrganisation(t.db, NOW);
    router = buildRouter(t.db);
    pipeline = new InboundPipeline(t.db, router, createLogger('silent'));
  });
  afterEach(async () => { await t.destroy(); });

  const person = async (email: string) => (await t.db.select().from(people).where(eq(people.email, email)))[0];
  const say = async (email: string, line: string, channel: 'test' | 'slack' | 'teams' = 'test') =>
    router.handle(line, { actor: toActor(await person(email)), channel, now: NOW });
  const sayText = async (email: string, line: string) => toPlainText(await say(email, line));
  const written = async () => ({
    audit: (await t.db.select({ n: count() }).from(auditEvents))[0].n,
    outbox: (await t.db.select({ n: count() }).from(outbox))[0].n,
  });

  it('refuses a second Slack account until the lead clears the old link, names the command to do it, and then links the new account by email', async () => {
    const newAccount = account('slack', 'U0SAMNEW', { email: SAM });

    const refused = await pipeline.handle({ from: { user: newAccount }, channel: 'slack', request: { line: '/isms status' } });
    expect(refused.reply.outcome).toBe('refused');
    expect(toPlainText(refused.reply)).toContain('ask them to clear the link to your old account; your next message from this account is then linked to you');
    const [told] = await t.db.select().from(outbox).where(eq(outbox.kind, 'identity_conflict'));
    expect(toPlainText(told.reply as never)).toContain(`clear the old link with "/isms person unlink ${SAM} slack <why>"`);

    const answer = await say(IRIS, `/isms person unlink ${SAM} slack --rationale "moved to a new Slack account after the workspace migration"`);
    const said = toPlainText(answer);
    expect(answer).toMatchObject({ outcome: 'recorded', visibility: 'private' });
    expect(said).toContain(`Cleared the Slack account U05S4M5NV6K from Sam Novak <${SAM}>`);
    expect(said).toContain('Their next message to the bot from their current Slack account links that account by email');
    expect((await person(SAM)).slackUserId).toBeNull();
    const [event] = await t.db.select().from(auditEvents).where(eq(auditEvents.action, 'unlink_slack_user'));
    expect(event).toMatchObject({
      entity: 'person', entityRef: SAM, before: { slackUserId: 'U05S4M5NV6K' },
      after: { slackUserId: null, rationale: 'moved to a new Slack account after the workspace migration' },
    });
    expect(event.actorLabel).toContain(IRIS);
    // Sam hears of it, with why and whom to ask.
    const [notice] = await t.db.select().from(outbox).where(eq(outbox.kind, 'account_unlinked'));
    expect(notice.recipientId).toBe((await person(SAM)).id);
    expect(toPlainText(notice.reply as never)).toContain('cleared the link between you and the Slack account U05S4M5NV6K in the ISMS register: moved to a new Slack account');

    const linked = await pipeline.handle({ from: { user: newAccount }, channel: 'slack', request: { line: '/isms status' } });
    expect(linked.person?.email).toBe(SAM);
    expect(linked.reply.outcome).toBe('info');
    expect((await person(SAM)).slackUserId).toBe('U0SAMNEW');
    expect(await t.db.select().from(auditEvents).where(and(eq(auditEvents.action, 'link_slack_user'), eq(auditEvents.entityRef, SAM)))).toHaveLength(1);
    expect(await verifyRegister(t.db)).toMatchObject({ ok: true });
    expect(toPlainText(await say(IRIS, `/isms person ${SAM}`))).toContain('Slack account: U0SAMNEW (Slack user id)');
  });

  it('names the command in the lead\'s message about a linked account of another organisation', async () => {
    await t.db.update(people).set({ teamsAadObjectId: 'aad-elsewhere' }).where(eq(people.email, SAM));
    const elsewhere: PlatformUser = { ...account('teams', 'aad-elsewhere', { email: SAM }), external: async () => true };

    const refused = await pipeline.handle({ from: { user: elsewhere }, channel: 'teams', request: { line: 'status' } });

    expect(refused.reply.outcome).toBe('refused');
    const [told] = await t.db.select().from(outbox).where(eq(outbox.kind, 'external_account'));
    expect(toPlainText(told.reply as never)).toContain(`Clear the link with "/isms person unlink ${SAM} teams <why>"`);
  });

  it('clears a Teams link and forgets the stored chats with the old account; the lead may clear their own link', async () => {
    const iris = await person(IRIS);
    await t.db.update(people).set({ teamsAadObjectId: 'aad-iris-old' }).where(eq(people.id, iris.id));
    await t.db.insert(chatAddresses).values([
      { personId: iris.id, platform: 'teams', address: '{"conversation":{"id":"a:old"}}' },
      { personId: iris.id, platform: 'teams-roster', address: '{"user":{"id":"29:old"}}' },
    ]);

    const answer = await say(IRIS, 'person unlink iris@northwind.example teams left the partner tenant, uses her Northwind account now', 'teams');

    const said = toPlainText(answer);
    expect(answer.outcome).toBe('recorded');
    expect(said).toContain('Cleared the Microsoft Teams account aad-iris-old from your own entry');
    expect(said).toContain('Your next message to the bot from your current Teams account links that account by email');
    expect(said).toContain('The stored Microsoft Teams chat with the old account was forgotten as well');
    expect(await t.db.select().from(chatAddresses).where(eq(chatAddresses.personId, iris.id))).toEqual([]);
    expect((await person(IRIS)).teamsAadObjectId).toBeNull();
    // Her Slack link is untouched, and nobody is told what she did herself.
    expect((await person(IRIS)).slackUserId).toBe('U05A1B2C3D4');
    expect(await t.db.select().from(outbox).where(eq(outbox.kind, 'account_unlinked'))).toEqual([]);
    const [event] = await t.db.select().from(auditEvents).where(eq(auditEvents.action, 'unlink_teams_account'));
    expect(event.after).toMatchObject({ teamsAadObjectId: null, rationale: 'left the partner tenant, uses her Northwind account now', forgottenChats: ['teams', 'teams-roster'] });

    const linked = await pipeline.handle({ from: { user: account('teams', 'aad-iris-new', { email: IRIS }) }, channel: 'teams', request: { line: 'status' } });
    expect(linked.person?.id).toBe(iris.id);
    expect((await person(IRIS)).teamsAadObjectId).toBe('aad-iris-new');
  });

  it('refuses and writes nothing: staff and auditors, an unknown person (naming the closest), nothing linked, no rationale, another platform', async () => {
    const before = await written();

    expect(await sayText('henrik.aalto@northwind.example', `/isms person unlink ${SAM} slack moved`))
      .toContain('Only the ISMS lead may use "/isms person unlink". Nothing was recorded.');
    expect(await sayText(SAM, `/isms person unlink ${SAM} slack moved`)).toContain('Only the ISMS lead may use "/isms person unlink". Nothing was recorded.');
    expect(await sayText(IRIS, '/isms person unlink sam.novak@northwind.exmple slack moved'))
      .toContain(`person: nobody in the register matches "sam.novak@northwind.exmple". Did you mean Sam Novak <${SAM}>? Nothing was recorded.`);
    expect(await sayText(IRIS, '/isms person unlink "Sam Nowak" slack moved')).toContain(`Did you mean Sam Novak <${SAM}>?`);
    expect(await sayText(IRIS, '/isms person unlink priya.raman@northwind.example slack moved'))
      .toContain('Priya Raman <priya.raman@northwind.example> has no Slack account linked, so there is nothing to clear. Nothing was recorded.');
    expect(await sayText(IRIS, `/isms person unlink ${SAM} teams moved`)).toContain('has no Microsoft Teams account linked');
    const noWhy = await sayText(IRIS, `/isms person unlink ${SAM} slack`);
    expect(noWhy).toContain('rationale: say why the link is cleared');
    expect(noWhy).toContain('Nothing was recorded.');
    expect(await sayText(IRIS, `/isms person unlink ${SAM} discord moved`)).toContain('platform: must be slack or teams');

    expect(await written()).toEqual(before);
    expect((await person(SAM)).slackUserId).toBe('U05S4M5NV6K');
  });

  it('names the person by email in the audit event of a pause, so verification catches a leave date changed behind the bot\'s back', async () => {
    const pause = await say(IRIS, `/isms pause ${SAM} 2026-07-06`);
    expect(pause.outcome).toBe('recorded');
    const [event] = await t.db.select().from(auditEvents).where(eq(auditEvents.action, 'pause'));
    expect(event.entityRef).toBe(SAM);
    expect(await verifyRegister(t.db)).toMatchObject({ ok: true });

    await t.db.update(people).set({ pausedUntil: new Date('2026-12-31T23:00:00Z') }).where(eq(people.email, SAM));
    expect(await verifyRegister(t.db)).toMatchObject({ ok: false, problem: `person ${SAM} differs from its last audit event in pausedUntil: it was changed without one.` });
  });

  it('still verifies a register whose trail names a pause by the person\'s id, as it once did', async () => {
    const sam = await person(SAM);
    const pausedUntil = new Date('2026-07-05T22:00:00Z');
    await t.db.update(people).set({ pausedUntil }).where(eq(people.id, sam.id));
    await appendAudit(t.db, { id: (await person(IRIS)).id, label: 'Iris' },
      { action: 'pause', entity: 'person', entityRef: `person:${sam.id}`, before: { pausedUntil: null }, after: { pausedUntil } });
    expect(await verifyRegister(t.db)).toMatchObject({ ok: true });
    await t.db.update(people).set({ pausedUntil: null }).where(eq(people.id, sam.id));
    expect(await verifyRegister(t.db)).toMatchObject({ ok: false, problem: expect.stringContaining(`person ${SAM} differs from its last audit event in pausedUntil`) });
  });

  it('shows the lead and auditors what the register holds about someone, and nobody else', async () => {
    await t.db.update(people).set({ pausedUntil: new Date('2026-07-01T22:00:00Z') }).where(eq(people.email, SAM));
    const before = await written();

    const lead = await say(IRIS, '/isms person "Sam Novak"');
    const shown = toPlainText(lead);
    expect(lead).toMatchObject({ outcome: 'info', visibility: 'private' });
    for (const fact of ['Sam Novak <sam.novak@northwind.example>', 'Roles: staff', 'Manager: Jonas Weber <jonas.weber@northwind.example>', 'In scope: yes',
      'On leave: until 2026-07-02 (nudges wait)', 'Timezone: Europe/Berlin', 'Slack account: U05S4M5NV6K (Slack user id)', 'Microsoft Teams account: not linked']) {
      expect(shown).toContain(fact);
    }
    expect(shown).toContain(`"/isms person unlink ${SAM} slack <why>"`);
    const auditor = toPlainText(await say('henrik.aalto@northwind.example', `/isms person ${SAM}`));
    expect(auditor).toContain('Slack account: U05S4M5NV6K (Slack user id)');
    expect(auditor).not.toContain('person unlink');
    expect(await sayText(IRIS, '/isms person nobody@northwind.example')).toContain('person: nobody in the register matches "nobody@northwind.example".');
    expect(await sayText(SAM, `/isms person ${SAM}`)).toContain('Only the ISMS lead or an auditor may use "/isms person".');
    expect(await sayText('katrin.vogel@northwind.example', `/isms person ${SAM}`)).toContain('Only the ISMS lead or an auditor may use "/isms person".');
    expect(await written()).toEqual(before);
  });
});

describe('person unlink in Slack', () => {
  let w: SlackWorkspace;
  beforeAll(async () => { w = await SlackWorkspace.start(); });
  afterAll(async () => { await w?.close(); });

  const slash = async (who: string, typed: string) => {
    const id = `people-${who}-${Math.random().toString(36).slice(2)}`;
    expect((await w.sender.command(w.slashCommand(who, typed, id))).status).toBe(200);
    const answer = await w.responseTo(id);
    return { type: answer.args.response_type as string, said: blockText(answer.args.blocks) };
  };

  it('refuses Sam\'s new account, lets the lead clear the old link from Slack, then takes the new account', async () => {
    w.fake.users.set('USAMNEW', { email: w.cast.staff.email });

    expect((await slash('USAMNEW', 'status')).said).toContain('already linked to another Slack account');
    expect((await slash('USAMNEW', `person unlink ${w.cast.staff.email} slack moved`)).said).toContain('already linked to another Slack account');
    expect((await slash('UOLGA', `person unlink ${w.cast.staff.email} slack moved`)).said).toContain('Only the ISMS lead may use "/isms person unlink". Nothing was recorded.');

    const cleared = await slash('ULENA', `person unlink ${w.cast.staff.email} slack moved to a new Slack account`);
    expect(cleared.type).toBe('ephemeral');
    expect(cleared.said).toContain('Cleared the Slack account USAM from Sam Staff');
    expect((await w.person('staff')).slackUserId).toBeNull();

    expect((await slash('USAMNEW', 'status')).said).not.toContain('already linked');
    expect((await w.person('staff')).slackUserId).toBe('USAMNEW');
    const shown = await slash('ULENA', `person ${w.cast.staff.email}`);
    expect(shown.type).toBe('ephemeral');
    expect(shown.said).toContain('USAMNEW (Slack user id)');
  });
});

describe('person unlink in the terminal', () => {
  let register: Register;
  beforeAll(async () => { register = await exampleRegister(); });
  afterAll(async () => { await register?.dispose(); });

  it('shows Sam\'s accounts, clears his Slack link with the reason, refuses it again and to the auditor, and the register verifies', async () => {
    const unlink = `/isms person unlink ${SAM} slack --rationale "moved to a new Slack account"`;
    const out = await pipedSession(register, `/isms person ${SAM}`, unlink, `/isms person unlink ${SAM} slack again`, '/isms audit verify',
      '/as henrik.aalto@northwind.example', `/isms person unlink ${SAM} teams x`, `/isms person ${SAM}`);

    expect(answerTo(out, `/isms person ${SAM}`)).toContain('Slack account: U05S4M5NV6K (Slack user id)');
    expect(answerTo(out, unlink)).toContain(`✔ Cleared the Slack account U05S4M5NV6K from Sam Novak <${SAM}>`);
    expect(answerTo(out, `/isms person unlink ${SAM} slack again`)).toContain('has no Slack account linked, so there is nothing to clear. Nothing was recorded.');
    expect(answerTo(out, '/isms audit verify')).toContain('✔');
    expect(answerTo(out, `/isms person unlink ${SAM} teams x`)).toContain('Only the ISMS lead may use "/isms person unlink". Nothing was recorded.');
    const afterwards = answerTo(out, `/isms person ${SAM}`, out.indexOf('/as henrik'));
    expect(afterwards).toContain('Slack account: not linked');
    const [event] = await register.withDb((db) => db.select().from(auditEvents).where(eq(auditEvents.action, 'unlink_slack_user')));
    expect(event.after).toMatchObject({ slackUserId: null, rationale: 'moved to a new Slack account' });
  }, 240_000);
});
