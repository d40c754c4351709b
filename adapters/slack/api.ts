/**
 * Calls to the Slack Web API, file downloads, and logging. Retries with backoff, and waiting out a
 * 429's Retry-After, are the WebClient's own (its retryConfig, or none for the outbox's client);
 * this module only adds what to log when a call has failed for good: the method and the inbound
 * request it served, never a token.
 */
import { format } from 'node:util';
import type { Logger as Pino } from 'pino';
import { LogLevel, webApi, type Logger as BoltLogger } from '@slack/bolt';
import type { Attachment } from '../../src/core/router.js';
import { MAX_EVIDENCE_FILE_BYTES, downloadToTempFile, fileTooLarge } from '../../src/core/attachments.js';
import { NEVER_SENT } from '../../src/core/port.js';
import { invalid } from '../../src/core/errors.js';

type WebClient = InstanceType<typeof webApi.WebClient>;

/** The inbound Slack request (or the delivery) an API call serves, for the log. */
export type RequestInfo = Record<string, string | number | undefined>;

/** Bolt, the WebClient and Socket Mode log through the bot's logger (which scrubs token-shaped text). */
export function boltLogger(log: Pino): BoltLogger {
  // Bolt logs debug lines on every request: a level that is off costs no formatting.
  const write = (level: 'debug' | 'info' | 'warn' | 'error') => (...msg: unknown[]) => {
    if (log.isLevelEnabled(level)) log[level](format(...msg));
  };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    setLevel: () => undefined,
    getLevel: () => (log.isLevelEnabled('debug') ? LogLevel.DEBUG : log.isLevelEnabled('info') ? LogLevel.INFO : log.isLevelEnabled('warn') ? LogLevel.WARN : LogLevel.ERROR),
    setName: () => undefined,
  };
}

/** The parts of a failed call worth logging: never headers, never the request body. */
export function describeSlackError(e: unknown): Record<string, unknown> {
  const err = e as { code?: string; message?: string; statusCode?: number; data?: { error?: string }; retryAfter?: number };
  return {
    code: err?.code,
    message: err?.message,
    ...(err?.statusCode ? { status: err.statusCode } : {}),
    ...(err?.data?.error ? { slackError: err.data.error } : {}),
    ...(retryAfterMs(e) !== undefined ? { retryAfterMs: retryAfterMs(e) } : {}),
  };
}

/** How long Slack asked us to wait, when the last try was rate limited. */
export function retryAfterMs(e: unknown): number | undefined {
  const err = e as { code?: string; retryAfter?: number; message?: string };
  if (err?.code === webApi.ErrorCode.RateLimitedError && typeof err.retryAfter === 'number') return err.retryAfter * 1000;
  // After its last retry the WebClient throws a plain error naming the Retry-After it honoured.
  const m = /retry-after: (\d+)/.exec(err?.message ?? '');
  return m ? Number(m[1]) * 1000 : undefined;
}

/**
 * Methods that post a message or open a modal: sent twice, the person reads it twice; and a modal's
 * trigger is single-use, so a repeat after a try that opened it is refused (exchanged_trigger_id) as
 * if none had opened.
 */
const POSTS = new Set(['chat.postMessage', 'chat.postEphemeral', 'files.completeUploadExternal', 'views.open', 'views.push']);

/**
 * The retry options for calls that post a message: a try is repeated only when the last surely did
 * not post it (Slack's rate limit, which the client waits out; a 500, 502 or 503; a connection
 * refused), never after a timeout, a connection lost mid-request or a 504, when it may have.
 */
export function retryingOnlyUnposted<T extends object>(retry: T): T & { onFailedAttempt(error: unknown): void } {
  return {
    ...retry,
    onFailedAttempt(error: unknown) {
      if (surelyNotPosted(error)) return;
      throw error;
    },
  };
}

