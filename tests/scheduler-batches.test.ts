import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { DateTime } from 'luxon';
import { createTestBot, FakeChatPort, type TestBot } from './helpers/bot.js';
import { auditEvents, controls, evidenceRequests, nudgeLog, outbox, people, poamItems, poamMilestones, schedulerNudges, schedulerRuns } from '../src/db/schema/index.js';
import { deliverDue } from '../src/core/delivery.js';
import { verifyAuditChain } from '../src/core/audit.js';
import { toPlainText, type Reply } from '../src/core/reply.js';
import { JOBS, RUN_BATCH, dailyNudges, defaultNudgeSettings, runScheduledJob } from '../src/scheduler/index.js';
import { SEND_BATCH } from '../src/scheduler/batch.js';
import { importYaml } from '../src/import/import.js';
import { loadExampleOrganisation } from '../src/import/example.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

const settings = defaultNudgeSettings({ timezone: 'Europe/Berlin' });
/** 06:00 in Berlin on that day: when the daily run fires by default. */
const morning = (isoDay: string, time = '06:00') => DateTime.fromISO(`${isoDay}T${time}`, { zone: 'Europe/Berlin' }).toJSDate();

/** The database refuses that person's messages (anyone's without one), as a crash or a lost connection would stop the run there. */
async function stopTheSendAt(db: TestBot['t']['db'], recipientId?: number): Promise<void> {
  await db.execute(sql.raw(`
    create or replace function stop_the_send() returns trigger as $$
    begin raise exception 'the run stopped here'; end; $$ language plpgsql`));
  await db.execute(sql.raw(`
    create trigger stop_the_send before insert on outbox
    for each row ${recipientId === undefined ? '' : `when (new.recipient_id = ${recipientId})`} execute function stop_the_send()`));
}

/** A bot per test; the trigger of stopTheSendAt goes before it does. */
function botWithStoppableSend(): () => TestBot {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => {
    await bot.t.db.execute(sql`drop trigger if exists stop_the_send on outbox`);
    await bot.destroy();
  });
  return () => bot;
}

/** Owners to remind: more than one transaction sends. */
const OWNERS = SEND_BATCH + 40;

/** How many messages are queued for each of these people. */
async function messageCounts(db: TestBot['t']['db'], ids: number[]): Promise<number[]> {
  const counts = new Map<number, number>();
  for (const m of await db.select().from(outbox)) counts.set(m.recipientId, (counts.get(m.recipientId) ?? 0) + 1);
  return ids.map((id) => counts.get(id) ?? 0);
}

const STEPS = ['Inventory of unpatched hosts', 'Test patches', 'Roll out', 'Verify'];
/** The organisation file, as an ISMS lead keeps it: one POA&M item with a milestone due on each date given. */
const poamFile = (...milestonesDue: string[]) => `
poam:
  - ref: POAM-0001
    weakness: Patch backlog
    source: risk
    owner: olga@test.example
    due_on: 2028-01-31
    milestones:
${milestonesDue.map((due, i) => `      - { description: ${STEPS[i]}, due_on: ${due} }`).join('\n')}
`;

