import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { auditEvents, chatAddresses, outbox, people, unreachablePeople } from '../src/db/schema/index.js';
import { deliverDue } from '../src/core/delivery.js';
import { enqueue } from '../src/core/outbox.js';
import { replyText } from '../src/core/reply.js';
import type { FakeConnector, Member } from './helpers/fake-connector.js';
import { loadRosterAddress } from '../adapters/teams/roster.js';
import { saveReference } from '../adapters/teams/addresses.js';
import { countingStatements } from './helpers/statements.js';
import { startTeamsStack, channelMention, personalMessage, personalChatOf, cardOf, cardText, teamsUserOf, BOT, NEWCOMER, TENANT, type TeamsServer, type TeamsStack, type TeamsTestCore } from './helpers/teams.js';

const TEAM = '19:security-team@thread.tacv2';

/**
 * The Teams app installed in a team: the bot reads the team's roster through the Bot Connector
 * (pagedmembers, with continuation tokens), links the members the register knows, and can then
 * open a personal chat with any of them for a nudge, before they ever wrote to it.
 */
describe('Teams: reaching the members of a team the app is installed in', () => {
  let stack: TeamsStack, h: TeamsTestCore, server: TeamsServer, connector: FakeConnector;
  let ulla: number, tom: number;

  beforeAll(async () => {
    ({ h, server, connector } = stack = await startTeamsStack());
    [{ id: ulla }] = await h.t.db.insert(people).values({ name: 'Ulla Upn', email: 'ulla@test.example', roles: ['staff'] }).returning();
    [{ id: tom }] = await h.t.db.insert(people).values({ name: 'Tom Teamless', email: 'tom@test.example', roles: ['staff'] }).returning();
    const filler: Member[] = Array.from({ length: 110 }, (_, i) => ({
      id: `29:colleague-${i}`, name: `Colleague ${i}`, aadObjectId: `aad-colleague-${i}`, email: `colleague${i}@elsewhere.example`, userPrincipalName: `colleague${i}@elsewhere.example`,
    }));
    connector.rosters.set(TEAM, [
      { ...teamsUserOf('owner'), email: 'olga@test.example', userPrincipalName: 'olga@test.example' },
      // Teams may leave out the object id and the email: such a member is passed over, not a crash.
      { id: '29:guest', name: 'Guest Without Details' },
      ...filler,
      // On the second page: Nina by her email as Entra spells it, Ulla only by her user principal name.
      { id: '29:nina', name: NEWCOMER.name, aadObjectId: 'aad-nina', email: 'Nina@Test.Example', userPrincipalName: 'nina@test.example' },
      { id: '29:ulla', name: 'Ulla Upn', aadObjectId: 'aad-ulla', userPrincipalName: 'ulla@test.example' },
    ]);
  });
  afterAll(() => stack.stop());

  /** What Teams sends when someone adds the app to a team. */
  const installedInTeam = (team: string) => ({
    type: 'conversationUpdate',
    id: `install-${team}`,
    channelId: 'msteams',
    serviceUrl: connector.url,
    from: teamsUserOf('lead'),
    recipient: BOT,
    conversation: { id: team, conversationType: 'channel', isGroup: true, tenantId: TENANT, name: 'General' },
    membersAdded: [{ id: BOT.id, name: BOT.name }],
    channelData: { eventType: 'teamMemberAdded', team: { id: team, name: 'Security' }, tenant: { id: TENANT } },
  });

  let counter = 0;
  const queue = async (recipientId: number, message: string) => {
    const key = `test:teams-reach:${++counter}`;
    await enqueue(h.t.db, { recipientId, kind: 'test', idempotencyKey: key, reply: replyText(message), notBefore: new Date(Date.now() - 1000) });
    return key;
  };
  const row = async (key: string) => (await h.t.db.select().from(outbox).where(eq(outbox.idempotencyKey, key)))[0];
  const person = async (id: number) => (await h.t.db.select().from(people).where(eq(people.id, id)))[0];

  it('reads the roster page by page when installed in a team, and links the members the register knows by object id, email or user principal name, audited', async () => {
    const res = await server.post(installedInTeam(TEAM));
    expect(res.status).toBe(200);
    expect(connector.rosterRequests).toEqual([
      { teamId: TEAM, pageSize: '100', continuationToken: undefined },
      { teamId: TEAM, pageSize: '100', continuationToken: expect.any(String) },
    ]);
    expect((await person(h.ids.newcomer)).teamsAadObjectId).toBe('aad-nina');
    expect((await person(ulla)).teamsAadObjectId).toBe('aad-ulla');
    const links = await h.t.db.select().from(auditEvents).where(eq(auditEvents.action, 'link_teams_account'));
    expect(links.map((e) => [e.entityRef, e.after])).toEqual([
      ['nina@test.example', { teamsAadObjectId: 'aad-nina' }],
      ['ulla@test.example', { teamsAadObjectId: 'aad-ulla' }],
    ]);
    expect(links[0].actorLabel).toBe(`ISMS bot via the roster of Teams team ${TEAM}`);
    // Nothing is said in the team's channel.
    expect(connector.posted).toEqual([]);
  });

  it('sends a nudge to a member who never wrote to the bot by opening a personal chat with them, and reuses that chat', async () => {
    const first = await queue(h.ids.newcomer, 'Please acknowledge POL-0001 Information security policy.');
    expect(await deliverDue(h.t.db, [server.port])).toMatchObject({ sent: 1, waiting: 0 });
    expect(connector.created).toHaveLength(1);
    const [chat] = connector.created;
    expect(chat.parameters).toMatchObject({ isGroup: false, tenantId: TENANT, bot: { id: BOT.id }, members: [{ id: '29:nina' }], channelData: { tenant: { id: TENANT } } });
    const posted = connector.postedTo(chat.id);
    expect(posted).toHaveLength(1);
    expect(cardText(cardOf(posted[0].activity))).toBe('Please acknowledge POL-0001 Information security policy.');
    expect(await row(first)).toMatchObject({ status: 'sent' });
    const [address] = await h.t.db.select().from(chatAddresses)
      .where(and(eq(chatAddresses.personId, h.ids.newcomer), eq(chatAddresses.platform, 'teams')));
    expect(JSON.parse(address.address)).toMatchObject({ serviceUrl: connector.url, user: { id: '29:nina', aadObjectId: 'aad-nina' }, conversation: { id: chat.id, conversationType: 'personal' } });

    const second = await queue(h.ids.newcomer, 'Reminder: POL-0001 is still waiting for you.');
    expect(await deliverDue(h.t.db, [server.port])).toMatchObject({ sent: 1 });
    expect(connector.created).toHaveLength(1);
    expect(connector.postedTo(chat.id).map((p) => cardText(cardOf(p.activity)))).toEqual([
      'Please acknowledge POL-0001 Information security policy.', 'Reminder: POL-0001 is still waiting for you.',
    ]);
    expect(await row(second)).toMatchObject({ status: 'sent' });
  });

  it('reports someone in no team where the app is installed as unreachable, with why', async () => {
    const key = await queue(tom, 'Your training SEC-101 expires soon.');
    expect(await deliverDue(h.t.db, [server.port])).toMatchObject({ sent: 0, waiting: 1 });
    expect(await row(key)).toMatchObject({ status: 'queued' });
    const [unreachable] = await h.t.db.select().from(unreachablePeople).where(eq(unreachablePeople.personId, tom));
    expect(unreachable.reason).toBe('Microsoft Teams: not in any team where the app is installed, and never wrote to the bot in Teams');
  });

  it('links someone who joins the team later, takes them off the unreachable list, and their waiting nudge reaches them', async () => {
    connector.rosters.get(TEAM)!.push({ id: '29:tom', name: 'Tom Teamless', aadObjectId: 'aad-tom', email: 'tom@test.example' });
    const res = await server.post({ ...installedInTeam(TEAM), id: 'tom-joined', membersAdded: [{ id: '29:tom', name: 'Tom Teamless' }] });
    expect(res.status).toBe(200);
    expect((await person(tom)).teamsAadObjectId).toBe('aad-tom');
    expect(await h.t.db.select().from(unreachablePeople).where(eq(unreachablePeople.personId, tom))).toEqual([]);
    expect(await deliverDue(h.t.db, [server.port])).toMatchObject({ sent: 1, waiting: 0 });
    const chat = connector.created.find((c) => c.parameters.members[0].id === '29:tom')!;
    expect(connector.postedTo(chat.id).map((p) => cardText(cardOf(p.activity)))).toEqual(['Your training SEC-101 expires soon.']);
  });

  it('reads the chat addresses of a batch of people at once, not one person at a time, and sends each their nudge once', async () => {
    const rows = await h.t.db.insert(people).values(Array.from({ length: 20 }, (_, i) => ({ name: `Lead ${i}`, email: `lead${i}@test.example`, roles: ['isms_lead' as const] }))).returning();
    for (const [i, r] of rows.entries()) {
      await saveReference(h.t.db, r.id, {
        channelId: 'msteams', serviceUrl: connector.url, bot: BOT, user: { id: `29:lead-${i}`, name: r.name, aadObjectId: `aad-lead-${i}` },
        conversation: { id: `a:chat-lead-${i}`, conversationType: 'personal', isGroup: false, tenantId: TENANT, name: '' },
      });
    }
    for (const r of rows) await queue(r.id, 'Please triage AI-0001.');
    const { value, statements } = await countingStatements(() => deliverDue(h.t.db, [server.port]));
    expect(value).toMatchObject({ sent: 20, waiting: 0 });
    expect(rows.map((_, i) => connector.postedTo(`a:chat-lead-${i}`).map((p) => cardText(cardOf(p.activity))))).toEqual(rows.map(() => ['Please triage AI-0001.']));
    // One look-up for the batch, then each send reads its person's chat as it goes out.
    expect(statements.filter((q) => /^\s*select\b[\s\S]*\bfrom "chat_addresses"/i.test(q)).length).toBeLessThanOrEqual(20 + 1);
  });

  it('answers an install whose roster Teams will not give (unknown team) without failing the request', async () => {
    const audits = await h.auditCount();
    const res = await server.post(installedInTeam('19:unknown@thread.tacv2'));
    expect(res.status).toBe(200);
    expect(await h.auditCount()).toBe(audits);
    expect(h.logs.some((l) => l.includes('could not read the roster of a Teams team'))).toBe(true);
  });
});

