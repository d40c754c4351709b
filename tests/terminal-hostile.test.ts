import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/client.js';
import { aiTools, auditEvents, evidenceItems, evidenceRequests, people, riskAcceptances } from '../src/db/schema/index.js';
import { answerTo, exampleRegister, pipedSession, type Register } from './helpers/process.js';

/** A start costs several seconds (tsx, PGlite). */
const SESSION_TIMEOUT = 240_000;

/** Bytes that would colour the terminal, set its window title or move its cursor. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const TERMINAL_CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;


describe('hostile text in the terminal', () => {
  let register: Register;
  beforeEach(async () => { register = await exampleRegister(); });
  afterEach(async () => { await register.dispose(); });

  const terminal = (...lines: string[]) => pipedSession(register, ...lines);

  it('names from the register and attached file names are shown without escape sequences', async () => {
    // Written into the register by another way in: the terminal must not take it as commands.
    await register.withDb(async (db) => {
      const [someone] = await db.select().from(people).limit(1);
      await db.insert(aiTools).values({ ref: 'AI-0900', name: 'Evil\u001b]0;owned\u0007 Tool\u001b[2J\u001b[H', declaredBy: someone.id });
    });
    const fileName = '\u001b[31mred\u001b[0m-\u001b]0;title\u0007report.csv';
    const file = path.join(register.cwd, fileName);
    await writeFile(file, 'account,reviewed\n');
    const submit = `/isms evidence submit CTL-GOV-01 "quarterly access review" --file ${file}`;

    const out = await terminal('/isms register ai', submit);

    expect(answerTo(out, '/isms register ai')).toContain('• AI-0900 Evil Tool');
    expect(out).toContain('✔ Recorded EV-');
    expect(out).toContain('File: red-report.csv (17 bytes)');
    expect(out).not.toMatch(TERMINAL_CONTROL);
    // The register keeps the name as the file had it; only the terminal's view is cleaned.
    await register.withDb(async (db) => {
      expect((await db.select({ name: evidenceItems.fileName }).from(evidenceItems)).map((e) => e.name)).toContain(fileName);
    });
  }, SESSION_TIMEOUT);

  it('a control character or an absurd date typed into a field is refused naming the field, and nothing is written', async () => {
    const count = async (db: Db) => ({
      audit: (await db.select().from(auditEvents)).length,
      tools: (await db.select().from(aiTools)).length,
      acceptances: (await db.select().from(riskAcceptances)).length,
      requests: (await db.select().from(evidenceRequests)).length,
    });
    let before: Awaited<ReturnType<typeof count>> | undefined;
    await register.withDb(async (db) => { before = await count(db); });
    const nul = '/isms declare ai Chat\u0000GPT "drafting emails"';
    const farFuture = '/isms risk accept R-0002 "costs more than the exposure" --until 9999-12-31';

    const out = await terminal(
      nul,
      '/isms risk accept R-0002', 'the \u001b]0;owned\u0007 exposure is small', '',
      farFuture,
      '/isms request', 'CTL-GOV-01', '9999-12-31',
    );

    expect(answerTo(out, nul.replace('\u0000', ''))).toContain('✖ The tool holds a control character (such as NUL or ESC) that cannot be recorded.');
    expect(out).toContain('✖ The rationale holds a control character (such as NUL or ESC) that cannot be recorded.');
    expect(answerTo(out, farFuture)).toContain('until: must lie between 1900-01-01 and 2199-12-31');
    expect(answerTo(out, '/isms request')).toContain('due: must lie between 1900-01-01 and 2199-12-31');
    expect(out).not.toMatch(TERMINAL_CONTROL);
    await register.withDb(async (db) => {
      expect(await count(db)).toEqual(before);
    });
  }, SESSION_TIMEOUT);
});
