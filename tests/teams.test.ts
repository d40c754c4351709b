import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { aiTools, auditEvents, chatAddresses, evidenceItems, outbox, people, policies, policyAcknowledgements } from '../src/db/schema/index.js';
import { toPlainText, type Reply } from '../src/core/reply.js';
import { addControl, addEvidenceRequest, addPolicy, addPolicyVersion, leftInDownloads, storedFileBytes } from './helpers/fixtures.js';
import { MAX_EVIDENCE_FILE_BYTES } from '../src/core/attachments.js';
import { FakeConnector } from './helpers/fake-connector.js';
import {
  createTeamsCore, createTestAdapterBot, personalMessage, channelMention, clickActivity, cardOf, cardText, inputValues,
  personalChatOf, NEWCOMER, type TeamsTestCore, type RecordingTestAdapter,
} from './helpers/teams.js';
import { TEAMS_FILE_TYPE } from '../adapters/teams/files.js';

/**
 * The Teams bot as a person uses it, driven through botbuilder's TestAdapter and the real teams-ai
 * Application: what they type or click, what they read back, and what the register then holds.
 */
describe('Teams bot (TestAdapter)', () => {
  let h: TeamsTestCore;
  let adapter: RecordingTestAdapter;
  const files = new FakeConnector();

  beforeAll(async () => {
    h = await createTeamsCore();
    ({ adapter } = createTestAdapterBot(h.core));
    await files.start();
  });
  afterAll(async () => {
    await files.stop();
    await h.destroy();
  });

  const say = async (...args: Parameters<typeof personalMessage>) => {
    const replies = await adapter.turn(personalMessage(...args));
    expect(replies).toHaveLength(1);
    return cardOf(replies[0]);
  };

  it('answers "help" with the commands the person may use, in the words people type in Teams, with or without "/isms"', async () => {
    const plain = cardText(await say('staff', 'help'));
    expect(plain).toContain('Hello Sam Staff');
    expect(plain).toMatch(/^declare ai /m);
    // Teams has no slash commands: nothing tells people to type "/isms".
    expect(plain).not.toContain('/isms');
    // A lead-only command is not offered to staff.
    expect(plain).not.toMatch(/^request /m);
    const prefixed = cardText(await say('lead', '/isms help'));
    expect(prefixed).toContain('Hello Lena Lead');
    expect(prefixed).toMatch(/^request /m);
    expect(prefixed).not.toContain('/isms');
  });

  it('records "declare ai ChatGPT" in the AI register as the person who typed it, and queues the ISMS lead\'s triage message', async () => {
    const before = await h.auditCount();
    const text = cardText(await say('staff', 'declare ai ChatGPT'));
    expect(text).toContain('Recorded ChatGPT in the AI register as AI-0001');
    const [tool] = await h.t.db.select().from(aiTools).where(eq(aiTools.ref, 'AI-0001'));
    expect(tool).toMatchObject({ name: 'ChatGPT', declaredBy: h.ids.staff, status: 'declared' });
    expect(await h.auditCount()).toBe(before + 2);
    const [triage] = await h.t.db.select().from(outbox).where(eq(outbox.recipientId, h.ids.lead));
    expect(triage.kind).toBe('triage');
    expect(toPlainText(triage.reply as Reply)).toContain('Sam Staff declared the AI tool ChatGPT (AI-0001)');
  });

  it('remembers the personal chat so the bot can write first later', async () => {
    const [address] = await h.t.db.select().from(chatAddresses).where(eq(chatAddresses.personId, h.ids.staff));
    expect(address.platform).toBe('teams');
    expect(JSON.parse(address.address)).toMatchObject({ conversation: { id: personalChatOf('staff') }, user: { aadObjectId: 'aad-staff' } });
  });

  it('records a command @mentioned in a channel, keeps its answer out of the channel when it cannot reach the person privately, and does not take the channel for a personal chat', async () => {
    const replies = await adapter.turn(channelMention('owner', 'declare ai Copilot --vendor Microsoft'));
    expect(replies).toHaveLength(1);
    expect(replies[0].conversation?.id).toContain('19:general@thread.tacv2');
    const said = cardText(cardOf(replies[0]));
    expect(said).toContain('open a personal chat with me');
    expect(`${said}\n${replies[0].summary}`).not.toMatch(/Copilot|AI-0002|Microsoft|Recorded/);
    const [tool] = await h.t.db.select().from(aiTools).where(eq(aiTools.ref, 'AI-0002'));
    expect(tool).toMatchObject({ name: 'Copilot', vendor: 'Microsoft', declaredBy: h.ids.owner });
    expect(await h.t.db.select().from(chatAddresses).where(eq(chatAddresses.personId, h.ids.owner))).toHaveLength(0);
  });

  it('records and answers a retried activity (same id) once', async () => {
    const activity = personalMessage('staff', 'declare ai Perplexity');
    const first = await adapter.turn({ ...activity });
    const again = await adapter.turn({ ...activity });
    expect(cardText(cardOf(first[0]))).toContain('Recorded Perplexity in the AI register');
    expect(again).toEqual([]);
    expect(await h.t.db.select().from(aiTools).where(eq(aiTools.name, 'Perplexity'))).toHaveLength(1);
  });

  it('shows a form card for "declare ai"; submitting it records the tool and replaces the card with who recorded it and when', async () => {
    const form = await say('staff', 'declare ai');
    expect(cardText(form)).toContain('Declare an AI tool');
    expect(cardText(form)).toContain('[Data it sees]');
    const before = await h.auditCount();
    const replies = await adapter.turn(clickActivity('staff', form, 'Declare',
      { tool: 'Claude', vendor: 'Anthropic', data: 'internal,customer', users: '3' }, { replyToId: 'card-1' }));
    expect(replies).toHaveLength(0);
    const [tool] = await h.t.db.select().from(aiTools).where(eq(aiTools.name, 'Claude'));
    expect(tool).toMatchObject({ vendor: 'Anthropic', dataCategories: ['internal', 'customer'], userCount: 3, declaredBy: h.ids.staff });
    expect(await h.auditCount()).toBe(before + 2);
    const update = adapter.updates.at(-1)!;
    expect(update.id).toBe('card-1');
    const replaced = cardText(cardOf(update));
    expect(replaced).toContain(`Recorded Claude in the AI register as ${tool.ref}`);
    expect(replaced).toMatch(/Recorded by Sam Staff, .*\d{4}.* \(Europe\/Berlin\)/);
    expect(replaced).not.toContain('[AI tool]');
  });

  it('refuses a form with a bad value, says which field and why, records nothing and leaves the form', async () => {
    const form = await say('staff', 'declare ai');
    const updates = adapter.updates.length;
    const before = await h.auditCount();
    const replies = await adapter.turn(clickActivity('staff', form, 'Declare', { tool: 'Gemini', users: '0' }, { replyToId: 'card-2' }));
    expect(replies).toHaveLength(1);
    const refusal = cardText(cardOf(replies[0]));
    expect(refusal).toContain('users: must be at least 1');
    expect(refusal).toContain('Nothing was recorded');
    expect(adapter.updates).toHaveLength(updates);
    expect(await h.auditCount()).toBe(before);
    expect(await h.t.db.select().from(aiTools).where(eq(aiTools.name, 'Gemini'))).toHaveLength(0);
  });

  it('shows a refused form again as it was filled in, with the reason right under the field it is about', async () => {
    await addControl(h.t.db, { code: 'CTL-FE-01', title: 'Backups', ownerId: h.ids.owner });
    const form = await say('lead', 'request');
    const before = await h.auditCount();
    const replies = await adapter.turn(clickActivity('lead', form, 'Ask the owner', { control: 'CTL-FE-01', due: '2300-01-01' }, { replyToId: 'card-req' }));
    expect(replies).toHaveLength(1);
    const again = cardOf(replies[0]);
    const lines = cardText(again).split('\n');
    expect(lines[0]).toContain('Nothing was recorded');
    const control = lines.indexOf('[Control]');
    const due = lines.indexOf('[Due date]');
    const reason = lines.findIndex((l) => l.startsWith('Due date: must lie between'));
    expect(control).toBeGreaterThan(0);
    expect(due).toBeGreaterThan(control);
    // Under "Due date", before any other input.
    expect(reason).toBeGreaterThan(due);
    expect(lines.slice(due + 1, reason).filter((l) => l.startsWith('['))).toEqual([]);
    expect(inputValues(again)).toMatchObject({ control: 'CTL-FE-01', due: '2300-01-01' });
    expect(await h.auditCount()).toBe(before);

    const fixed = await adapter.turn(clickActivity('lead', again, 'Ask the owner', { control: 'CTL-FE-01', due: '2099-01-01' }, { replyToId: 'card-req-2' }));
    expect(fixed).toHaveLength(0);
    expect(cardText(cardOf(adapter.updates.at(-1)!))).toMatch(/Asked Olga Owner for evidence for CTL-FE-01 Backups: EVR-\d+, due 2099-01-01/);
  });

  describe('policy acknowledgement by button', () => {
    let policyRef: string;
    beforeAll(async () => {
      const policy = await addPolicy(h.t.db, { title: 'Acceptable Use', ownerId: h.ids.lead });
      await addPolicyVersion(h.t.db, { policyId: policy.id, version: '1.0', content: 'Be careful.' });
      policyRef = policy.ref;
    });

    it('"Acknowledge" records the acknowledgement as the clicking person and replaces the card', async () => {
      const list = await say('staff', 'policies');
      expect(cardText(list)).toContain(`${policyRef} Acceptable Use`);
      const before = await h.auditCount();
      const replies = await adapter.turn(clickActivity('staff', list, 'Acknowledge version 1.0', {}, { replyToId: 'card-pol' }));
      expect(replies).toHaveLength(0);
      const acks = await h.t.db.select().from(policyAcknowledgements).where(eq(policyAcknowledgements.personId, h.ids.staff));
      expect(acks).toHaveLength(1);
      expect(acks[0].channel).toBe('teams');
      expect(await h.auditCount()).toBe(before + 1);
      const update = adapter.updates.at(-1)!;
      expect(update.id).toBe('card-pol');
      expect(cardText(cardOf(update))).toContain(`you acknowledged ${policyRef} Acceptable Use version 1.0`);
      expect(cardText(cardOf(update))).toContain('Recorded by Sam Staff');
    });

    it('refuses a click on a version that is no longer in force, says why, and leaves the card', async () => {
      const list = await say('owner', 'policies');
      const [policy] = await h.t.db.select().from(policies).where(eq(policies.ref, policyRef));
      await addPolicyVersion(h.t.db, { policyId: policy.id, version: '2.0', content: 'Be even more careful.' });
      const updates = adapter.updates.length;
      const before = await h.auditCount();
      const replies = await adapter.turn(clickActivity('owner', list, 'Acknowledge version 1.0', {}, { replyToId: 'card-old' }));
      expect(replies).toHaveLength(1);
      expect(cardText(cardOf(replies[0]))).toContain(`${policyRef} is now at version 2.0, not 1.0. Nothing was recorded.`);
      expect(adapter.updates).toHaveLength(updates);
      expect(await h.auditCount()).toBe(before);
      expect(await h.t.db.select().from(policyAcknowledgements).where(eq(policyAcknowledgements.personId, h.ids.owner))).toHaveLength(0);
    });
  });

  describe('evidence as a file', () => {
    let requestRef: string;
    beforeAll(async () => {
      const control = await addControl(h.t.db, { code: 'CTL-AC-01', title: 'Access reviews', ownerId: h.ids.owner });
      requestRef = (await addEvidenceRequest(h.t.db, { controlId: control.id, ownerId: h.ids.owner, dueOn: '2099-01-01' })).ref;
    });

    const fileAttachment = (name: string, bytes: Buffer) => ({
      contentType: TEAMS_FILE_TYPE, name,
      contentUrl: `https://contoso.sharepoint.com/personal/olga/Documents/${name}`,
      content: { downloadUrl: files.addFile(name, bytes, 'application/pdf'), uniqueId: name, fileType: 'pdf' },
    });

    it('stores a file sent with "evidence submit EVR-…", with its SHA-256', async () => {
      const bytes = Buffer.from('%PDF-1.4 access review Q3');
      const text = cardText(await say('owner', `evidence submit ${requestRef}`, { attachments: [fileAttachment('review.pdf', bytes)] }));
      expect(text).toContain(`for ${requestRef}, CTL-AC-01 Access reviews`);
      const [item] = await h.t.db.select().from(evidenceItems);
      expect(item).toMatchObject({ fileName: 'review.pdf', fileSize: bytes.length, submittedBy: h.ids.owner, channel: 'teams' });
      expect(item.fileSha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(await storedFileBytes(h.t.db, item)).toEqual(bytes);
      expect(await leftInDownloads()).toEqual([]);
    });

    it('refuses a download whose Content-Length is over 100 MB before reading it, records nothing, and leaves no temporary file', async () => {
      const before = await h.auditCount();
      const huge = {
        contentType: TEAMS_FILE_TYPE, name: 'disk-image.raw',
        content: { downloadUrl: files.addFile('disk-image.raw', Buffer.from('raw'), 'application/octet-stream', MAX_EVIDENCE_FILE_BYTES + 1), uniqueId: 'disk-image.raw', fileType: 'raw' },
      };
      const text = cardText(await say('owner', `evidence submit ${requestRef}`, { attachments: [huge] }));
      expect(text).toContain('The file "disk-image.raw" is larger than 100 MB. Nothing was recorded.');
      expect(await h.auditCount()).toBe(before);
      expect(await leftInDownloads()).toEqual([]);
    });

    it('asks which request a bare file is for when no evidence request was sent to the person in Teams, and records nothing', async () => {
      const before = await h.auditCount();
      const text = cardText(await say('staff', '', { text: undefined, attachments: [fileAttachment('stray.pdf', Buffer.from('x'))] }));
      expect(text).toContain(`I received "stray.pdf", but I don't know which evidence request it is for. Nothing was recorded.`);
      expect(await h.auditCount()).toBe(before);
    });
  });

  describe('who is writing', () => {
    it('tells someone who is not in the register that, and whom to ask', async () => {
      // Teams gives the account's email (here on the activity): the register does not hold it.
      const replies = await adapter.turn(personalMessage('staff', 'declare ai Midjourney', {
        from: { id: '29:stranger', name: 'Stan Stranger', aadObjectId: 'aad-stranger', userPrincipalName: 'stan@elsewhere.example' } as never,
        conversation: { id: 'a:personal-stranger', conversationType: 'personal', isGroup: false, name: '' },
      }));
      const text = cardText(cardOf(replies[0]));
      expect(text).toContain('You are not in the ISMS register');
      expect(text).toContain('Ask Lena Lead (lena@test.example), the ISMS lead, to add you');
      expect(await h.t.db.select().from(aiTools).where(eq(aiTools.name, 'Midjourney'))).toHaveLength(0);
    });

    it('finds a person by their email the first time, stores their Teams account on them and audits it', async () => {
      const before = await h.auditCount();
      const replies = await adapter.turn(personalMessage('staff', 'help', {
        from: { id: '29:nina', name: NEWCOMER.name, aadObjectId: 'aad-nina', userPrincipalName: NEWCOMER.email } as never,
        conversation: { id: 'a:personal-nina', conversationType: 'personal', isGroup: false, name: '' },
      }));
      expect(cardText(cardOf(replies[0]))).toContain('Hello Nina Newcomer');
      expect((await h.person(h.ids.newcomer)).teamsAadObjectId).toBe('aad-nina');
      expect(await h.auditCount()).toBe(before + 1);
      const [event] = await h.t.db.select().from(auditEvents).where(eq(auditEvents.action, 'link_teams_account'));
      expect(event).toMatchObject({ entity: 'person', entityRef: NEWCOMER.email, actorId: h.ids.newcomer, after: { teamsAadObjectId: 'aad-nina' } });
    });

    it('does not act for a Teams account whose email belongs to someone already linked to another account, and tells the ISMS lead', async () => {
      const replies = await adapter.turn(personalMessage('staff', 'declare ai Sora', {
        from: { id: '29:impostor', name: 'Sam Staff', aadObjectId: 'aad-other', userPrincipalName: 'sam@test.example' } as never,
        conversation: { id: 'a:personal-impostor', conversationType: 'personal', isGroup: false, name: '' },
      }));
      expect(cardText(cardOf(replies[0]))).toContain('already linked to another Microsoft Teams account');
      expect((await h.person(h.ids.staff)).teamsAadObjectId).toBe('aad-staff');
      expect(await h.t.db.select().from(aiTools).where(eq(aiTools.name, 'Sora'))).toHaveLength(0);
      const told = await h.t.db.select().from(outbox).where(eq(outbox.kind, 'identity_conflict'));
      expect(told.map((m) => m.recipientId)).toEqual([h.ids.lead]);
    });

    it('greets a person who installs the bot in a personal chat', async () => {
      await h.t.db.delete(chatAddresses).where(eq(chatAddresses.personId, h.ids.auditor));
      const replies = await adapter.turn({
        ...personalMessage('auditor', ''),
        type: 'conversationUpdate', text: undefined,
        membersAdded: [{ id: '28:isms-bot', name: 'ISMS' }],
      });
      expect(cardText(cardOf(replies[0]))).toContain("Hello Ada Auditor, I'm the ISMS bot");
      expect(await h.t.db.select().from(chatAddresses).where(eq(chatAddresses.personId, h.ids.auditor))).toHaveLength(1);
      const [auditor] = await h.t.db.select().from(people).where(eq(people.id, h.ids.auditor));
      expect(auditor.teamsAadObjectId).toBe('aad-auditor');
    });
  });
});
