/**
 * Payloads exactly as Slack sends them (docs.slack.dev: Events API, interaction payloads) that the
 * other Slack tests do not cover: the checks Slack makes of the request URL, its notice that it rate
 * limits the app's events, a thread reply also sent to the conversation, a file deleted before it
 * could be read, an edited mention, an edited or deleted evidence reply, a "/me" message, and a click whose
 * message could not be updated.
 * One workspace for the file; each test uses its own people, messages and event ids.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { addPolicy, addPolicyVersion } from './helpers/fixtures.js';
import { SlackWorkspace, blockText, findButton, postedMessage, submission, type BotMessage } from './helpers/fake-slack-workspace.js';
import { FORM_VIEW, LOADING_VIEW, fieldBlockId } from '../adapters/slack/ids.js';
import { reply, text, actions } from '../src/core/reply.js';
import { addDays, readersDay } from '../src/core/time.js';
import { aiTools, evidenceItems, evidenceRequests, people, policyAcknowledgements, processedEvents } from '../src/db/schema/index.js';

let w: SlackWorkspace;
const WAIT = { timeout: 15_000 };

beforeAll(async () => {
  w = await SlackWorkspace.start();
});

afterAll(async () => {
  await w?.close();
});

describe("Slack's checks of the request URL", () => {
  it('answers url_verification with its challenge, and an unsigned ssl_check with 200, running nothing', async () => {
    const before = { calls: w.fake.calls.length, audit: await w.auditCount() };
    const verification = await w.sender.send(JSON.stringify({ token: 'legacy', challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P', type: 'url_verification' }), 'application/json');
    expect(verification.status).toBe(200);
    expect(verification.json()).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
    // Slack's SSL check carries no signature.
    const sslCheck = await fetch(w.sender.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'ssl_check=1&token=legacy' });
    expect(sslCheck.status).toBe(200);
    expect(w.fake.calls).toHaveLength(before.calls);
    expect(await w.auditCount()).toBe(before.audit);
  });
});

describe("Slack's notice that it rate limits the app's events", () => {
  it('is acknowledged with 200 and logged as a warning saying events are dropped, not as a listener that failed to acknowledge', async () => {
    // No inner event: the whole payload, as docs.slack.dev/reference/events/app_rate_limited shows it.
    const notice = await w.sender.send(JSON.stringify({ token: 'legacy', type: 'app_rate_limited', team_id: 'T0TEST', minute_rate_limited: 1700003400, api_app_id: 'A0TEST' }), 'application/json');
    expect(notice.status).toBe(200);
    const warning = await w.logs.waitFor((l) => /app_rate_limited/.test(l.msg));
    expect(warning).toMatchObject({ level: 40, team: 'T0TEST', since: '2023-11-14T23:10:00.000Z' });
    expect(w.logs.text()).not.toContain('not acknowledged');
  });
});

/** The ISMS lead asks Sam for evidence on a new control; the request reaches him as a direct message. */
const evidenceRequestForSam = (control: string): Promise<{ ref: string; request: BotMessage }> => w.evidenceRequest('staff', control);

describe('a reply in the thread of an evidence request', () => {
  it('is recorded and answered in the thread when the person also sent it to the conversation (subtype thread_broadcast)', async () => {
    const { ref, request } = await evidenceRequestForSam('CTL-BC-01');

    // "Also send to direct message" ticked: one event, the reply with its thread and the thread's root.
    const response = await w.sender.event({
      type: 'message', subtype: 'thread_broadcast', channel: 'DSAM', channel_type: 'im', user: 'USAM', text: 'Restore test passed: <https://wiki.example/restore-q4>',
      ts: '1700003000.000200', event_ts: '1700003000.000200', thread_ts: request.ts, client_msg_id: 'c0ffee00-0000-4000-8000-000000000001',
      root: { type: 'message', user: 'UBOT', bot_id: 'BBOT', text: 'Evidence request', ts: request.ts, thread_ts: request.ts, reply_count: 1 },
    }, 'EvBROADCAST');
    expect(response.status).toBe(200);

    const answer = await w.fake.waitForCall('chat.postMessage', (c) => c.args.thread_ts === request.ts);
    const [item] = await w.t.db.select().from(evidenceItems).where(eq(evidenceItems.requestId, (await w.t.db.select().from(evidenceRequests).where(eq(evidenceRequests.ref, ref)))[0].id));
    expect(item).toMatchObject({ text: 'Restore test passed: https://wiki.example/restore-q4', submittedBy: w.cast.staff.id });
    expect(blockText(answer.args.blocks)).toContain(item.ref);
  });

  it('with the same file and text as the reply before it records nothing and says which revision has them; for a later day it is a new revision', async () => {
    const { ref, request } = await evidenceRequestForSam('CTL-BC-03');
    const bytes = Buffer.from('%PDF-1.7 restore test: all databases restored');
    // Uploading the file again makes a new file in Slack, with the same bytes.
    w.fake.addFile('F0RESTORE1', 'restore.pdf', bytes, 'application/pdf');
    w.fake.addFile('F0RESTORE2', 'restore.pdf', bytes, 'application/pdf');
    const share = (file: string, ts: string) => ({
      type: 'message', subtype: 'file_share', channel: 'DSAM', channel_type: 'im', user: 'USAM', text: 'Restore test',
      ts, event_ts: ts, thread_ts: request.ts, files: [{ id: file, name: 'restore.pdf', mimetype: 'application/pdf' }],
    });
    await w.sender.event(share('F0RESTORE1', '1700003020.000200'), 'EvSAMEFILE1');
    const first = blockText((await w.fake.waitForCall('chat.postMessage', (c) => c.args.thread_ts === request.ts)).args.blocks);
    const [item] = await w.t.db.select().from(evidenceItems).where(eq(evidenceItems.requestId, (await w.t.db.select().from(evidenceRequests).where(eq(evidenceRequests.ref, ref)))[0].id));
    expect(first).toContain(`Recorded ${item.ref} (revision 1)`);
    const before = await w.auditCount();

    const [sam] = await w.t.db.select().from(people).where(eq(people.id, w.cast.staff.id));
    await w.sender.event(share('F0RESTORE2', '1700003030.000200'), 'EvSAMEFILE2');
    await vi.waitFor(() => expect(w.fake.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === request.ts)).toHaveLength(2), WAIT);
    const again = blockText(w.fake.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === request.ts)[1].args.blocks);
    expect(again).toContain(`This is already recorded for ${ref} as revision 1 (${item.ref}, ${readersDay(item.submittedAt, sam.timezone)}): the same text and file, effective ${item.effectiveOn}. Nothing was recorded again.`);
    expect(await w.t.db.select().from(evidenceItems).where(eq(evidenceItems.requestId, item.requestId!))).toEqual([item]);
    expect(await w.auditCount()).toBe(before);

    // Had the first been recorded a month ago, the same file today shows the evidence still holds: a new revision, audited.
    const monthAgo = addDays(item.effectiveOn, -30);
    await w.t.db.update(evidenceItems).set({ effectiveOn: monthAgo }).where(eq(evidenceItems.id, item.id));
    w.fake.addFile('F0RESTORE3', 'restore.pdf', bytes, 'application/pdf');
    await w.sender.event(share('F0RESTORE3', '1700003040.000200'), 'EvSAMEFILE3');
    await vi.waitFor(() => expect(w.fake.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === request.ts)).toHaveLength(3), WAIT);
    const later = blockText(w.fake.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === request.ts)[2].args.blocks);
    const [, today] = (await w.t.db.select().from(evidenceItems).where(eq(evidenceItems.requestId, item.requestId!))).sort((x, y) => x.revision - y.revision);
    expect(today).toMatchObject({ revision: 2, effectiveOn: item.effectiveOn, fileSha256: item.fileSha256, text: 'Restore test' });
    expect(later).toContain(`Recorded ${today.ref} (revision 2)`);
    expect(later).toContain(`The same text and file as revision 1 (${item.ref}, effective ${monthAgo}), recorded again as effective ${today.effectiveOn}`);
    expect(await w.auditCount()).toBe(before + 1);
  });

  it('with a file deleted before the bot could read it (Slack sends it as a tombstone) is refused saying so, not as a fault nor logged as an error', async () => {
    const { request } = await evidenceRequestForSam('CTL-BC-02');
    const before = await w.auditCount();
    await w.sender.event({
      type: 'message', subtype: 'file_share', channel: 'DSAM', channel_type: 'im', user: 'USAM', text: '',
      ts: '1700003050.000200', event_ts: '1700003050.000200', thread_ts: request.ts, files: [{ id: 'F0DELETED', mode: 'tombstone' }],
    }, 'EvTOMBSTONE');
    const said = blockText((await w.fake.waitForCall('chat.postMessage', (c) => c.args.thread_ts === request.ts)).args.blocks);
    expect(said).toContain('Slack did not let me read a file you shared: it was deleted, or I may not see it. Nothing was recorded.');
    expect(said).toContain('Upload it again, or share a link instead.');
    expect(said).not.toContain('Something went wrong');
    expect(await w.auditCount()).toBe(before);
    // Answered to the person, so not an error for the operator.
    expect(w.logs.lines.filter((l) => l.level >= 50 && l.request?.event_id === 'EvTOMBSTONE').map((l) => l.msg)).toEqual([]);
  });
});