describe('overdue milestone reminders', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  const texts = async () => (await bot.outboxFor('owner')).sort((a, b) => a.id - b.id).map((m) => toPlainText(m.reply as Reply));
  /** Runs the daily job each morning from `from` to `to`, twice each day (a re-run), and names the days a reminder was queued. */
  const daysReminded = async (from: string, to: string) => {
    const days: string[] = [];
    for (let day = from; day <= to; day = DateTime.fromISO(day).plus({ days: 1 }).toISODate()!) {
      const before = (await texts()).length;
      await dailyNudges(bot.t.db, morning(day), settings);
      await dailyNudges(bot.t.db, morning(day, '07:00'), settings);
      const after = (await texts()).length;
      if (after > before) days.push(after === before + 1 ? day : `${day} (${after - before} messages)`);
    }
    return days;
  };

  it('reminds weekly from the day after the due date, not daily, and a re-run of the same day sends nothing twice', async () => {
    await importYaml(bot.t.db, poamFile('2027-10-01'), 'org.yaml');
    expect(await daysReminded('2027-09-28', '2027-10-17')).toEqual(['2027-10-02', '2027-10-09', '2027-10-16']);
    const sent = await texts();
    expect(sent[0]).toContain('POAM-0001 milestone 1: Inventory of unpatched hosts — overdue by 1 day (was due 2027-10-01)');
    expect(sent[0]).toContain('[Milestone 1 done] /isms poam done POAM-0001 1');
    expect(sent[1]).toContain('overdue by 8 days');
  });

  it('takes the next reminder of a milestone whose due date moved from the new date', async () => {
    await importYaml(bot.t.db, poamFile('2027-10-01'), 'org.yaml');
    expect(await daysReminded('2027-10-02', '2027-10-02')).toEqual(['2027-10-02']);
    // The lead moves the milestone to 2027-10-20: the weekly reminder of the old date does not come.
    await importYaml(bot.t.db, poamFile('2027-10-20'), 'org.yaml');
    expect(await daysReminded('2027-10-03', '2027-10-28')).toEqual(['2027-10-21', '2027-10-28']);
    expect((await texts())[1]).toContain('overdue by 1 day (was due 2027-10-20)');
  });

  it('holds the reminder while the owner is on leave, sends it once they are back, and the next a week later', async () => {
    await importYaml(bot.t.db, poamFile('2027-10-01'), 'org.yaml');
    await bot.t.db.update(people).set({ pausedUntil: morning('2027-10-05', '00:00') }).where(eq(people.id, bot.ids.owner));
    expect(await daysReminded('2027-10-02', '2027-10-12')).toEqual(['2027-10-05', '2027-10-12']);
    expect((await texts())[0]).toContain('overdue by 4 days');
  });

  it('reminds each milestone once a week after a catch-up day that reminded every overdue one at once', async () => {
    // An organisation file imported on 2027-10-03 with four milestones overdue by 2 to 13 days.
    await importYaml(bot.t.db, poamFile('2027-09-20', '2027-09-25', '2027-09-28', '2027-10-01'), 'org.yaml');
    // Which milestones each day's message named.
    const remindedOn = new Map<number, string[]>([[1, []], [2, []], [3, []], [4, []]]);
    for (let day = '2027-10-03'; day <= '2027-10-24'; day = DateTime.fromISO(day).plus({ days: 1 }).toISODate()!) {
      const before = (await texts()).length;
      await dailyNudges(bot.t.db, morning(day), settings);
      for (const text of (await texts()).slice(before)) {
        for (const [seq, days] of remindedOn) if (text.includes(`POAM-0001 milestone ${seq}:`)) days.push(day);
      }
    }
    // The catch-up day names all four; from then on each comes a week after the last, never sooner.
    for (const seq of [1, 2, 3, 4]) expect(remindedOn.get(seq), `milestone ${seq}`).toEqual(['2027-10-03', '2027-10-10', '2027-10-17', '2027-10-24']);
  });
});

describe('a run that stops between batches', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => {
    await bot.t.db.execute(sql`drop trigger if exists stop_the_run on poam_items`);
    await bot.destroy();
  });

  /** More due POA&M items than one batch holds, spread over three owners. */
  const ITEMS = RUN_BATCH + 40;
  const owners = () => [bot.ids.owner, bot.ids.staff, bot.ids.auditor];

  beforeEach(async () => {
    await bot.t.db.insert(poamItems).values(Array.from({ length: ITEMS }, (_, i) => ({
      ref: `POAM-${String(i + 1).padStart(4, '0')}`, weakness: `Weakness ${i + 1}`, source: 'risk' as const,
      ownerId: owners()[i % 3], dueOn: '2027-05-10',
    })));
    // The database fails the second batch's escalations, as a crash or a lost connection would stop the run there.
    await bot.t.db.execute(sql.raw(`
      create or replace function stop_the_run() returns trigger as $$
      begin raise exception 'the run stopped here'; end; $$ language plpgsql`));
    await bot.t.db.execute(sql.raw(`
      create trigger stop_the_run before update of escalation_level on poam_items
      for each row when (new.ref = 'POAM-${String(ITEMS).padStart(4, '0')}') execute function stop_the_run()`));
  });

  it('keeps the first batch, and a re-run sends every owner one message with each item exactly once', async () => {
    const db = bot.t.db;
    const fire = morning('2027-05-03');
    const [daily] = JOBS;
    await expect(runScheduledJob(db, daily, fire, settings)).rejects.toThrow();
    // The first transaction committed: Olga's and Sam's items climbed with their messages queued; Ada's neither.
    expect((await db.select().from(poamItems).where(eq(poamItems.escalationLevel, 1))).length).toBe((ITEMS / 3) * 2);
    expect((await db.select().from(outbox)).map((m) => m.recipientId).sort()).toEqual([bot.ids.owner, bot.ids.staff].sort());
    // A failed fire gives its claim back: the same fire runs again, and finishes.
    await db.execute(sql`drop trigger stop_the_run on poam_items`);
    const again = await runScheduledJob(db, daily, fire, settings);
    expect(again).toMatchObject({ ran: true, summary: { nudges: ITEMS / 3, messages: 1 } });
    expect(await db.select().from(schedulerRuns)).toHaveLength(1);
    expect((await db.select().from(poamItems).where(eq(poamItems.escalationLevel, 1))).length).toBe(ITEMS);

    const keys = (await db.select().from(nudgeLog)).map((n) => n.itemRef).sort();
    expect(keys).toHaveLength(ITEMS);
    expect(new Set(keys).size).toBe(ITEMS);
    const port = new FakeChatPort();
    await deliverDue(db, [port], morning('2027-05-03', '10:00'));
    for (const email of ['olga@test.example', 'sam@test.example', 'ada@test.example']) {
      const received = port.textsFor(email);
      expect(received).toHaveLength(1);
      expect(received[0]).toContain(`${ITEMS / 3} things need your attention`);
    }
    // Run again that day, and the next: nothing is sent twice.
    await dailyNudges(db, morning('2027-05-03', '07:00'), settings);
    await dailyNudges(db, morning('2027-05-04'), settings);
    expect(await db.select().from(outbox)).toHaveLength(3);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
  });
});

