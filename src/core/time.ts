import { DateTime } from 'luxon';

/**
 * Calendar days and working hours, in one place for commands and the scheduler. Register dates are
 * written YYYY-MM-DD; a command's "today" is the day on the clock of the person typing it (readersDay),
 * a message's days are on its recipient's clock, a scheduled run's the organisation's. Someone whose
 * zone the register does not know reads the organisation's. Machine outputs stay in UTC.
 */

/** The organisation's zone when ISMS_DEFAULT_TIMEZONE does not name one. */
export const DEFAULT_ORGANISATION_ZONE = 'Europe/Berlin';

/** The UTC calendar day of a moment, YYYY-MM-DD: how a day stored as a timestamp reads back, and days in exports. */
export function isoDay(at: Date): string {
  return DateTime.fromJSDate(at, { zone: 'utc' }).toISODate()!;
}

/** True for a YYYY-MM-DD that is a real calendar day (no 2026-02-30). */
export function isCalendarDay(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && DateTime.fromISO(value, { zone: 'utc' }).isValid;
}

/** The same day `months` later; a day the month lacks becomes its last (2026-01-31 + 1 month = 2026-02-28). */
export function addMonths(day: string, months: number): string {
  return DateTime.fromISO(day, { zone: 'utc' }).plus({ months }).toISODate()!;
}

/** A span of the working day in minutes after midnight, local to the person. */
export interface WorkingHours {
  start: number;
  end: number;
}

export interface WorkingTime {
  workingHours: WorkingHours;
  workWeekends: boolean;
}

/** Whether luxon takes each zone name asked about: a name stays valid or not while the process runs. */
const zoneValidity = new Map<string, boolean>();
/** Names kept at most: zones come from the register and the platforms, a few dozen in practice. */
const ZONES_KEPT = 1000;

/** The zone to use: the person's own when it is a valid IANA zone, else the fallback. */
export function zoneOr(zone: string | null | undefined, fallback: string): string {
  if (!zone) return fallback;
  let valid = zoneValidity.get(zone);
  if (valid === undefined) {
    // Checking builds a DateTime and a zone: once per name, not on every day a command reads.
    valid = DateTime.local().setZone(zone).isValid;
    if (zoneValidity.size >= ZONES_KEPT) zoneValidity.clear();
    zoneValidity.set(zone, valid);
  }
  return valid ? zone : fallback;
}

/** The calendar date (YYYY-MM-DD) at this moment in the zone. */
export function localDate(at: Date, zone: string): string {
  return DateTime.fromJSDate(at, { zone }).toISODate()!;
}

/** A moment as the clock on the wall reads it in the zone, e.g. "2026-06-15 11:00 Europe/Berlin". */
export function localDateTime(at: Date, zone: string): string {
  return `${DateTime.fromJSDate(at, { zone }).toFormat('yyyy-MM-dd HH:mm')} ${zone}`;
}

/**
 * The organisation's zone (ISMS_DEFAULT_TIMEZONE, checked at start-up): the clock of a person whose own
 * zone is not known, in answers and messages as in the nudges the scheduler times (its settings.timezone).
 */
export function organisationZone(): string {
  return zoneOr(process.env.ISMS_DEFAULT_TIMEZONE?.trim(), DEFAULT_ORGANISATION_ZONE);
}

/** The reader's zone: their own when the register knows it, else the organisation's. */
export function readersZone(timezone: string | null | undefined): string {
  return zoneOr(timezone, organisationZone());
}

/** A moment on the reader's clock, e.g. "2026-06-15 11:00 Europe/Berlin"; on the organisation's when their zone is not known. */
export function readersTime(at: Date, timezone: string | null | undefined): string {
  return localDateTime(at, readersZone(timezone));
}

/**
 * The day a moment falls on for the reader, YYYY-MM-DD, on the organisation's clock when their zone is not
 * known: a command's "today" is readersDay(ctx.now, ctx.actor.timezone), so 20:00 in New York is still that
 * day there; a message's days are readersDay(at, recipient.timezone).
 */
export function readersDay(at: Date, timezone: string | null | undefined): string {
  return localDate(at, readersZone(timezone));
}

/** A moment in ISO 8601 UTC to the second, e.g. "2026-06-15T09:00:00Z". */
export function isoMoment(at: Date): string {
  return DateTime.fromJSDate(at, { zone: 'utc' }).toFormat("yyyy-MM-dd'T'HH:mm:ss'Z'");
}

export function addDays(day: string, days: number): string {
  return DateTime.fromISO(day, { zone: 'utc' }).plus({ days }).toISODate()!;
}

/** Whole days from `from` to `to` (both YYYY-MM-DD): positive when `to` is later. */
export function daysBetween(from: string, to: string): number {
  return Math.round(DateTime.fromISO(to, { zone: 'utc' }).diff(DateTime.fromISO(from, { zone: 'utc' }), 'days').days);
}

/** The ISO week of a date, e.g. "2026-W49": the cycle of weekly digests. */
export function isoWeek(day: string): string {
  const d = DateTime.fromISO(day, { zone: 'utc' });
  return `${d.weekYear}-W${String(d.weekNumber).padStart(2, '0')}`;
}

/** Midnight at the start of the date in the zone. */
export function startOfLocalDay(day: string, zone: string): Date {
  return DateTime.fromISO(day, { zone }).startOf('day').toJSDate();
}

/**
 * The first moment at or after `at` that falls in the working hours of the zone: a nudge due at
 * night waits for the morning, one due on a Saturday waits for Monday unless weekends are worked.
 */
export function nextWorkingMoment(at: Date, zone: string, time: WorkingTime): Date {
  const { start, end } = time.workingHours;
  let t = DateTime.fromJSDate(at, { zone });
  for (let day = 0; day < 8; day++) {
    const restDay = !time.workWeekends && t.weekday >= 6;
    const minute = t.hour * 60 + t.minute;
    if (!restDay && minute >= start && minute < end) return t.toJSDate();
    if (!restDay && minute < start) {
      return t.set({ hour: Math.floor(start / 60), minute: start % 60, second: 0, millisecond: 0 }).toJSDate();
    }
    t = t.plus({ days: 1 }).startOf('day');
  }
  return t.toJSDate();
}
