import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { migrateBefore } from './helpers/migrations.js';
import { migrate, rows } from '../src/db/migrate.js';
import { evidenceItems } from '../src/db/schema/index.js';
import { verifyRegister } from '../src/core/verify.js';
import { auditSeededRows, storedFileBytes } from './helpers/fixtures.js';

describe('migrations', () => {
  let t: TestDatabase | undefined;
  afterEach(async () => { await t?.destroy(); t = undefined; });

  it('apply on an empty database and change nothing the second time', async () => {
    t = await createTestDatabase({ migrate: false });
    const first = await migrate(t.db);
    expect(first.applied).toEqual(['0000_register', '0001_audit_append_only', '0002_scheduler_delivery', '0003_risk_acceptances_append_only', '0004_exactly_once', '0005_tamper_evidence', '0006_evidence_file_chunks', '0007_evidence_reviewer', '0008_register_retirement', '0009_ai_tool_decisions', '0010_management_approvals', '0011_policy_publisher', '0012_risk_lifecycle', '0013_supplier_lifecycle', '0014_poam_closure_verification', '0015_management_review_pack', '0016_reach', '0017_evidence_summaries', '0018_review_narratives', '0020_sweep_indexes', '0021_processed_events_retention', '0022_sweep_batches', '0023_sweep_visibility', '0024_send_started', '0025_evidence_review_queue_index', '0026_listing_seek_indexes', '0027_listing_seek_more', '0028_training_reminder_days', '0029_ladder_step_day', '0030_training_standing', '0031_people_name_key', '0032_policy_ack_version_index']);
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
    expect([...a.applied, ...b.applied].sort()).toEqual(['0000_register', '0001_audit_append_only', '0002_scheduler_delivery', '0003_risk_acceptances_append_only', '0004_exactly_once', '0005_tamper_evidence', '0006_evidence_file_chunks', '0007_evidence_reviewer', '0008_register_retirement', '0009_ai_tool_decisions', '0010_management_approvals', '0011_policy_publisher', '0012_risk_lifecycle', '0013_supplier_lifecycle', '0014_poam_closure_verification', '0015_management_review_pack', '0016_reach', '0017_evidence_summaries', '0018_review_narratives', '0020_sweep_indexes', '0021_processed_events_retention', '0022_sweep_batches', '0023_sweep_visibility', '0024_send_started', '0025_evidence_review_queue_index', '0026_listing_seek_indexes', '0027_listing_seek_more', '0028_training_reminder_days', '0029_ladder_step_day', '0030_training_standing', '0031_people_name_key', '0032_policy_ack_version_index']);
  });

  it('0006 moves files stored whole into 1 MiB chunks, which read back as they were submitted', async () => {
    t = await createTestDatabase({ migrate: false });
    await migrateBefore(t.db, '0006');
    const large = randomBytes(2 * 1024 * 1024 + 17);
    const small = Buffer.from('restore test passed');
    await t.db.execute(sql`insert into people (name, email) values ('Owner', 'owner@example.com')`);
    await t.db.execute(sql`insert into controls (code, title) values ('CTL-BK-01', 'Backups')`);
    for (const [i, bytes] of [large, small].entries()) {
      await t.db.execute(sql`insert into evidence_items (ref, control_id, revision, submitted_by, effective_on, channel, file_name, file_size, file_sha256, file_bytes)
        values (${`EV-000${i + 1}`}, 1, ${i + 1}, 1, '2026-06-01', 'shell', ${`file-${i}`}, ${bytes.length}, ${createHash('sha256').update(bytes).digest('hex')}, ${bytes})`);
    }
    await t.db.execute(sql`insert into evidence_items (ref, control_id, revision, submitted_by, effective_on, channel, text) values ('EV-0003', 1, 3, 1, '2026-06-01', 'shell', 'no file')`);

    expect((await migrate(t.db)).applied[0]).toBe('0006_evidence_file_chunks');
    const chunks = rows<{ ref: string; seq: number; size: number }>(await t.db.execute(sql`
      select i.ref, c.seq, length(c.bytes) as size from evidence_file_chunks c join evidence_items i on i.id = c.item_id order by i.ref, c.seq`));
    expect(chunks).toEqual([
      { ref: 'EV-0001', seq: 0, size: 1024 * 1024 }, { ref: 'EV-0001', seq: 1, size: 1024 * 1024 }, { ref: 'EV-0001', seq: 2, size: 17 },
      { ref: 'EV-0002', seq: 0, size: small.length },
    ]);
    const items = await t.db.select().from(evidenceItems).orderBy(evidenceItems.ref);
    expect((await storedFileBytes(t.db, items[0])).equals(large)).toBe(true);
    expect((await storedFileBytes(t.db, items[1])).equals(small)).toBe(true);
    // The rows above were written by SQL, not by the bot: give them the events the bot would have written.
    await auditSeededRows(t.db);
    expect(await verifyRegister(t.db)).toMatchObject({ ok: true, files: 2 });
  });

  it('0030 works out where everyone stands on each course from the register as it was', async () => {
    t = await createTestDatabase({ migrate: false });
    await migrateBefore(t.db, '0030');
    await t.db.execute(sql`insert into people (id, name, email, roles, in_scope) values
      (1, 'Lena', 'lena@example.com', '{isms_lead,staff}', true), (2, 'Bruno', 'bruno@example.com', '{management_body}', true),
      (3, 'Ada', 'ada@example.com', '{auditor}', false), (4, 'Vera', 'vera@example.com', '{staff}', true)`);
    await t.db.execute(sql`insert into training_courses (id, code, title, audience_role) values
      (1, 'SEC-AWARE', 'Security awareness', null), (2, 'MB-CYBER', 'Board', 'management_body')`);
    await t.db.execute(sql`insert into training_attestations (person_id, course_id, completed_on, expires_on, channel) values
      (1, 1, '2025-01-10', '2026-01-10', 'test'), (1, 1, '2026-01-10', '2027-01-10', 'test'),
      (3, 1, '2026-01-01', '2027-01-01', 'test'),
      (4, 1, '2025-06-01', '2027-06-01', 'test'), (4, 1, '2025-09-01', '2026-03-01', 'test')`);

    expect(await migrate(t.db)).toMatchObject({ applied: ['0030_training_standing', '0031_people_name_key', '0032_policy_ack_version_index'] });
    const standing = rows(await t.db.execute(sql`
      select person_id, course_id, applies, expires_on::text, furthest_on::text from training_standing order by person_id, course_id`));
    expect(standing).toEqual([
      { person_id: 1, course_id: 1, applies: true, expires_on: '2027-01-10', furthest_on: '2027-01-10' },
      { person_id: 2, course_id: 1, applies: true, expires_on: null, furthest_on: null },
      { person_id: 2, course_id: 2, applies: true, expires_on: null, furthest_on: null },
      { person_id: 3, course_id: 1, applies: false, expires_on: '2027-01-01', furthest_on: '2027-01-01' },
      { person_id: 4, course_id: 1, applies: true, expires_on: '2026-03-01', furthest_on: '2027-06-01' },
    ]);
  });
});