/** A reply as Slack sends it when its author edits it (message_changed): the message as it is now, and as it was. */
function edited(reply: { user: string; text: string; ts: string; thread_ts?: string }, newText: string, editTs: string, extra: Record<string, unknown> = {}) {
  const before = { type: 'message', client_msg_id: `c0ffee00-0000-4000-8000-${reply.ts.replace('.', '').slice(-12)}`, user: reply.user, text: reply.text, ts: reply.ts, team: 'T0TEST', ...(reply.thread_ts ? { thread_ts: reply.thread_ts, parent_user_id: 'UBOT' } : {}) };
  return {
    type: 'message', subtype: 'message_changed', hidden: true, channel: 'DSAM', channel_type: 'im', ts: editTs, event_ts: editTs,
    message: { ...before, text: newText, edited: { user: reply.user, ts: editTs }, source_team: 'T0TEST', user_team: 'T0TEST', ...extra },
    previous_message: before,
  };
}

/** Sam's reply in the thread of an evidence request, recorded and answered. */
async function evidenceReplyFromSam(control: string, replyTs: string, said: string) {
  const { ref, request } = await evidenceRequestForSam(control);
  const reply = { user: 'USAM', text: said, ts: replyTs, thread_ts: request.ts };
  await w.sender.event({ type: 'message', channel: 'DSAM', channel_type: 'im', ...reply, event_ts: replyTs }, `Ev${control}`);
  await w.fake.waitForCall('chat.postMessage', (c) => c.args.thread_ts === request.ts);
  const [item] = await w.t.db.select().from(evidenceItems).where(eq(evidenceItems.requestId, (await w.t.db.select().from(evidenceRequests).where(eq(evidenceRequests.ref, ref)))[0].id));
  return { ref, request, reply, item };
}

describe('an evidence reply its author edits in Slack', () => {
  it('keeps the evidence as first sent and tells the person so in the thread, once however often Slack delivers the edit', async () => {
    const { ref, request, reply, item } = await evidenceReplyFromSam('CTL-ED-01', '1700003200.000100', 'Restore test passed on 3 Dec');
    expect(item.text).toBe('Restore test passed on 3 Dec');
    const before = { audit: await w.auditCount(), claims: (await w.t.db.select().from(processedEvents)).length };

    const edit = edited(reply, 'Restore test passed on 4 Dec', '1700003260.000000');
    await Promise.all([w.sender.event(edit, 'EvEDITED'), w.sender.event(edit, 'EvEDITED', { retryNum: 1 })]);
    await w.logs.waitFor((l) => l.request?.event_id === 'EvEDITED' && /answered already/.test(l.msg));
    await w.bot.inFlight.settled(WAIT.timeout);

    const answers = w.fake.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === request.ts);
    expect(answers).toHaveLength(2);
    const said = blockText(answers[1].args.blocks);
    expect(answers[1].args.channel).toBe('DSAM');
    expect(said).toContain(`evidence stays as it was first sent: what you sent for ${ref} is kept unchanged`);
    expect(said).toContain('send it as a new reply in this thread: it is added as a new revision');
    // Nothing in the register changed: the same one item with its first text, no audit event, only the claim to answer once.
    expect(await w.t.db.select().from(evidenceItems).where(eq(evidenceItems.requestId, item.requestId!))).toEqual([item]);
    expect(await w.auditCount()).toBe(before.audit);
    expect((await w.t.db.select().from(processedEvents)).length).toBe(before.claims + 1);

    // A second edit of the same reply is a new edit, and is answered too.
    await w.sender.event(edited({ ...reply, text: 'Restore test passed on 4 Dec' }, 'Restore test passed on 5 Dec', '1700003320.000000'), 'EvEDITEDAGAIN');
    await vi.waitFor(() => expect(w.fake.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === request.ts)).toHaveLength(3), WAIT);
  });

  it('gets no answer for a link preview Slack adds, an edit outside an evidence thread, or an edit by a bot', async () => {
    const { request, reply } = await evidenceReplyFromSam('CTL-ED-02', '1700003400.000100', 'See <https://wiki.example/restore-q4>');
    const posted = w.fake.callsTo('chat.postMessage').length;
    const before = await w.auditCount();

    // Slack unfurls the link: message_changed with the same text and an attachment, no "edited".
    const unfurl = edited(reply, reply.text, '1700003401.000000', { attachments: [{ from_url: 'https://wiki.example/restore-q4', title: 'Restore test Q4', id: 1 }] });
    delete (unfurl.message as { edited?: unknown }).edited;
    // A message of Sam's own in the conversation, not in any thread, edited.
    const plain = edited({ user: 'USAM', text: 'hello?', ts: '1700003410.000100' }, 'hello, anyone?', '1700003411.000000');
    // A bot's message in the evidence thread, edited by the bot.
    const byBot = edited({ user: 'UOTHERBOT', text: 'Reminder', ts: '1700003420.000100', thread_ts: request.ts }, 'Reminder (updated)', '1700003421.000000', { bot_id: 'BOTHER' });
    for (const [event, id] of [[unfurl, 'EvUNFURL'], [plain, 'EvPLAINEDIT'], [byBot, 'EvBOTEDIT']] as const) {
      expect((await w.sender.event(event, id)).status).toBe(200);
    }
    await w.bot.inFlight.settled(WAIT.timeout);

    expect(w.fake.callsTo('chat.postMessage')).toHaveLength(posted);
    expect(w.fake.callsTo('chat.postEphemeral').filter((c) => c.args.channel === 'DSAM')).toHaveLength(0);
    expect(await w.auditCount()).toBe(before);
  });
});

