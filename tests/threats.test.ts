import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { asc, eq } from 'drizzle-orm';
import { auditEvents, risks } from '../src/db/schema/index.js';
import { findForm, toPlainText, type Block, type Reply } from '../src/core/reply.js';
import { nextRef } from '../src/core/refs.js';
import { ARTEFACTS } from '../src/domain/exports/artefacts.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { answerTo, exampleRegister, pipedSession, type Register } from './helpers/process.js';

const NOW = new Date('2026-10-01T10:00:00Z');
const at = { now: NOW };
/** A start costs several seconds (tsx, PGlite, the example import). */
const SESSION_TIMEOUT = 240_000;

const listIn = (r: Reply) => r.blocks.find((b): b is Extract<Block, { type: 'list' }> => b.type === 'list')!;
const itemFor = (r: Reply, start: string) => listIn(r).items.find((i) => i.title.startsWith(`${start} `))!;
const field = (r: Reply, start: string, label: string) => itemFor(r, start).fields?.find((f) => f.label === label)?.value;
const exported = async (bot: TestBot) => (await ARTEFACTS.find((a) => a.name === 'risks')!.page(bot.t.db, 0, 100, {})).map((r) => r.row);
const add = (title: string, threat: string) => `/isms risk add "${title}" --likelihood 3 --impact 4 --treatment mitigate --owner olga@test.example --threat ${threat}`;

/** A risk as it was stored before threats were checked (typed free text, or an import). */
async function oldRisk(bot: TestBot, title: string, threatRef: string) {
  await bot.t.db.insert(risks).values({
    ref: await nextRef(bot.t.db, 'R'), title, threatRef, likelihood: 2, impact: 3, inherentScore: 6, residualScore: 6, treatment: 'mitigate', ownerId: bot.ids.lead,
  });
}