/** A failed try that surely did not post: rate limited, a 500, 502 or 503, or a connection never made. */
function surelyNotPosted(error: unknown): boolean {
  const e = error as { message?: string; statusCode?: number; original?: { cause?: { code?: string }; code?: string } };
  if (/A rate limit was exceeded/.test(e?.message ?? '')) return true;
  if (e?.statusCode !== undefined && [500, 502, 503].includes(e.statusCode)) return true;
  const code = e?.original?.cause?.code ?? e?.original?.code;
  return Boolean(code && NEVER_SENT.has(code));
}

/**
 * Whether a post that failed for good may still have reached the person (a timeout, a 504, a
 * connection lost mid-request), so that posting it again could show it twice. Slack's own refusal
 * (ok: false, a 429; but a modal's hash_conflict), the failures the retry rule repeats, and anything
 * that failed before a request went out did not post it; an AnswerNotShown is judged by its cause.
 */
export function mayHavePosted(error: unknown): boolean {
  const e = error as { name?: string; code?: string; cause?: unknown; statusCode?: number; data?: { error?: string } };
  if (e?.name === 'AnswerNotShown') return mayHavePosted(e.cause);
  // A view changed since the bot read its hash: by an earlier try of this very update, perhaps, whose answer was lost.
  if (e?.code === webApi.ErrorCode.PlatformError && e.data?.error === 'hash_conflict') return true;
  // A response_url post (Bolt's respond, over fetch): Slack's status, or the connection's fault.
  if (e?.code === 'slack_bolt_respond_error') return (e.statusCode ?? 0) >= 500 && !surelyNotPosted(error);
  if (error instanceof TypeError && e.cause) {
    const code = (e.cause as { code?: string }).code;
    return !(code && NEVER_SENT.has(code));
  }
  // A 4xx is Slack turning the request away; only a gateway or server failure leaves it open.
  const sent = e?.code === webApi.ErrorCode.RequestError || (e?.code === webApi.ErrorCode.HTTPError && (e.statusCode ?? 500) >= 500);
  return sent && !surelyNotPosted(error);
}

/** Slack answered with an error that repeating the call will not change (unknown channel, inactive account...). */
export function isPermanentSlackError(e: unknown): boolean {
  const err = e as { code?: string; data?: { error?: string } };
  const passing = ['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout'];
  return err?.code === webApi.ErrorCode.PlatformError && !passing.includes(err.data?.error ?? '');
}

/** Slack's refusals of a token that was revoked, or whose app was removed from the workspace: no retry will pass. */
export const TOKEN_REFUSALS = ['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired'];

/** Slack's refusal of the bot token (see TOKEN_REFUSALS), or undefined for any other failure. */
export function tokenRefusal(e: unknown): string | undefined {
  const err = e as { code?: string; data?: { error?: string } };
  const refusal = err?.code === webApi.ErrorCode.PlatformError ? err.data?.error : undefined;
  return refusal && TOKEN_REFUSALS.includes(refusal) ? refusal : undefined;
}

/** What a refused bot token means for the operator, in one sentence (no token, no person). */
export const tokenRefusedMessage = (refusal: string) => `Slack no longer accepts the bot token (${refusal}): the app was removed from the workspace`
  + ' or its tokens were revoked, so the bot can no longer post there. Reinstall the app and set SLACK_BOT_TOKEN to its new token.';

/**
 * The domains Slack serves files from, with their subdomains: url_private on files.slack.com (GovSlack:
 * files.slack-gov.com), and the signed addresses it redirects some downloads to (files-origin.slack.com,
 * slack-files.com, the slack-edge.com CDN).
 */
const SLACK_FILE_DOMAINS = ['slack.com', 'slack-gov.com', 'slack-files.com', 'slack-edge.com'];

/** The statuses of a redirect to the Location header's address. */
const REDIRECTS = [301, 302, 303, 307, 308];

/** How many redirects a file download follows (Slack's take one). */
export const MAX_FILE_REDIRECTS = 3;

