/**
 * Requests as Slack sends them to the app: signed with the signing secret (v0 HMAC-SHA256 over
 * "v0:<timestamp>:<body>"), as form-encoded slash commands, "payload=" interactions, or JSON events.
 */
import { createHmac } from 'node:crypto';

export interface SlackDelivery { status: number; body: string; json(): any }

export function sign(body: string, secret: string, timestamp: number): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SendOptions {
  /** Seconds since the epoch; Slack's requests older than 5 minutes must be refused. */
  timestamp?: number;
  /** Sign with this secret instead (a forger's). */
  secret?: string;
  /** Slack's retry counter for an event it delivers again. */
  retryNum?: number;
}

export class SlackSender {
  constructor(readonly url: string, private readonly secret: string) {}

  async send(body: string, contentType: string, options: SendOptions = {}): Promise<SlackDelivery> {
    const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': contentType,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': sign(body, options.secret ?? this.secret, timestamp),
    };
    if (options.retryNum !== undefined) {
      headers['x-slack-retry-num'] = String(options.retryNum);
      headers['x-slack-retry-reason'] = 'http_timeout';
    }
    const response = await fetch(this.url, { method: 'POST', headers, body });
    const text = await response.text();
    return { status: response.status, body: text, json: () => JSON.parse(text) };
  }

  /** A slash command, form-encoded as Slack posts it. */
  command(fields: Record<string, string>, options?: SendOptions): Promise<SlackDelivery> {
    return this.send(new URLSearchParams(fields).toString(), 'application/x-www-form-urlencoded', options);
  }

  /** An interaction (block_actions, view_submission): one form field "payload" holding JSON. */
  interaction(payload: unknown, options?: SendOptions): Promise<SlackDelivery> {
    return this.send(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), 'application/x-www-form-urlencoded', options);
  }

  /** An Events API callback. */
  event(event: Record<string, unknown>, eventId: string, options?: SendOptions): Promise<SlackDelivery> {
    const body = JSON.stringify({
      token: 'legacy-verification-token', team_id: 'T0TEST', api_app_id: 'A0TEST', type: 'event_callback',
      event_id: eventId, event_time: Math.floor(Date.now() / 1000), event,
      authorizations: [{ team_id: 'T0TEST', user_id: 'UBOT', is_bot: true, is_enterprise_install: false }],
    });
    return this.send(body, 'application/json', options);
  }
}