describe('risks name a threat from the catalogue', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  it('records a catalogue id, in any letter case and without its leading zeros, and shows it with its name wherever the risk is shown', async () => {
    const added = await bot.say('lead', add('Controls drift after the migration', 'T-IS-004'), at);
    expect(toPlainText(added)).toContain('Threat: T-IS-004 Control degradation and operational drift');
    await bot.say('lead', add('Staff paste customer data into chatbots', 't-is-12'), at);
    expect((await bot.t.db.select().from(risks).orderBy(asc(risks.id))).map((r) => r.threatRef)).toEqual(['T-IS-004', 'T-IS-012']);

    const listed = await bot.say('lead', '/isms risks', at);
    expect(field(listed, 'R-0001', 'Threat')).toBe('T-IS-004 Control degradation and operational drift');
    expect(field(listed, 'R-0002', 'Threat')).toBe('T-IS-012 Shadow AI usage outside ISMS scope');
    expect((await exported(bot)).map((r) => r.threat)).toEqual(['T-IS-004 Control degradation and operational drift', 'T-IS-012 Shadow AI usage outside ISMS scope']);
  });

  it('refuses anything else, naming the field and how to list the threats, and writes nothing', async () => {
    await bot.say('lead', add('Controls drift after the migration', 'T-IS-004'), at);
    const audit = await bot.auditCount();
    for (const typo of ['T-IS-04', 'T-IS-016', 'TIS-004', 'phishing']) {
      const answer = await bot.sayText('lead', add('Phishing of the finance team', typo), at);
      expect(answer, typo).toContain(`threat: "${typo}" is not in the threat catalogue (T-IS-001 to T-IS-015); "/isms threats" lists them with their names.`);
      expect(answer, typo).toContain('Nothing was recorded.');
    }
    expect((await bot.t.db.select().from(risks)).map((r) => r.ref)).toEqual(['R-0001']);
    expect(await bot.auditCount()).toBe(audit);
    // In Teams, where there are no slash commands, the hint names the command as typed there.
    expect(toPlainText(await bot.say('lead', add('Phishing of the finance team', 'T-IS-04'), { ...at, channel: 'teams' })))
      .toContain('"threats" lists them with their names');
    expect(await bot.sayText('lead', add('Phishing of the finance team', 'T-IS-007'), at)).toContain('as R-0002.');
  });

  it('offers the threats as a menu in the risk form, and refuses a submitted value outside it under the field', async () => {
    const form = findForm(await bot.say('lead', '/isms risk add', at))!;
    const threat = form.fields.find((f) => f.name === 'threat')!;
    expect(threat).toMatchObject({ type: 'select', label: 'Threat' });
    expect(threat.options).toHaveLength(15);
    expect(threat.options![0]).toEqual({ value: 'T-IS-001', label: 'T-IS-001 Governance failure without structured risk assessment' });
    expect(threat.options).toContainEqual({ value: 'T-IS-004', label: 'T-IS-004 Control degradation and operational drift' });
    expect(await bot.sayText('lead', '/isms help risk add', at)).toContain('--threat <threat, e.g. T-IS-004>');

    const inbound = { actor: await bot.actor('lead'), channel: 'test' as const, now: NOW };
    const values = { title: 'Audit firm goes under', likelihood: '2', impact: '4', treatment: 'transfer' };
    const refused = await bot.router.submit('risk add', { ...values, threat: 'T-IS-99' }, inbound);
    expect(refused.outcome).toBe('refused');
    expect(refused.fieldErrors?.threat).toContain('"T-IS-99" is not in the threat catalogue');
    expect(await bot.t.db.select().from(risks)).toEqual([]);
    const recorded = await bot.router.submit('risk add', { ...values, threat: 'T-IS-011' }, inbound);
    expect(toPlainText(recorded)).toContain('Threat: T-IS-011 Concentration risk in shared GRC platforms or audit firms');
  });

  it('lists the catalogue with how many risks name each threat, the sibling patterns that steward three, and refs outside it', async () => {
    await bot.say('lead', add('Controls drift after the migration', 'T-IS-004'), at);
    await bot.say('lead', add('Monitoring rules go stale', 'T-IS-4'), at);
    await bot.say('lead', add('Staff paste customer data into chatbots', 'T-IS-012'), at);
    await oldRisk(bot, 'Phishing of the finance team', 'phishing');

    const listed = await bot.say('lead', '/isms threats', at);
    expect(listIn(listed).items.map((i) => i.title.split(' ')[0])).toEqual(Array.from({ length: 15 }, (_, i) => `T-IS-${String(i + 1).padStart(3, '0')}`));
    expect(field(listed, 'T-IS-004', 'Risks')).toBe('2 (R-0001, R-0002)');
    expect(field(listed, 'T-IS-012', 'Risks')).toBe('1 (R-0003)');
    expect(field(listed, 'T-IS-001', 'Risks')).toBe('none');
    expect(itemFor(listed, 'T-IS-010').detail).toBe('Inadequate physical and environmental protection enabling tampering, theft or environmental damage');
    expect(field(listed, 'T-IS-005', 'Stewarded by')).toContain('SP-036 Incident Response');
    expect(field(listed, 'T-IS-006', 'Stewarded by')).toContain('SP-038 Vulnerability Management and Patching');
    expect(field(listed, 'T-IS-010', 'Stewarded by')).toContain('SP-022 Board Room and SP-016 DMZ Module');
    expect(field(listed, 'T-IS-004', 'Stewarded by')).toBeUndefined();
    const said = toPlainText(listed);
    expect(said).toContain('Risks in the register name 2 of the 15 threats; the other 13 are named by no risk.');
    expect(said).toContain('One risk names a threat not in the catalogue, recorded as free text before threats were checked: R-0004 "phishing". '
      + '"/isms risk update <risk> --threat <threat id> "<why>"" names one from the catalogue.');

    // Someone who reads only their own risks counts only those; the list is a read and writes nothing.
    const own = await bot.say('owner', '/isms threats', at);
    expect(field(own, 'T-IS-004', 'Your risks')).toBe('2 (R-0001, R-0002)');
    expect(toPlainText(own)).not.toContain('R-0004');
    expect(await bot.sayText('staff', '/isms threats', at)).toContain('No risk you own names any of the 15 threats yet.');
    expect(await bot.t.db.select().from(auditEvents).where(eq(auditEvents.entity, 'threat'))).toEqual([]);
    expect(await bot.sayText('lead', '/isms threats T-IS-004', at)).not.toContain('Nothing was recorded');
  });

  it('counts every risk naming a threat but names only the first ten of each, old free text read as the id it means', async () => {
    // R-0001 to R-0025 under T-IS-004 (one typed " t-is-4 " before threats were checked), R-0026 to R-0037 outside the catalogue.
    for (let i = 1; i <= 25; i++) await oldRisk(bot, `Drift ${i}`, i === 3 ? ' t-is-4 ' : 'T-IS-004');
    for (let i = 1; i <= 12; i++) await oldRisk(bot, `Old ${i}`, i === 1 ? 'T-IS-016' : `phishing ${i}`);
    await bot.t.db.update(risks).set({ ownerId: bot.ids.owner }).where(eq(risks.ref, 'R-0025'));

    const listed = await bot.say('lead', '/isms threats', at);
    const first = Array.from({ length: 10 }, (_, i) => `R-${String(i + 1).padStart(4, '0')}`).join(', ');
    expect(field(listed, 'T-IS-004', 'Risks')).toBe(`25 (${first}, and 15 more)`);
    const said = toPlainText(listed);
    expect(said).toContain('Risks in the register name 1 of the 15 threats; the other 14 are named by no risk.');
    expect(said).toContain('12 risks name threats not in the catalogue, recorded as free text before threats were checked: R-0026 "T-IS-016", R-0027 "phishing 2", '
      + 'R-0028 "phishing 3", R-0029 "phishing 4", R-0030 "phishing 5", R-0031 "phishing 6", R-0032 "phishing 7", R-0033 "phishing 8", R-0034 "phishing 9", '
      + 'R-0035 "phishing 10", and 2 more.');
    expect(field(await bot.say('owner', '/isms threats', at), 'T-IS-004', 'Your risks')).toBe('1 (R-0025)');
  });

  it('says how many threats the risks name in plain words: none, some and all', async () => {
    expect(await bot.sayText('lead', '/isms threats', at)).toContain('No risk in the register names any of the 15 threats yet.');
    await bot.say('lead', add('Controls drift after the migration', 'T-IS-004'), at);
    expect(await bot.sayText('lead', '/isms threats', at)).toContain('Risks in the register name 1 of the 15 threats; the other 14 are named by no risk.');
    for (let i = 1; i <= 15; i++) {
      const id = `T-IS-${String(i).padStart(3, '0')}`;
      if (i !== 4) expect(await bot.say('lead', add(`Risk under ${id}`, id), at)).toMatchObject({ outcome: 'recorded' });
    }
    const said = await bot.sayText('lead', '/isms threats', at);
    expect(said).toContain('Risks in the register name all 15 threats.');
    expect(said).not.toContain('other 0');
  });

  it('changes a risk\'s threat with risk update, checked as risk add checks it, with the before and after in the audit trail', async () => {
    await bot.say('lead', add('Controls drift after the migration', 'T-IS-004'), at);
    const audit = await bot.auditCount();
    for (const typo of ['T-IS-04', 'phishing']) {
      const answer = await bot.sayText('owner', `/isms risk update R-0001 --threat ${typo} "it is about AI tools"`, at);
      expect(answer, typo).toContain(`threat: "${typo}" is not in the threat catalogue (T-IS-001 to T-IS-015); "/isms threats" lists them with their names.`);
      expect(answer, typo).toContain('Nothing was recorded.');
    }
    expect(await bot.auditCount()).toBe(audit);

    const changed = await bot.sayText('owner', '/isms risk update R-0001 --threat t-is-12 "it is about AI tools"', at);
    expect(changed).toContain('R-0001 (Controls drift after the migration): threat T-IS-004 Control degradation and operational drift → T-IS-012 Shadow AI usage outside ISMS scope.');
    expect(changed).toContain('Threat: T-IS-012 Shadow AI usage outside ISMS scope');
    expect((await bot.t.db.select().from(risks)).map((r) => r.threatRef)).toEqual(['T-IS-012']);
    const events = await bot.t.db.select().from(auditEvents).orderBy(asc(auditEvents.seq));
    expect(events.slice(audit).map((e) => `${e.action} ${e.entity} ${e.entityRef}`)).toEqual(['update risk R-0001']);
    expect(events.at(-1)).toMatchObject({ before: { threatRef: 'T-IS-004' }, after: { threatRef: 'T-IS-012' } });
    expect(field(await bot.say('lead', '/isms risks', at), 'R-0001', 'Threat')).toBe('T-IS-012 Shadow AI usage outside ISMS scope');
    expect(await bot.sayText('owner', '/isms risk update R-0001 --threat T-IS-012 "again"', at)).toContain('nothing changed');
    expect(await bot.sayText('lead', '/isms help risk update', at)).toContain('--threat <threat, e.g. T-IS-004>');
  });

  it('keeps why a risk was reassessed in its own audit event, a change of threat alone too, as the exported audit trail shows it', async () => {
    await bot.say('lead', add('Controls drift after the migration', 'T-IS-004'), at);
    await bot.say('owner', '/isms risk update R-0001 --threat T-IS-012 "the drift comes from AI tools nobody declared"', at);
    await bot.say('owner', '/isms risk update R-0001 --residual 2x3 "restores are now tested monthly"', at);
    const trail = (await ARTEFACTS.find((a) => a.name === 'audit-trail')!.page(bot.t.db, 0, 100, {})).map((r) => r.row)
      .filter((e) => e.entity === 'risk' && e.entityRef === 'R-0001' && e.action === 'update');
    expect(trail.map((e) => JSON.parse(String(e.after)) as Record<string, unknown>)).toMatchObject([
      { threatRef: 'T-IS-012', rationale: 'the drift comes from AI tools nobody declared' },
      { residualScore: 6, rationale: 'restores are now tested monthly' },
    ]);
  });

  it('keeps showing threats recorded as free text before the catalogue was checked', async () => {
    await oldRisk(bot, 'Phishing of the finance team', 'phishing campaign');
    await oldRisk(bot, 'Controls drift', 't-is-004');
    const listed = await bot.say('lead', '/isms risks', at);
    expect(field(listed, 'R-0001', 'Threat')).toBe('phishing campaign');
    expect(field(listed, 'R-0002', 'Threat')).toBe('T-IS-004 Control degradation and operational drift');
    expect((await exported(bot)).map((r) => r.threat)).toEqual(['phishing campaign', 'T-IS-004 Control degradation and operational drift']);
  });
});

