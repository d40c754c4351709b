import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { asc, eq } from 'drizzle-orm';
import {
  auditEvents, managementReviews, outbox, people, poamItems, reviewDecisions, reviewPacks,
} from '../src/db/schema/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { chatSession } from './helpers/chat-exports.js';
import { createTestBot, type CastKey, type TestBot } from './helpers/bot.js';
import { loadExampleOrganisation } from '../src/import/example.js';
import { buildRouter } from '../src/commands.js';
import type { CommandRouter } from '../src/core/router.js';
import { toPlainText, type Block, type FileOut, type Reply } from '../src/core/reply.js';
import { REVIEW_INPUTS } from '../src/domain/reviews/review-pack.js';
import { CHART_HEIGHT, CHART_WIDTH } from '../src/domain/reviews/charts.js';
import { verifyRegister } from '../src/core/verify.js';
import { toActor } from '../src/core/actor.js';
import { auditSeededRows } from './helpers/fixtures.js';

const NOW = new Date('2026-12-10T10:00:00Z');
const LEAD = 'iris@northwind.example';
const CHAIR = 'katrin.vogel@northwind.example';
const MEMBER = 'marco.bianchi@northwind.example';

const filesOf = (r: Reply): FileOut[] => r.blocks.flatMap((b: Block) => (b.type === 'file' ? [b.file] : []));
const pngs = (r: Reply) => filesOf(r).filter((f) => f.mimeType === 'image/png');

/** The legend sits right of this column in every chart: counting left of it sees the data alone. */
const LEGEND_LEFT = 465;

/** Pixels of exactly this colour left of a column: the interior of a bar or line drawn in it (edges are anti-aliased). */
function pixelsOf(png: PNG, hex: string, leftOf = png.width): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < leftOf; x++) {
      const i = (y * png.width + x) * 4;
      if (png.data[i] === r && png.data[i + 1] === g && png.data[i + 2] === b && png.data[i + 3] === 255) n++;
    }
  }
  return n;
}

/** Pixels differing from the white background. */
function drawnPixels(png: PNG): number {
  let n = 0;
  for (let i = 0; i < png.data.length; i += 4) if (png.data[i] < 250 || png.data[i + 1] < 250 || png.data[i + 2] < 250) n++;
  return n;
}

async function chartNamed(r: Reply, name: string): Promise<{ png: PNG; bytes: Buffer }> {
  const file = pngs(r).find((f) => f.name.endsWith(`-${name}.png`));
  expect(file, name).toBeDefined();
  const bytes = await readFile(file!.path);
  return { png: PNG.sync.read(bytes), bytes };
}

