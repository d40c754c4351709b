/**
 * Slack's lane in the front door (src/front-door.ts): a signed slash command or button click is
 * acknowledged in the front door's thread, as Bolt would acknowledge it, and handed to the Bolt app
 * on the main thread; past the in-flight limit a slash command is answered "busy" there and then.
 * Everything else (events, form submissions whose acknowledgement carries their answer, unsigned or
 * stale requests) goes to Bolt untouched, which answers it as always.
 *
 * Runs in the front door's thread: it loads only Bolt's signature check, not Bolt.
 */
import { parse } from 'node:querystring';
import { verifySlackRequest } from '@slack/bolt/dist/receivers/verify-request.js';
import type { Lane, LaneRequest } from '../../src/front-door.js';

export interface SlackLaneOptions {
  signingSecret: string;
  /** Commands forwarded and not yet answered past which a slash command is answered `busyAnswer`. */
  limit: number;
  /** The acknowledgement that answers a slash command "busy" (JSON). */
  busyAnswer: string;
}

/** What the main thread gets: the request as Slack sent it, for Bolt, and whether it was refused as busy. */
export interface SlackForward {
  body: string;
  contentType: string;
  busy?: boolean;
}

/** The one content type Slack posts commands and clicks with (Bolt parses only this one as a form). */
const FORM = 'application/x-www-form-urlencoded';

export function createLane(options: SlackLaneOptions): Lane {
  return (request: LaneRequest, inFlight: number) => {
    if (request.headers['content-type'] !== FORM) return undefined;
    const body = request.body.toString();
    const fields = parse(body);
    const command = typeof fields.command === 'string';
    if (!command && !(typeof fields.payload === 'string' && isButtonClick(fields.payload))) return undefined;
    if (!signed(request, body, options.signingSecret)) return undefined;
    const forward: SlackForward = { body, contentType: FORM };
    if (command && inFlight >= options.limit) {
      return { status: 200, headers: { 'content-type': 'application/json' }, body: options.busyAnswer, forward: { ...forward, busy: true } };
    }
    return { status: 200, forward };
  };
}

function isButtonClick(payload: string): boolean {
  try {
    return (JSON.parse(payload) as { type?: unknown }).type === 'block_actions';
  } catch {
    return false;
  }
}

function signed(request: LaneRequest, body: string, signingSecret: string): boolean {
  const signature = request.headers['x-slack-signature'];
  const timestamp = request.headers['x-slack-request-timestamp'];
  if (typeof signature !== 'string' || typeof timestamp !== 'string') return false;
  try {
    verifySlackRequest({ signingSecret, body, headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': Number(timestamp) } });
    return true;
  } catch {
    return false;
  }
}
