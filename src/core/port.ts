import type { Person } from './actor.js';
import type { Reply } from './reply.js';

/**
 * What the core needs from a chat platform to reach someone on its own initiative.
 * Slack, Teams and the terminal each implement it in adapters/.
 */
export interface ChatPort {
  readonly platform: 'slack' | 'teams' | 'shell' | 'test';
  /** True when this platform can reach the person (has their user id or a stored conversation). */
  canReach(person: Person): boolean | Promise<boolean>;
  /** Sends a message; throws DeliveryError for a failure that may pass (rate limit, 5xx). */
  send(person: Person, message: Reply): Promise<void>;
}

export class DeliveryError extends Error {
  constructor(message: string, readonly retryAfterMs?: number, readonly permanent = false) {
    super(message);
    this.name = 'DeliveryError';
  }
}