/**
 * Teams leaves the tenant out of an activity now and then; opening a personal chat needs it. A
 * private answer to a channel command from someone the bot has no personal chat with yet takes the
 * configured tenant then, and without one the person is told where to ask, not left in silence.
 */
describe.each([
  ['with MICROSOFT_APP_TENANT_ID set', { MICROSOFT_APP_TENANT_ID: TENANT }],
  ['without a configured tenant', {}],
] as const)('Teams: a channel command without a tenant id, from someone with no personal chat yet (%s)', (_name, env) => {
  let stack: TeamsStack, connector: FakeConnector;
  beforeAll(async () => { ({ connector } = stack = await startTeamsStack(env)); });
  afterAll(() => stack.stop());

  it('answers privately in a personal chat opened in that tenant, or says in the channel where to ask', async () => {
    const thread = '19:general@thread.tacv2;messageid=1700000000000';
    const res = await stack.server.post({
      ...channelMention('staff', 'help', {
        conversation: { id: thread, conversationType: 'channel', isGroup: true, name: 'General' },
        channelData: { team: { id: TEAM }, channel: { id: '19:general@thread.tacv2' } },
      }),
      serviceUrl: connector.url,
    });
    expect(res.status).toBe(200);
    const said = (conversationId: string) => connector.postedTo(conversationId).map((p) => cardText(cardOf(p.activity)));
    if ('MICROSOFT_APP_TENANT_ID' in env) {
      expect(connector.created.map((c) => c.parameters)).toEqual([expect.objectContaining({ tenantId: TENANT, members: [expect.objectContaining({ id: teamsUserOf('staff').id })] })]);
      expect(said(connector.created[0].id)).toEqual([expect.stringContaining('Here is what you can do')]);
      expect(said(thread)).toEqual(["Sam Staff, I've sent you the answer in our personal chat."]);
    } else {
      expect(said(thread)).toEqual([expect.stringContaining("Sam Staff, my answer is only for you, and I can't reach you in a personal chat: open a personal chat with me and ask there.")]);
      // Teams refuses to open a personal chat without a tenant (400): the bot does not ask.
      expect(connector.conversationRequests).toEqual([]);
    }
  });
});

