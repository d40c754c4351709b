/** What every benchmark section shares: timing a step with its CPU time and memory, percentiles, a free port. */
import net from 'node:net';

export const RSS_SAMPLE_MS = 20;
export const RSS_METHOD = `peakRssMb: process.memoryUsage().rss sampled every ${RSS_SAMPLE_MS} ms during the step and once at its end `
  + '(a step that blocks the event loop, as PGlite does, hides its peak from the sampler); maxRssAfterMb: the process\'s '
  + 'peak so far by getrusage (process.resourceUsage().maxRSS) after the step, so a step that raises it set a new peak';

export const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;

/**
 * Runs a step, timing it, sampling the resident set size while it runs, and taking the CPU time this
 * process spent on it (user + system): on a busy machine the wall time says more about the neighbours.
 */
export async function measured<T>(step: () => Promise<T>): Promise<{ value: T; ms: number; cpuMs: number; rssBeforeMb: number; peakRssMb: number; maxRssAfterMb: number }> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sample = () => { peak = Math.max(peak, process.memoryUsage().rss); };
  const timer = setInterval(sample, RSS_SAMPLE_MS);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  try {
    const value = await step();
    sample();
    const cpu = process.cpuUsage(cpu0);
    return { value, ms: Math.round(performance.now() - t0), cpuMs: Math.round((cpu.user + cpu.system) / 1000), rssBeforeMb: mb(before), peakRssMb: mb(peak), maxRssAfterMb: mb(process.resourceUsage().maxRSS * 1024) };
  } finally {
    clearInterval(timer);
  }
}

/** The p-th percentile of ascending `sorted`. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** A TCP port nobody listens on at the moment. */
/** `count` distinct free ports: all held open while choosing, so two calls cannot name the same one. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => net.createServer());
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))));
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}

export async function freePort(): Promise<number> {
  return (await freePorts(1))[0];
}
