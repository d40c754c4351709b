import { loadConfig } from '../config.js';
/** The ladder an overdue item climbs; escalation_level counts the steps taken (0 = none yet, 4 = all). */
export const LADDER = [
    'remind the owner',
    'remind the owner again',
    "tell the owner's manager",
    "put it on the management body's digest",
];
export const LADDER_TOP = LADDER.length;
/** The settings the bot starts with when the environment sets none; tests override what they exercise. */
export function defaultNudgeSettings(overrides = {}) {
    return { ...loadConfig({}).nudges, ...overrides };
}
export function defaultDeliverySettings(overrides = {}) {
    return { ...loadConfig({}).delivery, ...overrides };
}
//# sourceMappingURL=settings.js.map