/**
 * An install in a team whose activity names no tenant: the members read from its roster can be
 * reached in a personal chat opened in the configured tenant; without one, Teams would refuse to open
 * it (400), so their nudges wait and the ISMS lead reads why.
 */
describe.each([
  ['with MICROSOFT_APP_TENANT_ID set', { MICROSOFT_APP_TENANT_ID: TENANT }],
  ['without a configured tenant', {}],
] as const)('Teams: a nudge to a member of a team whose install named no tenant (%s)', (_name, env) => {
  let stack: TeamsStack, h: TeamsTestCore, connector: FakeConnector;
  beforeAll(async () => { ({ h, connector } = stack = await startTeamsStack(env)); });
  afterAll(() => stack.stop());

  it('opens their personal chat in the configured tenant, or keeps the nudge waiting, saying why, without asking Teams', async () => {
    connector.rosters.set(TEAM, [{ ...teamsUserOf('owner'), email: 'olga@test.example' }]);
    const res = await stack.server.post({
      type: 'conversationUpdate', id: 'install-without-tenant', channelId: 'msteams', serviceUrl: connector.url,
      from: teamsUserOf('lead'), recipient: BOT,
      conversation: { id: TEAM, conversationType: 'channel', isGroup: true, name: 'General' },
      membersAdded: [{ id: BOT.id, name: BOT.name }],
      channelData: { eventType: 'teamMemberAdded', team: { id: TEAM, name: 'Security' } },
    });
    expect(res.status).toBe(200);
    await enqueue(h.t.db, { recipientId: h.ids.owner, kind: 'test', idempotencyKey: 'test:no-tenant', reply: replyText('Please review POL-0001.'), notBefore: new Date(Date.now() - 1000) });
    const delivery = await deliverDue(h.t.db, [stack.server.port]);
    const [row] = await h.t.db.select().from(outbox).where(eq(outbox.idempotencyKey, 'test:no-tenant'));
    if ('MICROSOFT_APP_TENANT_ID' in env) {
      expect(delivery).toMatchObject({ sent: 1, waiting: 0 });
      expect(connector.created.map((c) => c.parameters)).toEqual([expect.objectContaining({ tenantId: TENANT, channelData: { tenant: { id: TENANT } } })]);
      expect(connector.postedTo(connector.created[0].id).map((p) => cardText(cardOf(p.activity)))).toEqual(['Please review POL-0001.']);
      expect(row.status).toBe('sent');
    } else {
      expect(delivery).toMatchObject({ sent: 0, waiting: 1 });
      expect(connector.conversationRequests).toEqual([]);
      expect(row.status).toBe('queued');
      const [unreachable] = await h.t.db.select().from(unreachablePeople).where(eq(unreachablePeople.personId, h.ids.owner));
      expect(unreachable.reason).toBe('Microsoft Teams: the team the app is installed in did not name its tenant, and MICROSOFT_APP_TENANT_ID is not set');
    }
  });
});

