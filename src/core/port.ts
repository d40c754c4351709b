import type { Person } from './actor.js';
import type { Reply } from './reply.js';

/**
 * What the core needs from a chat platform to reach someone on its own initiative.
 * Slack, Teams and the terminal each implement it in adapters/.
 */
export interface ChatPort {
  readonly platform: 'slack' | 'teams' | 'shell' | 'test';
  /**
   * True when this platform can reach the person (has their user id or a stored conversation, or
   * finds them now). A DeliveryError with retryAfterMs means the platform asked to wait before
   * the bot asks again: the person's messages wait that long, and they do not count as unreachable.
   * A permanent DeliveryError (the platform refuses the bot itself) fails their messages at once,
   * with its message, unless another port reaches them or may later; any other error waits.
   */
  canReach(person: Person): boolean | Promise<boolean>;
  /**
   * Why canReach said no, in words for the ISMS lead ("no Slack account has the email …"), when
   * the platform knows. Asked only after canReach answered false.
   */
  unreachableReason?(person: Person): string | undefined | Promise<string | undefined>;
  /**
   * canReach and unreachableReason for these people, answered from what one look-up read for all of
   * them (their stored chat addresses), so a delivery batch asks the database once rather than once
   * per person. The answers are as of the look-up: they are for the batch that asked, not to be kept.
   */
  lookUp?(people: Person[]): Promise<ReachCheck>;
  /** Sends a message; throws DeliveryError for a failure that may pass (rate limit, 5xx). */
  send(person: Person, message: Reply): Promise<void>;
}

/** Whether, and if not why not, a platform can reach someone. */
export type ReachCheck = Pick<ChatPort, 'canReach' | 'unreachableReason'>;

/** Connection errors raised before any of a request was sent: trying it again cannot deliver it twice. */
export const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

export class DeliveryError extends Error {
  /**
   * @param mayHaveArrived the platform may have taken the message despite the error (a gateway
   * timeout, a connection lost after the request went out): on a platform that cannot be asked
   * afterwards, the retry is marked as a possible repeat, as after a crash mid-send.
   */
  constructor(message: string, readonly retryAfterMs?: number, readonly permanent = false, readonly mayHaveArrived = false) {
    super(message);
    this.name = 'DeliveryError';
  }
}
