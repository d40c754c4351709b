import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { controls, evidenceRequests } from '../../db/schema/index.js';
import { notFound } from '../../core/errors.js';
import { alikeIn, didYouMean } from '../../core/suggest.js';

export type Control = typeof controls.$inferSelect;
export type EvidenceRequest = typeof evidenceRequests.$inferSelect;

const REQUEST_REF = /^EVR-?(\d+)$/i;

/** "evr-3" -> "EVR-0003"; undefined when the text is not an evidence request reference. */
export function asRequestRef(value: string): string | undefined {
  const m = REQUEST_REF.exec(value.trim());
  return m ? `EVR-${m[1].padStart(4, '0')}` : undefined;
}

/** A control by its code (case does not matter); the error suggests the nearest code. */
export async function findControl(db: Db, code: string, lock = false): Promise<Control> {
  const query = db.select().from(controls).where(sql`lower(${controls.code}) = lower(${code.trim()})`);
  const [control] = lock ? await query.for('update') : await query;
  if (control) return control;
  // Among the codes most alike: never every code to suggest one.
  const near = didYouMean(code.trim(), (await alikeIn(db, controls, controls.id, controls.code, code.trim())).map((c) => c.value));
  const suggestion = near ? ` Did you mean ${near}?` : '';
  throw notFound(`There is no control "${code}".${suggestion}`, 'Control ids look like CTL-AC-01; give the id of a control in the control register.');
}

export async function findRequest(db: Db, ref: string, lock = false): Promise<EvidenceRequest> {
  const query = db.select().from(evidenceRequests).where(eq(evidenceRequests.ref, ref));
  const [request] = lock ? await query.for('update') : await query;
  if (!request) throw notFound(`${ref} does not exist.`, '"/isms evidence" lists your open evidence requests.');
  return request;
}
