import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { sql } from 'drizzle-orm';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { copyRegister } from './helpers/data-folders.js';
import { runScript } from './helpers/process.js';
import { rows } from '../src/db/migrate.js';
import { verifyAuditChain } from '../src/core/audit.js';
import { importYaml } from '../src/import/index.js';


const PEOPLE = `people:
${['ann', 'ben', 'cid', 'dora', 'eve', 'finn'].map((n) => `  - { name: ${n}, email: ${n}@example.org, roles: [staff] }`).join('\n')}
`;

/** Runs the admin CLI as a user would ("npm run isms -- <args>" without npm in between), in its own process. */
const runCli = (args: string[], env: Record<string, string>) => runScript('src/cli.ts', args, { env });

describe('audit trail verification', () => {
  let t: TestDatabase;
  beforeEach(async () => { t = await createTestDatabase(); });
  afterEach(async () => { await t.destroy(); });

  it('passes on a clean trail', async () => {
    await importYaml(t.db, PEOPLE, 'people.yaml');
    expect(await verifyAuditChain(t.db)).toEqual({ ok: true, rows: 6 });
  });

  it('names the row that was altered directly in the database', async () => {
    await importYaml(t.db, PEOPLE, 'people.yaml');
    // The table refuses changes; someone with the power to switch that off is exactly who the chain is for.
    await expect(t.db.execute(sql`update audit_events set actor_label = 'someone else' where seq = 4`)).rejects.toThrow();
    await t.db.execute(sql`alter table audit_events disable trigger audit_events_no_change`);
    await t.db.execute(sql`update audit_events set after = jsonb_set(after, '{name}', '"mallory"') where seq = 4`);
    await t.db.execute(sql`alter table audit_events enable trigger audit_events_no_change`);

    expect(await verifyAuditChain(t.db)).toEqual({ ok: false, rows: 6, firstBadSeq: 4, reason: 'its content does not match its hash' });
  });

  it('names the gap when a row was deleted', async () => {
    await importYaml(t.db, PEOPLE, 'people.yaml');
    await t.db.execute(sql`alter table audit_events disable trigger audit_events_no_change`);
    await t.db.execute(sql`delete from audit_events where seq = 3`);
    await t.db.execute(sql`alter table audit_events enable trigger audit_events_no_change`);

    expect(await verifyAuditChain(t.db)).toEqual({ ok: false, rows: 5, firstBadSeq: 4, reason: 'row 3 is missing' });
  });

  it('"isms verify-audit" reports an intact trail after an import from the command line', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'isms-cli-'));
    try {
      // PGlite runs in the child's own data directory; on PostgreSQL the child uses this test's schema.
      const env: Record<string, string> = t.url ? { DATABASE_URL: t.url } : { DATABASE_URL: '', ISMS_DATA_DIR: path.join(dataDir, 'data') };
      if (!t.url) await copyRegister('empty', env.ISMS_DATA_DIR);
      // The people first, so that the file's approvals come from members of the management body already in the register.
      const peopleFile = path.join(dataDir, 'people.yaml');
      const { people: staff } = YAML.parse(await readFile('examples/example-org.yaml', 'utf8')) as { people: unknown[] };
      await writeFile(peopleFile, YAML.stringify({ people: staff }));
      const first = await runCli(['import', peopleFile], env);
      expect(first).toMatchObject({ code: 0, stderr: '' });
      expect(first.stdout).toContain(`Imported ${peopleFile}: people: 10 created.`);
      expect(await runCli(['import', 'examples/example-org.yaml', '--as'], env)).toMatchObject({ code: 2,
        stderr: '"--as" needs the email of the person running the import.\nUsage: npm run isms -- import <file.yaml> [--as <email>]\n' });
      const imported = await runCli(['import', 'examples/example-org.yaml', '--as', 'iris@northwind.example'], env);
      expect(imported.stderr).toBe('');
      expect(imported.code).toBe(0);
      expect(imported.stdout).toContain('Imported examples/example-org.yaml: people: 10 unchanged');
      // The answer says which suppliers the import accepted without triage, and who ran it.
      expect(imported.stdout).toMatch(/^- SUP-0001 .+ was accepted by this import, run by Iris Lindqvist, without triage \(the file gives it as accepted\)\.$/m);
      // The reference data load is one event, each imported entry another, each new risk's first assessment another,
      // and the request for the management body's approval of the tier-1 supplier imported as accepted one more.
      const risks = Number(/risks: (\d+) created/.exec(imported.stdout)![1]);
      const events = [...`${first.stdout} ${imported.stdout}`.matchAll(/(\d+) created/g)].reduce((sum, m) => sum + Number(m[1]), 1) + risks + 1;

      const verified = await runCli(['verify-audit'], env);
      expect(verified).toMatchObject({ code: 0, stderr: '' });
      expect(verified.stdout).toContain(`Audit trail intact: ${events} events,`);
      if (t.url) {
        expect(rows<{ n: number }>(await t.db.execute(sql`select count(*)::int as n from audit_events`))[0].n).toBe(events);
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 180_000); // two processes, each opening the database
});