describe('a run with more people to remind than one transaction sends', () => {
  let bot: TestBot;
  const fresh = botWithStoppableSend();
  beforeEach(() => { bot = fresh(); });

  // OWNERS people, each owning one POA&M item due a reminder and one overdue milestone.
  const ref = (i: number) => `POAM-${String(i + 1).padStart(4, '0')}`;
  let owners: { id: number; email: string }[];

  beforeEach(async () => {
    const db = bot.t.db;
    owners = await db.insert(people).values(Array.from({ length: OWNERS }, (_, i) => ({
      name: `Owner ${i + 1}`, email: `owner${i + 1}@test.example`, roles: ['control_owner' as const, 'staff' as const], timezone: 'Europe/Berlin',
    }))).returning({ id: people.id, email: people.email });
    const items = await db.insert(poamItems).values(owners.map((owner, i) => ({
      ref: ref(i), weakness: `Weakness ${i + 1}`, source: 'risk' as const, ownerId: owner.id, dueOn: '2027-05-10',
    }))).returning({ id: poamItems.id });
    await db.insert(poamMilestones).values(items.map((item, i) => ({ itemId: item.id, seq: 1, description: `Step of ${ref(i)}`, dueOn: '2027-04-30' })));
    // The last owner's message is refused: the run stops in its second batch.
    await stopTheSendAt(db, owners.at(-1)!.id);
  });

  const messagesTo = () => messageCounts(bot.t.db, owners.map((o) => o.id));

  it('keeps the batches sent, sends the rest on the re-run, each person one message, nothing twice, nothing since done', async () => {
    const db = bot.t.db;
    const fire = morning('2027-05-03');
    const [daily] = JOBS;
    await expect(runScheduledJob(db, daily, fire, settings)).rejects.toThrow();
    // The first batch of people have their one message; the rest none yet.
    expect(await messagesTo()).toEqual(owners.map((_, i) => (i < SEND_BATCH ? 1 : 0)));

    // Meanwhile the ISMS lead marks the last item's milestone done: the re-run does not remind its owner of it.
    expect(await bot.sayText('lead', `/isms poam done ${ref(OWNERS - 1)} 1`)).toContain(`Marked milestone 1 of ${ref(OWNERS - 1)} done`);
    await db.execute(sql`drop trigger stop_the_send on outbox`);
    const again = await runScheduledJob(db, daily, fire, settings);
    expect(again).toMatchObject({ ran: true, summary: { messages: OWNERS - SEND_BATCH } });
    expect(await messagesTo()).toEqual(owners.map(() => 1));

    const queued = new Map((await db.select().from(outbox)).map((m) => [m.recipientId, toPlainText(m.reply as Reply)]));
    for (const [i, owner] of owners.entries()) {
      const text = queued.get(owner.id);
      expect(text).toContain(`${ref(i)} Weakness ${i + 1}`);
      if (i < OWNERS - 1) expect(text).toContain(`${ref(i)} milestone 1: Step of ${ref(i)} — overdue by 3 days`);
      else expect(text).not.toContain('milestone');
    }
    const logged = (await db.select().from(nudgeLog)).map((n) => n.key);
    expect(logged).toHaveLength(2 * OWNERS - 1);
    expect(new Set(logged).size).toBe(logged.length);

    // Run again that day, and the next: nothing is sent twice.
    await dailyNudges(db, morning('2027-05-03', '07:00'), settings);
    await dailyNudges(db, morning('2027-05-04'), settings);
    expect(await messagesTo()).toEqual(owners.map(() => 1));
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
  });
});