/**
 * The app taken out of a team: Teams tells the bot with a conversationUpdate naming the bot among
 * the members removed (eventType teamMemberRemoved), an installationUpdate "remove", or the team's
 * deletion, and from then on refuses to open a personal chat with the team's members (403). A member
 * who leaves the team is named among the members removed. Nudges to them wait, saying why, instead of
 * failing at Teams.
 */
describe.each([
  ['the bot removed from the team', { type: 'conversationUpdate', membersRemoved: [{ id: BOT.id }], channelData: { eventType: 'teamMemberRemoved', team: { id: TEAM }, tenant: { id: TENANT } } }, false],
  ['the app uninstalled from the team', { type: 'installationUpdate', action: 'remove', channelData: { team: { id: TEAM }, tenant: { id: TENANT }, source: { name: 'message' } } }, false],
  ['the team deleted', { type: 'conversationUpdate', channelData: { eventType: 'teamDeleted', team: { id: TEAM, name: 'Security' }, tenant: { id: TENANT } } }, false],
  ['the member leaving the team', { type: 'conversationUpdate', membersRemoved: [{ id: teamsUserOf('owner').id, aadObjectId: 'aad-owner' }], channelData: { eventType: 'teamMemberRemoved', team: { id: TEAM }, tenant: { id: TENANT } } }, true],
] as const)('Teams: a member read from a team\'s roster after %s', (_name, removal, othersStay) => {
  let stack: TeamsStack, h: TeamsTestCore, connector: FakeConnector;
  beforeAll(async () => { ({ h, connector } = stack = await startTeamsStack()); });
  afterAll(() => stack.stop());

  const team = (fields: Record<string, unknown>) => ({
    id: `${String(fields.type)}-${TEAM}`, channelId: 'msteams', serviceUrl: connector.url, from: teamsUserOf('lead'), recipient: BOT,
    conversation: { id: TEAM, conversationType: 'channel', isGroup: true, tenantId: TENANT, name: 'General' }, ...fields,
  });

  it('is no longer taken as reachable through that team: their nudge waits, saying why, and Teams is not asked for a personal chat', async () => {
    connector.rosters.set(TEAM, [{ ...teamsUserOf('owner'), email: 'olga@test.example' }, { ...teamsUserOf('staff'), email: 'sam@test.example' }]);
    expect((await stack.server.post(team({ type: 'conversationUpdate', membersAdded: [{ id: BOT.id, name: BOT.name }], channelData: { eventType: 'teamMemberAdded', team: { id: TEAM, name: 'Security' }, tenant: { id: TENANT } } }))).status).toBe(200);
    expect((await stack.server.post(team(removal))).status).toBe(200);
    // Teams refuses to open a personal chat the app may no longer open.
    connector.refuseNewConversations = 403;
    await enqueue(h.t.db, { recipientId: h.ids.owner, kind: 'test', idempotencyKey: 'test:removed', reply: replyText('Please review POL-0001.'), notBefore: new Date(Date.now() - 1000) });
    expect(await deliverDue(h.t.db, [stack.server.port])).toMatchObject({ sent: 0, failed: 0, waiting: 1 });
    expect(connector.conversationRequests).toEqual([]);
    const [row] = await h.t.db.select().from(outbox).where(eq(outbox.idempotencyKey, 'test:removed'));
    expect(row.status).toBe('queued');
    const [unreachable] = await h.t.db.select().from(unreachablePeople).where(eq(unreachablePeople.personId, h.ids.owner));
    expect(unreachable.reason).toBe('Microsoft Teams: not in any team where the app is installed, and never wrote to the bot in Teams');
    // Someone who stays in a team that keeps the app is still reachable through it.
    expect(Boolean(await loadRosterAddress(h.t.db, h.ids.staff))).toBe(othersStay);
  });
});

