import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadReference, saveReference } from '../adapters/teams/addresses.js';
import { and, eq, sql } from 'drizzle-orm';
import {
  aiTools, auditEvents, chatAddresses, evidenceItems, evidenceRequests, messageLinks, outbox, people, scopeChanges,
} from '../src/db/schema/index.js';
import { deliverDue, POSSIBLE_REPEAT_NOTE } from '../src/core/delivery.js';
import { enqueue } from '../src/core/outbox.js';
import { DeliveryError } from '../src/core/port.js';
import { reply, replyText, text } from '../src/core/reply.js';
import { addDays, readersDay } from '../src/core/time.js';
import { addControl, addEvidenceRequest } from './helpers/fixtures.js';
import type { FakeConnector } from './helpers/fake-connector.js';
import {
  startTeamsStack, personalMessage, channelMention, clickActivity, cardOf, cardText, personalChatOf,
  requestEvidenceInTeams, BOT, NEWCOMER, TENANT, type TeamsServer, type TeamsStack, type TeamsTestCore,
} from './helpers/teams.js';
import type { CastKey } from './helpers/bot.js';
import { TEAMS_FILE_TYPE } from '../adapters/teams/files.js';

/**
 * The Teams bot over HTTP, as Microsoft's Bot Framework drives it: activities are POSTed to
 * /api/messages and the bot answers through the Bot Connector at the activity's serviceUrl,
 * here a local fake that records what the bot posts and can fail like the real one.
 */
