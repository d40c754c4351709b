import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { aiTools, auditEvents, controls, riskAcceptances, riskControls, risks, suppliers } from '../src/db/schema/index.js';
import { answerTo, exampleRegister, pipedSession, type Register } from './helpers/process.js';

/** A start costs several seconds (tsx, PGlite, the example import). */
const SESSION_TIMEOUT = 240_000;

const SAM = 'sam.novak@northwind.example';

describe('a command typed while a form in the terminal asks its questions', () => {
  let register: Register;
  beforeEach(async () => { register = await exampleRegister(); });
  afterEach(async () => { await register.dispose(); });

  const terminal = (...lines: string[]) => pipedSession(register, ...lines);

  it('leaves the form, records nothing, says so, and runs the command', async () => {
    // The blank line would have submitted the form with the command as the rationale.
    const out = await terminal('/isms risk accept R-0002', '/isms risks', '');

    expect(answerTo(out, '/isms risk accept R-0002')).toContain('The form for risk accept was left; nothing was recorded.');
    const list = answerTo(out, '/isms risks');
    expect(list).toContain('Risk register');
    expect(list).toContain('• R-0002 ');
    await register.withDb(async (db) => {
      const [risk] = await db.select().from(risks).where(eq(risks.ref, 'R-0002'));
      expect(await db.select().from(riskAcceptances).where(eq(riskAcceptances.riskId, risk.id))).toEqual([]);
      expect(risk.treatment).toBe('mitigate');
      expect(await db.select().from(auditEvents).where(and(eq(auditEvents.entityRef, 'R-0002'), eq(auditEvents.action, 'accept')))).toEqual([]);
    });
  }, SESSION_TIMEOUT);

  it('"/as" in a form changes who acts for the next command; "/cancel" still cancels; "/quit" in a form quits', async () => {
    const declare = '/isms declare ai Grammarly "proofreading"';
    const out = await terminal(
      '/isms declare supplier', 'Acme Cloud', '/cancel',
      '/isms declare supplier', `/as ${SAM}`, declare, '/whoami',
      '/isms declare supplier', 'Other Cloud', '/quit', '/isms status',
    );

    expect(out).toContain('Supplier: Acme Cloud\n');
    expect(answerTo(out, '/isms declare supplier')).toContain('Cancelled; nothing was recorded.');
    const cancelled = out.indexOf('Cancelled');
    expect(answerTo(out, '/isms declare supplier', cancelled)).toContain('The form for declare supplier was left; nothing was recorded.');
    expect(answerTo(out, `/as ${SAM}`)).toContain(`Now acting as Sam Novak <${SAM}> (staff).`);
    expect(answerTo(out, declare)).toContain('✔ Recorded Grammarly in the AI register');
    expect(answerTo(out, '/whoami')).toContain(`You are Sam Novak <${SAM}>`);
    expect(out).toMatch(/Supplier: Other Cloud\nThe form for declare supplier was left; nothing was recorded.\n> \/quit\n$/);
    await register.withDb(async (db) => {
      const [tool] = await db.select().from(aiTools).where(eq(aiTools.name, 'Grammarly'));
      const [declared] = await db.select().from(auditEvents).where(eq(auditEvents.entityRef, tool.ref));
      expect(declared.actorLabel).toContain(SAM);
      const swallowed = ['Acme Cloud', 'Other Cloud', `/as ${SAM}`, declare, '/quit'];
      expect(await db.select().from(suppliers).where(inArray(suppliers.name, swallowed))).toEqual([]);
    });
  }, SESSION_TIMEOUT);
});