describe('a heavy day of new evidence requests for more people than one transaction sends', () => {
  let bot: TestBot;
  const fresh = botWithStoppableSend();
  beforeEach(() => { bot = fresh(); });

  // OWNERS people, each owning a monthly control; every tenth a second one: their two requests come in one message.
  let owners: number[];
  const twice = (i: number) => i % 10 === 0;

  beforeEach(async () => {
    const db = bot.t.db;
    owners = (await db.insert(people).values(Array.from({ length: OWNERS }, (_, i) => ({
      name: `Owner ${i + 1}`, email: `owner${i + 1}@test.example`, roles: ['control_owner' as const, 'staff' as const], timezone: 'Europe/Berlin',
    }))).returning({ id: people.id })).map((p) => p.id);
    await db.insert(controls).values(owners.flatMap((id, i) => (twice(i) ? [1, 2] : [1]).map((n) => ({
      code: `CTL-${i + 1}-${n}`, title: `Control ${i + 1}.${n}`, ownerId: id, evidenceFrequency: 'monthly' as const,
    }))));
  });

  it('keeps the people sent, sends the rest on the re-run, each person one message that day naming each of their requests once', async () => {
    const db = bot.t.db;
    // The first run after the controls came in, four days before May's evidence is due: every control's
    // request is created and its owner told; their first reminder, a week ahead, is due too, but not that day.
    const fire = morning('2027-05-27');
    const [daily] = JOBS;
    await stopTheSendAt(db, owners.at(-1)!);
    await expect(runScheduledJob(db, daily, fire, settings)).rejects.toThrow();
    const sent = await messageCounts(db, owners);
    expect(sent.filter((n) => n === 1).length).toBeGreaterThan(0);
    expect(sent.at(-1)).toBe(0);
    await db.execute(sql`drop trigger stop_the_send on outbox`);
    expect(await runScheduledJob(db, daily, fire, settings)).toMatchObject({ ran: true });
    await dailyNudges(db, morning('2027-05-27', '07:00'), settings);

    expect(await messageCounts(db, owners)).toEqual(owners.map(() => 1));
    const queued = new Map((await db.select().from(outbox)).map((m) => [m.recipientId, toPlainText(m.reply as Reply)]));
    for (const [i, owner] of owners.entries()) {
      const text = queued.get(owner)!;
      for (const n of twice(i) ? [1, 2] : [1]) expect(text).toContain(`New evidence request: show that CTL-${i + 1}-${n} Control ${i + 1}.${n} works for 2027-05`);
      if (twice(i)) expect(text).toContain('2 things need your attention');
    }
    const logged = (await db.select().from(nudgeLog)).map((n) => n.key);
    expect(new Set(logged).size).toBe(logged.length);
    expect(await db.select().from(schedulerNudges)).toEqual([]);

    // The next day each owner has the ladder's first reminder, once.
    await dailyNudges(db, morning('2027-05-28'), settings);
    await dailyNudges(db, morning('2027-05-28', '07:00'), settings);
    expect(await messageCounts(db, owners)).toEqual(owners.map(() => 2));
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
  });
});

