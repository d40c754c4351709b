import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { aiTools, auditEvents, evidenceItems, riskAcceptances, risks, suppliers } from '../src/db/schema/index.js';
import { answerTo, exampleRegister, pipedSession, type Register } from './helpers/process.js';

/** A start costs several seconds (tsx, PGlite, the example import). */
const SESSION_TIMEOUT = 240_000;

/** Someone trying the bot for the first time: `npm start` on an empty register, then what they type first. */
describe('a first session in the terminal', () => {
  let register: Register;
  beforeEach(async () => { register = await exampleRegister(); });
  afterEach(async () => { await register.dispose(); });

  it('a quote left open is refused, naming where, with an example, and nothing is recorded', async () => {
    const lines = [
      '/isms declare ai "Chat GPT --vendor OpenAI',
      '/isms declare ai „Otter --vendor Otter.ai',
      "/isms declare ai don't-know",
    ];
    const out = await pipedSession(register, ...lines);

    expect(answerTo(out, lines[0])).toContain('✖ A quote is opened and never closed (at: "Chat GPT --vendor OpenAI), so I cannot tell where that text ends. Nothing was recorded.');
    expect(answerTo(out, lines[0])).toContain('Close it and send the command again, e.g. /isms declare ai ChatGPT "drafting customer emails"');
    expect(answerTo(out, lines[1])).toContain('✖ A quote is opened and never closed (at: „Otter --vendor Otter.ai)');
    // An apostrophe is no quote.
    expect(answerTo(out, lines[2])).toContain("✔ Recorded don't-know in the AI register");
    await register.withDb(async (db) => {
      expect((await db.select({ name: aiTools.name }).from(aiTools)).map((t) => t.name)).toEqual(["don't-know"]);
      const events = await db.select({ entity: auditEvents.entity, ref: auditEvents.entityRef }).from(auditEvents);
      expect(events.filter((e) => e.entity === 'ai_tool').map((e) => e.ref)).toEqual(['AI-0001']);
    });
  }, SESSION_TIMEOUT);

  it('a wrong item of a list is named as typed, under the field as the person knows it', async () => {
    const line = '/isms declare ai Copilot --data internal,secret';
    const out = await pipedSession(register, line);

    const answer = answerTo(out, line);
    expect(answer).toContain('✖ That didn\'t work: data: each data category must be one of public, internal, confidential, personal, customer ("secret" is not). Nothing was recorded.');
    expect(answer).not.toContain('data.1');
  }, SESSION_TIMEOUT);

  it('a list typed with spaces after its commas is one list, not a list and a stray word', async () => {
    const lines = ['/isms declare ai ChatGPT --data internal, customer --users 12', '/isms declare ai Otter --data personal ,customer'];
    const out = await pipedSession(register, ...lines);

    expect(answerTo(out, lines[0])).toContain('  Data: internal, customer\n');
    expect(answerTo(out, lines[0])).not.toContain('Purpose:');
    expect(answerTo(out, lines[1])).toContain('  Data: personal, customer\n');
    await register.withDb(async (db) => {
      const tools = await db.select().from(aiTools).orderBy(aiTools.name);
      expect(tools.map((t) => [t.name, t.purpose, t.dataCategories])).toEqual([['ChatGPT', null, ['internal', 'customer']], ['Otter', null, ['personal', 'customer']]]);
    });
  }, SESSION_TIMEOUT);

  it('an option without its value, an option given twice or a missing name is refused, saying what to type, and nothing is recorded', async () => {
    const lines = [
      '/isms declare ai ChatGPT --vendor',
      '/isms declare ai ChatGPT --data internal --data customer',
      '/isms declare supplier Hooli --ict yes --critical no --data personal --data customer',
      '/isms declare ai --vendor OpenAI',
      '/isms approvals --all',
      '/isms help approvals',
    ];
    const out = await pipedSession(register, ...lines);

    expect(answerTo(out, lines[0])).toContain('✖ --vendor needs a value after it in "/isms declare ai": --vendor <name>. Nothing was recorded.');
    expect(answerTo(out, lines[1])).toContain('✖ --data is given twice in "/isms declare ai"; give it once. To give several, separate them with commas: --data internal,customer. Nothing was recorded.');
    expect(answerTo(out, lines[2])).toContain('✖ --data is given twice in "/isms declare supplier"; give it once. Nothing was recorded.');
    expect(answerTo(out, lines[3])).toContain('✖ That didn\'t work: tool: is required (the AI tool or service). Nothing was recorded.');
    // A switch alone is still "yes", and help shows it as one.
    expect(answerTo(out, lines[4])).toContain('Management-body approvals');
    expect(answerTo(out, lines[5])).toContain('Usage: /isms approvals [--all] [--page <n>]');
    await register.withDb(async (db) => {
      expect(await db.select().from(aiTools)).toEqual([]);
      expect(await db.select().from(suppliers).where(eq(suppliers.name, 'Hooli'))).toEqual([]);
    });
  }, SESSION_TIMEOUT);

  it('a date that does not exist, or is written day first, is refused saying why and how to write it; German quotes work', async () => {
    const lines = [
      '/isms risk accept R-0002 „residual is fine“ --until 31.02.2028',
      '/isms risk accept R-0002 „residual is fine“ --until 2028-02-31',
      '/isms risk accept R-0002 „residual is fine“ --until 31.12.2028',
      '/isms risk accept R-0002 „residual is fine“ --until 31.12.',
      '/isms risk accept R-0002 „residual is fine“ --until 2028/12/31',
      '/isms risk accept R-0002 „residual is fine“ --until 2028-12-31',
    ];
    const out = await pipedSession(register, ...lines);

    expect(answerTo(out, lines[0])).toContain('✖ That didn\'t work: until: must be a date written YYYY-MM-DD, e.g. 2026-12-31 — 31.02.2028 does not exist (February 2028 has 29 days). Nothing was recorded.');
    expect(answerTo(out, lines[1])).toContain('— 2028-02-31 does not exist (February 2028 has 29 days).');
    expect(answerTo(out, lines[2])).toContain('— 31.12.2028 is written day first: 2028-12-31.');
    expect(answerTo(out, lines[3])).toContain('— 31.12. needs its year: YYYY-12-31.');
    expect(answerTo(out, lines[4])).toContain('— write it 2028-12-31.');
    expect(answerTo(out, lines[5])).toContain('✔ Accepted R-0002');
    expect(answerTo(out, lines[5])).toContain('  Rationale: residual is fine\n');
    await register.withDb(async (db) => {
      const [risk] = await db.select().from(risks).where(eq(risks.ref, 'R-0002'));
      expect((await db.select().from(riskAcceptances).where(eq(riskAcceptances.riskId, risk.id))).map((a) => a.rationale)).toEqual(['residual is fine']);
    });
  }, SESSION_TIMEOUT);

  it('a declared supplier\'s tier reads in words, as triage and the register show it', async () => {
    const line = '/isms declare supplier Acme "payroll service" --ict yes --critical no --data personal';
    const out = await pipedSession(register, line, '/isms triage');

    expect(answerTo(out, line)).toContain('Criticality tier: tier 2 (important)');
    expect(answerTo(out, line)).not.toContain('tier2_important');
    expect(answerTo(out, '/isms triage')).toContain('Tier: tier 2 (important)');
  }, SESSION_TIMEOUT);

  it('a form asks a menu question again when the answer is none of its choices, and then records what was chosen', async () => {
    const out = await pipedSession(register, '/isms declare supplier', 'Globex', 'hosting', 'maybe', 'yes', 'no', 'no', 'none');

    expect(out).toContain('Does it provide an ICT service? [yes | no]: maybe\n✖ "maybe" is not one of the choices (yes, no). Answer again, or "/cancel".\nDoes it provide an ICT service? [yes | no]: yes\n');
    expect(out).toContain('✖ "no" is not one of the choices (none, internal, personal, customer, personal_and_customer).');
    expect(out).toContain('✔ Recorded Globex in the supplier register');
    expect(out).not.toContain('That didn\'t work');
    await register.withDb(async (db) => {
      const [globex] = await db.select().from(suppliers).where(eq(suppliers.name, 'Globex'));
      expect(globex).toMatchObject({ ictService: true, supportsCriticalFunction: false, dataAccess: 'none' });
    });
  }, SESSION_TIMEOUT);

  it('a command copied with its button label, prompt or backticks, or pasted after a slash or after "/isms ", runs as the command', async () => {
    const lines = ['[Attest] /isms attest SEC-AWARE', '> /whoami', '`/isms training`', '/isms declare ai', '[Cancel] `/cancel`',
      '//isms status', '/isms /isms policies', '/isms isms poam', '/isms help /isms poam done'];
    const out = await pipedSession(register, ...lines);

    expect(answerTo(out, lines[0])).toContain('✔ Recorded your completion of SEC-AWARE');
    expect(answerTo(out, lines[1])).toContain('You are Iris Lindqvist <iris@northwind.example>');
    expect(answerTo(out, lines[2])).toMatch(/SEC-AWARE .*valid until/);
    expect(answerTo(out, lines[3])).toContain('AI tool: [Cancel] `/cancel`\nCancelled; nothing was recorded.');
    expect(answerTo(out, lines[5])).toContain('Iris Lindqvist, 2 things wait for you.');
    expect(answerTo(out, lines[6])).toContain('POL-0001 Information Security Policy');
    expect(answerTo(out, lines[7])).toContain('You own no open POA&M items.');
    expect(answerTo(out, lines[8])).toContain('Usage: /isms poam done <POAM-ref>');
    expect(out).not.toContain('Commands start with');
    expect(out).not.toContain('I don\'t know the command');
    await register.withDb(async (db) => {
      expect(await db.select().from(aiTools)).toEqual([]);
    });
  }, SESSION_TIMEOUT);

  it('a command typed without "/isms" runs, a mistyped one is answered with the nearest, a sentence is told how commands are typed, and "exit" leaves', async () => {
    const lines = ['status', 'declare ai Fireflies "meeting notes" --data internal', 'staus', 'what do I have to do?', 'whoami', 'exit', 'declare ai Otter'];
    const out = await pipedSession(register, ...lines);

    // The lead's status, whatever waits for them on the day the example is loaded.
    expect(answerTo(out, lines[0])).toContain('Programme at a glance');
    expect(answerTo(out, lines[1])).toContain('✔ Recorded Fireflies in the AI register as AI-0001.');
    expect(answerTo(out, lines[2])).toContain('Did you mean "/isms status"?');
    expect(answerTo(out, lines[3])).toContain('That is not a command: "/isms help" lists them (in the terminal "/isms" may be left out, e.g. "status").');
    expect(answerTo(out, lines[4])).toContain('You are Iris Lindqvist');
    // After "exit" the session has ended: the line after it is never run.
    expect(out).not.toContain('> declare ai Otter');
    await register.withDb(async (db) => {
      expect((await db.select({ name: aiTools.name }).from(aiTools)).map((t) => t.name)).toEqual(['Fireflies']);
    });
  }, SESSION_TIMEOUT);

  it('"/as" takes a role or a quoted name, shows who is in the register when nobody matches, with whom a typo meant, and "/isms help as" explains it', async () => {
    const out = await pipedSession(register, '/as auditor', '/whoami', '/as the boss', '/as', '/as auditors', '/as Iris Lindquist', '/as "Sam Novak"', '/isms help as', '/isms whoami', '/isms as auditor');

    expect(answerTo(out, '/as auditor')).toContain('Now acting as Henrik Aalto <henrik.aalto@northwind.example> (auditor).');
    expect(answerTo(out, '/whoami')).toContain('You are Henrik Aalto');
    const nobody = answerTo(out, '/as the boss');
    expect(nobody).toContain('✖ Nobody in the register matches "the boss". Use an email address or a name.');
    expect(nobody).toContain('People in the register (a role works too, e.g. "/as auditor"):');
    expect(nobody).toContain('  Sam Novak <sam.novak@northwind.example> (staff)');
    expect(nobody).toContain('  Katrin Vogel <katrin.vogel@northwind.example> (management body)');
    const bare = answerTo(out, '/as');
    expect(bare).toContain('✖ Say who to act as: "/as <email or name>".');
    expect(bare).toContain('  Iris Lindqvist <iris@northwind.example> (ISMS lead, control owner)');
    expect(bare).not.toContain('sam@example.com');
    expect(answerTo(out, '/as auditors')).toContain('Now acting as Henrik Aalto');
    expect(answerTo(out, '/as Iris Lindquist')).toContain('✖ Nobody in the register matches "Iris Lindquist". Did you mean Iris Lindqvist ("/as iris@northwind.example")?');
    expect(answerTo(out, '/as "Sam Novak"')).toContain('Now acting as Sam Novak <sam.novak@northwind.example> (staff).');
    const help = answerTo(out, '/isms help as');
    expect(help).toContain('  /as <email, name or role>: act as someone else in the register, e.g. "/as auditor"; "/as" alone lists people');
    expect(help).not.toContain('/isms ack');
    // The terminal's own commands typed after "/isms" run as meant, and say how they are typed.
    expect(answerTo(out, '/isms whoami')).toContain('("/whoami" is the terminal\'s own command: it is typed without "/isms".)');
    expect(answerTo(out, '/isms whoami')).toContain('You are Sam Novak');
    expect(answerTo(out, '/isms as auditor')).toContain('Now acting as Henrik Aalto');
  }, SESSION_TIMEOUT);
  it('a file path as a terminal hands it over (dragged in quotes, spaces escaped, under ~) is the file, on the line and in the form', async () => {
    // The home folder of this session is the register's folder, so "~" is known.
    const home = register.cwd;
    await mkdir(path.join(home, 'Evidence Q3'));
    await writeFile(path.join(home, 'Evidence Q3', 'restore test.txt'), 'restore completed in 3 h');
    const lines = [
      "/isms evidence submit CTL-GOV-01 --file '" + path.join(home, 'Evidence Q3', 'restore test.txt') + "'",
      '/isms evidence submit CTL-GOV-01 "restore log" --file ~/Evidence\\ Q3/restore\\ test.txt',
      '/isms evidence submit CTL-GOV-01 --file ~/missing.pdf',
    ];
    const out = await pipedSession({ ...register, env: { ...register.env, HOME: home } }, ...lines, '/isms evidence submit', 'CTL-GOV-01', '', '', "'~/Evidence Q3/restore test.txt'");

    expect(answerTo(out, lines[0])).toContain('File: restore test.txt (24 bytes)');
    expect(answerTo(out, lines[1])).toContain('File: restore test.txt (24 bytes)');
    expect(answerTo(out, lines[2])).toContain(`✖ Cannot find the file "${path.join(home, 'missing.pdf')}": check the path. Nothing was recorded.`);
    expect(answerTo(out, '/isms evidence submit')).toContain('File: restore test.txt (24 bytes)');
    await register.withDb(async (db) => {
      expect((await db.select().from(evidenceItems)).map((e) => e.fileName)).toEqual(['restore test.txt', 'restore test.txt', 'restore test.txt']);
    });
  }, SESSION_TIMEOUT);
});