describe('a form\'s menus in the terminal', () => {
  let register: Register;
  beforeAll(async () => { register = await exampleRegister(); });
  afterAll(async () => { await register.dispose(); });

  it('lists the threats with their names under the risk form\'s question, once, and keeps a menu of bare values on its question line', async () => {
    const out = await pipedSession(register, '/isms risk add', 'Shadow AI in marketing', '', '3', '4', '', 'mitigate', '', '', '', 't-is-99', 'shadow', 't-is', '?', 't-is-012');

    expect(out).toContain('Likelihood (1-5): 3\nImpact (1-5): 4\n');
    expect(out).toContain('Treatment [mitigate | accept | transfer | avoid]: mitigate\n');
    expect(out).toMatch(/\nAssets \(optional\) — type one or more of the values below, separated by commas \(or their names\):\n {2}AST-0001 \S/);
    expect(out).toContain([
      'Threat (optional) — type one of the values below (or its name):',
      '  T-IS-001 Governance failure without structured risk assessment',
    ].join('\n'));
    expect(out).toContain('\n  T-IS-004 Control degradation and operational drift\n');
    // A wrong answer names what was typed and the closest choices, not all fifteen again.
    expect(out).toMatch(/\n {2}T-IS-015 [^\n]+\nThreat: t-is-99\n✖ "t-is-99" is not one of the 15 choices\. The closest: T-IS-009 Supply chain security gaps\. Answer again \("\?" lists them all again\), or "\/cancel"\.\nThreat: shadow\n/);
    expect(out).toContain('Threat: shadow\n✖ "shadow" is not one of the 15 choices. The closest: T-IS-012 Shadow AI usage outside ISMS scope. Answer again');
    // A word every choice has points at none of them.
    expect(out).toContain('Threat: t-is\n✖ "t-is" is not one of the 15 choices. Answer again ("?" lists them all again), or "/cancel".\n');
    expect(out).not.toContain('T-IS-001, T-IS-002');
    // Asked again, the question does not repeat the fifteen lines just above it, unless "?" asks for them.
    expect(out.split('T-IS-004 Control degradation').length - 1).toBe(2);
    expect(out).toMatch(/\nThreat: \?\nThreat \(optional\) — type one of the values below \(or its name\):\n {2}T-IS-001 /);
    expect(out).toContain('Threat: T-IS-012 Shadow AI usage outside ISMS scope');
    await register.withDb(async (db) => {
      expect((await db.select().from(risks).where(eq(risks.title, 'Shadow AI in marketing'))).map((r) => r.threatRef)).toEqual(['T-IS-012']);
    });
  }, SESSION_TIMEOUT);

  it('takes a choice whose name has commas in it whole, by its name, among others separated by commas', async () => {
    const chosen = 'CTL-AST-01 Inventory, acceptable use, classification, labelling and transfer of information and assets, Identity lifecycle, need-to-know access and privileged utilities,ctl-ac-01';
    const out = await pipedSession(register, '/isms risk add', 'Untracked laptops', '', '2', '3', '', 'mitigate', '', 'Corporate laptops', chosen, '');

    expect(out).toContain('Controls (optional) — type one or more of the values below, separated by commas (or their names; a name with commas in it counts as one):\n');
    expect(out).not.toContain('is not one of the');
    expect(out).toContain('  Controls: CTL-AC-01, CTL-AST-01, CTL-IAM-01\n');
    await register.withDb(async (db) => {
      const [risk] = await db.select().from(risks).where(eq(risks.title, 'Untracked laptops'));
      const linked = await db.select({ code: controls.code }).from(riskControls).innerJoin(controls, eq(controls.id, riskControls.controlId)).where(eq(riskControls.riskId, risk.id));
      expect(linked.map((c) => c.code).sort()).toEqual(['CTL-AC-01', 'CTL-AST-01', 'CTL-IAM-01']);
    });
  }, SESSION_TIMEOUT);

  it('asks again only the questions whose answers were refused, keeping the others, and says how a date is written', async () => {
    const out = await pipedSession(register, '/isms risk accept R-0002', 'residual is fine', '31.02.2028', '2028-02-28');

    expect(out).toContain([
      'Why does the organisation accept this risk? residual is fine',
      'Accepted until (YYYY-MM-DD): 31.02.2028',
      '✖ That didn\'t work: until: must be a date written YYYY-MM-DD, e.g. 2026-12-31 — 31.02.2028 does not exist (February 2028 has 29 days). Nothing was recorded.',
      'Answer again: Accepted until (the other answers are kept; "/cancel" stops).',
      'Accepted until (YYYY-MM-DD): 2028-02-28',
      '✔ Accepted R-0002 (Prolonged outage of the cloud provider hosting the payment platform) at residual score 6, within the risk appetite of 8, until 2028-02-28.',
    ].join('\n'));
    await register.withDb(async (db) => {
      const [risk] = await db.select().from(risks).where(eq(risks.ref, 'R-0002'));
      const accepted = await db.select().from(riskAcceptances).where(eq(riskAcceptances.riskId, risk.id));
      expect(accepted.map((a) => a.rationale)).toEqual(['residual is fine']);
    });
  }, SESSION_TIMEOUT);

  it('shows a value beside a label that does not begin with it, and takes the label as an answer', async () => {
    const out = await pipedSession(register, '/isms declare supplier', 'Initech', 'payroll', 'yes', 'no', 'personal and customer data');

    expect(out).toContain('Does it provide an ICT service? [yes | no]: yes\n');
    expect(out).toContain([
      'Does it touch personal or customer data? — type one of the values below (or its name):',
      '  none',
      '  internal data only',
      '  personal data',
      '  customer data',
      '  personal_and_customer  personal and customer data',
      'Does it touch personal or customer data? personal and customer data',
    ].join('\n'));
    expect(out).toContain('✔ Recorded Initech in the supplier register');
    await register.withDb(async (db) => {
      expect((await db.select().from(suppliers).where(eq(suppliers.name, 'Initech'))).map((s) => s.dataAccess)).toEqual(['personal_and_customer']);
    });
  }, SESSION_TIMEOUT);
});