describe('an edit or deletion as Slack\'s reference shows it (docs.slack.dev/reference/events/message): no channel_type, no previous_message', () => {
  it('of an evidence reply gets its note in the request\'s thread all the same, once, and changes nothing', async () => {
    const { ref, request, reply, item } = await evidenceReplyFromSam('CTL-ED-03', '1700003800.000100', 'Restore test passed on 3 Dec');
    const before = await w.auditCount();
    // The message as it is now, only: no thread_ts either.
    const edit = { type: 'message', subtype: 'message_changed', hidden: true, channel: 'DSAM', ts: '1700003860.000000',
      message: { type: 'message', user: 'USAM', text: 'Restore test passed on 4 Dec', ts: reply.ts, edited: { user: 'USAM', ts: '1700003860.000000' } } };
    await Promise.all([w.sender.event(edit, 'EvREFEDIT'), w.sender.event(edit, 'EvREFEDIT', { retryNum: 1 })]);
    await vi.waitFor(() => expect(w.fake.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === request.ts)).toHaveLength(2), WAIT);
    const deletion = { type: 'message', subtype: 'message_deleted', hidden: true, channel: 'DSAM', ts: '1700003870.000000', deleted_ts: reply.ts };
    await Promise.all([w.sender.event(deletion, 'EvREFDELETE'), w.sender.event(deletion, 'EvREFDELETE', { retryNum: 1 })]);
    await vi.waitFor(() => expect(w.fake.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === request.ts)).toHaveLength(3), WAIT);
    await w.bot.inFlight.settled(WAIT.timeout);

    const [, editNote, deleteNote] = w.fake.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === request.ts).map((c) => blockText(c.args.blocks));
    expect(editNote).toContain(`evidence stays as it was first sent: what you sent for ${ref} is kept unchanged`);
    expect(deleteNote).toContain(`what you sent for ${ref} stays as it was recorded`);
    expect(await w.t.db.select().from(evidenceItems).where(eq(evidenceItems.requestId, item.requestId!))).toEqual([item]);
    expect(await w.auditCount()).toBe(before);
  });
});

describe('a reply in the thread of an evidence request that was not recorded', () => {
  it('gets no note saying it is kept unchanged when its author edits or deletes it, as nothing of it was kept', async () => {
    const { ref, request } = await evidenceRequestForSam('CTL-ED-04');
    // The ISMS lead cancelled the request meanwhile: Sam's reply is refused.
    await w.t.db.update(evidenceRequests).set({ status: 'cancelled' }).where(eq(evidenceRequests.ref, ref));
    const reply = { user: 'USAM', text: 'Restore test passed on 3 Dec', ts: '1700003900.000100', thread_ts: request.ts };
    await w.sender.event({ type: 'message', channel: 'DSAM', channel_type: 'im', ...reply, event_ts: reply.ts }, 'EvREFUSEDREPLY');
    const refusal = await w.fake.waitForCall('chat.postMessage', (c) => c.args.thread_ts === request.ts);
    expect(blockText(refusal.args.blocks)).toContain(`${ref} was cancelled, so it takes no more evidence. Nothing was recorded.`);

    await w.sender.event(edited(reply, 'Restore test passed on 4 Dec', '1700003960.000000'), 'EvREFUSEDEDIT');
    await w.sender.event(deleted(reply, '1700003970.000000'), 'EvREFUSEDDELETE');
    await w.bot.inFlight.settled(WAIT.timeout);

    expect(w.fake.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === request.ts)).toEqual([refusal]);
    expect(await w.t.db.select().from(evidenceItems).where(eq(evidenceItems.requestId, (await w.t.db.select().from(evidenceRequests).where(eq(evidenceRequests.ref, ref)))[0].id))).toEqual([]);
  });
});

/** A message as Slack reports its deletion (message_deleted): which one went, and what it was. */
function deleted(message: { user: string; text: string; ts: string; thread_ts?: string }, deletedAt: string, extra: Record<string, unknown> = {}) {
  return {
    type: 'message', subtype: 'message_deleted', hidden: true, channel: 'DSAM', channel_type: 'im', ts: deletedAt, event_ts: deletedAt, deleted_ts: message.ts,
    previous_message: { type: 'message', client_msg_id: `c0ffee00-0000-4000-8000-${message.ts.replace('.', '').slice(-12)}`, text: message.text, user: message.user, ts: message.ts, team: 'T0TEST',
      ...(message.thread_ts ? { thread_ts: message.thread_ts, parent_user_id: 'UBOT' } : {}), ...extra },
  };
}