describe('the management review pack of the example organisation', () => {
  let t: TestDatabase;
  let router: CommandRouter;
  beforeAll(async () => {
    t = await createTestDatabase();
    expect(await loadExampleOrganisation(t.db, NOW)).toBe(true);
    router = buildRouter(t.db);
  });
  const { say, cleanUp } = chatSession(() => ({ db: t!.db, router }), NOW);
  const sayText = async (email: string, line: string) => toPlainText(await say(email, line));
  afterAll(async () => {
    await t?.destroy();
    await cleanUp();
  });
  const audits = async () => (await t.db.select().from(auditEvents)).length;
  const packMessages = () => t.db.select().from(outbox).where(eq(outbox.kind, 'review_pack')).orderBy(asc(outbox.id));

  it('is prepared by the ISMS lead alone: every other role is refused with nothing written', async () => {
    const before = { audit: await audits(), outbox: (await t.db.select().from(outbox)).length };
    for (const email of [CHAIR, 'jonas.weber@northwind.example', 'sam.novak@northwind.example', 'henrik.aalto@northwind.example']) {
      const answer = await sayText(email, '/isms review prepare');
      expect(answer, email).toContain('Only the ISMS lead may use "/isms review prepare"');
    }
    expect({ audit: await audits(), outbox: (await t.db.select().from(outbox)).length }).toEqual(before);
    expect(await t.db.select().from(reviewPacks)).toEqual([]);
  });

  it('holds every cl. 9.3.2 input and charts that are PNG images of the expected size with the data drawn', async () => {
    // Some activity for the inputs to show: an OFI, a nonconformity and an acknowledged policy.
    await say(LEAD, '/isms finding add ofi A.5.15 "Access reviews could use the HR leaver feed"');
    await say(LEAD, '/isms finding add minor_nc 9.2 "No internal audit programme for 2027" --owner lena.fischer@northwind.example --due 2027-02-28');
    await say('jonas.weber@northwind.example', '/isms ack POL-0001 --version 1.0');

    const audit = await audits();
    const answer = await say(LEAD, '/isms review prepare');
    const shown = toPlainText(answer);
    expect(shown).toContain('✔ Prepared the management review pack RP-0001 and sent it to 2 members of the management body.');
    for (const input of REVIEW_INPUTS) expect(shown).toContain(`(${input.key}) ${input.heading}`);
    expect(shown).toContain('(f) Fulfilment of information security objectives: no objectives recorded');
    expect(shown).toContain('(i) Opportunities for continual improvement: 1 open opportunity for improvement');

    const files = filesOf(answer);
    expect(files.map((f) => f.name)).toEqual([
      'review-pack-RP-0001-2026-12-10.md', 'review-pack-RP-0001-poam-open-closed.png', 'review-pack-RP-0001-evidence-freshness.png',
      'review-pack-RP-0001-policy-training.png', 'review-pack-RP-0001-risks-appetite.png',
    ]);
    // Each file in a folder of its own: a platform removes a delivered file's folder.
    expect(new Set(files.map((f) => path.dirname(f.path))).size).toBe(files.length);

    const document = await readFile(files[0].path, 'utf8');
    for (const input of REVIEW_INPUTS) expect(document).toContain(`## (${input.key}) ${input.heading}`);
    expect(document).toContain('No information security objectives are recorded in the register');
    expect(document).toContain('AF-0001 against A.5.15: Access reviews could use the HR leaver feed');
    expect(document).toContain('AF-0002 minor nonconformity against 9.2: No internal audit programme for 2027');
    expect(document).toContain('Risk appetite: residual score up to 8.');
    expect(document).toContain('No actions from earlier management reviews are recorded.');
    expect(document).toContain('![Risks by residual score against the appetite](review-pack-RP-0001-risks-appetite.png)');

    for (const file of pngs(answer)) {
      const bytes = await readFile(file.path);
      expect(bytes.subarray(1, 4).toString('latin1'), file.name).toBe('PNG');
      expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)], file.name).toEqual([CHART_WIDTH, CHART_HEIGHT]);
      const png = PNG.sync.read(bytes);
      expect([png.width, png.height]).toEqual([CHART_WIDTH, CHART_HEIGHT]);
      expect(drawnPixels(png), file.name).toBeGreaterThan(5_000);
    }
    // Where the data is: every example risk is within the appetite of 8, so green bars and no red ones.
    const risk = (await chartNamed(answer, 'risks-appetite')).png;
    expect(pixelsOf(risk, '#2b8a3e', LEGEND_LEFT)).toBeGreaterThan(1_000);
    expect(pixelsOf(risk, '#c92a2a', LEGEND_LEFT)).toBe(0);
    expect(pixelsOf(risk, '#c92a2a')).toBeGreaterThan(0); // the legend's swatch
    // Open POA&M items (the example's three and the nonconformity's) draw the open line.
    expect(pixelsOf((await chartNamed(answer, 'poam-open-closed')).png, '#d9480f')).toBeGreaterThan(50);
    // No evidence has been submitted: every applicable control area is a red "none" bar.
    const freshness = (await chartNamed(answer, 'evidence-freshness')).png;
    expect(pixelsOf(freshness, '#c92a2a', LEGEND_LEFT)).toBeGreaterThan(1_000);
    expect(pixelsOf(freshness, '#2b8a3e', LEGEND_LEFT)).toBe(0);
    // One acknowledgement: a short blue bar.
    expect(pixelsOf((await chartNamed(answer, 'policy-training')).png, '#1971c2')).toBeGreaterThan(50);

    const [pack] = await t.db.select().from(reviewPacks);
    expect(pack).toMatchObject({ ref: 'RP-0001', document });
    expect(pack.charts.map((c) => c.name)).toEqual(['poam-open-closed', 'evidence-freshness', 'policy-training', 'risks-appetite']);
    const events = (await t.db.select().from(auditEvents).orderBy(asc(auditEvents.seq))).slice(audit);
    expect(events.map((e) => `${e.entity} ${e.entityRef} ${e.action}`)).toEqual(['review_pack RP-0001 prepare']);
    expect(await verifyRegister(t.db)).toMatchObject({ ok: true });
  });

  it('tells each member of the management body once, with a button that hands them the same pack as files', async () => {
    const messages = await packMessages();
    const [katrin] = await t.db.select().from(people).where(eq(people.email, CHAIR));
    const [marco] = await t.db.select().from(people).where(eq(people.email, MEMBER));
    expect(messages.map((m) => [m.recipientId, m.idempotencyKey])).toEqual([
      [katrin.id, `review-pack:RP-0001:member:${katrin.id}`], [marco.id, `review-pack:RP-0001:member:${marco.id}`],
    ]);
    const told = toPlainText(messages[0].reply as Reply);
    expect(told).toContain('Iris Lindqvist prepared the management review pack RP-0001');
    expect(told).toContain('(c) Nonconformities and corrective actions: 1 open nonconformity; POA&M 4 open, 0 overdue');
    expect(told).toContain('[Get the pack] /isms review pack RP-0001');

    const again = await say(LEAD, '/isms review prepare');
    expect(toPlainText(again)).toContain('Nothing changed since RP-0001 was prepared on 2026-12-10: the management body already has it, so nothing was sent again.');
    expect(filesOf(again)).toHaveLength(5);
    expect(await packMessages()).toHaveLength(2);
    expect(await t.db.select().from(reviewPacks)).toHaveLength(1);

    const got = await say(MEMBER, '/isms review pack RP-0001');
    expect(toPlainText(got)).toContain('The management review pack RP-0001, prepared on 2026-12-10: the document and 4 charts.');
    const [stored] = await t.db.select().from(reviewPacks);
    expect(await readFile(filesOf(got)[0].path, 'utf8')).toBe(stored.document);
    expect(pngs(got)).toHaveLength(4);
    expect(await sayText('sam.novak@northwind.example', '/isms review pack')).toContain('Only the ISMS lead, the management body or an auditor may use "/isms review pack"');
    expect(await sayText(MEMBER, '/isms review pack RP-0042')).toContain('RP-0042 does not exist.');
  });

  it('gives the management body the programme at a glance in /isms status', async () => {
    const shown = await sayText(CHAIR, '/isms status');
    expect(shown).toContain('Programme at a glance');
    expect(shown).toContain('Risks over appetite: 0 of 5 (appetite: residual score up to 8)');
    expect(shown).toContain('POA&M items: 4 open, 0 overdue');
    expect(shown).toMatch(/Evidence freshness: 0% \(0 of \d+\)/);
    expect(shown).toMatch(/Policy acknowledgement: \d+% \(1 of \d+\)/);
    expect(shown).toMatch(/Training completion: 0% \(0 of \d+\)/);
    // The example's tier-1 supplier, imported as accepted, waits for the body's approval.
    expect(shown).toContain('Approvals waiting for the management body: 1');
    expect(shown).not.toContain('Extension requests pending');
    expect(await sayText('sam.novak@northwind.example', '/isms status')).not.toContain('Programme at a glance');
  });
});

