import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { and, desc, eq } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { auditEvents, controls, evidenceItems, evidenceRequests } from '../src/db/schema/index.js';
import { findForm, toPlainText, type Reply } from '../src/core/reply.js';
import { verifyRegister } from '../src/core/verify.js';
import { defaultNudgeSettings, remindEvidence } from '../src/scheduler/index.js';
import { createTestBot, type CastKey, type TestBot } from './helpers/bot.js';
import { addControl, auditSeededRows } from './helpers/fixtures.js';

const NOW = new Date('2026-06-15T09:00:00Z');
const at = { now: NOW };

const buttons = (r: Reply) => r.blocks.flatMap((b) => (b.type === 'list' ? b.items.flatMap((i) => i.buttons ?? []) : b.type === 'actions' ? b.buttons : []));
const requestByRef = async (bot: TestBot, ref: string) =>
  (await bot.t.db.select().from(evidenceRequests).where(eq(evidenceRequests.ref, ref)))[0];
const lastEvent = async (bot: TestBot, ref: string) =>
  (await bot.t.db.select().from(auditEvents).where(eq(auditEvents.entityRef, ref)).orderBy(desc(auditEvents.seq)).limit(1))[0];
const reviewMessages = async (bot: TestBot, who: CastKey) =>
  (await bot.outboxFor(who)).filter((m) => m.idempotencyKey.startsWith('evidence_accepted') || m.idempotencyKey.startsWith('evidence_returned'));

/** A control owned by Olga, asked for by the lead, and (unless `submit` is false) answered by `by`. */
async function submitted(bot: TestBot, code: string, opts: { by?: CastKey; submit?: boolean } = {}) {
  await bot.say('lead', `/isms request ${code}`, at);
  const control = (await bot.t.db.select().from(controls).where(eq(controls.code, code)))[0];
  const request = (await bot.t.db.select().from(evidenceRequests).where(eq(evidenceRequests.controlId, control.id)))[0];
  if (opts.submit === false) return { request, item: undefined };
  await bot.say(opts.by ?? 'owner', `/isms evidence submit ${request.ref} "${code} reviewed, no findings"`, at);
  const [item] = await bot.t.db.select().from(evidenceItems).where(eq(evidenceItems.requestId, request.id)).orderBy(desc(evidenceItems.revision));
  return { request, item };
}