describe('Teams bot over HTTP', () => {
  let stack: TeamsStack, h: TeamsTestCore, server: TeamsServer, connector: FakeConnector;
  beforeAll(async () => { ({ h, server, connector } = stack = await startTeamsStack()); });
  afterAll(() => stack.stop());
  afterEach(() => connector.clearFailures());

  const message = (...args: Parameters<typeof personalMessage>) => ({ ...personalMessage(...args), serviceUrl: connector.url });
  const person = async (id: number) => (await h.t.db.select().from(people).where(eq(people.id, id)))[0];
  const send = async (activity: ReturnType<typeof message>) => {
    const before = connector.posted.length;
    const res = await server.post(activity);
    expect(res.status).toBe(200);
    return connector.posted.slice(before);
  };

  it('warns at start-up that requests are not authenticated without an app id', () => {
    const warning = h.logs.map((l) => JSON.parse(l)).find((l) => l.level === 40 && /NOT authenticated/.test(l.msg));
    expect(warning?.msg).toContain('MICROSOFT_APP_ID is not set');
  });

  it('answers a message through the Bot Connector as a reply to it, and stores the personal chat', async () => {
    const activity = message('staff', 'declare ai ChatGPT');
    const posted = await send(activity);
    expect(posted.map((p) => [p.activity.type, p.activity.text ?? p.activity.summary])).toHaveLength(1);
    expect(posted[0]).toMatchObject({ conversationId: personalChatOf('staff'), replyToId: activity.id });
    expect(cardText(cardOf(posted[0].activity))).toContain('Recorded ChatGPT in the AI register as AI-0001');
    const [address] = await h.t.db.select().from(chatAddresses).where(eq(chatAddresses.personId, h.ids.staff));
    expect(JSON.parse(address.address)).toMatchObject({ serviceUrl: connector.url, conversation: { id: personalChatOf('staff') } });
  });

  it('records and answers an activity Teams delivers twice (same id) once', async () => {
    const activity = message('staff', 'declare ai Perplexity');
    const first = await send(activity);
    const again = await send(activity);
    expect(first.map((p) => cardText(cardOf(p.activity)))).toEqual([expect.stringContaining('Recorded Perplexity in the AI register')]);
    expect(again).toEqual([]);
    expect(await h.t.db.select().from(aiTools).where(eq(aiTools.name, 'Perplexity'))).toHaveLength(1);
  });

  it('reaches the ISMS lead proactively once they have talked to the bot; their click on the card records the decision and updates the card', async () => {
    const lead = await person(h.ids.lead);
    expect(await server.port.canReach(lead)).toBe(false);
    expect((await deliverDue(h.t.db, [server.port])).sent).toBe(0);

    await send(message('lead', 'help'));
    expect(await server.port.canReach(lead)).toBe(true);
    const before = connector.posted.length;
    const delivery = await deliverDue(h.t.db, [server.port]);
    expect(delivery.sent).toBe(2);
    const triage = connector.posted.slice(before);
    expect(triage.map((p) => p.conversationId)).toEqual([personalChatOf('lead'), personalChatOf('lead')]);
    const card = cardOf(triage[0].activity);
    expect(cardText(card)).toContain('New for triage: Sam Staff declared the AI tool ChatGPT (AI-0001)');
    // What the notification and a screen reader show: a sentence, with the buttons on the card only.
    for (const plain of [triage[0].activity.summary, card.fallbackText]) {
      expect(plain).toMatch(/^New for triage: Sam Staff declared the AI tool ChatGPT \(AI-0001\)/);
      expect(plain).not.toMatch(/\/isms|\[Accept\]|triage accept/);
    }

    const beforeAudit = await h.auditCount();
    const posted = await send({ ...clickActivity('lead', card, 'Accept', {}, { replyToId: triage[0].id }), serviceUrl: connector.url });
    expect(posted).toHaveLength(0);
    const update = connector.updated.at(-1)!;
    expect(update).toMatchObject({ conversationId: personalChatOf('lead'), activityId: triage[0].id });
    expect(cardText(cardOf(update.activity))).toMatch(/Recorded by Lena Lead, /);
    expect(cardText(cardOf(update.activity))).not.toContain('(Accept)');
    const [change] = await h.t.db.select().from(scopeChanges).where(eq(scopeChanges.subjectRef, 'AI-0001'));
    expect(change).toMatchObject({ status: 'accepted', decidedBy: h.ids.lead });
    expect(await h.auditCount()).toBeGreaterThan(beforeAudit);
  });

  describe('evidence by replying with a file', () => {
    let requestRef: string;
    let requestMessageId: string;
    const pdf = Buffer.from('%PDF-1.4\nQuarterly access review: no findings.\n');

    beforeAll(async () => {
      const toOwner = await requestEvidenceInTeams(stack);
      requestMessageId = toOwner.id;
      [{ ref: requestRef }] = await h.t.db.select().from(evidenceRequests);
      expect(cardText(cardOf(toOwner.activity))).toContain(`Lena Lead asks you for evidence that CTL-AC-01 Access reviews works`);
    });

    const fileReply = (name: string, bytes: Buffer, replyToId?: string) => message('owner', '', {
      text: undefined, replyToId,
      attachments: [{
        contentType: TEAMS_FILE_TYPE, name, contentUrl: `https://contoso.sharepoint.com/personal/olga/Documents/${name}`,
        content: { downloadUrl: connector.addFile(name, bytes, 'application/pdf'), uniqueId: name, fileType: 'pdf' },
      }],
    });

    it('links the evidence request message to the request it is about', async () => {
      const [link] = await h.t.db.select().from(messageLinks).where(eq(messageLinks.messageId, requestMessageId));
      expect(link).toMatchObject({ platform: 'teams', conversationId: personalChatOf('owner'), subjectRef: requestRef, recipientId: h.ids.owner });
    });

    it('downloads a file sent in reply, stores it with its SHA-256 on that request, and confirms', async () => {
      const posted = await send(fileReply('access-review.pdf', pdf, requestMessageId));
      expect(connector.downloads).toContain('access-review.pdf');
      expect(cardText(cardOf(posted[0].activity))).toContain(`for ${requestRef}, CTL-AC-01 Access reviews`);
      const [item] = await h.t.db.select().from(evidenceItems);
      expect(item).toMatchObject({ fileName: 'access-review.pdf', fileSize: pdf.length, submittedBy: h.ids.owner, channel: 'teams', revision: 1 });
      expect(item.fileSha256).toBe(createHash('sha256').update(pdf).digest('hex'));
      const [request] = await h.t.db.select().from(evidenceRequests).where(eq(evidenceRequests.ref, requestRef));
      expect(request.status).toBe('submitted');
    });

    it('takes a file sent without replying as evidence for the latest request sent to that person', async () => {
      const second = Buffer.from('second revision');
      await send(fileReply('addendum.txt', second));
      const items = await h.t.db.select().from(evidenceItems).where(eq(evidenceItems.fileName, 'addendum.txt'));
      expect(items).toHaveLength(1);
      expect(items[0].revision).toBe(2);
    });

    it('takes a link typed in reply to the evidence request as evidence for it, not as a command', async () => {
      const link = 'https://wiki.example/access-review-q3';
      const posted = await send(message('owner', link, { replyToId: requestMessageId }));
      expect(cardText(cardOf(posted[0].activity))).toContain(`for ${requestRef}, CTL-AC-01 Access reviews`);
      const items = await h.t.db.select().from(evidenceItems).where(eq(evidenceItems.link, link));
      expect(items).toMatchObject([{ submittedBy: h.ids.owner, channel: 'teams' }]);
    });

    it('records the same file sent again in reply once, saying which revision has it; a file like an older revision\'s is recorded anew, and so is the same file for a later day', async () => {
      const report = Buffer.from('%PDF-1.4\nAccess review, second pass.\n');
      const first = await send(fileReply('second-pass.pdf', report, requestMessageId));
      const [item] = await h.t.db.select().from(evidenceItems).where(eq(evidenceItems.fileName, 'second-pass.pdf'));
      expect(cardText(cardOf(first[0].activity))).toContain(`Recorded ${item.ref} (revision ${item.revision})`);
      const before = await h.auditCount();

      const again = await send(fileReply('second-pass.pdf', report, requestMessageId));
      const owner = await person(h.ids.owner);
      expect(cardText(cardOf(again[0].activity))).toContain(
        `This is already recorded for ${requestRef} as revision ${item.revision} (${item.ref}, ${readersDay(item.submittedAt, owner.timezone)}): the same file, effective ${item.effectiveOn}. Nothing was recorded again.`);
      expect(await h.t.db.select().from(evidenceItems).where(eq(evidenceItems.fileName, 'second-pass.pdf'))).toEqual([item]);
      expect(await h.auditCount()).toBe(before);

      // The first file again, after another: a real new revision.
      await send(fileReply('access-review.pdf', pdf, requestMessageId));
      expect((await h.t.db.select().from(evidenceItems).where(eq(evidenceItems.fileName, 'access-review.pdf'))).map((i) => i.revision).sort((a, b) => a - b)).toEqual([1, item.revision + 1]);

      // Had that been recorded a month ago, the same file today shows the review still holds: a new revision, audited.
      const [latest] = await h.t.db.select().from(evidenceItems).where(and(eq(evidenceItems.fileName, 'access-review.pdf'), eq(evidenceItems.revision, item.revision + 1)));
      const monthAgo = addDays(latest.effectiveOn, -30);
      await h.t.db.update(evidenceItems).set({ effectiveOn: monthAgo }).where(eq(evidenceItems.id, latest.id));
      const audits = await h.auditCount();
      const later = await send(fileReply('access-review.pdf', pdf, requestMessageId));
      const [today] = await h.t.db.select().from(evidenceItems).where(and(eq(evidenceItems.fileName, 'access-review.pdf'), eq(evidenceItems.revision, item.revision + 2)));
      expect(today).toMatchObject({ fileName: 'access-review.pdf', effectiveOn: latest.effectiveOn, fileSha256: latest.fileSha256 });
      expect(cardText(cardOf(later[0].activity))).toContain(`The same file as revision ${latest.revision} (${latest.ref}, effective ${monthAgo}), recorded again as effective ${today.effectiveOn}`);
      expect(await h.auditCount()).toBe(audits + 1);
    });

    it('says so, and records nothing, when Teams refuses the download', async () => {
      const before = await h.auditCount();
      const activity = fileReply('gone.pdf', pdf, requestMessageId);
      connector.files.delete('gone.pdf');
      const posted = await send(activity);
      expect(cardText(cardOf(posted[0].activity))).toContain('Teams refused the download of "gone.pdf" (HTTP 404). Nothing was recorded');
      expect(await h.auditCount()).toBe(before);
    });
  });

  describe('the port', () => {
    it('records which item a proactive message is about', async () => {
      const staff = await person(h.ids.staff);
      await server.port.send(staff, { ...reply(text('Please send evidence for EVR-0042.')), about: 'EVR-0042' });
      const sent = connector.posted.at(-1)!;
      const [link] = await h.t.db.select().from(messageLinks).where(and(eq(messageLinks.messageId, sent.id), eq(messageLinks.platform, 'teams')));
      expect(link).toMatchObject({ subjectRef: 'EVR-0042', recipientId: h.ids.staff, conversationId: personalChatOf('staff') });
    });

    it('still delivers when the Bot Connector asks to slow down once', async () => {
      const staff = await person(h.ids.staff);
      const before = connector.posted.length;
      connector.failNext(1, 429, 0);
      await server.port.send(staff, reply(text('Rate limited, then delivered.')));
      expect(connector.posted.slice(before).map((p) => cardText(cardOf(p.activity)))).toEqual(['Rate limited, then delivered.']);
    });

    it('gives the outbox a DeliveryError with the Retry-After wait when the Bot Connector keeps throttling', async () => {
      const staff = await person(h.ids.staff);
      connector.failNext(10, 429, 1);
      const error = await server.port.send(staff, reply(text('Too many.'))).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DeliveryError);
      expect(error).toMatchObject({ retryAfterMs: 1000, permanent: false });
      expect((error as Error).message).toContain('HTTP 429');
    });

    it('marks a message to someone who blocked or removed the bot as permanently undeliverable', async () => {
      const staff = await person(h.ids.staff);
      connector.failNext(1, 403);
      const error = await server.port.send(staff, reply(text('Blocked.'))).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DeliveryError);
      expect(error).toMatchObject({ permanent: true });
    });

    for (const [lost, answer] of [['gateway-timeout', 'a 504 Gateway Timeout'], ['reset', 'a connection closed without an answer']] as const) {
      it(`sends a message the Bot Connector took but answered with ${answer} once more, marked as a possible second copy`, async () => {
        const key = `lost-answer-${lost}`;
        const words = `Please acknowledge the policy (${lost}).`;
        await enqueue(h.t.db, { recipientId: h.ids.staff, kind: 'test', idempotencyKey: key, reply: replyText(words), notBefore: new Date() });
        const row = async () => (await h.t.db.select().from(outbox).where(eq(outbox.idempotencyKey, key)))[0];
        const before = connector.posted.length;
        connector.loseAnswerAfterPosting(lost);
        const options = { backoffMs: 0 };
        await deliverDue(h.t.db, [server.port], undefined, 50, options);
        expect(await row()).toMatchObject({ status: 'queued', attempts: 1, lastError: expect.stringContaining('it may have reached the person') });
        const again = await deliverDue(h.t.db, [server.port], undefined, 50, options);
        expect(again.possibleRepeats).toEqual([{ outboxId: (await row()).id, recipientId: h.ids.staff, platform: 'teams' }]);
        // What the person finds: the message, and a second copy saying it may be one.
        const texts = connector.posted.slice(before).filter((p) => p.conversationId === personalChatOf('staff')).map((p) => cardText(cardOf(p.activity)));
        expect(texts).toHaveLength(2);
        expect(texts[0]).toContain(words);
        expect(texts[0]).not.toContain(POSSIBLE_REPEAT_NOTE);
        expect(texts[1]).toContain(POSSIBLE_REPEAT_NOTE);
        expect(texts[1]).toContain(words);
        expect(await row()).toMatchObject({ status: 'sent', possibleRepeat: true, attempts: 2 });
      });
    }

    it('sends a message again without a note after a 503, which the Bot Connector did not take', async () => {
      const key = 'unavailable-once';
      const words = 'Please acknowledge the policy (503).';
      await enqueue(h.t.db, { recipientId: h.ids.staff, kind: 'test', idempotencyKey: key, reply: replyText(words), notBefore: new Date() });
      const before = connector.posted.length;
      connector.failNext(1, 503);
      const options = { backoffMs: 0 };
      await deliverDue(h.t.db, [server.port], undefined, 50, options);
      expect((await deliverDue(h.t.db, [server.port], undefined, 50, options)).possibleRepeats).toEqual([]);
      const texts = connector.posted.slice(before).map((p) => cardText(cardOf(p.activity)));
      expect(texts).toHaveLength(1);
      expect(texts[0]).toContain(words);
      expect(texts[0]).not.toContain(POSSIBLE_REPEAT_NOTE);
    });

    it('tells the outbox a message did not arrive, with no note on the retry, when the Bot Connector refuses the connection', async () => {
      const staff = await person(h.ids.staff);
      const stored = (await loadReference(h.t.db, staff.id))!;
      // A port nothing listens on any more: the connection is refused before anything is sent.
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const serviceUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/`;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      await saveReference(h.t.db, staff.id, { ...stored, serviceUrl });
      try {
        const error = await server.port.send(staff, reply(text('Nobody listening.'))).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DeliveryError);
        expect(error).toMatchObject({ permanent: false, mayHaveArrived: false });
        expect((error as Error).message).toContain('ECONNREFUSED');
      } finally {
        await saveReference(h.t.db, staff.id, stored);
      }
    });

    it('cannot reach someone who never talked to the bot', async () => {
      expect(await server.port.canReach(await person(h.ids.auditor))).toBe(false);
    });
  });

  describe('who is writing', () => {
    it('asks Teams for the email of an unlinked user, links their account and answers them', async () => {
      connector.members.set('29:nina', { id: '29:nina', name: NEWCOMER.name, aadObjectId: 'aad-nina', email: NEWCOMER.email });
      const posted = await send(message('staff', 'help', {
        from: { id: '29:nina', name: NEWCOMER.name, aadObjectId: 'aad-nina' },
        conversation: { id: 'a:personal-nina', conversationType: 'personal', isGroup: false, name: '' },
      }));
      expect(cardText(cardOf(posted[0].activity))).toContain('Hello Nina Newcomer');
      expect((await person(h.ids.newcomer)).teamsAadObjectId).toBe('aad-nina');
      const events = await h.t.db.select().from(auditEvents).where(eq(auditEvents.action, 'link_teams_account'));
      expect(events.map((e) => e.entityRef)).toEqual([NEWCOMER.email]);
    });

    it('tells a user Teams knows but the register does not whom to ask, and records nothing', async () => {
      connector.members.set('29:stranger', { id: '29:stranger', name: 'Stan Stranger', aadObjectId: 'aad-stranger', email: 'stan@elsewhere.example' });
      const before = await h.auditCount();
      const posted = await send(message('staff', 'declare ai Midjourney', {
        from: { id: '29:stranger', name: 'Stan Stranger', aadObjectId: 'aad-stranger' },
        conversation: { id: 'a:personal-stranger', conversationType: 'personal', isGroup: false, name: '' },
      }));
      const answer = cardText(cardOf(posted[0].activity));
      expect(answer).toContain('You are not in the ISMS register');
      expect(answer).toContain('Ask Lena Lead (lena@test.example)');
      expect(await h.auditCount()).toBe(before);
      expect(await h.t.db.select().from(aiTools).where(eq(aiTools.name, 'Midjourney'))).toHaveLength(0);
    });
    it('tells someone Teams did not identify (no Entra id, and the member look-up fails) that, not that they are outside the register, and records nothing', async () => {
      const before = await h.auditCount();
      const posted = await send(message('staff', 'declare ai Gemini', {
        from: { id: '29:unlooked', name: 'Una Unlooked' },
        conversation: { id: 'a:personal-unlooked', conversationType: 'personal', isGroup: false, name: '' },
      }));
      expect(posted).toHaveLength(1);
      const answer = cardText(cardOf(posted[0].activity));
      expect(answer).not.toContain('not in the ISMS register');
      expect(answer).toContain('Microsoft Teams did not say who you are');
      expect(answer).toContain('Nothing was recorded');
      expect(answer).toMatch(/Try again.*tell .*Lena Lead/s);
      expect(await h.auditCount()).toBe(before);
      expect(await h.t.db.select().from(aiTools).where(eq(aiTools.name, 'Gemini'))).toHaveLength(0);
    });

    for (const [situation, member, reason] of [
      ['the member look-up at the Bot Connector fails', undefined, { reason: 'lookup_failed', cause: 'MemberNotFoundInConversation' }],
      ['the member look-up gives no email', { id: '29:mailless', name: 'Max Mailless', aadObjectId: 'aad-mailless' }, { reason: 'no_email' }],
    ] as const) {
      it(`tells someone with an unlinked Entra id whom Teams did not identify (${situation}) that, not that they are outside the register, and records nothing`, async () => {
        const from = { id: member?.id ?? '29:unfound', name: member?.name ?? 'Una Unfound', aadObjectId: member?.aadObjectId ?? 'aad-unfound' };
        if (member) connector.members.set(member.id, member);
        const before = { audit: await h.auditCount(), logs: h.logs.length };
        const posted = await send(message('staff', 'declare ai Copilot', {
          from, conversation: { id: `a:personal-${from.aadObjectId}`, conversationType: 'personal', isGroup: false, name: '' },
        }));
        expect(posted).toHaveLength(1);
        const answer = cardText(cardOf(posted[0].activity));
        expect(answer).not.toContain('not in the ISMS register');
        expect(answer).toContain('Microsoft Teams did not say who you are');
        expect(answer).toMatch(/Nothing was recorded.*Try again in a minute; if it keeps happening, tell .*Lena Lead/s);
        expect(answer).not.toContain('users:read.email');
        expect(await h.auditCount()).toBe(before.audit);
        expect(await h.t.db.select().from(aiTools).where(eq(aiTools.name, 'Copilot'))).toHaveLength(0);
        expect(await h.t.db.select().from(people).where(eq(people.teamsAadObjectId, from.aadObjectId))).toEqual([]);
        const warnings = h.logs.slice(before.logs).map((l) => JSON.parse(l)).filter((l) => l.level === 40 && l.platform === 'teams');
        expect(warnings).toHaveLength(1);
        expect(warnings[0].msg).toContain('did not say who sent a request');
        // The operator reads why: a failed look-up is not a profile without an email.
        expect(warnings[0]).toMatchObject(reason);
        expect(JSON.stringify(warnings[0])).not.toMatch(/aad-|29:|Una|Max/);
        expect(h.logs.slice(before.logs).join('\n')).not.toMatch(/aad-unfound|29:unfound|Una Unfound|Bearer/);
      });
    }
  });

  it('says nothing was recorded when answering fails, and logs the failure without secrets', async () => {
    const logged = h.logs.length;
    connector.failNext(1, 403);
    const posted = await send(message('staff', 'help'));
    expect(posted).toHaveLength(1);
    expect(cardText(cardOf(posted[0].activity))).toContain('Something went wrong on our side and nothing was recorded');
    const failure = h.logs.slice(logged).map((l) => JSON.parse(l)).find((l) => l.msg === 'Teams turn failed');
    expect(failure).toMatchObject({ level: 50, err: { statusCode: 403 } });
    expect(h.logs.join('\n')).not.toMatch(/Bearer|authorization/i);
  });

  describe('when the answer to a command meets a failing Bot Connector', () => {
    it('sends the answer again after a 500, which the connector did not post: it arrives once', async () => {
      connector.failNext(1, 500);
      const posted = await send(message('staff', 'help'));
      expect(posted.map((p) => cardText(cardOf(p.activity)))).toEqual([expect.stringContaining('declare ai')]);
    });

    for (const [lost, answer] of [['gateway-timeout', 'a 504'], ['reset', 'a connection closed without an answer']] as const) {
      it(`does not send an answer the connector took but answered with ${answer} a second time`, async () => {
        connector.loseAnswerAfterPosting(lost);
        const posted = await send(message('staff', 'help'));
        const helps = posted.filter((p) => cardText(cardOf(p.activity)).includes('declare ai'));
        expect(helps).toHaveLength(1);
      });
    }

    for (const [lost, answer] of [['gateway-timeout', 'a 504'], ['reset', 'a connection closed without an answer']] as const) {
      it(`follows an answer the connector took but answered with ${answer} with no "nothing was recorded"`, async () => {
        const texts = (posted: Awaited<ReturnType<typeof send>>) => posted.map((p) => cardText(cardOf(p.activity)));
        connector.loseAnswerAfterPosting(lost);
        expect(texts(await send(message('staff', 'help')))).toEqual([expect.stringContaining('declare ai')]);
        connector.loseAnswerAfterPosting(lost);
        const recorded = texts(await send(message('staff', `declare ai Took-${lost}`)));
        expect(recorded[0]).toContain(`Recorded Took-${lost} in the AI register`);
        expect(recorded.join('\n')).not.toContain('nothing was recorded');
      });
    }

    it('tells the person a request that was recorded stays recorded when its answer could not be posted, so they do not send it twice', async () => {
      const logged = h.logs.length;
      connector.failNext(1, 403);
      const posted = await send(message('staff', 'declare ai Gamma "slide decks" --vendor Gamma'));
      expect(await h.t.db.select().from(aiTools).where(eq(aiTools.name, 'Gamma'))).toHaveLength(1);
      expect(posted).toHaveLength(1);
      const said = cardText(cardOf(posted[0].activity));
      expect(said).toContain('Your request was recorded, but its answer may not have reached you. Do not send it again');
      expect(said).not.toContain('nothing was recorded');
      const failure = h.logs.slice(logged).map((l) => JSON.parse(l)).find((l) => l.msg === 'Teams turn failed');
      expect(failure).toMatchObject({ level: 50, err: { statusCode: 403, requestWasRecorded: true } });
    });
  });

  describe('an activity Teams delivers again after its answer failed', () => {
    const texts = (posted: Awaited<ReturnType<typeof send>>) => posted.map((p) => cardText(cardOf(p.activity)));

    for (const [lost, answer] of [['gateway-timeout', 'a 504'], ['reset', 'a connection closed without an answer']] as const) {
      it(`is not answered again when the Bot Connector took the answer but answered with ${answer}`, async () => {
        const activity = message('staff', `declare ai Lost-${lost}`);
        connector.loseAnswerAfterPosting(lost);
        const first = await send(activity);
        expect(texts(first)).toContainEqual(expect.stringContaining(`Recorded Lost-${lost} in the AI register`));
        expect(await send(activity)).toEqual([]);
        expect(await h.t.db.select().from(aiTools).where(eq(aiTools.name, `Lost-${lost}`))).toHaveLength(1);
      });
    }

    it('is answered again, recorded once, when the answer surely did not reach the Bot Connector (503 after the retries)', async () => {
      const activity = message('staff', 'declare ai Unposted');
      // The first try and each retry of the turn's client are refused; what follows (the apology) gets through.
      connector.failNext(4, 503, 0);
      const first = await send(activity);
      expect(texts(first)).toEqual([expect.stringContaining('Your request was recorded, but its answer may not have reached you')]);
      expect(texts(await send(activity))).toEqual([expect.stringContaining('Recorded Unposted in the AI register')]);
      expect(await h.t.db.select().from(aiTools).where(eq(aiTools.name, 'Unposted'))).toHaveLength(1);
    });
  });

  it('answers a request that is not JSON with 400 and runs nothing', async () => {
    const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('not JSON');
  });

  it('takes the timezone Teams reports for a person the register has none for, and keeps one it has', async () => {
    await h.t.db.update(people).set({ timezone: null }).where(eq(people.id, h.ids.auditor));
    const first = await server.post(message('auditor', 'help', { localTimezone: 'Asia/Tokyo' }));
    expect(first.status).toBe(200);
    const [auditor] = await h.t.db.select().from(people).where(eq(people.id, h.ids.auditor));
    expect(auditor.timezone).toBe('Asia/Tokyo');
    const changes = await h.t.db.select().from(auditEvents).where(and(eq(auditEvents.action, 'set_timezone'), eq(auditEvents.entityRef, auditor.email)));
    expect(changes).toHaveLength(1);
    await server.post(message('auditor', 'help', { localTimezone: 'America/Denver' }));
    const [again] = await h.t.db.select().from(people).where(eq(people.id, h.ids.auditor));
    expect(again.timezone).toBe('Asia/Tokyo');
  });

  it('takes the timezone a later message reports when the first one (from the mobile client) reported none', async () => {
    const [before] = await h.t.db.select().from(people).where(eq(people.id, h.ids.auditor));
    await h.t.db.update(people).set({ timezone: null }).where(eq(people.id, h.ids.auditor));
    try {
      expect((await server.post(message('auditor', 'help'))).status).toBe(200);
      expect((await h.t.db.select().from(people).where(eq(people.id, h.ids.auditor)))[0].timezone).toBeNull();
      expect((await server.post(message('auditor', 'help', { localTimezone: 'Pacific/Auckland' }))).status).toBe(200);
      const [auditor] = await h.t.db.select().from(people).where(eq(people.id, h.ids.auditor));
      expect(auditor.timezone).toBe('Pacific/Auckland');
      const changes = await h.t.db.select().from(auditEvents)
        .where(and(eq(auditEvents.action, 'set_timezone'), eq(auditEvents.entityRef, auditor.email), sql`${auditEvents.after}->>'timezone' = 'Pacific/Auckland'`));
      expect(changes).toHaveLength(1);
    } finally {
      await h.t.db.update(people).set({ timezone: before.timezone }).where(eq(people.id, h.ids.auditor));
    }
  });
});

describe('Teams bot over HTTP with Bot Framework credentials', () => {
  let stack: TeamsStack, h: TeamsTestCore, server: TeamsServer, connector: FakeConnector;
  beforeAll(async () => {
    ({ h, server, connector } = stack = await startTeamsStack({
      MICROSOFT_APP_ID: '6f1c2a9e-3d4b-4c5a-9e8f-0a1b2c3d4e5f', MICROSOFT_APP_PASSWORD: 'not-a-real-secret',
    }));
  });
  afterAll(() => stack.stop());

  it('refuses an unsigned request with 401, answers nothing and records nothing', async () => {
    const before = await h.auditCount();
    const res = await server.post({ ...personalMessage('staff', 'declare ai ChatGPT'), serviceUrl: connector.url });
    expect(res.status).toBe(401);
    expect(connector.posted).toHaveLength(0);
    expect(await h.t.db.select().from(aiTools)).toHaveLength(0);
    expect(await h.t.db.select().from(outbox)).toHaveLength(0);
    expect(await h.auditCount()).toBe(before);
  });

  it('refuses a request with a forged token with 401', async () => {
    const forged = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(`{"aud":"6f1c2a9e-3d4b-4c5a-9e8f-0a1b2c3d4e5f","serviceurl":"${connector.url}"}`).toString('base64url')}.`;
    const res = await server.post({ ...personalMessage('staff', 'declare ai ChatGPT'), serviceUrl: connector.url }, { authorization: `Bearer ${forged}` });
    expect(res.status).toBe(401);
    expect(await h.t.db.select().from(aiTools)).toHaveLength(0);
  });

  it('logs a refused request as one sentence, without a stack trace', async () => {
    const from = h.logs.length;
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const res = await server.post({ ...personalMessage('staff', 'status'), serviceUrl: connector.url });
      expect(res.status).toBe(401);
      expect(consoleError).not.toHaveBeenCalled();
    } finally {
      consoleError.mockRestore();
    }
    const lines = h.logs.slice(from).map((l) => JSON.parse(l));
    expect(lines.map((l) => l.msg)).toEqual(['Teams: refused a request to /api/messages without a valid Bot Framework token']);
    expect(lines[0].level).toBe(40);
    expect(JSON.stringify(lines[0])).not.toMatch(/stack|\\n\s+at /);
  });

  it('does not warn about authentication and never logs the app password', () => {
    expect(h.logs.join('\n')).not.toContain('NOT authenticated');
    expect(h.logs.join('\n')).not.toContain('not-a-real-secret');
  });

});