describe('ladders of a run stopped between its transactions', () => {
  let bot: TestBot;
  const fresh = botWithStoppableSend();
  beforeEach(() => { bot = fresh(); });

  // OWNERS people, each due one ladder step: of an evidence request (even) or a POA&M item (odd).
  const evr = (i: number) => `EVR-${String(i + 1).padStart(4, '0')}`;
  const poam = (i: number) => `POAM-${String(i + 1).padStart(4, '0')}`;
  const refOf = (i: number) => (i % 2 === 0 ? evr(i) : poam(i));
  /** Overdue a week, owned by someone without a manager: its step 2 tells every ISMS lead. */
  const ESCALATED = 'POAM-9001';
  let owners: number[];
  let secondLead: number;

  beforeEach(async () => {
    const db = bot.t.db;
    owners = (await db.insert(people).values(Array.from({ length: OWNERS }, (_, i) => ({
      name: `Owner ${i + 1}`, email: `owner${i + 1}@test.example`, roles: ['control_owner' as const, 'staff' as const], timezone: 'Europe/Berlin',
    }))).returning({ id: people.id })).map((p) => p.id);
    // A second ISMS lead, the last person in the register: an escalation to the leads names the first and the last.
    [{ id: secondLead }] = await db.insert(people).values({ name: 'Lars Lead', email: 'lars@test.example', roles: ['isms_lead', 'staff'], timezone: 'Europe/Berlin' }).returning({ id: people.id });
    const [nia] = await db.insert(people).values({ name: 'Nia Owner', email: 'nia@test.example', roles: ['control_owner', 'staff'] }).returning({ id: people.id });
    const evidenceOwners = owners.flatMap((id, i) => (i % 2 === 0 ? [{ id, i }] : []));
    const made = await db.insert(controls).values(evidenceOwners.map(({ id, i }) => ({
      code: `CTL-${i + 1}`, title: `Control ${i + 1}`, ownerId: id, evidenceFrequency: 'on_demand' as const,
    }))).returning({ id: controls.id });
    // Due in five days: the first step (a reminder a week ahead) is due; the next not before the due date.
    await db.insert(evidenceRequests).values(evidenceOwners.map(({ id, i }, j) => ({
      ref: evr(i), controlId: made[j].id, ownerId: id, dueOn: '2027-05-08', cycle: '2027-04',
    })));
    await db.insert(poamItems).values([
      ...owners.flatMap((id, i) => (i % 2 === 1 ? [{ ref: poam(i), weakness: `Weakness ${i + 1}`, source: 'risk' as const, ownerId: id, dueOn: '2027-05-10' }] : [])),
      { ref: ESCALATED, weakness: 'Unreviewed firewall rules', source: 'risk' as const, ownerId: nia.id, dueOn: '2027-04-26', escalationLevel: 2 },
    ]);
  });

  const stopAt = (recipientId: number) => stopTheSendAt(bot.t.db, recipientId);
  const messagesTo = (ids: number[]) => messageCounts(bot.t.db, ids);
  const levels = async () => new Map([
    ...(await bot.t.db.select().from(evidenceRequests)).map((r) => [r.ref, r.escalationLevel] as const),
    ...(await bot.t.db.select().from(poamItems)).map((r) => [r.ref, r.escalationLevel] as const),
  ]);
  const escalations = async () => (await bot.t.db.select().from(auditEvents).where(eq(auditEvents.action, 'escalate'))).map((e) => e.entityRef).sort();
  const toldOf = async (ref: string) => (await bot.t.db.select().from(nudgeLog).where(eq(nudgeLog.itemRef, ref))).map((n) => n.recipientId).sort((a, b) => a - b);

  it('climbs each item with its message: the re-run sends the rest once, and an item closed meanwhile neither climbs nor is sent', async () => {
    const db = bot.t.db;
    const fire = morning('2027-05-03');
    const [daily] = JOBS;
    await stopAt(owners.at(-1)!);
    await expect(runScheduledJob(db, daily, fire, settings)).rejects.toThrow();
    // Part of the owners have their one message; each item climbed if, and only if, its owner's message was queued.
    const sent = await messagesTo(owners);
    expect(sent.filter((n) => n === 1).length).toBeGreaterThan(0);
    expect(sent.at(-1)).toBe(0);
    expect(Math.max(...sent)).toBe(1);
    const climbed = await levels();
    expect(owners.map((_, i) => climbed.get(refOf(i)))).toEqual(sent);
    expect(await escalations()).toEqual(owners.flatMap((_, i) => (sent[i] ? [refOf(i)] : [])).concat(ESCALATED).sort());
    // The escalation reached both ISMS leads in the transaction that moved it, though they are the first and last in the register.
    expect(await toldOf(ESCALATED)).toEqual([bot.ids.lead, secondLead]);

    // Meanwhile the ISMS lead submits the evidence of one owner in the stopped part and marks another's item done.
    const at = { now: morning('2027-05-03', '09:00') };
    expect(await bot.sayText('lead', `/isms evidence submit ${evr(OWNERS - 2)} "export of the access review"`, at)).toContain(evr(OWNERS - 2));
    expect(await bot.sayText('lead', `/isms poam done ${poam(OWNERS - 1)} "patched"`, at)).toContain(`Marked ${poam(OWNERS - 1)}`);
    await db.execute(sql`drop trigger stop_the_send on outbox`);
    expect(await runScheduledJob(db, daily, fire, settings)).toMatchObject({ ran: true });

    // Every other owner has exactly one message naming their item; the two closed ones got none and stayed on their rung.
    const closed = [OWNERS - 2, OWNERS - 1];
    expect(await messagesTo(owners)).toEqual(owners.map((_, i) => (closed.includes(i) ? 0 : 1)));
    const after = await levels();
    expect(owners.map((_, i) => after.get(refOf(i)))).toEqual(owners.map((_, i) => (closed.includes(i) ? 0 : 1)));
    expect(await escalations()).toEqual(owners.flatMap((_, i) => (closed.includes(i) ? [] : [refOf(i)])).concat(ESCALATED).sort());
    const queued = new Map((await db.select().from(outbox)).map((m) => [m.recipientId, toPlainText(m.reply as Reply)]));
    for (const [i, owner] of owners.entries()) if (!closed.includes(i)) expect(queued.get(owner)).toContain(refOf(i));
    const logged = (await db.select().from(nudgeLog)).map((n) => n.key);
    expect(new Set(logged).size).toBe(logged.length);
    // One nudge per owner but the two, and the escalation's two.
    expect(logged).toHaveLength(OWNERS);

    // Run again that day, and the next: nothing is sent twice.
    await dailyNudges(db, morning('2027-05-03', '07:00'), settings);
    await dailyNudges(db, morning('2027-05-04'), settings);
    expect(await messagesTo(owners)).toEqual(owners.map((_, i) => (closed.includes(i) ? 0 : 1)));
    expect(await toldOf(ESCALATED)).toEqual([bot.ids.lead, secondLead]);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
  });

  it('on a heavy day, moves each item one rung and tells each person once, however often the day is re-run after a stop', async () => {
    const db = bot.t.db;
    // Overdue long enough that the owner's reminder, their second reminder and their manager's are all due by date;
    // the escalated item's next two rungs (the leads told, the management body's digest) likewise.
    await db.update(evidenceRequests).set({ dueOn: '2027-04-20' });
    await db.update(poamItems).set({ dueOn: '2027-04-20' }).where(sql`${poamItems.ref} <> ${ESCALATED}`);
    await db.update(poamItems).set({ dueOn: '2027-04-10' }).where(eq(poamItems.ref, ESCALATED));
    const fire = morning('2027-05-03');
    const [daily] = JOBS;
    await stopAt(owners.at(-1)!);
    await expect(runScheduledJob(db, daily, fire, settings)).rejects.toThrow();
    expect((await messagesTo(owners)).filter((n) => n === 1).length).toBeGreaterThan(0);
    await db.execute(sql`drop trigger stop_the_send on outbox`);
    expect(await runScheduledJob(db, daily, fire, settings)).toMatchObject({ ran: true });
    // Fired again later that day, as an operator would: nothing moves or goes out again.
    await dailyNudges(db, morning('2027-05-03', '07:00'), settings);

    const oneRungEach = new Map([...owners.map((_, i) => [refOf(i), 1] as const), [ESCALATED, 3]]);
    expect(await levels()).toEqual(oneRungEach);
    expect(await escalations()).toEqual([...oneRungEach.keys()].sort());
    expect(await messagesTo([...owners, bot.ids.lead, secondLead])).toEqual([...owners.map(() => 1), 1, 1]);
    const texts = (await db.select().from(outbox)).map((m) => toPlainText(m.reply as Reply));
    expect(texts.filter((t) => t.includes('Reminder:'))).toEqual([]);
    const logged = (await db.select().from(nudgeLog)).map((n) => n.key);
    expect(new Set(logged).size).toBe(logged.length);

    // The next day each climbs its next rung: the owners are reminded again, once.
    await dailyNudges(db, morning('2027-05-04'), settings);
    const nextDay = await levels();
    expect(owners.map((_, i) => nextDay.get(refOf(i)))).toEqual(owners.map(() => 2));
    expect(nextDay.get(ESCALATED)).toBe(4);
    expect(await messagesTo(owners)).toEqual(owners.map(() => 2));
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
  });

  it('tells every ISMS lead of an escalation in the transaction that moves it, or none of them', async () => {
    const db = bot.t.db;
    const fire = morning('2027-05-03');
    const [daily] = JOBS;
    await stopAt(secondLead);
    await expect(runScheduledJob(db, daily, fire, settings)).rejects.toThrow();
    expect(await toldOf(ESCALATED)).toEqual([]);
    expect((await levels()).get(ESCALATED)).toBe(2);
    expect(await escalations()).not.toContain(ESCALATED);

    await db.execute(sql`drop trigger stop_the_send on outbox`);
    expect(await runScheduledJob(db, daily, fire, settings)).toMatchObject({ ran: true });
    expect(await toldOf(ESCALATED)).toEqual([bot.ids.lead, secondLead]);
    expect((await levels()).get(ESCALATED)).toBe(3);
    expect((await escalations()).filter((ref) => ref === ESCALATED)).toHaveLength(1);
    for (const lead of [bot.ids.lead, secondLead]) {
      const texts = (await db.select().from(outbox).where(eq(outbox.recipientId, lead))).map((m) => toPlainText(m.reply as Reply));
      expect(texts).toEqual([expect.stringContaining(`${ESCALATED} Unreviewed firewall rules, owned by Nia Owner`)]);
    }
  });
});