describe('an evidence reply its author deletes in Slack', () => {
  it('stays recorded, and the person is told so in the thread and who can send it back, once however often Slack delivers the deletion', async () => {
    const { ref, request, reply, item } = await evidenceReplyFromSam('CTL-DE-01', '1700003600.000100', 'Restore test passed on 3 Dec');
    const before = { audit: await w.auditCount(), claims: (await w.t.db.select().from(processedEvents)).length };

    const deletion = deleted(reply, '1700003660.000000');
    await Promise.all([w.sender.event(deletion, 'EvDELETED'), w.sender.event(deletion, 'EvDELETED', { retryNum: 1 })]);
    await w.logs.waitFor((l) => l.request?.event_id === 'EvDELETED' && /answered already/.test(l.msg));
    await w.bot.inFlight.settled(WAIT.timeout);

    const answers = w.fake.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === request.ts);
    expect(answers).toHaveLength(2);
    const said = blockText(answers[1].args.blocks);
    expect(answers[1].args.channel).toBe('DSAM');
    expect(said).toContain(`deleting it in the chat does not remove it from the register: what you sent for ${ref} stays as it was recorded, for the audit trail`);
    expect(said).toContain(`ask the ISMS lead (or the control's evidence reviewer) to send it back: "/isms evidence return ${ref} sent by mistake"`);
    // Nothing in the register changed: the same one item, no audit event, only the claim to answer once.
    expect(await w.t.db.select().from(evidenceItems).where(eq(evidenceItems.requestId, item.requestId!))).toEqual([item]);
    expect(await w.auditCount()).toBe(before.audit);
    expect((await w.t.db.select().from(processedEvents)).length).toBe(before.claims + 1);
  });

  it('with text and a file, of which only the file is deleted, stays recorded, and the person is told so in the thread once', async () => {
    const { ref, request } = await evidenceRequestForSam('CTL-DE-03');
    const bytes = Buffer.from('%PDF-1.7 restore test report');
    w.fake.addFile('F0REPORT', 'restore-report.pdf', bytes, 'application/pdf');
    const sent = { type: 'message', subtype: 'file_share', user: 'USAM', text: 'Restore test report', ts: '1700003750.000100', thread_ts: request.ts, team: 'T0TEST' };
    const file = { id: 'F0REPORT', name: 'restore-report.pdf', title: 'restore-report.pdf', mimetype: 'application/pdf', filetype: 'pdf', mode: 'hosted', user: 'USAM', size: bytes.length };
    await w.sender.event({ ...sent, channel: 'DSAM', channel_type: 'im', event_ts: sent.ts, files: [file] }, 'EvFILEREPLY');
    await w.fake.waitForCall('chat.postMessage', (c) => c.args.thread_ts === request.ts);
    const [item] = await w.t.db.select().from(evidenceItems).where(eq(evidenceItems.fileName, 'restore-report.pdf'));
    expect(item).toMatchObject({ text: 'Restore test report', fileSize: bytes.length });
    const before = await w.auditCount();

    // Slack's message_changed for a file removed from the message: the text stays, the file is a tombstone, nothing is "edited".
    const fileRemoved = {
      type: 'message', subtype: 'message_changed', hidden: true, channel: 'DSAM', channel_type: 'im', ts: '1700003790.000000', event_ts: '1700003790.000000',
      message: { ...sent, files: [{ id: 'F0REPORT', mode: 'tombstone' }], source_team: 'T0TEST', user_team: 'T0TEST' },
      previous_message: { ...sent, files: [file] },
    };
    await Promise.all([w.sender.event(fileRemoved, 'EvFILEREMOVED'), w.sender.event(fileRemoved, 'EvFILEREMOVED', { retryNum: 1 })]);
    await vi.waitFor(() => expect(w.fake.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === request.ts)).toHaveLength(2), WAIT);
    await w.bot.inFlight.settled(WAIT.timeout);

    const answers = w.fake.callsTo('chat.postMessage').filter((c) => c.args.thread_ts === request.ts);
    expect(answers).toHaveLength(2);
    const said = blockText(answers[1].args.blocks);
    expect(said).toContain(`You deleted the file from your reply, but deleting it in the chat does not remove it from the register: the file you sent for ${ref} stays as it was recorded, for the audit trail`);
    expect(said).toContain(`ask the ISMS lead (or the control's evidence reviewer) to send it back: "/isms evidence return ${ref} sent by mistake"`);
    expect(await w.t.db.select().from(evidenceItems).where(eq(evidenceItems.requestId, item.requestId!))).toEqual([item]);
    expect(await w.auditCount()).toBe(before);
  });

  it('gets no answer for a deleted message outside an evidence thread, or a bot\'s message deleted in one', async () => {
    const { request } = await evidenceReplyFromSam('CTL-DE-02', '1700003700.000100', 'See <https://wiki.example/restore-q4>');
    const posted = w.fake.callsTo('chat.postMessage').length;
    const before = await w.auditCount();

    const plain = deleted({ user: 'USAM', text: 'hello?', ts: '1700003710.000100' }, '1700003711.000000');
    const byBot = deleted({ user: 'UOTHERBOT', text: 'Reminder', ts: '1700003720.000100', thread_ts: request.ts }, '1700003721.000000', { bot_id: 'BOTHER' });
    for (const [event, id] of [[plain, 'EvPLAINDELETE'], [byBot, 'EvBOTDELETE']] as const) {
      expect((await w.sender.event(event, id)).status).toBe(200);
    }
    await w.bot.inFlight.settled(WAIT.timeout);

    expect(w.fake.callsTo('chat.postMessage')).toHaveLength(posted);
    expect(w.fake.callsTo('chat.postEphemeral').filter((c) => c.args.channel === 'DSAM')).toHaveLength(0);
    expect(await w.auditCount()).toBe(before);
  });
});

describe('"/me waves" in the direct message with the bot (subtype me_message)', () => {
  it('is answered like any message from that person', async () => {
    const response = await w.sender.event({
      type: 'message', subtype: 'me_message', channel: 'DOLGA', channel_type: 'im', user: 'UOLGA', text: 'waves', ts: '1700003500.000100', event_ts: '1700003500.000100',
    }, 'EvMEMESSAGE');
    expect(response.status).toBe(200);
    const answer = await w.fake.waitForCall('chat.postMessage', (c) => c.args.channel === 'DOLGA');
    expect(blockText(answer.args.blocks)).toContain('I take commands');
  });
});

describe('a file shared in the direct message with the bot, not in the thread of an evidence request', () => {
  it('is not read: the person is told how to hand in evidence, and nothing is downloaded or recorded', async () => {
    w.fake.addFile('F0LOOSE', 'restore-report.pdf', Buffer.from('%PDF-1.4 report'), 'application/pdf');
    const before = { audit: await w.auditCount(), calls: w.fake.calls.length };
    await w.sender.event({
      type: 'message', subtype: 'file_share', channel: 'DOLGA', channel_type: 'im', user: 'UOLGA', text: 'here is the report', upload: false, display_as_bot: false,
      files: [{ id: 'F0LOOSE', name: 'restore-report.pdf', mimetype: 'application/pdf', filetype: 'pdf', url_private: `${w.fake.url}/files/F0LOOSE` }],
      ts: '1700004100.000100', event_ts: '1700004100.000100',
    }, 'EvLOOSEFILE');
    const answer = await w.fake.waitForCall('chat.postMessage', (c) => c.args.channel === 'DOLGA' && w.fake.calls.indexOf(c) >= before.calls);
    expect(blockText(answer.args.blocks)).toContain('To hand in evidence, reply with the file or text in the thread of my evidence request.');
    const calls = w.fake.calls.slice(before.calls).map((c) => c.method);
    expect(calls).not.toContain('files.info');
    expect(calls).not.toContain('file download');
    expect(await w.auditCount()).toBe(before.audit);
  });
});

describe('Slackbot posting in the direct message with the bot (user USLACKBOT, no bot_id)', () => {
  it('gets no answer', async () => {
    const before = w.fake.calls.length;
    await w.sender.event({ type: 'message', channel: 'DOLGA', channel_type: 'im', user: 'USLACKBOT', text: 'Reminder: send the restore report.', ts: '1700004200.000100', event_ts: '1700004200.000100' }, 'EvSLACKBOT');
    await w.bot.inFlight.settled(WAIT.timeout);
    expect(w.fake.calls.slice(before).filter((c) => c.method.startsWith('chat.'))).toEqual([]);
  });
});