describe('evidence review: accept and return', () => {
  let bot: TestBot;
  beforeEach(async () => {
    bot = await createTestBot();
    for (const code of ['CTL-AC-01', 'CTL-AC-02']) await addControl(bot.t.db, { code, title: `Access ${code.slice(-2)}`, ownerId: bot.ids.owner });
    await auditSeededRows(bot.t.db);
  });
  afterEach(async () => { await bot.destroy(); });

  it('the lead accepts a submission: the request is closed, the audit names the revision and its SHA-256, the owner is told', async () => {
    const { request, item } = await submitted(bot, 'CTL-AC-01');
    const answer = await bot.sayText('lead', `/isms evidence accept ${request.ref} "complete"`, at);

    expect(answer).toContain(`Accepted ${item!.ref} (revision 1) for ${request.ref}, CTL-AC-01 Access 01. The request is closed.`);
    expect((await requestByRef(bot, request.ref)).status).toBe('accepted');
    const sha = createHash('sha256').update('CTL-AC-01 reviewed, no findings', 'utf8').digest('hex');
    const event = await lastEvent(bot, request.ref);
    expect(event).toMatchObject({ action: 'accept', actorId: bot.ids.lead, before: { status: 'submitted' } });
    expect(event.after).toMatchObject({ status: 'accepted', acceptedEvidence: item!.ref, acceptedRevision: 1, acceptedSha256: sha, reviewNote: 'complete' });
    expect(new Date(event.at).toISOString()).toBe(NOW.toISOString());

    const [message] = await reviewMessages(bot, 'owner');
    expect(toPlainText(message.reply as Reply)).toContain(`Lena Lead accepted your evidence ${item!.ref} (revision 1) for ${request.ref}`);

    // Closed: no more revisions, no second verdict.
    expect(await bot.sayText('owner', `/isms evidence submit ${request.ref} "more"`, at)).toContain(`${request.ref} was accepted, so it takes no more evidence.`);
    expect(await bot.sayText('lead', `/isms evidence return ${request.ref} "too late"`, at)).toContain(`${request.ref} was already accepted.`);
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
  });

  it('a return with a reason reopens the request; the owner gets the reason and a Submit evidence button, and resubmits', async () => {
    const { request, item } = await submitted(bot, 'CTL-AC-01');
    const answer = await bot.sayText('lead', `/isms evidence return ${item!.ref} the export does not show the review date`, at);

    expect(answer).toContain(`Sent ${item!.ref} (revision 1) back to Olga Owner; ${request.ref} is open again, due ${request.dueOn}.`);
    expect((await requestByRef(bot, request.ref)).status).toBe('open');
    const event = await lastEvent(bot, request.ref);
    expect(event).toMatchObject({ action: 'return', before: { status: 'submitted' } });
    expect(event.after).toMatchObject({ status: 'open', returnedEvidence: item!.ref, returnReason: 'the export does not show the review date' });

    const [message] = await reviewMessages(bot, 'owner');
    expect(message.kind).toBe('evidence_request');
    expect(toPlainText(message.reply as Reply)).toContain('"the export does not show the review date"');
    expect(buttons(message.reply as Reply)).toEqual([expect.objectContaining({ label: 'Submit evidence', command: `evidence submit ${request.ref}` })]);

    // Open again: the owner's list shows it, and nothing waits for review until the owner answers.
    expect(await bot.sayText('owner', '/isms evidence', at)).toContain(request.ref);
    expect(await bot.sayText('lead', `/isms evidence accept ${request.ref}`, at)).toContain('was sent back and has no new submission to review yet');
    expect(await bot.sayText('owner', `/isms evidence submit ${request.ref} "export with dates attached"`, at)).toContain('(revision 2)');
    expect((await requestByRef(bot, request.ref)).status).toBe('submitted');
    expect(await bot.sayText('lead', `/isms evidence accept ${request.ref}`, at)).toContain('(revision 2)');
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
  });

  it('a returned request is reminded again like any open one', async () => {
    const { request, item } = await submitted(bot, 'CTL-AC-01');
    await bot.say('lead', `/isms evidence return ${item!.ref} "unsigned"`, at);
    // A week before it is due, the first reminder of the ladder goes to the owner.
    await remindEvidence(bot.t.db, DateTime.fromISO('2026-06-22T06:00', { zone: 'Europe/Berlin' }).toJSDate(), defaultNudgeSettings({ timezone: 'Europe/Berlin' }));
    expect((await requestByRef(bot, request.ref)).escalationLevel).toBe(1);
    const texts = (await bot.outboxFor('owner')).map((m) => toPlainText(m.reply as Reply));
    expect(texts.some((t) => t.includes(`${request.ref} evidence that CTL-AC-01 Access 01 works`))).toBe(true);
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
  });

  it('a return without a reason asks for it, and a form sent without one is refused naming the field; nothing is written', async () => {
    const { request, item } = await submitted(bot, 'CTL-AC-01');
    const before = await bot.auditCount();

    const button = await bot.say('lead', `evidence return ${item!.ref}`, at);
    expect(toPlainText(button)).toContain('Sending evidence back needs a reason');
    const form = findForm(button)!;
    expect(form.hidden).toMatchObject({ target: item!.ref, via: 'form' });
    expect(form.fields.map((f) => [f.name, f.required])).toEqual([['reason', true]]);

    const empty = await bot.router.submit(form.command, { ...form.hidden, reason: '' }, { actor: await bot.actor('lead'), channel: 'test', now: NOW });
    expect(empty.outcome).toBe('refused');
    expect(empty.fieldErrors?.reason).toContain('Say why the evidence is sent back');

    expect((await requestByRef(bot, request.ref)).status).toBe('submitted');
    expect(await bot.auditCount()).toBe(before);
    expect(await reviewMessages(bot, 'owner')).toHaveLength(0);
  });

  it('nobody accepts their own submission, nor evidence for a control they own; nothing is written', async () => {
    const { request } = await submitted(bot, 'CTL-AC-01', { by: 'lead' });
    await bot.say('lead', '/isms evidence reviewer CTL-AC-02 ada@test.example', at);
    const before = await bot.auditCount();

    const own = await bot.sayText('lead', `/isms evidence accept ${request.ref}`, at);
    expect(own).toContain('You submitted');
    expect(own).toContain('Nothing was recorded');
    expect(await bot.sayText('owner', `/isms evidence accept ${request.ref}`, at)).toContain('Only the ISMS lead may accept evidence for CTL-AC-01');

    const naming = await bot.sayText('lead', '/isms evidence reviewer CTL-AC-01 olga@test.example', at);
    expect(naming).toContain('Olga Owner owns CTL-AC-01, so they cannot review its evidence.');

    expect((await requestByRef(bot, request.ref)).status).toBe('submitted');
    expect(await bot.auditCount()).toBe(before);
    expect(await reviewMessages(bot, 'owner')).toHaveLength(0);
  });

  it('a reviewer the lead names may accept for their control but not another; staff are refused', async () => {
    const first = await submitted(bot, 'CTL-AC-01');
    const second = await submitted(bot, 'CTL-AC-02');
    expect(await bot.sayText('lead', '/isms evidence reviewer CTL-AC-01 @Ada', at)).toContain('Ada Auditor now reviews the evidence of CTL-AC-01');
    expect((await bot.outboxFor('auditor')).map((m) => m.kind)).toContain('evidence_review');

    const list = await bot.say('auditor', '/isms evidence review', at);
    expect(toPlainText(list)).toContain(first.request.ref);
    expect(toPlainText(list)).not.toContain(second.request.ref);

    const before = await bot.auditCount();
    expect(await bot.sayText('auditor', `/isms evidence accept ${second.item!.ref}`, at)).toContain('Only the ISMS lead may accept evidence for CTL-AC-02');
    expect(await bot.sayText('staff', `/isms evidence accept ${first.request.ref}`, at)).toContain('Only the ISMS lead or Ada Auditor, the evidence reviewer of CTL-AC-01, may accept');
    expect(await bot.sayText('staff', `/isms evidence return ${first.request.ref} "no"`, at)).toContain('Nothing was recorded');
    expect(await bot.auditCount()).toBe(before);

    expect(await bot.sayText('auditor', `/isms evidence accept ${first.item!.ref}`, at)).toContain('The request is closed.');
    expect((await requestByRef(bot, first.request.ref)).status).toBe('accepted');
    expect((await requestByRef(bot, second.request.ref)).status).toBe('submitted');
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
  });

  it('a repeated delivery (same idempotency key) is recorded once', async () => {
    const { request } = await submitted(bot, 'CTL-AC-01');
    const first = await bot.say('lead', `/isms evidence accept ${request.ref}`, { ...at, idempotencyKey: 'click-accept-1' });
    const count = await bot.auditCount();
    const again = await bot.say('lead', `/isms evidence accept ${request.ref}`, { ...at, idempotencyKey: 'click-accept-1' });
    expect(again).toEqual(first);
    expect(await bot.auditCount()).toBe(count);
    expect(await reviewMessages(bot, 'owner')).toHaveLength(1);
  });

  it('accepting a request without a submission, or evidence without a request, is refused clearly', async () => {
    const { request } = await submitted(bot, 'CTL-AC-01', { submit: false });
    await bot.say('owner', '/isms evidence submit CTL-AC-02 "ad hoc note"', at);
    const [loose] = await bot.t.db.select().from(evidenceItems).where(and(eq(evidenceItems.text, 'ad hoc note')));
    const before = await bot.auditCount();

    const none = await bot.sayText('lead', `/isms evidence accept ${request.ref}`, at);
    expect(none).toContain(`${request.ref} has no submission to review yet: it waits for evidence from Olga Owner, due ${request.dueOn}. Nothing was recorded.`);
    expect(await bot.sayText('lead', `/isms evidence accept ${loose.ref}`, at))
      .toContain(`${loose.ref} was recorded for its control without an evidence request, so there is no request to accept or send back.`);
    expect(await bot.sayText('lead', '/isms evidence accept CTL-AC-01', at)).toContain('is neither an evidence request nor evidence');
    expect(await bot.sayText('lead', '/isms evidence accept EV-0999', at)).toContain('EV-0999 does not exist.');
    expect((await requestByRef(bot, request.ref)).status).toBe('open');
    expect(await bot.auditCount()).toBe(before);
  });
});

