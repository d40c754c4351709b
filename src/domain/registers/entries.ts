import { z } from 'zod';
import { isNull, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../../db/client.js';
import type { Role } from '../../db/schema/index.js';
import { readersDay } from '../../core/time.js';
import { seekPage, type SeekInput } from '../../core/paging.js';
import type { Page } from '../../core/reply.js';
import { lockRegister } from '../../db/locks.js';

/*
 * What the asset register and the interested parties share: names compared as people mean them,
 * and entries retired with a reason instead of deleted.
 */

/** Who may read the asset register and the interested parties; asset owners read the assets too. */
export const REGISTER_READERS: Role[] = ['isms_lead', 'auditor', 'management_body'];

/** "  Customer   portal " is recorded as "Customer portal". */
export const tidyName = (name: string) => name.trim().replace(/\s+/g, ' ');

/** The column holds the same name, ignoring letter case and spacing. */
export const sameName = (column: PgColumn, name: string): SQL =>
  sql`lower(regexp_replace(btrim(${column}), ${'\\s+'}, ' ', 'g')) = ${tidyName(name).toLowerCase()}`;

/**
 * Adds to one register wait for each other, so that two people adding "CRM" and "crm" at the same
 * moment do not both find the name free.
 */
export async function serializeAdds(db: Db, register: string): Promise<void> {
  await lockRegister(db, `isms add ${register}`);
}

export const retireReason = z.string({ required_error: 'say why it is retired' }).trim()
  .min(1, 'say why it is retired').max(2000, 'must be at most 2000 characters');

/** "retired on 2026-11-30: replaced by the new CRM", the day on the reader's clock (their `timezone`). */
export const describeRetirement = (entry: { retiredAt: Date | null; retiredReason: string | null }, timezone: string | null | undefined) =>
  `retired on ${entry.retiredAt ? readersDay(entry.retiredAt, timezone) : 'an unknown day'}${entry.retiredReason ? `: ${entry.retiredReason}` : ''}`;

/** Which entries a list shows (those in use, or every one with --all) and the ids of the page asked for, seeked by id. */
export async function listWindow(db: Db, table: PgTable, id: PgColumn, retiredAt: PgColumn, input: SeekInput & { all?: string }, command: string, what: string) {
  const all = input.all === 'true';
  const shown = all ? undefined : isNull(retiredAt);
  return { all, window: await seekPage(db, table, id, input, all ? `${command} --all` : command, what, shown) };
}

/** "Asset register (page 2 of 3)". */
export const pagedTitle = (title: string, page: Page) => `${title}${page.total > 1 ? ` (page ${page.number} of ${page.total})` : ''}`;
