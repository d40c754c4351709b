import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { rows } from '../src/db/migrate.js';
import { loadReferenceData } from '../src/refdata/index.js';

describe('framework reference data', () => {
  let t: TestDatabase;
  beforeEach(async () => { t = await createTestDatabase(); });
  afterEach(async () => { await t.destroy(); });

  const count = async (query: ReturnType<typeof sql>) => rows<{ n: number }>(await t.db.execute(query))[0].n;
  const requirement = async (framework: string, reference: string) =>
    rows<{ title: string | null; parent_reference: string | null }>(await t.db.execute(
      sql`select title, parent_reference from framework_requirements where framework = ${framework} and reference = ${reference}`))[0];

  it('loads NIST CSF 2.0 with its hierarchy, NIS2 Art. 21(2)(a)-(j), DORA, SP 800-53 and ISO identifiers', async () => {
    const result = await loadReferenceData(t.db);

    const csf = (level: string) => count(sql`select count(*)::int as n from framework_requirements
      where framework = 'NIST-CSF-2.0' and ${sql.raw(level)}`);
    expect(await csf('parent_reference is null')).toBe(6);
    expect(await csf(`reference like '%.%' and reference not like '%-%'`)).toBe(22);
    expect(await csf(`reference like '%-%'`)).toBe(106);
    expect(await requirement('NIST-CSF-2.0', 'GV.OC-01')).toEqual({
      title: 'The organizational mission is understood and informs cybersecurity risk management', parent_reference: 'GV.OC',
    });
    expect(await requirement('NIST-CSF-2.0', 'GV.OC')).toMatchObject({ parent_reference: 'GV' });

    const art21 = rows<{ reference: string }>(await t.db.execute(sql`select reference from framework_requirements
      where framework = 'NIS2' and parent_reference = '21.2' order by reference`)).map((r) => r.reference);
    expect(art21).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].map((p) => `21.2.${p}`));
    expect((await requirement('NIS2', '21.2.b'))?.title).toBe('incident handling;');

    expect(await requirement('DORA', '28')).toMatchObject({ title: 'General principles' });
    expect(await requirement('NIS2-IR-2024-2690', '6.10')).toMatchObject({ parent_reference: '6' });
    expect(await requirement('SP800-53r5', 'AC-2(1)')).toEqual({ title: 'Automated System Account Management', parent_reference: 'AC-2' });
    // Withdrawn SP 800-53 controls are not offered for mapping.
    expect(await requirement('SP800-53r5', 'AC-13')).toBeUndefined();
    // ISO text is copyright: identifiers only.
    expect(await requirement('ISO27001:2022', 'A.5.15')).toEqual({ title: null, parent_reference: null });
    expect(await count(sql`select count(*)::int as n from framework_requirements where framework = 'ISO27001:2022' and title is not null`)).toBe(0);
    expect(await count(sql`select count(*)::int as n from framework_requirements where framework = 'ISO42001:2023'`)).toBe(67);

    expect(result.requirements['NIST-CSF-2.0']).toBe(134);
    expect(result.requirements.NIS2).toBe(16);
  });

  it('loads the four crosswalks, each pair pointing at requirements that exist', async () => {
    const result = await loadReferenceData(t.db);
    const pairs = rows<{ source_framework: string; n: number }>(await t.db.execute(sql`select source_framework, count(*)::int as n
      from requirement_crosswalks group by source_framework order by source_framework`));
    expect(pairs.map((p) => p.source_framework)).toEqual(['NIS2-IR-2024-2690', 'NIST-CSF-1.1', 'NIST-CSF-2.0', 'SP800-53r5']);
    expect(pairs.every((p) => p.n > 100)).toBe(true);
    expect(result.crosswalks).toBe(pairs.reduce((sum, p) => sum + p.n, 0));
    expect(await count(sql`select count(*)::int as n from requirement_crosswalks where source_framework = 'NIST-CSF-2.0'
      and source_reference = 'GV.OC-01' and target_framework = 'ISO27001:2022' and target_reference = '4.1'`)).toBe(1);
    // Every pair except the CSF 1.1 side resolves to a loaded requirement on both ends.
    const dangling = await count(sql`select count(*)::int as n from requirement_crosswalks c
      where (c.source_framework <> 'NIST-CSF-1.1' and not exists (select 1 from framework_requirements r
               where r.framework = c.source_framework and r.reference = c.source_reference))
         or not exists (select 1 from framework_requirements r where r.framework = c.target_framework and r.reference = c.target_reference)`);
    expect(dangling).toBe(0);
  });

  it('records one audit event per load, and a second load adds nothing', async () => {
    const first = await loadReferenceData(t.db);
    const requirements = await count(sql`select count(*)::int as n from framework_requirements`);
    const crosswalks = await count(sql`select count(*)::int as n from requirement_crosswalks`);
    const events = rows<{ action: string; entity: string; actor_label: string; after: unknown }>(
      await t.db.execute(sql`select action, entity, actor_label, after from audit_events`));
    expect(events).toEqual([{ action: 'load', entity: 'reference_data', actor_label: 'load-reference', after: first }]);
    expect(requirements).toBe(Object.values(first.requirements).reduce((a, b) => a + b, 0));
    expect(requirements).toBeGreaterThan(1800);

    const second = await loadReferenceData(t.db);
    expect(second).toEqual({ requirements: {}, crosswalks: 0 });
    expect(await count(sql`select count(*)::int as n from framework_requirements`)).toBe(requirements);
    expect(await count(sql`select count(*)::int as n from requirement_crosswalks`)).toBe(crosswalks);
    expect(await count(sql`select count(*)::int as n from audit_events`)).toBe(1);
  });
});