describe('recording, deciding and closing a management review', () => {
  let bot: TestBot;
  const NOW_MR = new Date('2026-10-01T10:00:00Z');
  const at = { now: NOW_MR };
  const written: string[] = [];
  beforeEach(async () => {
    bot = await createTestBot();
    await bot.t.db.insert(people).values({ name: 'Mia Manager', email: 'mia@test.example', roles: ['management_body'] });
    // The cast is seeded in SQL: give it the events the import would have written, so verify judges only what the commands wrote.
    await auditSeededRows(bot.t.db);
  });
  afterEach(async () => {
    await bot.destroy();
    for (const file of written.splice(0)) await rm(path.dirname(file), { recursive: true, force: true });
  });
  /** A second member of the management body, who chairs nothing. */
  const sayMia = async (line: string) => {
    const [mia] = await bot.t.db.select().from(people).where(eq(people.email, 'mia@test.example'));
    return toPlainText(await bot.router.handle(line, { actor: toActor(mia), channel: 'test', now: NOW_MR }));
  };
  const counts = async () => ({
    audit: await bot.auditCount(), reviews: (await bot.t.db.select().from(managementReviews)).length,
    decisions: (await bot.t.db.select().from(reviewDecisions)).length, items: (await bot.t.db.select().from(poamItems)).length,
    outbox: (await bot.t.db.select().from(outbox)).length,
  });
  const reviewRow = async () => (await bot.t.db.select().from(managementReviews))[0];
  async function refused(who: CastKey, line: string, message: string) {
    const before = { ...await counts(), review: await reviewRow() };
    const answer = await bot.sayText(who, line, at);
    expect(answer, line).toContain(message);
    expect({ ...await counts(), review: await reviewRow() }, line).toEqual(before);
  }
  const record = () => bot.sayText('lead', '/isms review record 2026-09-15 "Audit results, risk status" --attendees "olga@test.example, Lena Lead" --chair bruno@test.example', at);

  it('records the attendees who were there and the chair, not the whole management body, validated against the register', async () => {
    await refused('lead', '/isms review record 2026-09-15 "inputs" --chair bruno@test.example', 'attendees: name who actually attended');
    await refused('lead', '/isms review record 2026-09-15 "inputs" --attendees olga@test.example', 'chair: name the management-body member who chaired the review');
    await refused('lead', '/isms review record 2026-09-15 "inputs" --attendees olga@test.example,nobody@test.example --chair bruno@test.example',
      'attendees: nobody in the register matches "nobody@test.example".');
    await refused('lead', '/isms review record 2026-09-15 "inputs" --attendees olga@test.example --chair olga@test.example',
      'chair: Olga Owner is not a member of the management body');
    await refused('lead', '/isms review record 2026-09-15 --attendees olga@test.example --chair bruno@test.example',
      'inputs: list what the review looked at, or prepare the pack of inputs first');
    for (const who of ['board', 'owner', 'staff', 'auditor'] as const) {
      await refused(who, '/isms review record 2026-09-15 "inputs" --attendees olga@test.example --chair bruno@test.example', 'Only the ISMS lead may use "/isms review record"');
    }

    const answer = await record();
    expect(answer).toContain('✔ Recorded the management review held on 2026-09-15 as MR-0001.');
    expect(answer).toContain('Chair: Bruno Board');
    expect(answer).toContain('Attendees: Olga Owner (control owner, asset owner, staff); Lena Lead (ISMS lead, staff); Bruno Board (management body)');
    expect(await reviewRow()).toMatchObject({ ref: 'MR-0001', chairId: bot.ids.board, status: 'open', packId: null });
    expect((await reviewRow()).attendees.map((a) => a.name)).not.toContain('Mia Manager');

    // Editable while open.
    expect(await bot.sayText('lead', '/isms review record MR-0001 --attendees "Mia Manager, olga@test.example"', at))
      .toContain('✔ Updated MR-0001; it stays open until its chair closes it.');
    expect((await reviewRow()).attendees.map((a) => a.name)).toEqual(['Mia Manager', 'Olga Owner', 'Bruno Board']);
  });

  it('takes the prepared pack as its inputs and hands it out again by the review reference', async () => {
    const prepared = await bot.say('lead', '/isms review prepare', at);
    written.push(...filesOf(prepared).map((f) => f.path));
    expect(toPlainText(prepared)).toContain('Prepared the management review pack RP-0001 and sent it to 2 members of the management body.');
    await bot.sayText('lead', '/isms review record 2026-10-01 --attendees bruno@test.example --chair bruno@test.example', at);
    const [pack] = await bot.t.db.select().from(reviewPacks);
    expect(await reviewRow()).toMatchObject({ packId: pack.id, inputs: 'Review pack RP-0001 (ISO 27001 9.3.2 inputs), prepared 2026-10-01' });
    const got = await bot.say('board', '/isms review pack MR-0001', at);
    written.push(...filesOf(got).map((f) => f.path));
    expect(await readFile(filesOf(got)[0].path, 'utf8')).toBe(pack.document);
    await refused('lead', '/isms review record 2026-10-01 --attendees bruno@test.example --chair bruno@test.example --pack RP-0001',
      'pack: RP-0001 is already the pack of MR-0001.');
  });

  it('turns a decision into a POA&M item with owner and due date; the management body decides and closes, never its own action', async () => {
    await record();
    const audit = await bot.auditCount();
    const answer = await bot.sayText('board', '/isms review decide MR-0001 bruno@test.example 2026-12-31 "Fund MFA for all remote access"', at);
    expect(answer).toContain('✔ Added decision 1 to MR-0001, tracked as POAM-0001: owned by Bruno Board, due 2026-12-31.');
    const [item] = await bot.t.db.select().from(poamItems);
    expect(item).toMatchObject({
      ref: 'POAM-0001', source: 'management_review', sourceRef: 'MR-0001/1', ownerId: bot.ids.board, dueOn: '2026-12-31', status: 'open',
      weakness: 'Management review MR-0001/1: Fund MFA for all remote access',
    });
    expect(await bot.t.db.select().from(reviewDecisions)).toMatchObject([{ poamItemId: item.id, ownerId: bot.ids.board, status: 'open' }]);
    expect((await bot.t.db.select().from(auditEvents).orderBy(asc(auditEvents.seq))).slice(audit).map((e) => `${e.entity} ${e.entityRef} ${e.action}`))
      .toEqual(['review_decision MR-0001/1 decide', 'poam_item POAM-0001 open']);

    await refused('lead', '/isms review decide MR-0001 olga@test.example 2026-12-31', 'decision: say what was decided');
    await refused('lead', '/isms review decide MR-0001 olga@test.example', 'due: an action decision needs its due date');
    await refused('staff', '/isms review decide MR-0001 olga@test.example 2026-12-31 "x"', 'Only the ISMS lead or the management body may use "/isms review decide"');
    await refused('board', '/isms review decision close MR-0001/1 "done"', 'You own the action of MR-0001/1 (POAM-0001), so someone else closes it');
    await refused('owner', '/isms review decision close MR-0001/1 "done"', 'Only the ISMS lead or the management body may use "/isms review decision close"');
    await refused('lead', '/isms review decision close MR-0001/2 "done"', 'MR-0001/2 does not exist: MR-0001 has 1 decision.');

    expect(await sayMia('/isms review decision close MR-0001/1 "MFA enforced since 2026-09-30"')).toContain('✔ Closed MR-0001/1; its POA&M item POAM-0001 is completed.');
    expect((await bot.t.db.select().from(poamItems))[0]).toMatchObject({ status: 'completed', completedAt: NOW_MR });
    expect((await bot.t.db.select().from(reviewDecisions))[0].status).toBe('closed');
    await refused('lead', '/isms review decision close MR-0001/1 "again"', 'MR-0001/1 was already closed.');
  });

  it('is closed by its chair only, and after that nothing more is recorded on it', async () => {
    await record();
    await bot.say('lead', '/isms review decide MR-0001 olga@test.example 2026-12-31 "Run a phishing exercise"', at);
    await refused('lead', '/isms review close MR-0001', 'Only the chair of MR-0001, Bruno Board, closes it.');
    expect(await sayMia('/isms review close MR-0001')).toContain('Only the chair of MR-0001, Bruno Board, closes it.');
    for (const who of ['owner', 'staff', 'auditor'] as const) {
      await refused(who, '/isms review close MR-0001', 'Only the management body or the ISMS lead may use "/isms review close"');
    }

    const audit = await bot.auditCount();
    expect(await bot.sayText('board', '/isms review close MR-0001', at))
      .toContain('✔ Closed the management review MR-0001 held on 2026-09-15; its record is final. 1 decision stay open on the POA&M until done.');
    expect(await reviewRow()).toMatchObject({ status: 'closed', closedBy: bot.ids.board, closedAt: NOW_MR });
    expect(await bot.auditCount()).toBe(audit + 1);

    const final = 'MR-0001 was closed by Bruno Board on 2026-10-01, so its record is final';
    await refused('lead', '/isms review record MR-0001 --attendees olga@test.example', `${final}: editing it is refused. Nothing was recorded.`);
    await refused('lead', '/isms review decide MR-0001 olga@test.example 2026-12-31 "More"', `${final}: adding a decision is refused.`);
    await refused('board', '/isms review decide MR-0001 olga@test.example 2026-12-31 "More"', `${final}: adding a decision is refused.`);
    await refused('board', '/isms review close MR-0001', `${final}: closing it again is refused.`);
    // Its open decision is still followed up.
    expect(await sayMia('/isms review decision close MR-0001/1')).toContain('✔ Closed MR-0001/1');
    expect(await verifyRegister(bot.t.db)).toMatchObject({ ok: true });
    // On the reader's clock (set directly, so after the register was verified): 10:00 UTC on 1 October is already 2 October at Kiritimati (UTC+14).
    await bot.t.db.update(people).set({ timezone: 'Pacific/Kiritimati' }).where(eq(people.id, bot.ids.lead));
    await refused('lead', '/isms review record MR-0001 --attendees olga@test.example', 'MR-0001 was closed by Bruno Board on 2026-10-02, so its record is final');
  });
});