describe('the threat catalogue in the terminal', () => {
  let register: Register;
  beforeAll(async () => { register = await exampleRegister(); });
  afterAll(async () => { await register.dispose(); });

  it('the risk form offers the threats as a menu, a typed typo is refused, and "/isms threats" counts the risk added', async () => {
    const typo = '/isms risk add "Shadow AI in marketing" --likelihood 3 --impact 4 --treatment mitigate --threat T-IS-04';
    const out = await pipedSession(register, typo, '/isms risk add', 'Shadow AI in marketing', '', '3', '4', '', 'mitigate', '', '', '', 't-is-012', '/isms threats');

    expect(answerTo(out, typo)).toContain('threat: "T-IS-04" is not in the threat catalogue (T-IS-001 to T-IS-015); "/isms threats" lists them with their names. Nothing was recorded.');
    expect(out).toContain('Threat (optional) — type one of the values below (or its name):\n  T-IS-001 Governance failure without structured risk assessment\n');
    expect(out).toContain('Threat: T-IS-012 Shadow AI usage outside ISMS scope');
    const listed = answerTo(out, '/isms threats');
    expect(listed).toContain('Threat catalogue');
    expect(listed).toMatch(/T-IS-012 Shadow AI usage outside ISMS scope\n\s+Risks: 1 \(R-\d{4}\)/);
    expect(listed).toMatch(/T-IS-001 Governance failure without structured risk assessment[^\n]*\n(?:[^\n]*\n)?\s+Risks: none/);
    await register.withDb(async (db) => {
      expect((await db.select().from(risks).where(eq(risks.title, 'Shadow AI in marketing'))).map((r) => r.threatRef)).toEqual(['T-IS-012']);
    });
  }, SESSION_TIMEOUT);
});
