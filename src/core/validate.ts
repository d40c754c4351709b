import { z } from 'zod';

/** A calendar date typed as YYYY-MM-DD that really exists (no 2026-02-30). */
export const isoDate = z.string().trim().refine((v) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}, { message: 'must be a date written YYYY-MM-DD, e.g. 2026-12-31' });

/** A register reference such as AI-0007; accepts lower case and missing zero padding. */
export const registerRef = (prefix: string) => z.string().trim().transform((v, ctx) => {
  const m = new RegExp(`^${prefix}-?(\\d+)$`, 'i').exec(v);
  if (!m) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a reference like ${prefix}-0001, not "${v}"` });
    return z.NEVER;
  }
  return `${prefix}-${m[1].padStart(4, '0')}`;
});

export const todayIso = (now: Date) => now.toISOString().slice(0, 10);

export function addMonths(isoDay: string, months: number): string {
  const d = new Date(`${isoDay}T00:00:00Z`);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d.toISOString().slice(0, 10);
}

/** True for an IANA time zone name the runtime knows, e.g. Europe/Berlin. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
