/** Stored evidence values as a person reads them; exports and OSCAL keep the stored values. */

/** Where evidence came in, by the channel stored with it. */
const CHANNEL_WORDS: Record<string, string> = {
  slack: 'Slack',
  teams: 'Microsoft Teams',
  shell: 'terminal',
  import: 'import from a file',
  scheduler: 'scheduled job',
};

export const channelInWords = (channel: string): string => CHANNEL_WORDS[channel] ?? channel;

/**
 * An evidence request's period: a scheduled one ("2026-Q1", "2026-05", "2026-H2", "2026") as it is;
 * one asked for outside the schedule ("/isms request", stored "adhoc-<day>", "-2" for the second that
 * day) as the day it was asked for.
 */
export function periodInWords(cycle: string): string {
  const adhoc = /^adhoc-(\d{4}-\d{2}-\d{2})(?:-(\d+))?$/.exec(cycle);
  if (adhoc) return `requested on ${adhoc[1]}${adhoc[2] ? ` (request ${adhoc[2]} that day)` : ''}`;
  return cycle === 'adhoc' || cycle.startsWith('adhoc-') ? 'requested outside the schedule' : cycle;
}