describe('"@ISMS …" in a channel', () => {
  it('is answered once, not again when the person edits the message (Slack sends app_mention again, with "edited")', async () => {
    const mention = {
      type: 'app_mention', client_msg_id: 'c0ffee00-0000-4000-8000-000000000002', user: 'UOLGA', text: '<@UBOT> wie melde ich „Otter“ an?',
      ts: '1700003100.000100', event_ts: '1700003100.000100', channel: 'CGENERAL', team: 'T0TEST',
    };
    await w.sender.event(mention, 'EvMENTIONED');
    await w.fake.waitForCall('chat.postEphemeral', (c) => c.args.user === 'UOLGA');

    await w.sender.event({ ...mention, text: '<@UBOT> wie melde ich „Otter AI“ an?', edited: { user: 'UOLGA', ts: '1700003160.000000' } }, 'EvMENTIONEDIT');
    await w.logs.waitFor((l) => l.request?.event_id === 'EvMENTIONEDIT' && /answered already/.test(l.msg));
    expect(w.fake.callsTo('chat.postEphemeral').filter((c) => c.args.user === 'UOLGA')).toHaveLength(1);
  });
});

describe('"@ISMS …" whose private answer may have reached Slack though the post failed', () => {
  it('is neither sent again as a direct message, nor followed by an apology, nor answered again when Slack delivers the mention again', async () => {
    const mention = {
      type: 'app_mention', client_msg_id: 'c0ffee00-0000-4000-8000-000000000003', user: 'USAM', text: '<@UBOT> where do I report a lost laptop?',
      ts: '1700004300.000100', event_ts: '1700004300.000100', channel: 'CGENERAL', team: 'T0TEST',
    };
    const toSam = () => w.fake.calls.filter((c) => (c.method === 'chat.postEphemeral' && c.args.user === 'USAM') || (c.method === 'chat.postMessage' && ['USAM', 'DSAM'].includes(c.args.channel)));
    const before = toSam().length;
    w.fake.takeThenDropConnection('chat.postEphemeral');
    await w.sender.event(mention, 'EvMENTIONDROPPED');
    await w.logs.waitFor((l) => l.request?.event_id === 'EvMENTIONDROPPED' && l.slackMethod === 'chat.postEphemeral' && l.level === 50);
    await w.sender.event(mention, 'EvMENTIONDROPPED', { retryNum: 1 });
    await w.logs.waitFor((l) => l.request?.event_id === 'EvMENTIONDROPPED' && l.request?.retry === 1 && /answered already/.test(l.msg));
    await w.bot.inFlight.settled(WAIT.timeout);
    // One private answer, taken by Slack: no direct message, no apology, no second answer.
    expect(toSam().slice(before).map((c) => c.method)).toEqual(['chat.postEphemeral']);
  });
});

describe('a click whose message Slack would not update', () => {
  it('tells the person the acknowledgement was recorded, not that nothing was', async () => {
    const policy = await addPolicy(w.t.db, { title: 'Remote work' });
    await addPolicyVersion(w.t.db, { policyId: policy.id, version: '1.0', content: 'Lock your screen.' });
    await w.slack.port.send(await w.person('lead'), reply(text(`Please read ${policy.ref} Remote work.`), actions({ label: 'Acknowledge version 1.0', command: `ack ${policy.ref} --version 1.0` })));
    const message = postedMessage(w.fake.callsTo('chat.postMessage').at(-1)!);

    w.fake.failNext('chat.update', 500);
    try {
      await w.sender.interaction(w.clickPayload('ULENA', message, 'Acknowledge version 1.0', 'unchanged-message'));
      const told = await w.responseTo('unchanged-message');
      expect(told.args).toMatchObject({ response_type: 'ephemeral', replace_original: false });
      expect(blockText(told.args.blocks)).toContain('Your request was recorded, but its answer may not have reached you');
      expect(blockText(told.args.blocks)).not.toContain('nothing was recorded');
    } finally {
      w.fake.clearFailures();
    }
    await vi.waitFor(async () => expect(await w.t.db.select().from(policyAcknowledgements).where(eq(policyAcknowledgements.personId, w.cast.lead.id))).toHaveLength(1), WAIT);
  });
});

describe('a click on a message in a channel the bot was removed from', () => {
  it('replaces the message through the click\'s response_url with what was recorded, by whom, as Slack refuses chat.update there', async () => {
    const policy = await addPolicy(w.t.db, { title: 'Clean desk' });
    await addPolicyVersion(w.t.db, { policyId: policy.id, version: '1.0', content: 'Clear your desk.' });
    await w.slack.port.send(await w.person('lead'), reply(text(`Please read ${policy.ref} Clean desk.`), actions({ label: 'Acknowledge version 1.0', command: `ack ${policy.ref} --version 1.0` })));
    // The same message, as it sits in a private channel the bot has since been removed from.
    const message = { ...postedMessage(w.fake.callsTo('chat.postMessage').at(-1)!), channel: 'CREMOVED', ts: '1700006000.000100' };
    w.fake.channelState('CREMOVED', 'channel_not_found');
    const leadAcks = (await w.t.db.select().from(policyAcknowledgements).where(eq(policyAcknowledgements.personId, w.cast.lead.id))).length;

    await w.sender.interaction({ ...w.clickPayload('ULENA', message, 'Acknowledge version 1.0', 'removed-channel'), channel: { id: 'CREMOVED', name: 'privategroup' } });
    const replaced = await w.responseTo('removed-channel');
    expect(replaced.args).toMatchObject({ replace_original: true });
    const shown = blockText(replaced.args.blocks);
    expect(shown).toContain(`Thank you: you acknowledged ${policy.ref} Clean desk version 1.0`);
    expect(shown).toMatch(/by <@ULENA> \(Lena Lead\) on <!date\^\d+\^/);
    expect(shown).not.toContain('may not have reached you');
    expect((await w.t.db.select().from(policyAcknowledgements).where(eq(policyAcknowledgements.personId, w.cast.lead.id))).length).toBe(leadAcks + 1);
  });
});

describe('a Slack account that Slack itself no longer knows (users.info answers user_not_found)', () => {
  it('is told Slack did not say who they are, not that they are outside the register, and its user_not_found is not logged as an error', async () => {
    const mark = w.logs.lines.length;
    const before = await w.auditCount();
    await w.sender.command(w.slashCommand('UGONE', 'status', 'gone-user'));
    const answer = await w.responseTo('gone-user');
    expect(answer.args.response_type).toBe('ephemeral');
    const said = blockText(answer.args.blocks);
    expect(said).not.toContain('not in the ISMS register');
    expect(said).toContain('Slack did not say who you are');
    expect(said).toContain('Nothing was recorded');
    expect(w.fake.callsTo('users.info').filter((c) => c.args.user === 'UGONE').length).toBeGreaterThan(0);
    expect(await w.auditCount()).toBe(before);
    const lines = w.logs.lines.slice(mark);
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(lines.filter((l) => l.level === 40)).toMatchObject([{ reason: 'lookup_failed', cause: 'user_not_found' }]);
  });
});