/** Bodies that are not Bot Framework activities: refused at the door, with nothing posted anywhere. */
describe('Teams bot over HTTP, malformed requests', () => {
  let stack: TeamsStack, h: TeamsTestCore, server: TeamsServer, connector: FakeConnector;
  beforeAll(async () => { ({ h, server, connector } = stack = await startTeamsStack()); });
  afterAll(() => stack.stop());

  const valid = () => ({ ...personalMessage('staff', 'declare ai ChatGPT'), serviceUrl: connector.url }) as Record<string, unknown>;
  const without = (key: string) => {
    const activity = valid();
    delete activity[key];
    return activity;
  };
  const cases: [string, () => string][] = [
    ['an empty object', () => '{}'],
    ['an activity without a type', () => JSON.stringify(without('type'))],
    ['a message without "from"', () => JSON.stringify(without('from'))],
    ['a message without "conversation"', () => JSON.stringify(without('conversation'))],
    ['a message whose text is a number', () => JSON.stringify({ ...valid(), text: 42 })],
    ['a message whose text is an object', () => JSON.stringify({ ...valid(), text: { value: 'declare ai ChatGPT' } })],
    ['a JSON array', () => JSON.stringify([valid()])],
    ['JSON null', () => 'null'],
    ['a body that is not JSON', () => '{not json'],
  ];

  it.each(cases)('answers %s with 400, posts nothing and records nothing', async (_name, body) => {
    const audits = await h.auditCount();
    const logged = h.logs.length;
    const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body() });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/not a Bot Framework activity|not JSON/);
    expect(connector.posted).toEqual([]);
    expect(connector.updated).toEqual([]);
    expect(await h.t.db.select().from(aiTools)).toHaveLength(0);
    expect(await h.auditCount()).toBe(audits);
    expect(h.logs.slice(logged).join('\n')).not.toContain('Teams turn failed');
  });

  it('still answers a well-formed message after them', async () => {
    const res = await server.post(valid());
    expect(res.status).toBe(200);
    expect(connector.posted.map((p) => cardText(cardOf(p.activity)))).toEqual([expect.stringContaining('Recorded ChatGPT in the AI register')]);
  });
});

