/**
 * Work the process has accepted and still owes an answer for (a command between its ack and its
 * answer, a Teams turn): a graceful stop waits for it, up to a bound, before closing the register.
 * With a limit, `full` says when no more should be taken on: the platforms then answer "busy" at
 * once instead of queueing commands behind the database.
 */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(readonly limit = Number.POSITIVE_INFINITY) {}

  get size(): number {
    return this.pending.size;
  }

  get full(): boolean {
    return this.pending.size >= this.limit;
  }

  /** Runs `work`, counted until it settles. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const running = work();
    this.pending.add(running);
    const forget = () => { this.pending.delete(running); };
    running.then(forget, forget);
    return running;
  }

  /** Resolves true once nothing is in flight (work started meanwhile included), false when `timeoutMs` ran out first. */
  async settled(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); });
    try {
      while (this.pending.size) {
        const done = await Promise.race([Promise.allSettled([...this.pending]).then(() => true), timedOut]);
        if (!done) return false;
      }
      return true;
    } finally {
      clearTimeout(timer);
    }
  }
}
