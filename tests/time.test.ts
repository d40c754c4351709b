import { describe, expect, it } from 'vitest';
import { addDays, addMonths, isCalendarDay, isoDay } from '../src/core/time.js';

describe('calendar days (one time module for commands and the scheduler)', () => {
  it('"today" of a command is the UTC calendar day, also just before and after midnight UTC', () => {
    expect(isoDay(new Date('2026-06-15T23:59:59Z'))).toBe('2026-06-15');
    expect(isoDay(new Date('2026-06-16T00:00:00Z'))).toBe('2026-06-16');
  });

  it('adds days and months across month ends and leap years; a day the month lacks becomes its last', () => {
    expect(addDays('2026-12-25', 14)).toBe('2027-01-08');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addMonths('2026-01-31', 1)).toBe('2026-02-28');
    expect(addMonths('2028-01-31', 1)).toBe('2028-02-29');
    expect(addMonths('2026-03-15', 12)).toBe('2027-03-15');
    expect(addMonths('2028-02-29', 12)).toBe('2029-02-28');
  });

  it('knows a real calendar day from one that does not exist or is written otherwise', () => {
    expect(isCalendarDay('2028-02-29')).toBe(true);
    expect(isCalendarDay('2026-02-29')).toBe(false);
    expect(isCalendarDay('2026-02-30')).toBe(false);
    expect(isCalendarDay('30.06.2026')).toBe(false);
    expect(isCalendarDay('2026-6-1')).toBe(false);
  });
});