/**
 * A team channel reads what the bot posts there: private answers (all but those a command marks
 * public) go to the asker's personal chat, and the channel learns only where the answer went.
 */
describe('Teams bot over HTTP in a channel', () => {
  let stack: TeamsStack, h: TeamsTestCore, server: TeamsServer, connector: FakeConnector;
  beforeEach(async () => { ({ h, server, connector } = stack = await startTeamsStack()); });
  afterEach(() => stack.stop());

  const CHANNEL = '19:general@thread.tacv2;messageid=1700000000000';
  const inChannel = (who: CastKey, command: string) => ({ ...channelMention(who, command), serviceUrl: connector.url });
  const post = async (activity: Record<string, unknown>) => {
    const res = await server.post(activity);
    expect(res.status).toBe(200);
  };
  /** Every line of the answer (beyond a word or two) must stay out of what the channel got. */
  const expectNothingOf = (answer: string, channelPosts: unknown[]) => {
    const posted = JSON.stringify(channelPosts);
    for (const line of answer.split('\n').filter((l) => l.trim().length > 12)) expect(posted).not.toContain(line);
  };

  it('answers "status" asked in a channel in the personal chat; the channel reads only that it was sent there', async () => {
    const control = await addControl(h.t.db, { code: 'CTL-BC-02', title: 'Backup restore tests', ownerId: h.ids.owner });
    await addEvidenceRequest(h.t.db, { controlId: control.id, ownerId: h.ids.owner, dueOn: '2099-01-01' });
    await post({ ...personalMessage('owner', 'help'), serviceUrl: connector.url });
    const before = connector.posted.length;
    await post(inChannel('owner', 'status'));
    const personal = connector.postedTo(personalChatOf('owner')).filter((p) => connector.posted.indexOf(p) >= before);
    const channel = connector.postedTo(CHANNEL);
    expect(personal).toHaveLength(1);
    const answer = cardText(cardOf(personal[0].activity));
    expect(answer).toContain('CTL-BC-02 Backup restore tests');
    expect(channel).toHaveLength(1);
    expect(cardText(cardOf(channel[0].activity))).toBe("Olga Owner, I've sent you the answer in our personal chat.");
    expectNothingOf(answer, channel);
    expect(connector.created).toEqual([]);
  });

  it('opens a personal chat with someone who never had one, answers there, and records what they declared in the channel', async () => {
    const audits = await h.auditCount();
    await post(inChannel('staff', 'declare ai Copilot --vendor Microsoft'));
    expect(connector.created).toHaveLength(1);
    expect(connector.created[0].parameters).toMatchObject({
      isGroup: false, tenantId: TENANT, bot: { id: BOT.id }, members: [{ id: '29:staff', aadObjectId: 'aad-staff' }],
    });
    const personal = connector.postedTo(connector.created[0].id);
    expect(personal).toHaveLength(1);
    const answer = cardText(cardOf(personal[0].activity));
    expect(answer).toContain('Recorded Copilot in the AI register as AI-0001');
    const channel = connector.postedTo(CHANNEL);
    expect(channel.map((p) => cardText(cardOf(p.activity)))).toEqual(["Sam Staff, I've sent you the answer in our personal chat."]);
    expectNothingOf(answer, channel);
    const [tool] = await h.t.db.select().from(aiTools).where(eq(aiTools.ref, 'AI-0001'));
    expect(tool).toMatchObject({ name: 'Copilot', vendor: 'Microsoft', declaredBy: h.ids.staff });
    expect(await h.auditCount()).toBe(audits + 2);
    // The bot can write first from now on, in that personal chat (never in the channel).
    const [address] = await h.t.db.select().from(chatAddresses).where(eq(chatAddresses.personId, h.ids.staff));
    expect(JSON.parse(address.address)).toMatchObject({ conversation: { id: connector.created[0].id, conversationType: 'personal' } });
  });

  it.each([
    ['a channel thread, without conversationType or isGroup', { id: '19:abc@thread.tacv2;messageid=1700000000001' }, {}],
    ['a channel of the older form, without conversationType or isGroup', { id: '19:abc@thread.skype' }, {}],
    ['a group chat saying isGroup: false, without conversationType', { id: '19:abc@thread.v2', isGroup: false }, {}],
    ['a conversation whose channelData names a team and channel, without conversationType', { id: 'c-unknown', isGroup: false }, { channel: { id: '19:abc@thread.tacv2' }, team: { id: '19:team@thread.tacv2' } }],
    ['a conversation that says nothing of what it is', { id: 'c-unknown' }, {}],
  ])('answers in the personal chat, never in %s', async (_name, conversation, channelData) => {
    await post({ ...personalMessage('owner', 'help'), serviceUrl: connector.url });
    const before = connector.posted.length;
    const activity = { ...inChannel('owner', 'help'), conversation: { ...conversation, tenantId: TENANT }, channelData: { tenant: { id: TENANT }, ...channelData } };
    await post(activity);
    const personal = connector.postedTo(personalChatOf('owner')).filter((p) => connector.posted.indexOf(p) >= before);
    expect(personal.map((p) => cardText(cardOf(p.activity)))).toEqual([expect.stringContaining('Here is what you can do')]);
    const shared = connector.postedTo(conversation.id);
    expect(shared.map((p) => cardText(cardOf(p.activity)))).toEqual(["Olga Owner, I've sent you the answer in our personal chat."]);
    expectNothingOf(cardText(cardOf(personal[0].activity)), shared);
  });

  it.each([
    ['Azure\'s "Test in Web Chat"', 'webchat', 'Test in Web Chat'],
    ['the Bot Framework Emulator', 'emulator', 'Bot Framework Emulator'],
  ])('answers "help" in %s, a one-to-one conversation without conversationType, where it was asked', async (_where, channelId, label) => {
    const conversation = `${channelId}-conversation-1`;
    const activity = {
      type: 'message', id: `${channelId}-activity-1`, channelId, serviceUrl: connector.url, text: 'help',
      from: { id: `${channelId}-user-1`, name: 'User' }, recipient: BOT, conversation: { id: conversation },
    };
    await post(activity);
    const said = connector.postedTo(conversation).map((p) => cardText(cardOf(p.activity)));
    expect(said).toHaveLength(1);
    // Web Chat and the Emulator have no signed-in person: the operator reads why, where they asked.
    expect(said[0]).toContain(`This test chat (${label}) has no signed-in person, so commands can only be tried from Microsoft Teams itself. Nothing was recorded.`);
    expect(said[0]).not.toContain('did not say who you are');
    expect(said[0]).not.toContain('Try again');
    expect(said[0]).not.toContain("I can't reach you in a personal chat");
    expect(connector.conversationRequests).toEqual([]);
  });

  it('does not take a Web Chat sender for the register person it names (their Entra id and email): nothing runs or is recorded', async () => {
    const audits = await h.auditCount();
    const conversation = 'webchat-conversation-named';
    await post({
      type: 'message', id: 'webchat-activity-named', channelId: 'webchat', serviceUrl: connector.url, text: 'declare ai Grok',
      from: { id: 'webchat-user-2', name: 'Sam Staff', aadObjectId: 'aad-staff', userPrincipalName: 'sam@test.example' }, recipient: BOT, conversation: { id: conversation },
    });
    const said = connector.postedTo(conversation).map((p) => cardText(cardOf(p.activity)));
    expect(said).toEqual([expect.stringContaining('This test chat (Test in Web Chat) has no signed-in person')]);
    expect(await h.t.db.select().from(aiTools).where(eq(aiTools.name, 'Grok'))).toEqual([]);
    expect(await h.auditCount()).toBe(audits);
  });

  it('tells someone Teams will not let the bot reach privately, in one sentence, to open a personal chat; the answer never reaches the channel', async () => {
    connector.refuseNewConversations = 403;
    await post(inChannel('auditor', 'risks'));
    expect(connector.created).toEqual([]);
    expect(connector.posted).toHaveLength(1);
    const [channel] = connector.postedTo(CHANNEL);
    const said = cardText(cardOf(channel.activity));
    expect(said).toBe("Ada Auditor, my answer is only for you, and I can't reach you in a personal chat: open a personal chat with me and ask there.");
    expect(channel.activity.summary).toBe(said);
  });
});

