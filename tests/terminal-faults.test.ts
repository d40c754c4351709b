import { PassThrough, Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Shell } from '../adapters/shell/shell.js';
import { assembleCore } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { FAULT_TEXT } from '../src/core/inbound.js';
import { aiTools } from '../src/db/schema/index.js';
import { createLogger } from '../src/log.js';
import { createTestBot, type TestBot } from './helpers/bot.js';

/** Collects what a stream is given. */
function collector(): { stream: Writable; text: () => string } {
  let text = '';
  return { stream: new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } }), text: () => text };
}

describe('a fault in the terminal', () => {
  let bot: TestBot;
  beforeEach(async () => { bot = await createTestBot(); });
  afterEach(async () => { await bot.destroy(); });

  it('prints the one wording for faults, never the database error with its SQL and parameters, and logs it', async () => {
    // The register refuses every new AI tool, as a broken database would.
    await bot.t.db.execute(sql`alter table ai_tools add constraint refuse_everything check (name <> name)`);
    const log = collector();
    const screen = collector();
    const input = new PassThrough();
    const shell = new Shell(assembleCore(loadConfig({}), createLogger('info', log.stream), bot.t), { input, output: screen.stream });

    input.end('/isms declare ai ChatGPT "drafting secret merger emails" --vendor OpenAI\n/whoami\n');
    await shell.run();

    const out = screen.text();
    expect(out).toContain(`✖ ${FAULT_TEXT}`);
    expect(out).toContain('You are Lena Lead');
    const echoed = out.indexOf('\n', out.indexOf('> /isms declare ai'));
    const answer = out.slice(echoed, out.indexOf('> /whoami'));
    for (const leak of ['insert', 'ai_tools', 'refuse_everything', 'params', 'drafting secret merger emails', 'constraint']) {
      expect(answer.toLowerCase()).not.toContain(leak);
    }
    expect(log.text()).toContain('request failed');
    expect(await bot.t.db.select().from(aiTools)).toEqual([]);
  });
});
