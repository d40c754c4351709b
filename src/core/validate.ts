import { z } from 'zod';
import { isCalendarDay } from './time.js';

/** Register dates lie in this range: a year 0000 or 9999 is a typing slip, not a plan. */
export const EARLIEST_DATE = '1900-01-01';
export const LATEST_DATE = '2199-12-31';

/** A calendar date typed as YYYY-MM-DD that really exists (no 2026-02-30), between 1900 and 2199. */
export const isoDate = z.string().trim().superRefine((v, ctx) => {
  if (!isCalendarDay(v)) {
    const why = notADay(v);
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a date written YYYY-MM-DD, e.g. 2026-12-31${why ? ` — ${why}` : ''}` });
  } else if (v < EARLIEST_DATE || v > LATEST_DATE) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must lie between ${EARLIEST_DATE} and ${LATEST_DATE}` });
  }
});

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * Why a date someone typed is none, when it is nearly one: a day the month lacks ("2027-02-31", "31.02.2027"),
 * a month or day without its leading zero or with slashes (2027/3/1), or a day written day first as in much of Europe ("31.03.2027", "31.03."), with how to write it;
 * or words instead of a day ("next friday").
 */
function notADay(typed: string): string | undefined {
  const iso = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\.?$/.exec(typed);
  const dayFirst = /^(\d{1,2})\.(\d{1,2})\.(\d{4})?$/.exec(typed);
  const [year, month, day] = iso ? [iso[1], iso[2], iso[3]] : dayFirst ? [dayFirst[3], dayFirst[2], dayFirst[1]] : [];
  // "next friday", "tomorrow", "end of March": the bot does not guess which day a phrase means.
  if (month === undefined && /\p{L}/u.test(typed)) return `write the day itself, not "${typed}"`;
  if (month === undefined || day === undefined) return undefined;
  const m = Number(month);
  if (m < 1 || m > 12) return `${typed} has no month ${month} (a year has 12)`;
  const written = `${year ?? 'YYYY'}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
  // Without a year, February has the 29th of a leap year.
  const days = new Date(Date.UTC(Number(year ?? 2000), m, 0)).getUTCDate();
  if (Number(day) < 1 || Number(day) > days) return `${typed} does not exist (${MONTHS[m - 1]}${year ? ` ${year} has` : ' has at most'} ${days} days)`;
  if (!dayFirst) return `write it ${written}`;
  return year ? `${typed} is written day first: ${written}` : `${typed} needs its year: ${written}`;
}

/** A register reference such as AI-0007; accepts lower case and missing zero padding. */
export const registerRef = (prefix: string) => z.string().trim().transform((v, ctx) => {
  const m = new RegExp(`^${prefix}-?(\\d+)$`, 'i').exec(v);
  if (!m) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a reference like ${prefix}-0001, not "${v}"` });
    return z.NEVER;
  }
  return `${prefix}-${m[1].padStart(4, '0')}`;
});

/** True for an IANA time zone name the runtime knows, e.g. Europe/Berlin. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
