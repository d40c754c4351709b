import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desc, eq } from 'drizzle-orm';
import { aiTools, auditEvents, evidenceItems, outbox, people } from '../src/db/schema/index.js';
import { TEAMS_FILE_TYPE } from '../adapters/teams/files.js';
import type { FakeConnector, Member } from './helpers/fake-connector.js';
import {
  startTeamsStack, payloadDriver, requestEvidenceInTeams, cardOf, cardText, personalChatOf, teamsUserOf, BOT, TENANT,
  type TeamsStack, type TeamsTestCore,
} from './helpers/teams.js';

/**
 * More activities as Microsoft Teams sends them: a member of another tenant writing in a shared
 * channel (Teams Connect), an option typed on a phone, a bot mention Teams splits in two, and the end
 * of a conversation. Microsoft documents that a shared channel's members may come from other tenants,
 * told apart by the member's tenantId (learn.microsoft.com, "Microsoft Teams Connect shared channels").
 */
describe('more Teams activities as the Bot Framework sends them', () => {
  let stack: TeamsStack, h: TeamsTestCore, connector: FakeConnector;
  beforeAll(async () => { ({ h, connector } = stack = await startTeamsStack()); });
  afterAll(() => stack.stop());

  const { message, inChannel, post } = payloadDriver(() => stack);

  describe('a member of another tenant @mentioning the bot in a shared channel', () => {
    const ELSEWHERE = "You are from another organisation: people from other organisations can't use the ISMS bot here";
    /** Pat, of the partner's tenant: the member look-up names their own tenant, and the email their tenant gave them. */
    const partner = (email: string): Member => ({ id: '29:partner', name: 'Pat Partner', aadObjectId: 'aad-partner', email, userPrincipalName: email, tenantId: 'tenant-partner' } as Member);
    const sharedChannelMention = (command: string) => inChannel('staff', command, {
      from: { id: '29:partner', name: 'Pat Partner', aadObjectId: 'aad-partner' },
      conversation: { id: '19:shared@thread.tacv2;messageid=1700000001000', conversationType: 'channel', tenantId: TENANT, isGroup: true, name: 'Partner project' },
      channelData: { tenant: { id: TENANT }, team: { id: '19:team@thread.tacv2' }, channel: { id: '19:shared@thread.tacv2' } },
    } as never);

    it.each([
      ['an email the register does not hold', 'pat@partner.example'],
      ['the email of someone in the register not linked yet, set by their own tenant', 'nina@test.example'],
    ])('with %s is told people from other organisations cannot use the bot, not who runs it here, and is linked to nobody', async (_with, email) => {
      connector.members.set('29:partner', partner(email));
      const audits = await h.auditCount();
      const { status, posted } = await post(sharedChannelMention('declare ai Partnerbot'));
      expect(status).toBe(200);
      expect(posted.join('\n')).toContain(ELSEWHERE);
      expect(posted.join('\n')).not.toMatch(/Lena Lead|lena@test\.example/);
      expect(await h.t.db.select().from(aiTools)).toEqual([]);
      expect(await h.t.db.select().from(people).where(eq(people.teamsAadObjectId, 'aad-partner'))).toEqual([]);
      expect(await h.auditCount()).toBe(audits);
    });
  });

  describe('a member of another tenant whose account was linked to someone in the register before such accounts were refused', () => {
    const ELSEWHERE = "You are from another organisation: people from other organisations can't use the ISMS bot here";
    const paulaMention = (command: string) => inChannel('staff', command, {
      from: { id: '29:paula', name: 'Paula Partner', aadObjectId: 'aad-paula' },
      conversation: { id: '19:shared@thread.tacv2;messageid=1700000002000', conversationType: 'channel', tenantId: TENANT, isGroup: true, name: 'Partner project' },
      channelData: { tenant: { id: TENANT }, team: { id: '19:team@thread.tacv2' }, channel: { id: '19:shared@thread.tacv2' } },
    } as never);

    it('is refused in a shared channel as the member look-up names their own tenant; nothing runs, and the ISMS lead is told once', async () => {
      const [paula] = await h.t.db.insert(people).values({ name: 'Paula Partner', email: 'paula@test.example', roles: ['staff'], timezone: 'Europe/Paris', teamsAadObjectId: 'aad-paula' }).returning();
      connector.members.set('29:paula', { id: '29:paula', name: 'Paula Partner', aadObjectId: 'aad-paula', email: 'paula@partner.example', userPrincipalName: 'paula@partner.example', tenantId: 'tenant-partner' } as Member);
      const audits = await h.auditCount();
      for (const command of ['declare ai Paulabot', 'status']) {
        const { status, posted } = await post(paulaMention(command));
        expect(status).toBe(200);
        expect(posted.join('\n')).toContain(ELSEWHERE);
      }
      expect(await h.t.db.select().from(aiTools).where(eq(aiTools.name, 'Paulabot'))).toEqual([]);
      expect((await h.t.db.select().from(outbox).where(eq(outbox.kind, 'external_account'))).map((m) => m.recipientId)).toEqual([h.ids.lead]);
      const refused = await h.t.db.select().from(auditEvents).where(eq(auditEvents.action, 'refuse_external_account'));
      expect(refused).toMatchObject([{ entityRef: 'paula@test.example', after: { platform: 'teams', accountId: 'aad-paula' } }]);
      expect(await h.auditCount()).toBe(audits + 1);
      expect((await h.person(paula.id)).teamsAadObjectId).toBe('aad-paula');
    });
  });

  it('takes "--" a phone turned into an em dash before an option as the option', async () => {
    const { posted } = await post(message('staff', 'declare ai Kagi \u2014vendor Kagi'));
    expect(posted).toEqual([expect.stringContaining('Recorded Kagi in the AI register')]);
    expect(await h.t.db.select({ name: aiTools.name, vendor: aiTools.vendor, purpose: aiTools.purpose }).from(aiTools)).toEqual([{ name: 'Kagi', vendor: 'Kagi', purpose: null }]);
    await h.t.db.delete(aiTools);
  });

  it('answers a channel command whose bot mention Teams split in two (a multi-word bot name, part of it deleted and typed again)', async () => {
    const { posted } = await post(inChannel('staff', '', {
      text: '<at>ISMS</at> <at>Bot</at> declare ai Splitname',
      recipient: { ...BOT, name: 'ISMS Bot' },
      entities: [{ type: 'mention', text: '<at>ISMS</at>', mentioned: BOT }, { type: 'mention', text: '<at>Bot</at>', mentioned: BOT }],
    } as never));
    expect(posted).toContainEqual(expect.stringContaining('Recorded Splitname in the AI register'));
    expect(await h.t.db.select({ name: aiTools.name }).from(aiTools)).toEqual([{ name: 'Splitname' }]);
    await h.t.db.delete(aiTools);
  });

  it('answers a newcomer whose channel mention carries no Entra id and names its tenant only on the conversation, in a personal chat opened in that tenant', async () => {
    connector.members.set('29:nina', { id: '29:nina', name: 'Nina Newcomer', email: 'nina@test.example' });
    const created = connector.created.length;
    const mention = inChannel('staff', 'status', { from: { id: '29:nina', name: 'Nina Newcomer' }, channelData: { team: { id: '19:team@thread.tacv2' }, channel: { id: '19:general@thread.tacv2' } } } as never);
    delete mention.locale;
    const { status, posted } = await post(mention);
    expect(status).toBe(200);
    expect(posted.join('\n')).toContain('Nina Newcomer');
    expect(connector.created.slice(created).map((c) => c.parameters.tenantId)).toEqual([TENANT]);
  });

  it('answers a message whose value is JSON null (no card was clicked) as one without it, not with the apology for a fault', async () => {
    const { status, posted } = await post(message('staff', '', { text: undefined, value: null as never }));
    expect(status).toBe(200);
    expect(posted).toEqual([expect.stringContaining('Here is what you can do')]);
  });

  describe('formatting markup Teams leaves in the text of a message', () => {
    it.each([
      ['a paragraph', () => message('staff', '<p>declare ai Kagi</p>'), { name: 'Kagi', vendor: null }],
      ['nested blocks', () => message('staff', '<div><div>declare ai Kagi</div></div>'), { name: 'Kagi', vendor: null }],
      ['a line break after the command', () => message('staff', 'declare ai Kagi<br>'), { name: 'Kagi', vendor: null }],
      ['bold words and a no-break space', () => message('staff', '<p><strong>declare</strong>&nbsp;ai <em>Kagi</em></p>'), { name: 'Kagi', vendor: null }],
      ['one block per line', () => message('staff', '<div>declare ai Kagi</div><div>--vendor Kagi</div>'), { name: 'Kagi', vendor: 'Kagi' }],
      ['a channel paragraph with the bot\'s mention in it', () => inChannel('staff', '', { text: '<p><at>ISMS</at>&nbsp;declare ai Kagi</p>' }), { name: 'Kagi', vendor: null }],
      ['narrow no-break spaces typed inside a quoted name (French typing, « … »)', () => message('staff', 'declare ai Kagi --vendor «\u202fKagi\u202fInc\u202f»'), { name: 'Kagi', vendor: 'Kagi Inc' }],
    ])('is not part of the command: %s', async (_name, activity, recorded) => {
      await h.t.db.delete(aiTools);
      const { status, posted } = await post(activity());
      expect(status).toBe(200);
      expect(posted).toContainEqual(expect.stringContaining('Recorded Kagi in the AI register'));
      expect(await h.t.db.select({ name: aiTools.name, vendor: aiTools.vendor }).from(aiTools)).toEqual([recorded]);
      await h.t.db.delete(aiTools);
    });
  });

  it.each([
    ['someone the bot has answered there before', 'owner' as const],
    ['someone who never wrote to the bot (Teams gives the same personal chat when asked for it)', 'auditor' as const],
  ])('answers %s once in a personal chat whose activity leaves out conversationType and isGroup', async (_who, who) => {
    if (who === 'owner') await post(message(who, 'help'));
    connector.personalChats.set(teamsUserOf(who).id, personalChatOf(who));
    const before = connector.posted.length;
    const { status } = await post(message(who, `declare ai Tool-${who}`, { conversation: { id: personalChatOf(who), tenantId: TENANT } as never }));
    expect(status).toBe(200);
    expect(connector.posted.slice(before).map((p) => [p.conversationId, cardText(cardOf(p.activity))])).toEqual([
      [personalChatOf(who), expect.stringContaining(`Recorded Tool-${who} in the AI register`)],
    ]);
    await h.t.db.delete(aiTools);
  });

  /** The evidence request card in Olga's personal chat, sent once for the tests that need it. */
  let requestCard: ReturnType<typeof requestEvidenceInTeams> | undefined;
  const evidenceRequestCard = () => (requestCard ??= requestEvidenceInTeams(stack));

  it('records a reply to an evidence request that @mentions someone with their name as written, without quotes nobody typed', async () => {
    const card = await evidenceRequestCard();
    const { posted } = await post(message('owner', 'Access review signed off by <at>Lena Lead</at> on 3 Dec', {
      replyToId: card.id,
      entities: [{ type: 'mention', text: '<at>Lena Lead</at>', mentioned: teamsUserOf('lead') }],
    }));
    expect(posted).toEqual([expect.stringContaining('EV-')]);
    expect(await h.t.db.select({ text: evidenceItems.text }).from(evidenceItems).orderBy(desc(evidenceItems.id)).limit(1)).toEqual([{ text: 'Access review signed off by Lena Lead on 3 Dec' }]);
  });

  it.each([
    ['a link whose label is not its address', '<p>Runbook: <a href="https://wiki.example/runbooks/access" title="https://wiki.example/runbooks/access">access review runbook</a></p>',
      { text: 'Runbook: access review runbook (https://wiki.example/runbooks/access)', link: null }],
    ['a link whose label is its address', '<p><a href="https://wiki.example/a?x=1&amp;y=2">https://wiki.example/a?x=1&amp;y=2</a></p>', { text: null, link: 'https://wiki.example/a?x=1&y=2' }],
  ])('records a reply to an evidence request holding %s with the address, which is what an auditor follows', async (_name, written, recorded) => {
    const card = await evidenceRequestCard();
    const { posted } = await post(message('owner', written, { replyToId: card.id }));
    expect(posted).toEqual([expect.stringContaining('EV-')]);
    expect(await h.t.db.select({ text: evidenceItems.text, link: evidenceItems.link }).from(evidenceItems).orderBy(desc(evidenceItems.id)).limit(1)).toEqual([recorded]);
  });

  /**
   * Teams now sends a reply that quotes a message in a chat with a "<quoted messageId=…/>" placeholder
   * at the start of its text and a quotedReply entity naming the quoted message, without replyToId
   * (chats have no reply chains). The entity may be left out, the placeholder stays.
   */
  describe('a quoted reply', () => {
    const quoting = (messageId: string, text: string, entity = true) => message('owner', `<quoted messageId="${messageId}"/> ${text}`, {
      entities: entity ? [{ type: 'quotedReply', quotedReply: { messageId, senderId: BOT.id, senderName: BOT.name, preview: 'Lena Lead asks you for evidence that CTL-AC-01 Access reviews works' } }] : [],
    });

    it.each([
      ['with the quotedReply entity', true, 'https://wiki.example/access-review-q4'],
      ['with only the placeholder in its text', false, 'https://wiki.example/access-review-q4-signed'],
    ])('to an evidence request, %s, is evidence for that request', async (_how, entity, link) => {
      const card = await evidenceRequestCard();
      const { status, posted } = await post(quoting(card.id, link, entity));
      expect(status).toBe(200);
      expect(posted).toEqual([expect.stringContaining('for EVR-')]);
      expect(await h.t.db.select({ link: evidenceItems.link }).from(evidenceItems).where(eq(evidenceItems.link, link))).toEqual([{ link }]);
    });

    it('to any other message runs the command typed, without the placeholder', async () => {
      const { posted } = await post(quoting('1700000000123', 'help'));
      expect(posted).toEqual([expect.stringContaining('Here is what you can do')]);
    });
  });

  describe('a file sent in reply to an evidence request that Teams does not hand over as the file', () => {
    const recordedNothing = async (activity: Record<string, any>, said: string[]) => {
      const items = await h.t.db.select().from(evidenceItems);
      const audits = await h.auditCount();
      const { status, posted } = await post(activity);
      expect(status).toBe(200);
      for (const sentence of said) expect(posted.join('\n')).toContain(sentence);
      expect(await h.t.db.select().from(evidenceItems)).toEqual(items);
      expect(await h.auditCount()).toBe(audits);
    };

    it('is refused when its download link gives a web page about the file (as Teams on iPhone and iPad sends it)', async () => {
      const card = await evidenceRequestCard();
      const landing = connector.addFile('file 1.png', Buffer.from('<!DOCTYPE html><html><body>file 1.png - OneDrive</body></html>'), 'text/html; charset=utf-8');
      await recordedNothing(message('owner', '', {
        text: undefined, replyToId: card.id,
        attachments: [{ contentType: TEAMS_FILE_TYPE, name: 'file 1.png', contentUrl: landing, content: { downloadUrl: landing, uniqueId: 'EYppPe', fileType: 'png' } }],
      }), ['Teams gave me a web page about "file 1.png" instead of the file itself, so nothing was recorded.', 'from Teams on a computer or on the web']);
    });

    it.each([
      ['alone', undefined],
      ['with a few words', 'Here is the signed access review'],
    ])('is refused when shared from OneDrive or SharePoint as a link (a "reference" attachment), %s, instead of being answered with the help or recorded without it', async (_how, text) => {
      const card = await evidenceRequestCard();
      await recordedNothing(message('owner', '', {
        text, replyToId: card.id,
        attachments: [
          { contentType: 'reference', contentUrl: 'https://contoso.sharepoint.com/:b:/g/personal/olga_contoso_com/EQx1y2z3', name: 'access-review.pdf' },
          { contentType: 'text/html', content: `<p>${text ?? ''}</p>` },
        ],
      }), ["I can't take a file shared as a link from OneDrive or SharePoint (\"access-review.pdf\") as evidence, so nothing was recorded."]);
    });
  });

  it('takes the end of a conversation with 200, answering nothing', async () => {
    const { status, posted } = await post(message('staff', '', { text: undefined, type: 'endOfConversation', code: 'userCancelled' } as never));
    expect(status).toBe(200);
    expect(posted).toEqual([]);
  });
});
