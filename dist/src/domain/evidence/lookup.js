import { eq, sql } from 'drizzle-orm';
import { controls, evidenceRequests } from '../../db/schema/index.js';
import { notFound } from '../../core/errors.js';
import { didYouMean } from '../../core/suggest.js';
const REQUEST_REF = /^EVR-?(\d+)$/i;
/** "evr-3" -> "EVR-0003"; undefined when the text is not an evidence request reference. */
export function asRequestRef(value) {
    const m = REQUEST_REF.exec(value.trim());
    return m ? `EVR-${m[1].padStart(4, '0')}` : undefined;
}
/** A control by its code (case does not matter); the error suggests the nearest code. */
export async function findControl(db, code, lock = false) {
    const query = db.select().from(controls).where(sql `lower(${controls.code}) = lower(${code.trim()})`);
    const [control] = lock ? await query.for('update') : await query;
    if (control)
        return control;
    const codes = (await db.select({ code: controls.code }).from(controls)).map((c) => c.code);
    const near = didYouMean(code.trim(), codes);
    const suggestion = near ? ` Did you mean ${near}?` : '';
    throw notFound(`There is no control "${code}".${suggestion}`, 'Control ids look like CTL-AC-01; give the id of a control in the control register.');
}
export async function findRequest(db, ref, lock = false) {
    const query = db.select().from(evidenceRequests).where(eq(evidenceRequests.ref, ref));
    const [request] = lock ? await query.for('update') : await query;
    if (!request)
        throw notFound(`${ref} does not exist.`, '"/isms evidence" lists your open evidence requests.');
    return request;
}
//# sourceMappingURL=lookup.js.map