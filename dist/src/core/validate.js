import { z } from 'zod';
import { isCalendarDay } from './time.js';
/** Register dates lie in this range: a year 0000 or 9999 is a typing slip, not a plan. */
export const EARLIEST_DATE = '1900-01-01';
export const LATEST_DATE = '2199-12-31';
/** A calendar date typed as YYYY-MM-DD that really exists (no 2026-02-30), between 1900 and 2199. */
export const isoDate = z.string().trim().superRefine((v, ctx) => {
    if (!isCalendarDay(v)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be a date written YYYY-MM-DD, e.g. 2026-12-31' });
    }
    else if (v < EARLIEST_DATE || v > LATEST_DATE) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must lie between ${EARLIEST_DATE} and ${LATEST_DATE}` });
    }
});
/** A register reference such as AI-0007; accepts lower case and missing zero padding. */
export const registerRef = (prefix) => z.string().trim().transform((v, ctx) => {
    const m = new RegExp(`^${prefix}-?(\\d+)$`, 'i').exec(v);
    if (!m) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a reference like ${prefix}-0001, not "${v}"` });
        return z.NEVER;
    }
    return `${prefix}-${m[1].padStart(4, '0')}`;
});
/** True for an IANA time zone name the runtime knows, e.g. Europe/Berlin. */
export function isTimeZone(tz) {
    try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
    }
    catch {
        return false;
    }
}
//# sourceMappingURL=validate.js.map