import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT, answerTo, freshRegister, runScript, session, type Register } from './helpers/process.js';

/** A start and a session cost several seconds each (tsx, PGlite boot, the example import on the first start). */
const SESSION_TIMEOUT = 240_000;

interface ExamplePerson { name: string; email: string; roles: string[] }

describe('the terminal chat (npm start)', () => {
  let register: Register;
  let lead: ExamplePerson;
  let staff: ExamplePerson;

  beforeAll(async () => {
    const example = parse(await readFile(path.join(ROOT, 'examples/example-org.yaml'), 'utf8')) as { people: ExamplePerson[] };
    lead = example.people.find((p) => p.roles.includes('isms_lead'))!;
    staff = example.people.find((p) => p.roles.includes('staff'))!;
    register = await freshRegister();
  });
  afterAll(async () => { await register?.dispose(); });

  it('on the first start loads the example, answers /isms help, /whoami, /as and declare ai, hints at non-commands, and exits 0 at end of input', async () => {
    const missingFile = `/isms evidence submit CTL-GOV-01 "policy review minutes" --file ${path.join(register.cwd, 'missing.pdf')}`;
    const result = await runScript('src/main.ts', [], {
      env: register.env,
      cwd: register.cwd,
      stdin: session('/isms help', '/whoami', 'what do I have to do?', '/isms triag', missingFile, `/as ${staff.email}`, '/isms declare ai ChatGPT'),
    });
    const out = result.stdout;
    expect(result.code, result.stderr).toBe(0);
    expect(out).toMatch(/register was empty, so the example organisation .* was loaded/);

    const help = answerTo(out, '/isms help');
    for (const command of ['/isms declare ai <tool>', '/isms evidence submit', '/isms ack <policy id>', '/isms attest <course code>', '/isms poam extend', '/isms triage']) {
      expect(help).toContain(command);
    }
    expect(answerTo(out, '/whoami')).toContain(`You are ${lead.name} <${lead.email}> (ISMS lead`);
    expect(answerTo(out, 'what do I have to do?')).toContain('That is not a command: "/isms help" lists them (in the terminal "/isms" may be left out, e.g. "status").');
    expect(answerTo(out, '/isms triag')).toContain('Did you mean "/isms triage"?');
    expect(answerTo(out, missingFile)).toContain(`✖ Cannot find the file "${path.join(register.cwd, 'missing.pdf')}": check the path. Nothing was recorded.`);
    expect(answerTo(out, `/as ${staff.email}`)).toContain(`Now acting as ${staff.name} <${staff.email}> (staff)`);
    expect(answerTo(out, '/isms declare ai ChatGPT')).toContain('✔ Recorded ChatGPT in the AI register as AI-0001.');
  }, SESSION_TIMEOUT);

  // Continues the register of the test above.
  it('after a restart on the same register still shows the declaration, without loading the example again', async () => {
    const result = await runScript('src/main.ts', [], {
      env: register.env,
      cwd: register.cwd,
      stdin: session('/whoami', '/isms register ai', `/as ${staff.name}`),
    });
    const out = result.stdout;
    expect(result.code, result.stderr).toBe(0);
    expect(out).not.toContain('example organisation');
    expect(answerTo(out, '/whoami')).toContain(`You are ${lead.name} <${lead.email}>`);
    const aiRegister = answerTo(out, '/isms register ai');
    expect(aiRegister).toContain('• AI-0001 ChatGPT — declared');
    expect(aiRegister).toContain(`Declared: by ${staff.name}`);
    expect(aiRegister).not.toContain('AI-0002');
    // "/as" takes a name as well as an email address.
    expect(answerTo(out, `/as ${staff.name}`)).toContain(`Now acting as ${staff.name} <${staff.email}>`);
  }, SESSION_TIMEOUT);
});
