import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { Activity } from 'botbuilder';
import { defineCommand } from '../src/core/router.js';
import { replyText } from '../src/core/reply.js';
import { ARTEFACTS } from '../src/domain/exports/artefacts.js';
import { csvField } from '../src/domain/exports/write.js';
import { FILE_CONSENT_TYPE, FILE_INFO_TYPE, FileOffers, OFFER_TTL_MS, UploadError, uploadFile, type FileOffer } from '../adapters/teams/offers.js';
import type { FakeConnector } from './helpers/fake-connector.js';
import {
  startTeamsStack, personalMessage, channelMention, cardOf, cardProblems, cardText, personalChatOf, teamsUserOf,
  type TeamsServer, type TeamsStack,
} from './helpers/teams.js';
import type { CastKey } from './helpers/bot.js';

/** A file the core wrote for one answer, in a folder of its own, as the export command does. */
async function exportedFile(name: string, bytes: Buffer): Promise<string> {
  const file = path.join(tmpdir(), 'isms-exports', randomUUID(), name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, bytes);
  return file;
}

/**
 * Exports reach a person in Teams as a file consent card in their personal chat; on Accept, Teams
 * opens a OneDrive upload session (here the fake connector's) and the bot puts the file there.
 */
describe('Teams: files offered with a consent card', () => {
  let stack: TeamsStack, server: TeamsServer, connector: FakeConnector;
  const offered = vi.spyOn(FileOffers.prototype, 'offer');
  beforeAll(async () => { ({ server, connector } = stack = await startTeamsStack()); });
  afterAll(async () => {
    offered.mockRestore();
    await stack.stop();
  });

  const send = async (activity: Partial<Activity>) => {
    const before = connector.posted.length;
    const res = await server.post({ ...activity, serviceUrl: connector.url });
    expect(res.status).toBe(200);
    return connector.posted.slice(before);
  };
  const consentOf = (activity: Record<string, any>) => activity.attachments?.find((a: { contentType: string }) => a.contentType === FILE_CONSENT_TYPE);
  const lastOffer = async (): Promise<FileOffer> => (await offered.mock.results.at(-1)!.value) as FileOffer;

  /** What Teams sends when the person clicks Accept or Decline on a consent card. */
  const consentInvoke = (who: CastKey, consentMessageId: string, action: 'accept' | 'decline', context: unknown, uploadUrl?: string) => ({
    ...personalMessage(who, '', { text: undefined, replyToId: consentMessageId }),
    type: 'invoke', name: 'fileConsent/invoke',
    value: {
      type: 'fileUpload', action, context,
      ...(uploadUrl ? { uploadInfo: { contentUrl: 'https://contoso-my.sharepoint.com/personal/lena/Documents/Applications/ISMS/risks.csv', uploadUrl, name: 'risks.csv', fileType: 'csv', uniqueId: 'B1F5' } } : {}),
    },
  });
  const invoke = async (activity: Record<string, unknown>) => {
    const before = connector.posted.length;
    const res = await server.post({ ...activity, serviceUrl: connector.url });
    return { status: res.status, posted: connector.posted.slice(before) };
  };

  let consentId: string, consent: Record<string, any>, offer: FileOffer, bytes: Buffer;

  it('offers the ISMS lead the risk register with a consent card under a message saying what it is', async () => {
    const posted = await send(personalMessage('lead', 'export risks csv'));
    expect(posted).toHaveLength(2);
    expect(cardText(cardOf(posted[0].activity))).toContain('Risk register (CSV, 0 rows): accept below to save it to your OneDrive.');
    expect(cardProblems(cardOf(posted[0].activity))).toEqual([]);
    offer = await lastOffer();
    bytes = await readFile(offer.path);
    consent = consentOf(posted[1].activity);
    consentId = posted[1].id;
    expect(consent).toMatchObject({ name: offer.name, content: { description: 'Risk register (CSV, 0 rows)', sizeInBytes: bytes.length } });
    expect(consent.name).toMatch(/^risks-\d{4}-\d{2}-\d{2}\.csv$/);
    // The card carries only the offer's id: no path, nothing to forge a file from.
    expect(consent.content.acceptContext).toEqual({ offerId: offer.id });
  });

  it('refuses another person who accepts the card, and uploads nothing', async () => {
    const uploadUrl = connector.uploadSession('risks.csv');
    const { status, posted } = await invoke(consentInvoke('auditor', consentId, 'accept', consent.content.acceptContext, uploadUrl));
    expect(status).toBe(200);
    expect(cardText(cardOf(posted[0].activity))).toContain('This file was offered to someone else, so I did not send it.');
    expect([...connector.uploads.values()].flatMap((u) => u.puts)).toHaveLength(0);
  });

  it('uploads exactly the file on accept, shows it as a file card, and removes the temporary copy', async () => {
    const uploadUrl = connector.uploadSession('risks.csv');
    const session = [...connector.uploads.values()].at(-1)!;
    const { status, posted } = await invoke(consentInvoke('lead', consentId, 'accept', consent.content.acceptContext, uploadUrl));
    expect(status).toBe(200);
    expect(session.complete).toBe(true);
    expect(session.received.equals(bytes)).toBe(true);
    const header = ARTEFACTS.find((a) => a.name === 'risks')!.columns.map((c) => csvField(c.header)).join(',');
    expect(session.received.toString('utf8').split('\r\n')[0]).toBe(header);
    expect(session.puts).toEqual([{ range: `bytes 0-${bytes.length - 1}/${bytes.length}`, bytes: bytes.length, status: 201 }]);
    const info = posted[0].activity.attachments[0];
    expect(info).toMatchObject({ contentType: FILE_INFO_TYPE, name: 'risks.csv', contentUrl: expect.stringContaining('sharepoint.com'), content: { uniqueId: 'B1F5', fileType: 'csv' } });
    expect(existsSync(path.dirname(offer.path))).toBe(false);
  });

  it('uploads nothing for a second accept of the same card and says it was already sent', async () => {
    const uploadUrl = connector.uploadSession('risks.csv');
    const session = [...connector.uploads.values()].at(-1)!;
    const { status, posted } = await invoke(consentInvoke('lead', consentId, 'accept', consent.content.acceptContext, uploadUrl));
    expect(status).toBe(200);
    expect(session.puts).toHaveLength(0);
    expect(cardText(cardOf(posted[0].activity))).toContain(`I already sent ${offer.name} to your OneDrive.`);
  });

  it('answers a decline of a file already sent that it was sent, not that it will not be', async () => {
    const { status, posted } = await invoke(consentInvoke('lead', consentId, 'decline', consent.content.declineContext));
    expect(status).toBe(200);
    expect(posted.map((p) => cardText(cardOf(p.activity)))).toEqual([`I already sent ${offer.name} to your OneDrive.`]);
  });

  it('says an offer this bot no longer holds (restart, expiry) is gone, and uploads nothing', async () => {
    const uploadUrl = connector.uploadSession('risks.csv');
    const session = [...connector.uploads.values()].at(-1)!;
    const { status, posted } = await invoke(consentInvoke('lead', consentId, 'accept', { offerId: randomUUID() }, uploadUrl));
    expect(status).toBe(200);
    expect(session.puts).toHaveLength(0);
    expect(cardText(cardOf(posted[0].activity))).toContain('This file offer (risks.csv) is no longer available, so nothing was sent. Ask again with the command that made it');
  });

  it('tells the person when OneDrive refuses the upload, and removes the temporary file', async () => {
    const posted = await send(personalMessage('lead', 'export findings csv'));
    const failing = await lastOffer();
    const { status, posted: answer } = await invoke(consentInvoke('lead', posted[1].id, 'accept', { offerId: failing.id }, `${connector.url}upload/expired-session`));
    expect(status).toBe(200);
    expect(cardText(cardOf(answer[0].activity))).toContain(`I could not save ${failing.name} to your OneDrive. Ask me again for the file`);
    expect(existsSync(path.dirname(failing.path))).toBe(false);
  });

  describe('when the Bot Connector will not post the answer to an accept', () => {
    /** Every post of a message fails with 500, after the bot's own retries too. */
    const connectorDown = () => connector.failNext(20, 500);
    const offerFor = async (command: string) => {
      const posted = await send(personalMessage('lead', command));
      return { offer: await lastOffer(), consentId: posted[1].id };
    };
    const texts = (posted: { activity: Record<string, any> }[]) => posted.map((p) => (p.activity.attachments?.some((a: { contentType: string }) => a.contentType === 'application/vnd.microsoft.card.adaptive') ? cardText(cardOf(p.activity)) : String(p.activity.text)));

    it('saves the file, answers Teams 200 and never says nothing was recorded; accepting again says it was sent', async () => {
      const { offer: saved, consentId: id } = await offerFor('export assets csv');
      const session = connector.uploadSession(saved.name);
      connectorDown();
      const { status, posted } = await invoke(consentInvoke('lead', id, 'accept', { offerId: saved.id }, session));
      connector.clearFailures();
      expect(status).toBe(200);
      expect(posted).toEqual([]);
      expect([...connector.uploads.values()].at(-1)!.complete).toBe(true);
      expect(existsSync(path.dirname(saved.path))).toBe(false);
      const again = await invoke(consentInvoke('lead', id, 'accept', { offerId: saved.id }, connector.uploadSession(saved.name)));
      expect(again.status).toBe(200);
      expect(texts(again.posted)).toEqual([`I already sent ${saved.name} to your OneDrive.`]);
    });

    it('says where the file went in a sentence when Teams refuses the card showing it', async () => {
      const { offer: saved, consentId: id } = await offerFor('export assets json');
      const session = connector.uploadSession(saved.name);
      connector.failNext(1, 400);
      const { status, posted } = await invoke(consentInvoke('lead', id, 'accept', { offerId: saved.id }, session));
      expect(status).toBe(200);
      expect(texts(posted)).toEqual([`Saved to your OneDrive: ${saved.title}.`]);
    });

    it('answers Teams 500 when the upload failed and the person could not be told; accepting again says to ask again', async () => {
      const { offer: failing, consentId: id } = await offerFor('export suppliers json');
      connectorDown();
      const { status, posted } = await invoke(consentInvoke('lead', id, 'accept', { offerId: failing.id }, `${connector.url}upload/expired-session`));
      connector.clearFailures();
      expect(status).toBe(500);
      expect(posted).toEqual([]);
      expect(existsSync(path.dirname(failing.path))).toBe(false);
      const again = await invoke(consentInvoke('lead', id, 'accept', { offerId: failing.id }, connector.uploadSession(failing.name)));
      expect(again.status).toBe(200);
      expect(texts(again.posted)).toEqual([expect.stringContaining('is no longer available, so nothing was sent. Ask again with the command that made it')]);
    });
  });

  it('drops the offer and removes the temporary file when the person declines', async () => {
    const posted = await send(personalMessage('lead', 'export poam json'));
    const declined = await lastOffer();
    expect(existsSync(declined.path)).toBe(true);
    const { status, posted: answer } = await invoke(consentInvoke('lead', posted[1].id, 'decline', consentOf(posted[1].activity).content.declineContext));
    expect(status).toBe(200);
    expect(cardProblems(cardOf(answer[0].activity))).toEqual([]);
    expect(cardText(cardOf(answer[0].activity))).toContain(`All right, I won't send ${declined.name}; my copy of it is deleted.`);
    expect(existsSync(path.dirname(declined.path))).toBe(false);
    const late = await invoke(consentInvoke('lead', posted[1].id, 'accept', { offerId: declined.id }, connector.uploadSession('poam.json')));
    expect(cardText(cardOf(late.posted[0].activity))).toContain('is no longer available');
  });

  it('answers a decline Teams delivers again (same activity) as the first time, never that the offer was not open', async () => {
    const posted = await send(personalMessage('lead', 'export risks json'));
    const declined = await lastOffer();
    const decline = consentInvoke('lead', posted[1].id, 'decline', consentOf(posted[1].activity).content.declineContext);
    const said = (answer: { posted: { activity: Record<string, any> }[] }) => answer.posted.map((p) => cardText(cardOf(p.activity)));
    const first = await invoke(decline);
    expect(said(first)).toEqual([expect.stringContaining(`All right, I won't send ${declined.name}`)]);
    const again = await invoke(decline);
    expect(again.status).toBe(200);
    // Nothing new, or the same answer: never one that contradicts it.
    expect([[], said(first)]).toContainEqual(said(again));
    expect(existsSync(path.dirname(declined.path))).toBe(false);
  });

  it('refuses a staff member an export, offering nothing', async () => {
    const calls = offered.mock.calls.length;
    const posted = await send(personalMessage('staff', 'export risks csv'));
    expect(posted).toHaveLength(1);
    expect(consentOf(posted[0].activity)).toBeUndefined();
    expect(cardText(cardOf(posted[0].activity))).toMatch(/^Only the .* may use "export"\. Nothing was recorded\./);
    expect(offered.mock.calls.length).toBe(calls);
  });

  it('offers a file asked for in a channel in the personal chat; the channel hears only where it went', async () => {
    const posted = await send(channelMention('lead', 'export risks csv'));
    const personal = posted.filter((p) => p.conversationId === personalChatOf('lead'));
    expect(personal.map((p) => Boolean(consentOf(p.activity)))).toEqual([false, true]);
    expect(consentOf(personal[1].activity).content.acceptContext).toEqual({ offerId: (await lastOffer()).id });
    expect((await lastOffer()).offeredTo).toBe(teamsUserOf('lead').aadObjectId);
    const inChannel = posted.filter((p) => p.conversationId !== personalChatOf('lead'));
    expect(inChannel).toHaveLength(1);
    expect(consentOf(inChannel[0].activity)).toBeUndefined();
    expect(cardProblems(cardOf(personal[0].activity))).toEqual([]);
    expect(cardText(cardOf(inChannel[0].activity))).toContain("I've sent you the answer in our personal chat");
  });

  it('offers nothing and removes the file when someone asks in a channel and cannot be reached in a personal chat', async () => {
    const held = vi.spyOn(FileOffers.prototype, 'holds');
    connector.refuseNewConversations = 403;
    try {
      const calls = offered.mock.calls.length;
      const posted = await send(channelMention('board', 'export risks csv'));
      expect(posted).toHaveLength(1);
      expect(cardText(cardOf(posted[0].activity))).toContain("Bruno Board, I can hand you files only in our personal chat, and I can't reach you there: open a personal chat with me and ask there.");
      expect(offered.mock.calls.length).toBe(calls);
      const [filePath] = held.mock.calls.at(-1) as [string];
      expect(filePath).toMatch(/risks-.*\.csv$/);
      expect(existsSync(path.dirname(filePath))).toBe(false);
    } finally {
      connector.refuseNewConversations = undefined;
      held.mockRestore();
    }
  });

  /** The activity as Teams sends it now and then: without the sender's Entra id (the member look-up has it). */
  const withoutEntraId = <T extends Partial<Activity>>(activity: T): T => ({ ...activity, from: { id: activity.from!.id, name: activity.from!.name } });

  it('offers a file in the personal chat, and uploads it on accept, when Teams leaves the Entra id out of the activities (the member look-up has it)', async () => {
    connector.members.set(teamsUserOf('lead').id, { ...teamsUserOf('lead'), email: 'lena@test.example' });
    const posted = await send(withoutEntraId(personalMessage('lead', 'export findings csv')));
    expect(cardText(cardOf(posted[0].activity))).toContain(': accept below to save it to your OneDrive.');
    const offeredCard = posted.find((p) => consentOf(p.activity))!;
    const uploadUrl = connector.uploadSession('findings.csv');
    const session = [...connector.uploads.values()].at(-1)!;
    const { status, posted: answered } = await invoke(withoutEntraId(consentInvoke('lead', offeredCard.id, 'accept', consentOf(offeredCard.activity).content.acceptContext, uploadUrl)));
    expect(status).toBe(200);
    expect(session.complete).toBe(true);
    expect(answered[0].activity.attachments[0]).toMatchObject({ contentType: FILE_INFO_TYPE });
  });

  it('offers a file later, outside a reply, in the personal chat kept from an activity without the Entra id', async () => {
    connector.members.set(teamsUserOf('lead').id, { ...teamsUserOf('lead'), email: 'lena@test.example' });
    await send(withoutEntraId(personalMessage('lead', 'help')));
    // Asked in a channel: the file goes to the personal chat kept above, as a message of the bot's own.
    const posted = await send(channelMention('lead', 'export findings csv'));
    const personal = posted.filter((p) => p.conversationId === personalChatOf('lead'));
    expect(cardText(cardOf(personal[0].activity))).toContain(': accept below to save it to your OneDrive.');
    const offeredCard = personal.find((p) => consentOf(p.activity))!;
    expect((await lastOffer()).offeredTo).toBe(teamsUserOf('lead').aadObjectId);
    const uploadUrl = connector.uploadSession('findings.csv');
    const session = [...connector.uploads.values()].at(-1)!;
    const { status } = await invoke(consentInvoke('lead', offeredCard.id, 'accept', consentOf(offeredCard.activity).content.acceptContext, uploadUrl));
    expect(status).toBe(200);
    expect(session.complete).toBe(true);
  });

  it('says in the evidence bundle\'s verify hint to download the zip before running the check, and on the line after it to accept the file offered below', async () => {
    const posted = await send(personalMessage('lead', 'export bundle'));
    const answer = posted.find((p) => p.activity.attachments?.length && cardText(cardOf(p.activity)).includes('Bundled'))!;
    const said = cardText(cardOf(answer.activity));
    const name = `evidence-bundle-${new Date().toISOString().slice(0, 10)}.zip`;
    expect(said).toContain(`To check it offline: download ${name} (the line below says where it is), `
      + `then run "npm run isms -- verify-bundle ~/Downloads/${name}" (with the folder you saved it to).\n📎 Evidence bundle `);
    expect(said).toContain(': accept below to save it to your OneDrive.');
    const consent = posted.slice(posted.indexOf(answer) + 1).map((p) => consentOf(p.activity)).find(Boolean);
    expect(consent).toMatchObject({ name });
  });

  it('sends a command\'s interim message into the conversation before its answer', async () => {
    stack.h.core.router.register(defineCommand({
      name: 'slow report', summary: 'A long piece of work', examples: ['slow report'], schema: z.object({}),
      async run(ctx) {
        await ctx.progress('Your report is on its way; it takes a minute.');
        return replyText('Here is the report.');
      },
    }));
    const posted = await send(personalMessage('staff', 'slow report'));
    expect(posted.map((p) => p.activity.text ?? cardText(cardOf(p.activity)))).toEqual(['Your report is on its way; it takes a minute.', 'Here is the report.']);
    // In a channel everyone would read it: the answer comes, the interim note does not.
    const inChannel = (await send(channelMention('staff', 'slow report'))).map((p) => p.activity.text ?? cardText(cardOf(p.activity)));
    expect(inChannel).toContain('Here is the report.');
    expect(inChannel.join('\n')).not.toContain('on its way');
  });
});

