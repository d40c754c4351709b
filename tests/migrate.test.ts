import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { migrate, rows } from '../src/db/migrate.js';

describe('migrations', () => {
  let t: TestDatabase | undefined;
  afterEach(async () => { await t?.destroy(); t = undefined; });

  it('apply on an empty database and change nothing the second time', async () => {
    t = await createTestDatabase({ migrate: false });
    const first = await migrate(t.db);
    expect(first.applied).toEqual(['0000_register', '0001_audit_append_only', '0002_scheduler_delivery', '0003_risk_acceptances_append_only', '0004_exactly_once', '0005_tamper_evidence', '0006_evidence_file_chunks']);
    const tables = rows<{ n: number }>(await t.db.execute(sql`select count(*)::int as n from information_schema.tables where table_schema = current_schema()`))[0].n;
    const second = await migrate(t.db);
    expect(second.applied).toEqual([]);
    const after = rows<{ n: number }>(await t.db.execute(sql`select count(*)::int as n from information_schema.tables where table_schema = current_schema()`))[0].n;
    expect(after).toBe(tables);
    expect(tables).toBeGreaterThan(25);
  });

  it('two migrations started together apply once', async () => {
    t = await createTestDatabase({ migrate: false });
    const [a, b] = await Promise.all([migrate(t.db), migrate(t.db)]);
    expect([...a.applied, ...b.applied].sort()).toEqual(['0000_register', '0001_audit_append_only', '0002_scheduler_delivery', '0003_risk_acceptances_append_only', '0004_exactly_once', '0005_tamper_evidence', '0006_evidence_file_chunks']);
  });
});
