import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTableName, is, sql } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import * as schema from '../src/db/schema/index.js';
import { controls, people, type Role } from '../src/db/schema/index.js';
import { buildRouter } from '../src/commands.js';
import { examplesOf, type CommandRouter, type CommandSpec } from '../src/core/router.js';
import { toActor, type Actor } from '../src/core/actor.js';
import { toPlainText } from '../src/core/reply.js';
import { loadExampleOrganisation } from '../src/import/example.js';
import { rows } from '../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

/** The bot's clock in this test: examples must read as dates near it, whatever day the test runs. */
const NOW = new Date('2031-03-10T09:00:00Z');

/**
 * Examples that the example organisation, as the examples before them in help leave it, cannot carry
 * out yet, with why. Each must still be refused for that reason, never as mistyped.
 */
const NEEDS_STATE: Record<string, string> = {
  'ai approve AI-0001': 'AI-0001 waits for triage until "triage accept", later in help, accepts it',
  'ai restrict AI-0001': 'AI-0001 waits for triage until "triage accept", later in help, accepts it',
  'ai prohibit AI-0002': 'only one AI tool is declared',
  'ai duplicate AI-0002': 'only one AI tool is declared',
  'evidence show EV-0003': 'no evidence has been submitted',
  'evidence show EVR-0001': 'no evidence request has been made yet',
  'evidence submit EVR-0001': 'no evidence request has been made yet',
  'evidence accept EV-0003': 'no evidence has been submitted',
  'evidence return EVR-0001': 'no evidence has been submitted',
  'campaign POL-0001': '"policy publish" made version 2.0, which waits for the management body',
  'campaign status CMP-0003': 'only two campaigns have started',
  'campaign status POL-0001': 'no campaign of POL-0001 could start',
  'poam done POAM-0001 "': 'an item is done once all its milestones are',
  'poam approve PEX-0001': 'the extension asked for is the lead\'s own',
  'poam reject PEX-0001': 'the extension asked for is the lead\'s own',
  'poam verify POAM-0001': 'no item is marked done',
  'poam reopen POAM-0001': 'no item is marked done',
  'finding close AF-0001': 'its POA&M item is still open',
  'review pack MR-0002': 'only one management review is recorded',
};

/** Examples of a second page: the example organisation fills only the first. */
const SECOND_PAGE = '--page 2';

/** Refusals that mean the example itself is wrong: it names someone or something unknown, does not parse, or its date is stale. */
const MISTYPED = /nobody|no one|not in the register|unknown|no option|Too many words|needs a value|That didn't work|is not one of|Did you mean|in the past|not in the future/i;

/** Every table of the register, audit trail and outbox included. */
const TABLES = (Object.values(schema) as unknown[]).filter((v): v is PgTable => is(v, PgTable)).map((table) => getTableName(table));

/** Who runs a command that anyone may run, when the ISMS lead would not be the one to. */
const RUN_AS: Record<string, Role> = { attest: 'management_body' };

describe('every example in help works when pasted into the terminal of the example organisation', () => {
  let t: TestDatabase;
  let router: CommandRouter;
  let cast: Actor[];
  beforeAll(async () => {
    t = await createTestDatabase();
    await loadExampleOrganisation(t.db, NOW);
    router = buildRouter(t.db);
    cast = (await t.db.select().from(people).orderBy(people.id)).map(toActor);
  });
  afterAll(async () => { await t.destroy(); });

  /** Someone the command is for: the first person holding its first role, the ISMS lead when anyone may. */
  const suitable = (spec: CommandSpec): Actor => cast.find((p) => p.roles.includes(spec.roles?.[0] ?? RUN_AS[spec.name] ?? 'isms_lead'))!;

  /** Each table's rows, as one digest a table: any row added, changed or removed changes it. */
  const register = async (): Promise<Record<string, string>> => {
    const digests = sql.join(TABLES.map((name) =>
      sql`select ${name} as name, md5(coalesce(string_agg(r::text, '|' order by r::text), '')) as digest from ${sql.identifier(name)} r`), sql` union all `);
    return Object.fromEntries(rows<{ name: string; digest: string }>(await t.db.execute(digests)).map((r) => [r.name, r.digest]));
  };

  it('runs each example, in the order help lists them, as someone allowed to; a read-only command writes nothing', async () => {
    const wrong: string[] = [];
    const wrote: string[] = [];
    let readsChecked = 0;
    for (const spec of router.specs) {
      for (const example of examplesOf(spec, NOW)) {
        const before = spec.readOnly ? await register() : undefined;
        const answer = await router.handle(example, { actor: suitable(spec), channel: 'shell', now: NOW });
        if (before && answer.outcome !== 'refused') {
          readsChecked += 1;
          const after = await register();
          const changed = TABLES.filter((name) => before[name] !== after[name]);
          if (changed.length) wrote.push(`${example} (marked read-only) changed ${changed.join(', ')}`);
        }
        const plain = toPlainText(answer);
        const needsState = example.includes(SECOND_PAGE) || Object.keys(NEEDS_STATE).some((start) => example.startsWith(start));
        if (answer.outcome === 'refused' ? !needsState || MISTYPED.test(plain) : needsState && !example.includes(SECOND_PAGE)) {
          wrong.push(`${example}${needsState ? ' (listed as needing state)' : ''}\n  → ${plain}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(wrote).toEqual([]);
    expect(readsChecked).toBeGreaterThanOrEqual(20);
  });

  it('every control a help page names, in its examples or its hints ("e.g. …"), is one of the example organisation', async () => {
    const known = new Set((await t.db.select({ code: controls.code }).from(controls)).map((c) => c.code));
    const unknown: string[] = [];
    for (const spec of router.specs) {
      const page = toPlainText(await router.handle(`help ${spec.name}`, { actor: suitable(spec), channel: 'shell', now: NOW }));
      for (const code of page.match(/\bCTL-[A-Z]+-\d+\b/g) ?? []) if (!known.has(code)) unknown.push(`help ${spec.name}: ${code}`);
    }
    expect(unknown).toEqual([]);
  });
});
