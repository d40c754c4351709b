/**
 * What someone with the database owner's rights can do behind the bot's back. Where the bytes of an
 * evidence file live is a storage detail: this is the one place tests know it.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';

/** Switches a table's append-only triggers off for one edit. */
export async function behindTheTriggers(db: Db, table: string, edit: () => Promise<unknown>): Promise<void> {
  await db.execute(sql.raw(`alter table ${table} disable trigger user`));
  try {
    await edit();
  } finally {
    await db.execute(sql.raw(`alter table ${table} enable trigger user`));
  }
}

/** Changes one byte (at `offset` of the first chunk) of the stored file of an evidence revision. */
export async function tamperWithStoredFile(db: Db, ref: string, offset = 0): Promise<void> {
  await behindTheTriggers(db, 'evidence_file_chunks', () => db.execute(sql`update evidence_file_chunks
    set bytes = overlay(bytes placing set_byte('\\x00'::bytea, 0, 255 - get_byte(bytes, ${offset}::int)) from ${offset + 1}::int for 1)
    where seq = 0 and item_id = (select id from evidence_items where ref = ${ref})`));
}