/** Arguments worth naming in a log line: whom or what the call was about, not its content. */
const TARGET_ARGS = ['channel', 'user', 'users', 'user_id', 'view_id', 'file', 'thread_ts', 'ts'];

/** Shared by the clients of one token: a refused token is logged once, not once per call. */
export interface TokenState { refusalLogged: boolean }

export class SlackApi {
  /** `postClient`: the client for methods that post a message (see retryingOnlyUnposted); by default `client`. */
  constructor(readonly client: WebClient, private readonly log: Pino, private readonly botToken: string, private readonly postClient: WebClient = client,
    private readonly token: TokenState = { refusalLogged: false }) {}

  /**
   * Calls a Web API method; a failure that outlived the client's retries is logged with its request, then thrown.
   * `expected`: Slack's error codes the caller answers itself (e.g. user_not_found), or `'any'` when the
   * caller logs every failure itself: logged at debug, not as an error.
   */
  async call<T = Record<string, any>>(method: string, args: Record<string, unknown>, request: RequestInfo, expected: readonly string[] | 'any' = []): Promise<T> {
    try {
      return (await (POSTS.has(method) ? this.postClient : this.client).apiCall(method, args)) as T;
    } catch (e) {
      this.logFailure(method, args, request, e, expected);
      throw e;
    }
  }

  /** The pages of a cursor-paginated method (the WebClient follows next_cursor); a failure is logged as in call(). */
  async *pages<T = Record<string, any>>(method: string, args: Record<string, unknown>, request: RequestInfo): AsyncGenerator<T> {
    try {
      for await (const page of this.client.paginate(method, { ...args })) yield page as T;
    } catch (e) {
      this.logFailure(method, args, request, e);
      throw e;
    }
  }

  private logFailure(method: string, args: Record<string, unknown>, request: RequestInfo, e: unknown, expected: readonly string[] | 'any' = []): void {
    const target = Object.fromEntries(TARGET_ARGS.filter((k) => typeof args[k] === 'string').map((k) => [k, args[k]]));
    const refusal = (e as { data?: { error?: string } })?.data?.error;
    const refused = tokenRefusal(e);
    // Every call fails alike once the app is removed: the operator reads it once, not once per message.
    if (refused && !this.token.refusalLogged) {
      this.token.refusalLogged = true;
      this.log.error({ slackMethod: method, slackError: refused }, tokenRefusedMessage(refused));
      return;
    }
    if (refused || expected === 'any' || (refusal && expected.includes(refusal))) {
      this.log.debug({ slackMethod: method, target, request, error: describeSlackError(e) }, `Slack ${method} ${refusal ? `answered ${refusal}` : 'failed'}`);
      return;
    }
    // A 429 handed back to the caller (the outbox's client) is expected traffic: the delivery worker
    // waits it out and counts them in one line a minute. One the client gave up waiting out stays an error.
    if ((e as { code?: string })?.code === webApi.ErrorCode.RateLimitedError) {
      this.log.debug({ slackMethod: method, target, request, error: describeSlackError(e) }, `Slack ${method} rate limited`);
      return;
    }
    this.log.error({ slackMethod: method, target, request, error: describeSlackError(e) }, `Slack ${method} failed`);
  }

