import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { aiTools, evidenceItems, evidenceRequests } from '../src/db/schema/index.js';
import { addControl } from './helpers/fixtures.js';
import type { FakeConnector } from './helpers/fake-connector.js';
import {
  startTeamsStack, payloadDriver, cardOf, clickActivity, cardText, requestEvidenceInTeams, teamsUserOf, personalChatOf, BOT, TENANT,
  type TeamsServer, type TeamsStack, type TeamsTestCore,
} from './helpers/teams.js';
import { CAST, type CastKey } from './helpers/bot.js';
import { recordEvidenceMessage } from '../adapters/teams/addresses.js';
import { deliverDue } from '../src/core/delivery.js';
import { enqueue } from '../src/core/outbox.js';
import { replyText } from '../src/core/reply.js';

/**
 * Activities as Microsoft Teams and the Bot Framework send them, including the fields they leave out
 * and the types the bot does not act on: each gets the status the protocol expects, and a person
 * reads a clear answer or nothing, never the apology for an internal fault.
 */
describe('Teams activities as the Bot Framework sends them', () => {
  let stack: TeamsStack, h: TeamsTestCore, server: TeamsServer, connector: FakeConnector;
  beforeAll(async () => { ({ h, server, connector } = stack = await startTeamsStack()); });
  afterAll(() => stack.stop());

  const { message, inChannel, post } = payloadDriver(() => stack);
  const without = (activity: Record<string, any>, key: string) => {
    delete activity[key];
    return activity;
  };
  /** The evidence request card in Olga's personal chat, sent once for the tests that need it. */
  let requestCard: ReturnType<typeof requestEvidenceInTeams> | undefined;
  const evidenceRequestCard = () => (requestCard ??= requestEvidenceInTeams(stack));

  it.each([
    ['without a recipient', () => without(message('staff', 'declare ai Kagi'), 'recipient'), 'recipient: Required'],
    ['with a null recipient', () => message('staff', 'declare ai Kagi', { recipient: null as never }), 'recipient: Expected object'],
    ['without a channelId', () => without(message('staff', 'declare ai Kagi'), 'channelId'), 'channelId: Required'],
  ])('refuses a message %s (the protocol requires it of a channel) with 400 saying so, and posts and records nothing', async (_name, activity, problem) => {
    const { status, body, posted } = await post(activity());
    expect(status).toBe(400);
    expect(body).toContain(problem);
    expect(posted).toEqual([]);
    expect(await h.t.db.select().from(aiTools)).toEqual([]);
  });

  it.each([
    ['entities: null', () => message('staff', 'help', { entities: null as never })],
    ['an entity without a type', () => message('staff', 'help', { entities: [{ locale: 'de-DE' } as never] })],
    ['a mention entity without the account it names', () => inChannel('staff', 'help', { entities: [{ type: 'mention', text: `<at>${BOT.name}</at>` }] })],
    ['a mention entity and no text (a card button)', () => message('staff', '', { text: undefined, value: { verb: 'isms', command: 'help' }, entities: [{ type: 'mention', text: `<at>${BOT.name}</at>`, mentioned: BOT }] })],
  ])('answers a message with %s as if the entity were not there', async (_name, activity) => {
    const { status, posted } = await post(activity());
    expect(status).toBe(200);
    expect(posted).toContainEqual(expect.stringContaining('Here is what you can do'));
  });

  it.each([
    ['a reaction added', { type: 'messageReaction', reactionsAdded: [{ type: 'like' }], replyToId: 'msg-1' }],
    ['a reaction removed', { type: 'messageReaction', reactionsRemoved: [{ type: 'heart' }], replyToId: 'msg-1' }],
    ['an edited message', { type: 'messageUpdate', text: 'declare ai Edited', channelData: { eventType: 'editMessage', tenant: { id: 'tenant-1' } } }],
    ['a deleted message', { type: 'messageDelete', channelData: { eventType: 'softDeleteMessage', tenant: { id: 'tenant-1' } } }],
    ['typing', { type: 'typing' }],
    ['the app installed', { type: 'installationUpdate', action: 'add' }],
    ['the app uninstalled', { type: 'installationUpdate', action: 'remove' }],
    ['the app upgraded', { type: 'installationUpdate', action: 'add-upgrade' }],
    ['a member removed', { type: 'conversationUpdate', membersRemoved: [{ id: '29:someone', name: 'Someone' }] }],
    ['a read receipt', { type: 'event', name: 'application/vnd.microsoft.readReceipt', value: { lastReadMessageId: '1700000000000' } }],
    ['a deleted message restored', { type: 'messageUpdate', text: 'declare ai Restored', channelData: { eventType: 'undeleteMessage', tenant: { id: 'tenant-1' } } }],
    ['the bot removed', { type: 'conversationUpdate', membersRemoved: [BOT] }],
    ['a channel created', { type: 'conversationUpdate', channelData: { eventType: 'channelCreated', channel: { id: '19:new@thread.tacv2', name: 'New' }, team: { id: '19:team@thread.tacv2' }, tenant: { id: 'tenant-1' } } }],
    ['a team renamed', { type: 'conversationUpdate', channelData: { eventType: 'teamRenamed', team: { id: '19:team@thread.tacv2', name: 'Security' }, tenant: { id: 'tenant-1' } } }],
    ['a meeting event', { type: 'event', name: 'application/vnd.microsoft.meetingStart', value: { Id: 'meeting-1' } }],
  ])('takes %s with 200, answers nothing and records nothing', async (_name, fields) => {
    const { status, posted } = await post(message('staff', '', { text: undefined, ...fields }));
    expect(status).toBe(200);
    expect(posted).toEqual([]);
    expect(await h.t.db.select().from(aiTools)).toEqual([]);
  });

  it.each([
    ['task/fetch', { data: { verb: 'isms' } }],
    ['composeExtension/query', { commandId: 'search', parameters: [{ name: 'query', value: 'risk' }] }],
    ['signin/verifyState', { state: '012345' }],
    ['actionableMessage/executeAction', { body: '{}', actionId: 'approve' }],
    ['adaptiveCard/action', { action: { type: 'Action.Execute', verb: 'unknown', data: {} }, trigger: 'manual' }],
    ['task/submit', { data: { verb: 'isms', command: 'help' } }],
    ['composeExtension/fetchTask', { commandId: 'report', commandContext: 'message' }],
    ['composeExtension/submitAction', { commandId: 'report', data: {} }],
    ['composeExtension/queryLink', { url: 'https://example.com/risk/1' }],
    ['message/submitAction', { actionName: 'feedback', actionValue: { reaction: 'like', feedback: '{}' } }],
  ])('answers an invoke it does not handle (%s) at once with 501 Not Implemented, posting nothing, and logs its name once, as information', async (name, value) => {
    const logs = h.logs.length;
    const { status, posted } = await post(message('staff', '', { text: undefined, type: 'invoke', name, value }));
    expect(status).toBe(501);
    expect(posted).toEqual([]);
    const logged = h.logs.slice(logs).map((l) => JSON.parse(l) as { level: number; invoke?: string; msg: string });
    expect(logged.filter((l) => l.level >= 30).map((l) => [l.level, l.invoke, l.msg])).toEqual([[30, name, expect.stringContaining('does not handle')]]);
  });

  it.each([
    ['the bot @mentioned alone in a channel', () => inChannel('staff', '')],
    ['the bot @mentioned in a channel with only spaces after it', () => inChannel('staff', '&nbsp; ')],
    ['a message of only spaces in the personal chat', () => message('staff', '   ')],
  ])('answers %s with the help, privately', async (_name, activity) => {
    await post(message('staff', 'status'));
    const sent = activity();
    const before = connector.posted.length;
    const { status } = await post(sent);
    expect(status).toBe(200);
    const said = (conversationId: string) => connector.posted.slice(before).filter((p) => p.conversationId === conversationId).map((p) => cardText(cardOf(p.activity)));
    const personalChat = personalChatOf('staff');
    expect(said(personalChat)).toEqual([expect.stringContaining('Here is what you can do')]);
    if (sent.conversation.id !== personalChat) expect(said(sent.conversation.id)).toEqual(["Sam Staff, I've sent you the answer in our personal chat."]);
  });

  it('answers a command in the personal chat that @mentions the bot without a mention entity, as if typed without it', async () => {
    const { status, posted } = await post(message('staff', `<at>${BOT.name}</at> help`));
    expect(status).toBe(200);
    expect(posted).toEqual([expect.stringContaining('Here is what you can do')]);
  });

  it.each([
    ['&nbsp; between its words', () => message('staff', 'declare&nbsp;ai&nbsp;Kagi'), { name: 'Kagi', purpose: null }],
    ['&amp; in a quoted name', () => message('staff', 'declare ai "R&amp;D Assistant"'), { name: 'R&D Assistant', purpose: null }],
    ['&quot;, &lt;, &gt; and &#39; in its text', () => message('staff', 'declare ai Otter &quot;notes &lt;internal&gt; for Sam&#39;s team&quot;'), { name: 'Otter', purpose: "notes <internal> for Sam's team" }],
    ['entities after the bot\'s mention in a channel', () => inChannel('staff', 'declare ai &quot;Q&amp;A Bot&quot;&nbsp;'), { name: 'Q&A Bot', purpose: null }],
  ])('takes a message with %s (as Teams writes the typed text) as typed, and records what the person typed', async (_name, activity, recorded) => {
    await h.t.db.delete(aiTools);
    const { status, posted } = await post(activity());
    expect(status).toBe(200);
    expect(posted).toContainEqual(expect.stringContaining(`Recorded ${recorded.name} in the AI register`));
    expect(await h.t.db.select({ name: aiTools.name, purpose: aiTools.purpose }).from(aiTools)).toEqual([recorded]);
    await h.t.db.delete(aiTools);
  });

  it.each([
    ['a trailing line break', 'declare ai Kagi\n\n', 'Kagi'],
    ['a CR LF line ending', 'declare ai Kagi\r\n', 'Kagi'],
    ['German „quotes“', 'declare ai „Kagi Search“', 'Kagi Search'],
    ['smart “quotes”', 'declare ai “Kagi Search”', 'Kagi Search'],
    ['an apostrophe in ‘single quotes’ (a phone types both as ’)', 'declare ai ‘Ada’s Search’', 'Ada’s Search'],
  ])('takes a message typed with %s, with the text/html copy Teams adds, as typed', async (_name, typed, name) => {
    await h.t.db.delete(aiTools);
    const { posted } = await post(message('staff', typed, { textFormat: 'plain', attachments: [{ contentType: 'text/html', content: `<p>${typed.trim()}</p>` }] }));
    expect(posted).toEqual([expect.stringContaining(`Recorded ${name} in the AI register`)]);
    expect(await h.t.db.select({ name: aiTools.name }).from(aiTools)).toEqual([{ name }]);
    await h.t.db.delete(aiTools);
  });

  it('welcomes a person once when Teams delivers the install in their personal chat twice (same activity)', async () => {
    const installed = message('auditor', '', { id: 'f:2b9c4e1d-install', text: undefined, type: 'conversationUpdate', membersAdded: [teamsUserOf('auditor'), BOT] });
    const deliveries = [await post(installed), await post(installed)];
    expect(deliveries.map((d) => d.status)).toEqual([200, 200]);
    expect(deliveries.map((d) => d.posted)).toEqual([[expect.stringContaining(`Hello ${CAST.auditor.name}, I'm the ISMS bot`)], []]);
  });

  it('answers at the serviceUrl of the region each activity came from, and reaches the person later at the latest one', async () => {
    const from = (region: string, text: string) => ({ ...message('auditor', text), serviceUrl: `${connector.url}${region}/` });
    const before = connector.posted.length;
    expect((await post(from('emea', 'help'))).status).toBe(200);
    expect((await post(from('amer', 'help'))).status).toBe(200);
    expect(connector.posted.slice(before).map((p) => p.region)).toEqual(['emea', 'amer']);
    await enqueue(h.t.db, { recipientId: h.ids.auditor, kind: 'test', idempotencyKey: 'test:teams-payloads:region', reply: replyText('Please review POL-0001.'), notBefore: new Date(Date.now() - 1000) });
    const later = connector.posted.length;
    expect((await deliverDue(h.t.db, [server.port])).sent).toBe(1);
    expect(connector.posted.slice(later).map((p) => [p.conversationId, p.region])).toEqual([[personalChatOf('auditor'), 'amer']]);
  });

  describe('a picture pasted into a message', () => {
    let requestMessageId: string;
    beforeAll(async () => {
      requestMessageId = (await evidenceRequestCard()).id;
    });

    /** How Teams delivers a pasted picture: an image attachment with a link only the bot's token opens, and the message as HTML. */
    const pasted = (text: string | undefined, replyToId?: string) => message('owner', '', {
      text, replyToId,
      attachments: [
        { contentType: 'image/png', contentUrl: `${connector.url}v3/attachments/0-weu-d1-abc/views/original` },
        { contentType: 'text/html', content: `<p>${text ?? ''}</p><p><img src="https://eu-api.asm.skype.com/v1/objects/0-weu-d1-abc/views/imgo" width="250" height="250"></p>` },
      ],
    });

    it('refuses it in reply to an evidence request, with its text, saying how to send it, and records nothing', async () => {
      const audits = await h.auditCount();
      const { posted } = await post(pasted('Screenshot of the access review', requestMessageId));
      expect(posted).toEqual([expect.stringContaining("I can't take a picture pasted into a message as evidence, so nothing was recorded.")]);
      expect(posted[0]).toContain('attach it (📎) in our personal chat as a reply to the evidence request');
      expect(await h.t.db.select().from(evidenceItems)).toEqual([]);
      expect(await h.auditCount()).toBe(audits);
    });

    it('answers one pasted without any text, instead of staying silent', async () => {
      const { posted } = await post(pasted(undefined));
      expect(posted).toEqual([expect.stringContaining("I can't take a picture pasted into a message as evidence, so nothing was recorded.")]);
      expect(await h.t.db.select().from(evidenceItems)).toEqual([]);
    });
  });

  describe('an evidence reply its author edits or deletes in Teams', () => {
    it('keeps the evidence as first sent and tells the person so, once per edit and once per deletion however often Teams delivers them', async () => {
      const card = await evidenceRequestCard();
      const [request] = await h.t.db.select().from(evidenceRequests);
      const sent = message('owner', 'Access review done, signed off by the CISO', { replyToId: card.id });
      const recorded = await post(sent);
      expect(recorded.posted).toEqual([expect.stringContaining('EV-')]);
      const items = await h.t.db.select().from(evidenceItems);
      expect(items).toMatchObject([{ text: 'Access review done, signed off by the CISO' }]);
      const audits = await h.auditCount();

      // Teams names the changed message by its id, the same for every edit; each edit has its own time and the new text, a deletion none.
      const edited = (text: string, timestamp: string) => message('owner', text, { id: sent.id, type: 'messageUpdate', ...({ timestamp, localTimestamp: timestamp.replace('Z', '+01:00') } as object), channelData: { eventType: 'editMessage', tenant: { id: 'tenant-1' } } });
      const first = edited('Access review done, signed off by the CISO on 3 Dec', '2026-12-03T10:15:02.1234567Z');
      const second = edited('Access review done, signed off by the CISO on 3 Dec 2026', '2026-12-03T10:16:40.7654321Z');
      const edits = [await post(first), await post(first), await post(second), await post(second)];
      expect(edits.map((e) => e.status)).toEqual([200, 200, 200, 200]);
      const note = expect.stringContaining(`evidence stays as it was first sent: what you sent for ${request.ref} is kept unchanged`);
      expect(edits.map((e) => e.posted)).toEqual([[note], [], [note], []]);
      // A personal chat has no threads: the reply is one to the request's message.
      expect(edits[0].posted[0]).toContain('To hand in the changed text, send it as a new reply to my evidence request here: it is added as a new revision.');
      expect(edits[0].posted[0]).not.toContain('thread');

      const deletion = message('owner', '', { id: sent.id, text: undefined, type: 'messageDelete', channelData: { eventType: 'softDeleteMessage', tenant: { id: 'tenant-1' } } });
      const deletions = [await post(deletion), await post(deletion)];
      expect(deletions.map((e) => e.status)).toEqual([200, 200]);
      const said = deletions.flatMap((e) => e.posted);
      expect(said).toEqual([expect.stringContaining(`does not remove it from the register: what you sent for ${request.ref} stays as it was recorded, for the audit trail`)]);
      expect(said[0]).toContain(`"evidence return ${request.ref} sent by mistake"`);

      expect(await h.t.db.select().from(evidenceItems)).toEqual(items);
      expect(await h.auditCount()).toBe(audits);
    });
  });

  describe('an evidence message changed in a channel', () => {
    /** Teams sends edits and deletions in every scope; such a message's note is for its author alone. */
    it('tells its author in their personal chat, never in the channel, and tells nobody of a moderator deleting it', async () => {
      await evidenceRequestCard();
      const thread = '19:general@thread.tacv2;messageid=1700000000000';
      const [request] = await h.t.db.select().from(evidenceRequests);
      await recordEvidenceMessage(h.t.db, { conversationId: thread, messageId: '1700000000999', personId: h.ids.owner, request: request.ref });
      const changed = (who: CastKey, type: string, eventType: string) => inChannel(who, '', {
        id: '1700000000999', type, ...({ timestamp: `2026-12-03T11:0${type.length % 10}:00.000Z` } as object), text: type === 'messageUpdate' ? 'Access review done (edited)' : undefined,
        channelData: { eventType, tenant: { id: TENANT }, team: { id: '19:team@thread.tacv2' }, channel: { id: '19:general@thread.tacv2' } },
      });
      const before = connector.posted.length;
      for (const change of [changed('lead', 'messageDelete', 'softDeleteMessage'), changed('owner', 'messageUpdate', 'editMessage'), changed('owner', 'messageUpdate', 'editMessage')]) {
        expect((await post(change)).status).toBe(200);
      }
      const said = connector.posted.slice(before);
      expect(said.filter((p) => p.conversationId.startsWith('19:'))).toEqual([]);
      expect(said.map((p) => [p.conversationId, cardText(cardOf(p.activity))])).toEqual([
        [personalChatOf('owner'), expect.stringContaining(`evidence stays as it was first sent: what you sent for ${request.ref} is kept unchanged`)],
      ]);
      // Said in the personal chat, the way to send it again names where it was sent.
      expect(cardText(cardOf(said[0].activity))).toContain('send it as a new reply in the channel thread where you sent it: it is added as a new revision.');
    });

    it('from a group chat (no threads there), tells its author in their personal chat to reply to the request in that group chat', async () => {
      await evidenceRequestCard();
      const [request] = await h.t.db.select().from(evidenceRequests);
      const groupChat = '19:2f3e4d5c6b7a@thread.v2';
      await recordEvidenceMessage(h.t.db, { conversationId: groupChat, messageId: '1700000001999', personId: h.ids.owner, request: request.ref });
      const before = connector.posted.length;
      const edit = message('owner', 'Access review done (edited)', {
        id: '1700000001999', type: 'messageUpdate', ...({ timestamp: '2026-12-03T12:00:00.000Z' } as object),
        conversation: { id: groupChat, conversationType: 'groupChat', tenantId: TENANT, isGroup: true, name: 'Audit prep' },
        channelData: { eventType: 'editMessage', tenant: { id: TENANT } },
      });
      expect((await post(edit)).status).toBe(200);
      const said = connector.posted.slice(before);
      expect(said.map((p) => p.conversationId)).toEqual([personalChatOf('owner')]);
      const note = cardText(cardOf(said[0].activity));
      expect(note).toContain(`what you sent for ${request.ref} is kept unchanged`);
      expect(note).toContain('send it as a new reply to the evidence request in the group chat where you sent it: it is added as a new revision.');
      expect(note).not.toContain('thread');
    });
  });

  describe('a typed "evidence submit" its author edits or deletes in Teams', () => {
    /** How Teams sends an edit of a message: the message's id, its new text, the time of the edit. */
    const editOf = (sent: Record<string, any>, text: string, timestamp: string) => ({
      ...sent, text, type: 'messageUpdate', timestamp, channelData: { ...sent.channelData, eventType: 'editMessage' },
    });
    const deletionOf = (sent: Record<string, any>) => ({ ...sent, text: undefined, type: 'messageDelete', channelData: { ...sent.channelData, eventType: 'softDeleteMessage' } });

    it('keeps the evidence as first sent and tells the person, once per edit, to type it again; a deletion says it stays; an edit of one that recorded nothing gets no note', async () => {
      await evidenceRequestCard();
      const [request] = await h.t.db.select().from(evidenceRequests);
      const typed = `evidence submit ${request.ref} "Access review Q4 done, signed off by the CISO"`;
      const sent = message('owner', typed);
      expect((await post(sent)).posted).toEqual([expect.stringContaining(`for ${request.ref}, CTL-AC-01 Access reviews`)]);
      // The same again that day records nothing, so its message is no evidence to keep.
      const repeated = message('owner', typed);
      expect((await post(repeated)).posted).toEqual([expect.stringContaining(`This is already recorded for ${request.ref}`)]);
      const items = await h.t.db.select().from(evidenceItems);
      const audits = await h.auditCount();

      const edited = editOf(sent, `evidence submit ${request.ref} "Access review Q4 done, signed off by the CISO on 4 Dec"`, '2026-12-04T10:15:02.1234567Z');
      const edits = [await post(edited), await post(edited), await post(editOf(repeated, `${typed} (again)`, '2026-12-04T10:16:00.000Z'))];
      expect(edits.map((e) => e.status)).toEqual([200, 200, 200]);
      expect(edits.map((e) => e.posted.length)).toEqual([1, 0, 0]);
      const note = edits[0].posted[0];
      expect(note).toContain(`You edited your message, but evidence stays as it was first sent: what you sent for ${request.ref} is kept unchanged, and your edit is not recorded.`);
      expect(note).toContain(`To hand in the changed text, send it again in a new message: "evidence submit ${request.ref} <the changed text>". It is added as a new revision.`);

      const deleted = await post(deletionOf(sent));
      expect(deleted.posted).toEqual([expect.stringContaining(`You deleted your message, but deleting it in the chat does not remove it from the register: what you sent for ${request.ref} stays as it was recorded`)]);
      expect(await h.t.db.select().from(evidenceItems)).toEqual(items);
      expect(await h.auditCount()).toBe(audits);
    });

    it('in a channel, for a control without a request, tells its author in their personal chat, naming the control; its deletion gets no note', async () => {
      await evidenceRequestCard();
      await addControl(h.t.db, { code: 'CTL-AC-09', title: 'Admin access reviews', ownerId: h.ids.owner });
      const link = 'https://wiki.example/admin-access-review-q4';
      const sent = inChannel('owner', `evidence submit CTL-AC-09 ${link}`);
      expect((await post(sent)).status).toBe(200);
      const items = await h.t.db.select().from(evidenceItems).where(eq(evidenceItems.link, link));
      expect(items).toMatchObject([{ requestId: null, submittedBy: h.ids.owner, channel: 'teams' }]);

      const before = connector.posted.length;
      const edit = editOf(sent, `<at>${BOT.name}</at> evidence submit CTL-AC-09 ${link}/v2`, '2026-12-04T11:00:00.000Z');
      expect((await post(edit)).status).toBe(200);
      expect((await post(deletionOf(sent))).status).toBe(200);
      const said = connector.posted.slice(before);
      expect(said.map((p) => p.conversationId)).toEqual([personalChatOf('owner')]);
      const note = cardText(cardOf(said[0].activity));
      expect(note).toContain('You edited your message, but evidence stays as it was first sent: what you sent for CTL-AC-09 is kept unchanged');
      expect(note).toContain('send it again in a new message: "evidence submit CTL-AC-09 <the changed text>"');
      expect(await h.t.db.select().from(evidenceItems).where(eq(evidenceItems.link, link))).toEqual(items);
    });
  });

  describe('someone else @mentioned in a channel command', () => {
    /** How Teams writes a mention of a person: "<at>Name</at>" in the text, with a mention entity for it. */
    const mentioning = (who: CastKey, command: string, person: CastKey) => inChannel(who, command, {
      entities: [
        { type: 'mention', text: `<at>${BOT.name}</at>`, mentioned: BOT },
        { type: 'mention', text: `<at>${CAST[person].name}</at>`, mentioned: teamsUserOf(person) },
      ],
    });

    it('is the person the command names', async () => {
      const { posted } = await post(mentioning('lead', 'pause <at>Sam Staff</at> 2030-08-24', 'staff'));
      expect(posted).toContainEqual(expect.stringContaining('Nudges to Sam Staff wait until 2030-08-24'));
    });

    it('is their name, without markup, in text in quotes', async () => {
      await post(mentioning('staff', 'declare ai Otter "meeting notes with <at>Olga Owner</at>"', 'owner'));
      expect(await h.t.db.select({ name: aiTools.name, purpose: aiTools.purpose }).from(aiTools)).toEqual([{ name: 'Otter', purpose: 'meeting notes with Olga Owner' }]);
    });

    it.each([
      ['„German quotes“ (as a German keyboard or autocorrect writes them)', 'Fathom', '„meeting notes with <at>Olga Owner</at>“'],
      ['‘typographic single quotes’', 'Grain', '‘meeting notes with <at>Olga Owner</at>’'],
      ['« guillemets »', 'Tactiq', '«&nbsp;meeting notes with <at>Olga Owner</at>&nbsp;»'],
    ])('is their name, without quotes nobody typed, in text in %s', async (_how, tool, quoted) => {
      const { posted } = await post(mentioning('staff', `declare ai ${tool} ${quoted}`, 'owner'));
      expect(posted).toContainEqual(expect.stringContaining(`Recorded ${tool} in the AI register`));
      expect(await h.t.db.select({ purpose: aiTools.purpose }).from(aiTools).where(eq(aiTools.name, tool))).toEqual([{ purpose: 'meeting notes with Olga Owner' }]);
    });
  });

  describe('someone else @mentioned in a personal-chat command', () => {
    /** A personal chat takes mentions too: "<at>Name</at>" in the text, with a mention entity for each. */
    const mentioning = (who: CastKey, command: string, ...mentioned: CastKey[]) => message(who, command, {
      entities: mentioned.map((person) => ({ type: 'mention', text: `<at>${CAST[person].name}</at>`, mentioned: teamsUserOf(person) })),
    });

    it('is the person the command names', async () => {
      const { posted } = await post(mentioning('lead', 'pause <at>Olga Owner</at> 2030-08-25', 'owner'));
      expect(posted).toEqual([expect.stringContaining('Nudges to Olga Owner wait until 2030-08-25')]);
    });

    it('is their name, without markup, in text in quotes; the bot\'s own mention in front is not part of it', async () => {
      await h.t.db.delete(aiTools);
      const activity = mentioning('staff', `<at>${BOT.name}</at> declare ai Fireflies "meeting notes with <at>Olga Owner</at> and <at>Lena Lead</at>"`, 'owner', 'lead');
      activity.entities.unshift({ type: 'mention', text: `<at>${BOT.name}</at>`, mentioned: BOT });
      const { posted } = await post(activity);
      expect(posted).toEqual([expect.stringContaining('Recorded Fireflies in the AI register')]);
      expect(await h.t.db.select({ name: aiTools.name, purpose: aiTools.purpose }).from(aiTools)).toEqual([{ name: 'Fireflies', purpose: 'meeting notes with Olga Owner and Lena Lead' }]);
      await h.t.db.delete(aiTools);
    });
  });

  it('shows the evidence form of a "Submit evidence" click without the terminal\'s way of attaching a file', async () => {
    const card = await evidenceRequestCard();
    const { status, posted } = await post({ ...clickActivity('owner', cardOf(card.activity), 'Submit evidence', {}, { replyToId: card.id }), serviceUrl: connector.url });
    expect(status).toBe(200);
    expect(posted).toEqual([expect.stringContaining('📎 File: send the file to me in this chat, as a reply to this message.')]);
    expect(posted[0]).not.toContain('terminal');
    expect(posted[0]).not.toContain('--file');
  });
});