/**
 * Far from UTC a member's day differs from the pack's: the message names the day the pack document and its
 * file carry (the document, audit evidence, is the same for every reader), and their own clock beside it.
 */
describe('the day of the management review pack, far from UTC', () => {
  let bot: TestBot;
  let angela: number;
  beforeEach(async () => {
    bot = await createTestBot();
    await bot.t.db.update(people).set({ timezone: 'Pacific/Kiritimati' }).where(eq(people.id, bot.ids.board));
    [{ id: angela }] = await bot.t.db.insert(people)
      .values({ name: 'Angela Board', email: 'angela@test.example', roles: ['management_body'], timezone: 'America/Los_Angeles' }).returning();
  });
  afterEach(async () => { await bot.destroy(); });

  const messageTo = async (personId: number, ref: string) => {
    const [row] = await bot.t.db.select().from(outbox).where(eq(outbox.idempotencyKey, `review-pack:${ref}:member:${personId}`));
    return toPlainText(row.reply as Reply);
  };
  const documentDay = async (ref: string) => {
    const [pack] = await bot.t.db.select().from(reviewPacks).where(eq(reviewPacks.ref, ref));
    return /compiled from the ISMS register on (\d{4}-\d{2}-\d{2})/.exec(pack.document)![1];
  };

  it('a member in Kiritimati, already on the next day, reads the day the pack document and its file carry, and their clock', async () => {
    // 13:30 UTC on 15 June: 03:30 on 16 June in Kiritimati, 06:30 on 15 June in Los Angeles.
    const at = new Date('2026-06-15T13:30:00Z');
    await bot.say('lead', '/isms review prepare', { now: at });
    expect(await documentDay('RP-0001')).toBe('2026-06-15');
    expect(await messageTo(bot.ids.board, 'RP-0001')).toContain('the ISO 27001 cl. 9.3.2 inputs as the register stands on 2026-06-15 '
      + '(UTC, as the pack document is dated; 2026-06-16 03:30 Pacific/Kiritimati on your clock).');
    expect(await messageTo(angela, 'RP-0001')).toContain('as the register stands on 2026-06-15.');

    // "Get the pack" hands over the file of that day, and says the same day.
    const got = await bot.say('board', '/isms review pack RP-0001', { now: new Date('2026-06-15T13:40:00Z') });
    expect(filesOf(got)[0].name).toBe('review-pack-RP-0001-2026-06-15.md');
    expect(toPlainText(got)).toContain('The management review pack RP-0001, prepared on 2026-06-15 (UTC, as the pack document is dated; 2026-06-16 03:30 Pacific/Kiritimati on your clock)');
  });

  it('a member in Los Angeles, still on the evening before, reads the day the pack document and its file carry, and their clock', async () => {
    // 06:30 UTC on 16 June: 23:30 on 15 June in Los Angeles, 20:30 on 16 June in Kiritimati.
    const at = new Date('2026-06-16T06:30:00Z');
    await bot.say('lead', '/isms review prepare', { now: at });
    expect(await documentDay('RP-0001')).toBe('2026-06-16');
    expect(await messageTo(angela, 'RP-0001')).toContain('the ISO 27001 cl. 9.3.2 inputs as the register stands on 2026-06-16 '
      + '(UTC, as the pack document is dated; 2026-06-15 23:30 America/Los_Angeles on your clock).');
    expect(await messageTo(bot.ids.board, 'RP-0001')).toContain('as the register stands on 2026-06-16.');
    const [row] = await bot.t.db.select().from(people).where(eq(people.id, angela));
    const got = await bot.router.handle('/isms review pack RP-0001', { actor: toActor(row), channel: 'test', now: at });
    expect(filesOf(got)[0].name).toBe('review-pack-RP-0001-2026-06-16.md');
  });
});