describe('an answer whose connection dropped after Slack took it', () => {
  it('is not posted a second time: the person reads it once', async () => {
    const started = Date.now();
    w.fake.takeThenDropConnection('chat.postMessage');
    await w.sender.event({
      type: 'message', channel: 'DOLGA', channel_type: 'im', user: 'UOLGA', text: 'guten Morgen', ts: '1700003600.000100', event_ts: '1700003600.000100',
    }, 'EvDROPPED');
    const hints = () => w.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'DOLGA' && blockText(c.args.blocks).includes('I take commands') && c.at >= started);
    await vi.waitFor(() => expect(hints()).toHaveLength(1), WAIT);
    // The call failed for good (logged once its retries, if any, were over): it was never posted again.
    await vi.waitFor(() => expect(w.logs.lines.some((l) => l.level === 50 && l.slackMethod === 'chat.postMessage' && l.target?.channel === 'DOLGA')).toBe(true), WAIT);
    expect(hints()).toHaveLength(1);
  });
});

describe('a direct message whose answer may have reached Slack though the post failed', () => {
  /** Olga's message in her direct message with the bot, as the Events API delivers it. */
  const hello = (ts: string) => ({ type: 'message', channel: 'DOLGA', channel_type: 'im', user: 'UOLGA', text: 'hallo', ts, event_ts: ts, client_msg_id: `c0ffee00-0000-4000-8000-${ts.slice(-6)}000000` });

  it.each([
    ['the connection dropped mid-post', 'EvTAKENDROPPED', '1700003800.000100', () => w.fake.takeThenDropConnection('chat.postMessage')],
    ['Slack answered 504 (a gateway timeout)', 'EvGATEWAY504', '1700003850.000100', () => w.fake.failNext('chat.postMessage', 504, 1)],
  ] as const)('is not answered again when Slack delivers the event again after %s', async (_why, eventId, ts, fail) => {
    const posted = w.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'DOLGA').length;
    fail();
    try {
      await w.sender.event(hello(ts), eventId);
      await w.logs.waitFor((l) => l.request?.event_id === eventId && /the answer in the thread/.test(l.msg));
    } finally {
      w.fake.clearFailures();
    }
    // Slack did not get its 200 in time, say, and delivers the event again.
    await w.sender.event(hello(ts), eventId, { retryNum: 1 });
    await w.logs.waitFor((l) => l.request?.event_id === eventId && l.request?.retry === 1 && /answered already/.test(l.msg));
    await w.bot.inFlight.settled(WAIT.timeout);
    expect(w.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'DOLGA')).toHaveLength(posted + 1);
  });

  it('is answered when Slack delivers the event again after posts that surely did not arrive (500 on every try)', async () => {
    const posted = w.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'DOLGA' && c.status === 200).length;
    w.fake.failNext('chat.postMessage', 500, 3);
    try {
      await w.sender.event(hello('1700003900.000100'), 'EvNOTPOSTED');
      await w.logs.waitFor((l) => l.request?.event_id === 'EvNOTPOSTED' && /could not post the answer/.test(l.msg));
    } finally {
      w.fake.clearFailures();
    }
    await w.sender.event(hello('1700003900.000100'), 'EvNOTPOSTED', { retryNum: 1 });
    await vi.waitFor(() => expect(w.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'DOLGA' && c.status === 200)).toHaveLength(posted + 1), WAIT);
  });
});

describe('a Slack account whose email Slack does not give', () => {
  /** Sends "declare ai" as `who` and gives the answer, checking that nothing was written. */
  let logMark = 0;
  async function refusedAnswer(who: string, tool: string): Promise<string> {
    logMark = w.logs.lines.length;
    const before = { audit: await w.auditCount(), tools: (await w.t.db.select().from(aiTools)).length };
    const responseId = `unidentified-${who}`;
    await w.sender.command(w.slashCommand(who, `declare ai ${tool}`, responseId));
    const answer = await w.responseTo(responseId);
    expect(answer.args.response_type).toBe('ephemeral');
    expect(await w.auditCount()).toBe(before.audit);
    expect(await w.t.db.select().from(aiTools)).toHaveLength(before.tools);
    expect((await w.t.db.select().from(people)).filter((p) => p.slackUserId === who)).toEqual([]);
    return blockText(answer.args.blocks);
  }
  /** The one line logged about the request, the core's warning: why, without the account's id or any address. */
  function warningAbout(reason: string) {
    const lines = w.logs.lines.slice(logMark).filter((l) => l.level >= 40);
    expect(lines).toMatchObject([{ level: 40, reason }]);
    expect(JSON.stringify(lines[0])).not.toMatch(/U(NOMAIL|DOWN|REFUSED)|@/);
    return lines[0];
  }

  it('tells someone whose profile Slack shows without an email that Slack did not say who they are, naming the likely missing scope', async () => {
    w.fake.users.set('UNOMAIL', { tz: 'Europe/Berlin' });
    const said = await refusedAnswer('UNOMAIL', 'NoMail');
    expect(said).not.toContain('not in the ISMS register');
    expect(said).toContain('Slack did not say who you are');
    expect(said).toContain('Nothing was recorded');
    expect(said).toMatch(/Try again in a minute; if it keeps happening, tell the ISMS lead \(Lena Lead/);
    expect(said).toContain('users:read.email');
    warningAbout('no_email');
  });

  it.each([
    ['a Slack Connect member (their own workspace\'s team_id)', 'UCONNECT', { team: 'T0OTHERORG' }],
    ['a stranger (is_stranger)', 'USTRANGE2', { team: 'T0OTHERORG', stranger: true }],
  ] as const)('tells %s shown without an email that people from other workspaces cannot use the bot here, not the scope hint', async (_who, id, user) => {
    w.fake.users.set(id, { tz: 'Europe/Paris', ...user });
    const said = await refusedAnswer(id, `Elsewhere${id}`);
    expect(said).toContain("people from other workspaces can't use the ISMS bot here");
    expect(said).toContain('Nothing was recorded');
    expect(said).not.toContain('users:read.email');
    expect(said).not.toContain('Slack did not say who you are');
  });

  it('tells someone whose users.info look-up Slack refused that Slack did not say who they are, not that they are outside the register', async () => {
    w.fake.on('users.info', () => ({ ok: false, error: 'missing_scope', needed: 'users:read', provided: 'commands,chat:write' }));
    try {
      const said = await refusedAnswer('UREFUSED', 'Refused');
      expect(said).not.toContain('not in the ISMS register');
      expect(said).toContain('Slack did not say who you are');
      expect(said).toMatch(/Nothing was recorded.*Try again in a minute/s);
      expect(said).not.toContain('users:read.email');
    } finally {
      w.fake.off('users.info');
    }
    expect(warningAbout('lookup_failed')).toMatchObject({ platform: 'slack', cause: 'missing_scope' });
  });

  it('tells someone whose look-up met Slack down (500 after the retries) the same, not that they are outside the register', async () => {
    w.fake.users.set('UDOWN', { email: 'sam@test.example' });
    w.fake.failNext('users.info', 500);
    try {
      const said = await refusedAnswer('UDOWN', 'Down');
      expect(said).not.toContain('not in the ISMS register');
      expect(said).not.toContain('Something went wrong');
      expect(said).toContain('Slack did not say who you are');
      expect(said).toMatch(/Nothing was recorded.*Try again in a minute/s);
    } finally {
      w.fake.clearFailures();
    }
    warningAbout('lookup_failed');
  });
});

describe('a button on the App Home clicked twice', () => {
  it('answers once as a direct message, whether Slack sends a second click (another trigger) or the same one again (X-Slack-Retry-Num)', async () => {
    const policy = await addPolicy(w.t.db, { title: 'Double click desk' });
    await addPolicyVersion(w.t.db, { policyId: policy.id, version: '1.0', content: 'Click once.' });
    const publishes = w.fake.callsTo('views.publish').length;
    await w.sender.event({ type: 'app_home_opened', user: 'UOLGA', channel: 'DOLGA', tab: 'home', event_ts: '1700004000.000100' }, 'EvHOMETWICE');
    const published = (await w.fake.waitFor('views.publish', publishes + 1)).at(-1)!;
    const homeBlocks = published.args.view.blocks.map((b: any, i: number) => ({ block_id: `home${i}`, ...b }));
    const { blockId, button } = findButton(homeBlocks, 'Acknowledge version 1.0', `ack ${policy.ref} --version 1.0`);
    const viewId = published.response!.view.id;
    // As docs.slack.dev shows a block_actions payload from a view: container type "view", the view as it was.
    const click = (trigger: string) => ({
      type: 'block_actions', api_app_id: 'A0TEST', token: 'legacy', trigger_id: trigger,
      user: { id: 'UOLGA', username: 'uolga', name: 'uolga', team_id: 'T0TEST' }, team: { id: 'T0TEST', domain: 'test' },
      container: { type: 'view', view_id: viewId },
      view: { ...published.args.view, blocks: homeBlocks, id: viewId, hash: published.response!.view.hash, state: { values: {} } },
      actions: [{ type: 'button', action_id: button.action_id, block_id: blockId, text: button.text, value: button.value, action_ts: '1700004001.000001' }],
    });
    const answers = () => w.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'UOLGA' && blockText(c.args.blocks).includes(`you acknowledged ${policy.ref}`));

    await w.sender.interaction(click('trigger-home-1'));
    await vi.waitFor(() => expect(answers()).toHaveLength(1), WAIT);
    await w.sender.interaction(click('trigger-home-2'));
    await w.sender.interaction(click('trigger-home-2'), { retryNum: 1 });
    await w.bot.inFlight.settled(WAIT.timeout);
    expect(answers()).toHaveLength(1);
    expect(await w.t.db.select().from(policyAcknowledgements).where(eq(policyAcknowledgements.personId, w.cast.owner.id))).toHaveLength(1);
  });
});

