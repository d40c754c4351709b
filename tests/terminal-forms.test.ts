import { and, eq, inArray } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { aiTools, auditEvents, riskAcceptances, risks, suppliers } from '../src/db/schema/index.js';
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
