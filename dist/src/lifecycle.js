/**
 * Work the process has accepted and still owes an answer for (a command between its ack and its
 * answer, a Teams turn): a graceful stop waits for it, up to a bound, before closing the register.
 */
export class InFlight {
    pending = new Set();
    get size() {
        return this.pending.size;
    }
    /** Runs `work`, counted until it settles. */
    run(work) {
        const running = work();
        this.pending.add(running);
        const forget = () => { this.pending.delete(running); };
        running.then(forget, forget);
        return running;
    }
    /** Resolves true once nothing is in flight (work started meanwhile included), false when `timeoutMs` ran out first. */
    async settled(timeoutMs) {
        let timer;
        const timedOut = new Promise((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); });
        try {
            while (this.pending.size) {
                const done = await Promise.race([Promise.allSettled([...this.pending]).then(() => true), timedOut]);
                if (!done)
                    return false;
            }
            return true;
        }
        finally {
            clearTimeout(timer);
        }
    }
}
//# sourceMappingURL=lifecycle.js.map