describe('/isms evidence review', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  it('lists submitted requests a page at a time with Accept and Return buttons naming the revision', async () => {
    for (let i = 1; i <= 11; i++) await addControl(bot.t.db, { code: `CTL-RV-${String(i).padStart(2, '0')}`, ownerId: bot.ids.owner });
    const first = await submitted(bot, 'CTL-RV-01');
    for (let i = 2; i <= 11; i++) await submitted(bot, `CTL-RV-${String(i).padStart(2, '0')}`);

    const page1 = await bot.say('lead', '/isms evidence review', at);
    expect(toPlainText(page1)).toContain('11 evidence submissions waiting for review.');
    expect(buttons(page1)).toContainEqual(expect.objectContaining({ label: 'Accept', command: `evidence accept ${first.item!.ref}` }));
    expect(buttons(page1)).toContainEqual(expect.objectContaining({ label: 'Return', command: `evidence return ${first.item!.ref}` }));
    const list = page1.blocks.find((b) => b.type === 'list');
    expect(list?.type === 'list' && list.page).toMatchObject({ number: 1, total: 2, next: 'evidence review --page 2' });
    expect(toPlainText(await bot.say('lead', '/isms evidence review --page 2', at))).toContain('CTL-RV-');

    expect(await bot.sayText('staff', '/isms evidence review', at)).toContain('No evidence is waiting for your review.');
  });
});