describe('every sweep of a heavy day, stopped and re-run', () => {
  let t: TestDatabase;
  beforeEach(async () => { t = await createTestDatabase(); });
  afterEach(async () => {
    await t.db.execute(sql`drop trigger if exists stop_the_send on outbox`);
    await t.destroy();
  });

  /** What the day's runs sent and changed: the messages queued, the nudges they carried, the audit trail, each item's rung. */
  const state = async () => ({
    messages: (await t.db.select({ id: outbox.id }).from(outbox)).length,
    nudges: (await t.db.select({ key: nudgeLog.key }).from(nudgeLog)).length,
    events: (await t.db.select({ seq: auditEvents.seq }).from(auditEvents)).length,
    rungs: new Map([
      ...(await t.db.select().from(evidenceRequests)).map((r) => [r.ref, r.escalationLevel] as const),
      ...(await t.db.select().from(poamItems)).map((r) => [r.ref, r.escalationLevel] as const),
    ]),
  });
  const escalationsOf = async () => {
    const counts = new Map<string, number>();
    for (const e of await t.db.select().from(auditEvents).where(eq(auditEvents.action, 'escalate'))) counts.set(e.entityRef, (counts.get(e.entityRef) ?? 0) + 1);
    return counts;
  };

  it('sends each day\'s messages once and moves each item at most one rung a day, however often the day is re-run after a stop', async () => {
    const db = t.db;
    // The example organisation, loaded ten weeks ago and not run since: its items are weeks overdue, several rungs due at once.
    expect(await loadExampleOrganisation(db, morning('2026-12-01'))).toBe(true);
    const [daily] = JOBS;
    for (const day of ['2027-02-09', '2027-02-10']) {
      const before = await escalationsOf();
      await stopTheSendAt(db);
      await expect(runScheduledJob(db, daily, morning(day), settings)).rejects.toThrow();
      await db.execute(sql`drop trigger stop_the_send on outbox`);
      expect(await runScheduledJob(db, daily, morning(day), settings)).toMatchObject({ ran: true });
      const done = await state();
      // Fired again later that day: nothing more is sent, written or moved.
      await dailyNudges(db, morning(day, '07:00'), settings);
      await dailyNudges(db, morning(day, '12:00'), settings);
      expect(await state(), day).toEqual(done);
      const after = await escalationsOf();
      expect([...after].filter(([ref, n]) => n - (before.get(ref) ?? 0) > 1), day).toEqual([]);
    }
    // The days did send and climb: the overdue items two rungs up, one a day.
    const end = await state();
    expect(end.messages).toBeGreaterThan(0);
    expect([...end.rungs.values()].filter((rung) => rung === 2).length).toBeGreaterThan(0);
    const logged = (await db.select().from(nudgeLog)).map((n) => n.key);
    expect(new Set(logged).size).toBe(logged.length);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
  });
});