/**
 * The app removed from a person's personal scope: Teams sends an installationUpdate "remove" in their
 * personal chat and from then on refuses the bot's messages there (403); adding it again sends an
 * installationUpdate "add" (the conversationUpdate of a first install is not sent again).
 */
describe('Teams: the app removed from, and added again to, a person\'s personal scope', () => {
  let stack: TeamsStack, h: TeamsTestCore, connector: FakeConnector;
  beforeAll(async () => { ({ h, connector } = stack = await startTeamsStack()); });
  afterAll(() => stack.stop());

  const inPersonalChat = (action: string) => ({
    type: 'installationUpdate', action, id: `install-${action}`, channelId: 'msteams', serviceUrl: connector.url,
    from: teamsUserOf('owner'), recipient: BOT,
    conversation: { id: personalChatOf('owner'), conversationType: 'personal', tenantId: TENANT, isGroup: false, name: '' },
    channelData: { tenant: { id: TENANT }, source: { name: 'message' } },
  });

  it('keeps their nudges waiting, saying why, while it is removed, and delivers them once it is added again', async () => {
    expect((await stack.server.post({ ...personalMessage('owner', 'help'), serviceUrl: connector.url })).status).toBe(200);
    expect((await stack.server.post(inPersonalChat('remove'))).status).toBe(200);
    // Teams refuses the bot's messages in a personal chat whose app was removed.
    connector.failNext(1, 403);
    await enqueue(h.t.db, { recipientId: h.ids.owner, kind: 'test', idempotencyKey: 'test:uninstalled', reply: replyText('Please review POL-0001.'), notBefore: new Date(Date.now() - 1000) });
    const before = connector.posted.length;
    expect(await deliverDue(h.t.db, [stack.server.port])).toMatchObject({ sent: 0, failed: 0, waiting: 1 });
    const [unreachable] = await h.t.db.select().from(unreachablePeople).where(eq(unreachablePeople.personId, h.ids.owner));
    expect(unreachable.reason).toBe('Microsoft Teams: not in any team where the app is installed, and never wrote to the bot in Teams');
    connector.clearFailures();

    expect((await stack.server.post(inPersonalChat('add'))).status).toBe(200);
    expect(await deliverDue(h.t.db, [stack.server.port])).toMatchObject({ sent: 1, waiting: 0 });
    expect(connector.posted.slice(before).map((p) => [p.conversationId, cardText(cardOf(p.activity))])).toEqual([
      [personalChatOf('owner'), expect.stringContaining("Hello Olga Owner, I'm the ISMS bot")],
      [personalChatOf('owner'), 'Please review POL-0001.'],
    ]);
  });

  it('welcomes them once per install: once for a first install (its conversationUpdate and installationUpdate), again after a reinstall, never for an upgrade or another conversationUpdate', async () => {
    const chat = personalChatOf('auditor');
    const as = (activity: Record<string, any>, id: string) => ({ ...activity, id, from: teamsUserOf('auditor'), conversation: { ...activity.conversation, id: chat } });
    const membersAdded = (id: string) => as({ ...inPersonalChat('add'), type: 'conversationUpdate', action: undefined, membersAdded: [teamsUserOf('auditor'), { id: BOT.id }] }, id);
    const installation = (action: string, id: string) => as(inPersonalChat(action), id);
    const welcomes = async (...activities: Record<string, any>[]) => {
      const before = connector.posted.length;
      for (const activity of activities) expect((await stack.server.post(activity)).status).toBe(200);
      return connector.posted.slice(before).filter((p) => p.conversationId === chat && cardText(cardOf(p.activity)).includes("I'm the ISMS bot")).length;
    };
    expect(await welcomes(membersAdded('f:first-members'), installation('add', 'f:first-install'))).toBe(1);
    expect(await welcomes(membersAdded('f:later-members'), installation('add-upgrade', 'f:upgrade'))).toBe(0);
    expect(await welcomes(installation('remove', 'f:removed'))).toBe(0);
    const reinstall = installation('add', 'f:reinstall');
    expect(await welcomes(reinstall, reinstall)).toBe(1);
  });
});