describe('a phone number in an evidence reply', () => {
  it('is stored as the person typed it, not as a tel: link', async () => {
    // Slack links a typed phone number as <tel:…|as typed>.
    const { item } = await evidenceReplyFromSam('CTL-TEL-01', '1700004100.000100', 'Escalation line tested: <tel:+4930123456|+49 30 123456> answered within 2 min');
    expect(item.text).toBe('Escalation line tested: +49 30 123456 answered within 2 min');
  });
});

describe('people mentioned in an evidence reply', () => {
  it('are stored by name (from the register, else Slack), as @id only when nobody knows them', async () => {
    w.fake.users.set('UCAROL', { email: 'carol@test.example', real_name: 'Carol Contractor' });
    // Slack sends mentions as <@U…>, without the name.
    const { item } = await evidenceReplyFromSam('CTL-MEN-01', '1700004200.000100', 'Checked with <@ULENA> and <@UCAROL>; <@UGONE> was away');
    expect(item.text).toBe('Checked with @Lena Lead and @Carol Contractor; @UGONE was away');
  });
});

/**
 * A block_actions payload from a view, as docs.slack.dev shows it: container type "view", the view
 * as Slack holds it (its id and current hash, every block with a block_id), no response_url.
 */
function clickInView(who: string, view: any, label: string, trigger: string, command?: string) {
  const blocks = view.blocks.map((b: any, i: number) => ({ block_id: `view${i}`, ...b }));
  const { blockId, button } = findButton(blocks, label, command);
  return {
    type: 'block_actions', api_app_id: 'A0TEST', token: 'legacy', trigger_id: trigger, is_enterprise_install: false, enterprise: null,
    user: { id: who, username: who.toLowerCase(), name: who.toLowerCase(), team_id: 'T0TEST' }, team: { id: 'T0TEST', domain: 'test' },
    container: { type: 'view', view_id: view.id },
    view: {
      ...view, blocks, team_id: 'T0TEST', app_id: 'A0TEST', bot_id: 'BBOT', root_view_id: view.id, previous_view_id: null,
      clear_on_close: false, notify_on_close: false, external_id: '', state: { values: {} }, private_metadata: view.private_metadata ?? '',
    },
    actions: [{ type: 'button', action_id: button.action_id, block_id: blockId, text: button.text, value: button.value, action_ts: `${Date.now() / 1000}` }],
  };
}

describe('a read-only button in a modal clicked twice', () => {
  it('answers once as a direct message, whether Slack sends a second click (another trigger) or the same one again (X-Slack-Retry-Num), and again when clicked a minute later', async () => {
    const policy = await addPolicy(w.t.db, { title: 'Long read' });
    await addPolicyVersion(w.t.db, { policyId: policy.id, version: '1.0', content: 'Lock your screen whenever you leave your desk. '.repeat(100) });
    // "Read a policy" in a modal: its first page comes back in the modal, with a "Next page" button.
    const form = await w.formOf('USAM', 'policy text');
    const submitted = await w.sender.interaction(submission('USAM', form, { [fieldBlockId('policy')]: { selected_option: { value: policy.ref } } }));
    const result = { ...submitted.json().view, id: form.id, hash: 'hash-after-submission' };
    expect(blockText(result.blocks)).toContain(`${policy.ref} Long read, version 1.0 (page 1 of 2)`);
    const secondPage = () => w.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'USAM' && blockText(c.args.blocks).includes(`${policy.ref} Long read, version 1.0 (page 2 of 2)`));

    await w.sender.interaction(clickInView('USAM', result, 'Next page', 'trigger-page-1'));
    await vi.waitFor(() => expect(secondPage()).toHaveLength(1), WAIT);
    await w.sender.interaction(clickInView('USAM', result, 'Next page', 'trigger-page-2'));
    await w.sender.interaction(clickInView('USAM', result, 'Next page', 'trigger-page-2'), { retryNum: 1 });
    await w.logs.waitFor((l) => l.request?.kind === 'block_action' && /answered already/.test(l.msg));
    await w.bot.inFlight.settled(WAIT.timeout);
    expect(secondPage()).toHaveLength(1);
    expect(await w.t.db.select().from(policyAcknowledgements).where(eq(policyAcknowledgements.personId, w.cast.staff.id))).toHaveLength(0);

    // A minute later the same button is a question asked again, not a double click: it is answered again.
    await w.t.db.execute(sql`update processed_events set at = at - interval '1 minute' where key like 'slack:action:%'`);
    await w.sender.interaction(clickInView('USAM', result, 'Next page', 'trigger-page-3'));
    await vi.waitFor(() => expect(secondPage()).toHaveLength(2), WAIT);
  });
});