describe('Teams: file offers and uploads', () => {
  let connector: FakeConnector;
  beforeAll(async () => { connector = await new (await import('./helpers/fake-connector.js')).FakeConnector().start(); });
  afterAll(() => connector.stop());

  it('puts a large file into the upload session in fragments that are multiples of 320 KiB', async () => {
    const bytes = Buffer.alloc(700 * 1024, 7);
    bytes.write('first', 0);
    bytes.write('last', bytes.length - 4);
    const file = await exportedFile('big.csv', bytes);
    const url = connector.uploadSession('big.csv');
    const session = [...connector.uploads.values()].at(-1)!;
    await uploadFile(file, url, 320 * 1024);
    expect(session.puts.map((p) => [p.range, p.status])).toEqual([
      [`bytes 0-327679/${bytes.length}`, 202], [`bytes 327680-655359/${bytes.length}`, 202], [`bytes 655360-${bytes.length - 1}/${bytes.length}`, 201],
    ]);
    expect(session.received.equals(bytes)).toBe(true);
  });

  it('fails when the upload session refuses a fragment, and refuses an insecure upload link', async () => {
    const file = await exportedFile('small.csv', Buffer.from('a,b\r\n'));
    const url = connector.uploadSession('small.csv');
    await uploadFile(file, url);
    // The session is complete: another fragment is out of range.
    await expect(uploadFile(file, url)).rejects.toThrow(new UploadError('OneDrive refused the upload (HTTP 416)'));
    await expect(uploadFile(file, 'http://onedrive.example/upload/1')).rejects.toThrow('no secure upload link');
  });

  it('withdraws an offer after a day and removes its file; it can then no longer be claimed', async () => {
    let now = Date.parse('2026-12-02T08:00:00Z');
    const offers = new FileOffers(() => now);
    const file = await exportedFile('risks.csv', Buffer.from('x\r\n'));
    const offer = (await offers.offer({ name: 'risks.csv', mimeType: 'text/csv', path: file, title: 'Risk register (CSV, 0 rows)' }, 'aad-lead'))!;
    expect(offer.size).toBe(3);
    now += OFFER_TTL_MS - 1;
    await offers.sweep();
    expect(existsSync(file)).toBe(true);
    now += 1;
    await offers.sweep();
    expect(existsSync(path.dirname(file))).toBe(false);
    expect(await offers.claim(offer.id, 'aad-lead')).toEqual({ status: 'missing' });
  });
});
