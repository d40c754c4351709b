/**
 * Paces sends to each platform so they arrive at its rate limit and no faster: a token bucket per
 * platform (kept as a theoretical arrival time, GCRA), handing out a start time for each message.
 * The bucket holds only a short burst, so a platform that refills continuously (Slack's
 * chat.postMessage) sees an even flow instead of a minute's budget at once followed by silence.
 *
 * A 429 gives its token back: only messages the platform took count against its rate. It pauses
 * the conversation it came from (the outbox reschedules that person's rows); once a second
 * conversation is refused within the pause, the limit is the workspace's and the whole platform
 * waits for its Retry-After.
 */
export interface PaceOptions {
  /** Messages per minute each platform may take; absent means no pacing. */
  perMinute?: Record<string, number>;
  /** How many messages may go at once after a quiet spell, in milliseconds of the rate (at least one message). */
  burstMs?: number;
}

interface Bucket {
  /** When the next message would be due if the flow were perfectly even. */
  tat: number;
  /** No message to this platform starts before this (a workspace-wide 429). */
  pausedUntil: number;
  /** Recent 429s: which conversation, and until when it asked to wait. */
  refusals: { conversation: string; until: number }[];
  /** The latest time asked about, to notice a clock set back. */
  seen: number;
}

/** A clock that goes back further than this (set back, or a test's injected time) starts the bucket afresh. */
const CLOCK_SET_BACK_MS = 60_000;

export const DEFAULT_BURST_MS = 250;

export class Pacer {
  private readonly buckets = new Map<string, Bucket>();
  private readonly burstMs: number;

  constructor(private readonly perMinute: Record<string, number> = {}, burstMs = DEFAULT_BURST_MS) {
    this.burstMs = burstMs;
  }

  private bucket(platform: string, now?: number): Bucket {
    let b = this.buckets.get(platform);
    if (!b || (now !== undefined && now < b.seen - CLOCK_SET_BACK_MS)) this.buckets.set(platform, b = { tat: 0, pausedUntil: 0, refusals: [], seen: 0 });
    if (now !== undefined) b.seen = Math.max(b.seen, now);
    return b;
  }

  /** Milliseconds between two messages to the platform; 0 when it is not paced. */
  interval(platform: string): number {
    const rate = this.perMinute[platform];
    return rate && rate > 0 ? 60_000 / rate : 0;
  }

  /** When the platform takes messages again after a workspace-wide 429 (0: not paused). */
  pausedUntil(platform: string): number {
    return this.buckets.get(platform)?.pausedUntil ?? 0;
  }

  /**
   * The start time of one more message to the platform, if it falls within `aheadMs` of now; the
   * token is taken. Undefined when the next free slot is later than that.
   */
  reserve(platform: string, now: number, aheadMs: number): number | undefined {
    const b = this.bucket(platform, now);
    const earliest = Math.max(now, b.pausedUntil);
    const t = this.interval(platform);
    if (t === 0) return earliest <= now + aheadMs ? earliest : undefined;
    const tolerance = Math.max(0, Math.floor(this.burstMs / t)) * t;
    const slot = Math.max(earliest, b.tat - tolerance);
    if (slot > now + aheadMs) return undefined;
    b.tat = Math.max(b.tat, slot) + t;
    return slot;
  }

  /**
   * Takes the pace every replica shares (from the database) as this process's own: the next even
   * slot and any workspace-wide pause. A stored time more than a minute ahead comes from a clock
   * set back (or a test's injected time) and is left out.
   */
  adopt(platform: string, tat: number, pausedUntil: number, now: number): void {
    const b = this.bucket(platform, now);
    if (tat <= now + CLOCK_SET_BACK_MS) b.tat = tat;
    if (pausedUntil <= now + CLOCK_SET_BACK_MS) b.pausedUntil = Math.max(b.pausedUntil, pausedUntil);
  }

  /** The platform's next even slot and pause, to share with the other replicas. */
  state(platform: string): { tat: number; pausedUntil: number } {
    const b = this.bucket(platform);
    return { tat: b.tat, pausedUntil: b.pausedUntil };
  }

  /** A reserved slot that was not used (the row went back to the queue, or the platform refused it). */
  giveBack(platform: string): void {
    const t = this.interval(platform);
    if (t > 0) this.bucket(platform).tat -= t;
  }

  /**
   * A 429 from the platform: its token is given back, and when another conversation was refused
   * within the pause too, the whole platform waits. True when the pause is platform-wide.
   */
  refused(platform: string, conversation: string, retryAfterMs: number, now: number): boolean {
    this.giveBack(platform);
    const b = this.bucket(platform, now);
    const until = now + retryAfterMs;
    b.refusals = b.refusals.filter((r) => r.until > now);
    const workspace = b.refusals.some((r) => r.conversation !== conversation);
    b.refusals.push({ conversation, until: Math.max(until, now + 1000) });
    if (workspace) {
      b.pausedUntil = Math.max(b.pausedUntil, until);
      // After the pause the flow restarts evenly, not with everything that piled up.
      b.tat = Math.max(b.tat, until);
    }
    return workspace;
  }
}

const shared = new WeakMap<object, Map<string, Pacer>>();

/**
 * The pacer every worker of this process uses for one database and set of limits, so two workers
 * in one process share the platform's rate instead of each taking all of it.
 */
export function sharedPacer(owner: object, options: PaceOptions): Pacer {
  const key = JSON.stringify([options.perMinute ?? {}, options.burstMs ?? DEFAULT_BURST_MS]);
  let byKey = shared.get(owner);
  if (!byKey) shared.set(owner, byKey = new Map());
  let pacer = byKey.get(key);
  if (!pacer) byKey.set(key, pacer = new Pacer(options.perMinute, options.burstMs));
  return pacer;
}
