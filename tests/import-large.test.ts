import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asc } from 'drizzle-orm';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { assets, people } from '../src/db/schema/index.js';
import { importYaml, ImportError, type ImportProgress } from '../src/import/index.js';

/** Quoted text as people write it: apostrophes, escapes, quotes inside, and plain runs of words. */
const FILE = `
people:
  - { name: "Ann O'Neil", email: "ann@example.org", roles: [staff] }
  - { name: "Bob \\"Bobby\\" Stone", email: bob@example.org, roles: [asset_owner] }
assets:
  - name: "Payroll"
    description: "Salaries, bank details; it's kept 10 years. Tab\\there."
    owner: "bob@example.org"
  - { name: 'Wiki', description: "Plain words only", owner: ann@example.org }
  - { name: "CRM", description: "", owner: ann@example.org }
`;

describe('importing a large file', () => {
  let t: TestDatabase;
  beforeEach(async () => { t = await createTestDatabase(); });
  afterEach(async () => { await t.destroy(); });

  it('says how far each section got, and reads double-quoted text exactly as written', async () => {
    const progress: ImportProgress[] = [];
    await expect(importYaml(t.db, FILE, 'org.yaml', { onProgress: (p) => progress.push(p) })).rejects.toThrow(ImportError);
    const fixed = FILE.replace('description: "", ', '');
    await importYaml(t.db, fixed, 'org.yaml', { onProgress: (p) => progress.push(p) });
    expect(progress).toEqual([{ section: 'people', done: 2, total: 2 }, { section: 'assets', done: 3, total: 3 }]);
    expect((await t.db.select().from(people).orderBy(asc(people.id))).map((p) => p.name)).toEqual(["Ann O'Neil", 'Bob "Bobby" Stone']);
    expect((await t.db.select().from(assets).orderBy(asc(assets.id))).map((a) => [a.name, a.description]))
      .toEqual([['Payroll', "Salaries, bank details; it's kept 10 years. Tab\there."], ['Wiki', 'Plain words only'], ['CRM', null]]);
  });

  it('names the line of a bad field after quoted text with apostrophes', async () => {
    const bad = FILE.replace('description: "", owner: ann@example.org', 'owner: "nobody at all"');
    const error = await importYaml(t.db, bad, 'org.yaml').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImportError);
    expect((error as ImportError).message).toBe('org.yaml:10: assets[2].owner: must be an email address');
    expect(await t.db.select().from(people)).toEqual([]);
  });
});