  /**
   * Downloads a private file (url_private) with the bot token, as Slack requires, streaming it into a
   * temporary file (see downloadToTempFile): one refused by its Content-Length is never read, and one
   * that streams past the limit is cut off there. Slack answers some files with a redirect to a
   * signed address on another of its hosts: followed here, at most MAX_FILE_REDIRECTS times, and only
   * to Slack's file hosts (hostsFile), so the token goes nowhere else; any other redirect is refused.
   */
  async download(url: string, name: string, request: RequestInfo, mimeType?: string): Promise<Attachment> {
    if (!this.hostsFile(url)) throw new Error(`${name} is not on Slack's file hosts, so it was not downloaded with the bot token`);
    let response: Response;
    for (let hops = 0; ; hops++) {
      try {
        response = await fetch(url, { headers: { Authorization: `Bearer ${this.botToken}` }, redirect: 'manual' });
      } catch (e) {
        this.log.error({ slackMethod: 'file download', request, file: name, error: { message: (e as Error).message } }, 'Slack file download failed');
        throw e;
      }
      const location = REDIRECTS.includes(response.status) ? response.headers.get('location') : null;
      if (location === null) break;
      await response.body?.cancel();
      const next = URL.canParse(location, url) ? new URL(location, url).href : '';
      if (hops < MAX_FILE_REDIRECTS && this.hostsFile(next)) {
        url = next;
        continue;
      }
      const outside = !this.hostsFile(next);
      // Only the host goes to the log: a signed address is a credential of its own.
      this.log.warn({ slackMethod: 'file download', request, file: name, redirectedTo: URL.canParse(next) ? new URL(next).host : '(unreadable)', hops: hops + 1 },
        outside ? 'Slack file download redirected outside Slack\'s file hosts; not followed' : `Slack file download redirected more than ${MAX_FILE_REDIRECTS} times; not followed`);
      throw invalid(`Slack sent the download of "${name}" on ${outside ? 'to an address outside Slack' : 'too many times'}, so I did not download it. Nothing was recorded.`,
        'Upload the file again; if it keeps happening, tell the ISMS lead.');
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      this.log.error({ slackMethod: 'file download', request, file: name, error: { status: response.status } }, 'Slack file download failed');
      throw new Error(`Downloading ${name} from Slack failed with HTTP ${response.status}`);
    }
    // A token Slack does not let read the file (no files:read scope) gets its sign-in page, with 200:
    // that page must not be recorded, and hashed, as the evidence.
    if (/^\s*text\/html\b/i.test(response.headers.get('content-type') ?? '') && !/html/i.test(mimeType ?? '')) {
      await response.body.cancel();
      this.log.warn({ slackMethod: 'file download', request, file: name }, 'Slack answered a file download with a web page (its sign-in page?): the bot token may lack the files:read scope');
      throw invalid(`Slack answered the download of "${name}" with a web page, not the file, so nothing was recorded.`,
        'The Slack app may lack the files:read scope: ask the ISMS lead to add it and reinstall the app, then upload the file again.');
    }
    if (Number(response.headers.get('content-length') ?? 0) > MAX_EVIDENCE_FILE_BYTES) {
      await response.body.cancel();
      throw fileTooLarge(name);
    }
    return downloadToTempFile(name, response.body, mimeType);
  }

  /**
   * Whether a file URL is Slack's own, the only kind the bot token may be sent to: https on one of
   * SLACK_FILE_DOMAINS (files.slack.com, GovSlack's files.slack-gov.com, the hosts Slack redirects
   * downloads to), or the origin the Web API calls already go to (SLACK_API_URL), which has the token anyway.
   */
  hostsFile(url: string): boolean {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return false;
    }
    if (target.origin === new URL(this.client.slackApiUrl).origin) return true;
    return target.protocol === 'https:' && !target.port && SLACK_FILE_DOMAINS.some((d) => target.hostname === d || target.hostname.endsWith(`.${d}`));
  }

  /** Logs that a response_url refused an answer for good (used 5 times, or older than 30 minutes): it goes another way. */
  logResponseUrlSpent(request: RequestInfo): void {
    this.log.warn({ slackMethod: 'response_url', request }, 'Slack response_url no longer takes answers (used 5 times, or older than 30 minutes): the answer goes by direct message (or into the channel) instead');
  }

  /** Logs a failed answer through a response_url (not a Web API method, so not retried by the client). */
  logRespondFailure(e: unknown, request: RequestInfo): void {
    this.log.error({ slackMethod: 'response_url', request, error: describeSlackError(e) }, 'Slack response_url failed');
  }
}