describe('a modal whose answer may have reached it though views.update failed', () => {
  /** Sam's evidence form for a new request, opened from the request's "Submit evidence" button. */
  async function evidenceForm(control: string, trigger: string) {
    const { request } = await evidenceRequestForSam(control);
    await w.sender.interaction(w.clickPayload('USAM', request, 'Submit evidence', `form-${control}`, trigger));
    const opened = await w.openedWith(trigger);
    return { ...opened.args.view, id: opened.response!.view.id, hash: opened.response!.view.hash };
  }

  it.each([
    ['Slack answered 504 (a gateway timeout) on every try', 'CTL-MU-01', () => w.fake.failNext('views.update', 504)],
    ['the connection was lost mid-request on every try', 'CTL-MU-02', () => w.fake.takeThenDropConnection('views.update', 3)],
  ] as const)('tells the person a recorded submission was recorded, not the answer twice nor that nothing was: %s', async (_why, control, fail) => {
    const form = await evidenceForm(control, `trigger-${control}`);
    const name = `restore-${control}.pdf`;
    w.fake.addFile(`F0${control}`, name, Buffer.from('%PDF-1.7 restore test'), 'application/pdf');
    const toSam = () => w.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'USAM' && !c.args.thread_ts && c.status === 200 && !/asks you for evidence/.test(c.args.text));
    const before = toSam().length;
    fail();
    try {
      const response = await w.sender.interaction(submission('USAM', form, { [fieldBlockId('file')]: { files: [{ id: `F0${control}`, name }] } }));
      expect(blockText(response.json().view.blocks)).toContain('Recording');
      await vi.waitFor(() => expect(toSam().length).toBeGreaterThan(before), WAIT);
    } finally {
      w.fake.clearFailures();
    }
    await w.bot.inFlight.settled(WAIT.timeout);
    const told = toSam().slice(before);
    expect(told).toHaveLength(1);
    const said = blockText(told[0].args.blocks);
    expect(said).toContain('Your request was recorded, but its answer may not have reached you');
    expect(said).not.toContain('nothing was recorded');
    expect(await w.t.db.select().from(evidenceItems).where(eq(evidenceItems.fileName, name))).toHaveLength(1);
  });

  it.each([
    ['Slack answered 504 (a gateway timeout) on every try', 'form-maybe-504', () => w.fake.failNext('views.update', 504)],
    ['the connection was lost after Slack took it, and Slack refused the retry (hash_conflict)', 'form-maybe-dropped', () => w.fake.takeThenDropConnection('views.update')],
  ] as const)('follows a form that may have reached its "Preparing…" modal with nothing, neither "something went wrong" nor "recorded": %s', async (_why, id, fail) => {
    const trigger = `trigger-${id}`;
    const before = await w.auditCount();
    fail();
    try {
      await w.sender.command(w.slashCommand('USAM', 'declare ai', id, trigger));
      await w.logs.waitFor((l) => l.request?.kind === 'slash_command' && /^Slack request failed/.test(l.msg));
    } finally {
      w.fake.clearFailures();
    }
    await w.bot.inFlight.settled(WAIT.timeout);
    const opened = await w.openedWith(trigger);
    expect(opened.args.view.callback_id).toBe(LOADING_VIEW);
    expect(w.fake.callsTo('views.update').find((c) => c.args.view_id === opened.response!.view.id)!.args.view.callback_id).toBe(FORM_VIEW);
    expect(w.fake.callsTo('response_url').filter((c) => c.args.id === id)).toEqual([]);
    expect(await w.auditCount()).toBe(before);
  });
});

describe('a button on the App Home whose answer was sent, but the home could not be refreshed', () => {
  it.each([
    ['Slack answered 504 (a gateway timeout) on every try', 'Screen lock', () => w.fake.failNext('views.publish', 504)],
    ['Slack refused it (an error of its own)', 'Visitor badges', () => w.fake.on('views.publish', () => ({ ok: false, error: 'internal_error' }))],
  ] as const)('says nothing more than the answer: %s', async (_why, title, fail) => {
    const policy = await addPolicy(w.t.db, { title });
    await addPolicyVersion(w.t.db, { policyId: policy.id, version: '1.0', content: 'Read me.' });
    await w.sender.event({ type: 'app_home_opened', user: 'ULENA', channel: 'DLENA', tab: 'home', event_ts: `${Date.now() / 1000}` }, `EvHOME${policy.ref}`);
    const published = await w.fake.waitForCall('views.publish', (c) => c.args.user_id === 'ULENA' && blockText(c.args.view.blocks).includes(title));
    const home = { ...published.args.view, id: published.response!.view.id, hash: published.response!.view.hash };
    const after = (c: { method: string }) => w.fake.calls.indexOf(c as never) > w.fake.calls.indexOf(published);
    const toLena = () => w.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'ULENA' && after(c));
    fail();
    try {
      await w.sender.interaction(clickInView('ULENA', home, 'Acknowledge version 1.0', `trigger-${policy.ref}`, `ack ${policy.ref} --version 1.0`));
      await w.fake.waitForCall('views.publish', (c) => c.args.user_id === 'ULENA' && after(c));
      await w.bot.inFlight.settled(WAIT.timeout);
    } finally {
      w.fake.clearFailures();
      w.fake.off('views.publish');
    }
    expect(toLena().map((c) => blockText(c.args.blocks))).toEqual([expect.stringContaining(`you acknowledged ${policy.ref} ${title}`)]);
  });
});

describe('a form whose modal may have opened though Slack\'s answer was lost', () => {
  it.each([
    ['Slack answered 504 (a gateway timeout)', 'CTL-MO-01', () => w.fake.failNext('views.open', 504, 1)],
    ['the connection was lost mid-request', 'CTL-MO-02', () => w.fake.takeThenDropConnection('views.open')],
  ] as const)('is neither opened again (its trigger is single-use) nor sent as a message too: %s', async (_why, control, fail) => {
    const { request } = await evidenceRequestForSam(control);
    const trigger = `trigger-${control}`;
    fail();
    try {
      await w.sender.interaction(w.clickPayload('USAM', request, 'Submit evidence', `open-${control}`, trigger));
      await w.logs.waitFor((l) => l.slackMethod === 'views.open' && l.request?.kind === 'block_action' && l.level === 50);
    } finally {
      w.fake.clearFailures();
    }
    await w.bot.inFlight.settled(WAIT.timeout);
    expect(w.fake.callsTo('views.open').filter((c) => c.args.trigger_id === trigger)).toHaveLength(1);
    expect(w.fake.callsTo('response_url').filter((c) => c.args.id === `open-${control}`)).toEqual([]);
  });
});
