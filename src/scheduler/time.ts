import { DateTime } from 'luxon';

/** A span of the working day in minutes after midnight, local to the person. */
export interface WorkingHours {
  start: number;
  end: number;
}

export interface WorkingTime {
  workingHours: WorkingHours;
  workWeekends: boolean;
}

/** The zone to use: the person's own when it is a valid IANA zone, else the fallback. */
export function zoneOr(zone: string | null | undefined, fallback: string): string {
  return zone && DateTime.local().setZone(zone).isValid ? zone : fallback;
}

/** The calendar date (YYYY-MM-DD) at this moment in the zone. */
export function localDate(at: Date, zone: string): string {
  return DateTime.fromJSDate(at, { zone }).toISODate()!;
}

export function addDays(isoDay: string, days: number): string {
  return DateTime.fromISO(isoDay, { zone: 'utc' }).plus({ days }).toISODate()!;
}

/** Whole days from `from` to `to` (both YYYY-MM-DD): positive when `to` is later. */
export function daysBetween(from: string, to: string): number {
  return Math.round(DateTime.fromISO(to, { zone: 'utc' }).diff(DateTime.fromISO(from, { zone: 'utc' }), 'days').days);
}

/** The ISO week of a date, e.g. "2026-W49": the cycle of weekly digests. */
export function isoWeek(isoDay: string): string {
  const d = DateTime.fromISO(isoDay, { zone: 'utc' });
  return `${d.weekYear}-W${String(d.weekNumber).padStart(2, '0')}`;
}

/** Midnight at the start of the date in the zone. */
export function startOfLocalDay(isoDay: string, zone: string): Date {
  return DateTime.fromISO(isoDay, { zone }).startOf('day').toJSDate();
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