/**
 * The Bot Framework wants the HTTP answer to an activity within seconds and reads nothing from it for
 * a message: the bot answers a message 200 at once, before its command runs, and replies through the
 * Bot Connector once it ran. An invoke (a card or consent click) and an expectReplies delivery still
 * carry their answer in the HTTP response.
 */
describe('Teams bot over HTTP, answering before the command runs', () => {
  const WAIT = { timeout: 30_000 };
  let stack: TeamsStack, h: TeamsTestCore, server: TeamsServer, connector: FakeConnector;
  let serverStopped: boolean;
  beforeEach(async () => {
    ({ h, server, connector } = stack = await startTeamsStack());
    serverStopped = false;
  });
  afterEach(async () => {
    if (serverStopped) {
      await connector.stop();
      await h.destroy();
    } else {
      await stack.stop();
    }
  });

  const message = (...args: Parameters<typeof personalMessage>) => ({ ...personalMessage(...args), serviceUrl: connector.url });
  const repliesTo = (id: string) => connector.posted.filter((p) => p.replyToId === id).map((p) => cardText(cardOf(p.activity)));
  /**
   * Holds the AI register locked against writes (on PGlite, its one session too) until released: a
   * `declare ai` cannot finish meanwhile.
   */
  async function blockDeclarations(): Promise<() => Promise<void>> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => { release = resolve; });
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => { locked = resolve; });
    const holding = h.t.db.transaction(async (tx) => {
      await tx.execute(sql`lock table ai_tools in exclusive mode`);
      locked();
      await released;
    });
    await Promise.race([isLocked, holding]);
    return async () => {
      release();
      await holding;
    };
  }

  it('answers a message 200 with an empty body while its command is still blocked, and replies through the Bot Connector once it ran', async () => {
    const unblock = await blockDeclarations();
    const activity = message('staff', 'declare ai Claude --vendor Anthropic');
    let res: { status: number; body: string };
    try {
      res = await server.answer(activity);
      expect(repliesTo(activity.id!)).toEqual([]);
    } finally {
      await unblock();
    }
    expect(res).toEqual({ status: 200, body: '' });
    await vi.waitFor(() => expect(repliesTo(activity.id!)).toEqual([expect.stringContaining('Recorded Claude in the AI register as AI-0001')]), WAIT);
    expect(await h.t.db.select().from(aiTools)).toMatchObject([{ name: 'Claude', vendor: 'Anthropic', declaredBy: h.ids.staff }]);
  });

  it('records a message Teams delivers again while its first delivery is still running once', async () => {
    const unblock = await blockDeclarations();
    const activity = message('staff', 'declare ai Mistral');
    try {
      const answers = [await server.answer(activity), await server.answer(activity)];
      expect(answers.map((a) => a.status)).toEqual([200, 200]);
    } finally {
      await unblock();
    }
    await server.settled();
    expect(await h.t.db.select().from(aiTools).where(eq(aiTools.name, 'Mistral'))).toHaveLength(1);
    expect(await h.t.db.select().from(auditEvents).where(eq(auditEvents.action, 'declare'))).toHaveLength(1);
    // Whichever delivery answers, it says what was recorded.
    expect(new Set(repliesTo(activity.id!))).toEqual(new Set([expect.stringContaining('Recorded Mistral in the AI register as AI-0001')]));
  });

  it('answers an invoke (a click on a file consent card) only once its turn ran, with the turn\'s own status', async () => {
    const click = {
      ...message('lead', '', { text: undefined, replyToId: 'consent-card-1' }),
      type: 'invoke', name: 'fileConsent/invoke', value: { type: 'fileUpload', action: 'decline', context: { offerId: 'an-offer-long-gone' } },
    };
    const res = await server.answer(click);
    expect(res.status).toBe(200);
    // Already posted when the HTTP answer came.
    expect(repliesTo(click.id!)).toEqual(['That file offer is no longer open; nothing was sent.']);
  });

  it('gives an expectReplies delivery its replies in the HTTP response body, not through the Bot Connector', async () => {
    const res = await server.answer(message('staff', 'help', { deliveryMode: 'expectReplies' }));
    expect(res.status).toBe(200);
    const { activities } = JSON.parse(res.body) as { activities: Record<string, any>[] };
    expect(activities.map((a) => cardText(cardOf(a)))).toEqual([expect.stringContaining('declare ai')]);
    await server.settled();
    expect(connector.posted).toEqual([]);
  });

  it('tells the person something went wrong when the turn fails after the HTTP answer', async () => {
    const logged = h.logs.length;
    connector.failNext(1, 403);
    const activity = message('staff', 'help');
    expect((await server.answer(activity)).status).toBe(200);
    await vi.waitFor(() => expect(repliesTo(activity.id!)).toEqual([expect.stringContaining('Something went wrong on our side and nothing was recorded')]), WAIT);
    await vi.waitFor(() => expect(h.logs.slice(logged).map((l) => JSON.parse(l).msg)).toContain('Teams turn failed'), WAIT);
  });

  it('on stop, refuses new activities but waits for the reply a message answered with 200 still owes', async () => {
    const unblock = await blockDeclarations();
    const activity = message('staff', 'declare ai Gemini');
    let stopped = false;
    let stopping: Promise<void> | undefined;
    try {
      expect((await server.answer(activity)).status).toBe(200);
      stopping = server.stop().then(() => { stopped = true; });
      serverStopped = true;
      expect((await server.answer(message('lead', 'help'))).status).toBe(503);
      expect(stopped).toBe(false);
    } finally {
      await unblock();
    }
    await stopping;
    expect(repliesTo(activity.id!)).toEqual([expect.stringContaining('Recorded Gemini in the AI register')]);
  });
});
