import { loadConfig, type Config } from '../config.js';

/** What the scheduled jobs need to know: working hours, the ladder, reminder cadences (from src/config.ts). */
export type NudgeSettings = Config['nudges'];
/** How the delivery worker paces itself (from src/config.ts). */
export type DeliverySettings = Config['delivery'];

/** The ladder an overdue item climbs; escalation_level counts the steps taken (0 = none yet, 4 = all). */
export const LADDER = [
  'remind the owner',
  'remind the owner again',
  "tell the owner's manager",
  "put it on the management body's digest",
] as const;
export const LADDER_TOP = LADDER.length;

/** The settings the bot starts with when the environment sets none; tests override what they exercise. */
export function defaultNudgeSettings(overrides: Partial<NudgeSettings> = {}): NudgeSettings {
  return { ...loadConfig({}).nudges, ...overrides };
}

export function defaultDeliverySettings(overrides: Partial<DeliverySettings> = {}): DeliverySettings {
  return { ...loadConfig({}).delivery, ...overrides };
}
