import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FakeSlackApiOptions {
  /** Every nth chat.postMessage is answered 429 with this Retry-After (seconds) for its channel. */
  rateLimitEvery?: number;
  retryAfterSeconds?: number;
  /** Every nth chat.postMessage (not already rate limited) is answered HTTP 500 and not posted. */
  failEvery?: number;
  /** The nth accepted chat.postMessage is posted but never answered, as if the sender died mid-call. */
  holdAfterPosts?: number;
  /** chat.postMessage limited as Slack documents it (see StrictLimits); off by default. */
  strict?: StrictLimits;
}

/**
 * Slack's limits on chat.postMessage, from its rate-limit documentation: about one message per
 * second per channel, short bursts tolerated, and a workspace-wide limit on the method for the app.
 * Modelled as token buckets that refill continuously (no minute-long burst): a request finding its
 * bucket empty is answered 429 with Retry-After (whole seconds until a token is back) and uses no
 * token; the channel stays refused until its Retry-After has run out.
 */
export interface StrictLimits {
  /** Workspace-wide messages per second (the ceiling of a campaign). */
  workspacePerSecond: number;
  /** Messages the workspace bucket holds after a quiet spell; one second's worth by default. */
  workspaceBurst?: number;
  /** Messages per second to one channel; 1 by default. */
  channelPerSecond?: number;
  /** Messages one channel's bucket holds; 2 by default ("short bursts >1 allowed"). */
  channelBurst?: number;
}

/** A continuously refilling token bucket. */
class Bucket {
  private tokens: number;
  private at: number;
  constructor(private readonly perSecond: number, private readonly size: number, now: number) {
    this.tokens = size;
    this.at = now;
  }

  /** Takes a token, or says how many milliseconds until one is back. */
  take(now: number): { ok: true } | { ok: false; waitMs: number } {
    this.tokens = Math.min(this.size, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, waitMs: ((1 - this.tokens) / this.perSecond) * 1000 };
  }

  /** A token taken for a request another limit then refused. */
  giveBack(): void {
    this.tokens = Math.min(this.size, this.tokens + 1);
  }
}

export interface PostedMessage { channel: string; ts: string; text: string; metadata?: { event_type: string; event_payload: Record<string, unknown> } }

export interface SeenRequest { method: string; channel?: string; at: number; status: number }

/**
 * A minimal Slack Web API on 127.0.0.1: auth.test, users.info, conversations.open, chat.postMessage (counted per
 * channel), conversations.history (with message metadata) and response_urls. It answers 429 with
 * Retry-After and HTTP 500 on request or under Slack's documented limits (`strict`), and records any
 * request to a channel that arrives before that channel's Retry-After ran out.
 */
export class FakeSlackApi {
  readonly posted: PostedMessage[] = [];
  readonly requests: SeenRequest[] = [];
  /** Requests to a channel that came while its Retry-After was still running. */
  readonly tooEarly: SeenRequest[] = [];
  /** Resolves with the channel of the message held by holdAfterPosts and the X-Worker header of its sender. */
  readonly held: Promise<{ channel: string; worker?: string }>;
  private resolveHeld!: (held: { channel: string; worker?: string }) => void;
  private readonly blockedUntil = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private postCalls = 0;
  private workspace?: Bucket;
  private readonly channels = new Map<string, Bucket>();
  /** Accepted chat.postMessage calls, and when the first and last were accepted. */
  readonly accepted = { count: 0, first: 0, last: 0 };
  private server?: http.Server;
  private lastTsMicros = 0;

  constructor(private readonly options: FakeSlackApiOptions = {}) {
    this.held = new Promise((resolve) => { this.resolveHeld = resolve; });
  }

  /** Base URL for WebClient's slackApiUrl, e.g. http://127.0.0.1:4567/api/ */
  url = '';

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/`;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Accepted chat.postMessage calls per channel. */
  postsPerChannel(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const m of this.posted) counts.set(m.channel, (counts.get(m.channel) ?? 0) + 1);
    return counts;
  }

  count(method: string, status?: number): number {
    return this.requests.filter((r) => r.method === method && (status === undefined || r.status === status)).length;
  }

  /** Answers posted to a response_url of this server (`<origin>/respond/<id>`): which id, and when. */
  readonly responses: { id: string; at: number; text?: string }[] = [];
  /** Called with each answer posted to a response_url, as it arrives. */
  onResponse?: (response: { id: string; at: number; text?: string }) => void;

  /** A response_url for a slash command or click: what the app posts to it is kept in `responses`. */
  responseUrl(id: string): string {
    return this.url.replace(/\/api\/$/, `/respond/${id}`);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if ((req.url ?? '').startsWith('/respond/')) {
      const body = await readArgs(req);
      const response = { id: (req.url ?? '').slice('/respond/'.length), at: Date.now(), text: typeof body.text === 'string' ? body.text : undefined };
      this.responses.push(response);
      this.onResponse?.(response);
      return this.answer(res, 'response_url', undefined, 200, { ok: true });
    }
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0];
    const args = await readArgs(req);
    if (!/^Bearer xoxb-/.test(String(req.headers.authorization ?? ''))) return this.answer(res, method, undefined, 200, { ok: false, error: 'not_authed' });
    const now = Date.now();
    switch (method) {
      case 'conversations.open': {
        const users = String(args.users ?? '');
        if (!users) return this.answer(res, method, undefined, 200, { ok: false, error: 'users_list_not_supplied' });
        return this.answer(res, method, undefined, 200, { ok: true, channel: { id: `D${users}` } });
      }
      case 'chat.postMessage': {
        const channel = String(args.channel ?? '');
        if (!channel) return this.answer(res, method, channel, 200, { ok: false, error: 'channel_not_found' });
        if (this.stillBlocked(channel, now, method)) return this.rateLimited(res, method, channel, now);
        const limited = this.overLimit(channel, now);
        if (limited !== undefined) return this.rateLimited(res, method, channel, now, limited);
        const n = ++this.postCalls;
        const { rateLimitEvery, failEvery, holdAfterPosts } = this.options;
        if (rateLimitEvery && n % rateLimitEvery === 0) return this.rateLimited(res, method, channel, now);
        if (failEvery && n % failEvery === 0) return this.answer(res, method, channel, 500, 'internal error');
        const ts = this.nextTs(now);
        this.posted.push({ channel, ts, text: String(args.text ?? ''), metadata: args.metadata as PostedMessage['metadata'] });
        this.accepted.count++;
        this.accepted.first ||= now;
        this.accepted.last = now;
        if (holdAfterPosts && this.posted.length === holdAfterPosts) {
          this.requests.push({ method, channel, at: now, status: 0 });
          this.resolveHeld({ channel, worker: req.headers['x-worker'] as string | undefined });
          return; // posted, but the caller never hears back
        }
        return this.answer(res, method, channel, 200, { ok: true, channel, ts, message: { text: args.text, ts } });
      }
      case 'conversations.history': {
        const channel = String(args.channel ?? '');
        if (this.stillBlocked(channel, now, method)) return this.rateLimited(res, method, channel, now);
        const oldest = Number(args.oldest ?? 0);
        const withMetadata = String(args.include_all_metadata) === 'true';
        const messages = this.posted.filter((m) => m.channel === channel && Number(m.ts) >= oldest).reverse()
          .map((m) => ({ type: 'message', ts: m.ts, text: m.text, ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}) }));
        return this.answer(res, method, channel, 200, { ok: true, messages, has_more: false });
      }
      case 'users.info':
        return this.answer(res, method, undefined, 200, { ok: true, user: { id: String(args.user ?? ''), deleted: false, is_bot: false, tz: 'UTC', profile: {} } });
      case 'auth.test':
        return this.answer(res, method, undefined, 200, { ok: true, team_id: 'TFAKE', user_id: 'UBOT', bot_id: 'BFAKE', url: 'https://fake.slack.example/' });
      default:
        return this.answer(res, method, undefined, 200, { ok: false, error: 'unknown_method' });
    }
  }

  /**
   * A message's ts as Slack gives it: the time it was posted, in seconds with six decimals, unique
   * in the channel. A ts that dropped the fraction would sort a message before a moment earlier in
   * the same second, and a look-up with `oldest` would miss it.
   */
  private nextTs(now: number): string {
    this.lastTsMicros = Math.max(now * 1000, this.lastTsMicros + 1);
    return `${Math.floor(this.lastTsMicros / 1e6)}.${String(this.lastTsMicros % 1e6).padStart(6, '0')}`;
  }

  private stillBlocked(channel: string, now: number, method: string): boolean {
    const until = this.blockedUntil.get(channel);
    if (until === undefined || now >= until) return false;
    this.tooEarly.push({ method, channel, at: now, status: 429 });
    return true;
  }

  /** Under the strict limits: the wait before this channel, and the workspace, take a message again; undefined when they take it now. */
  private overLimit(channel: string, now: number): number | undefined {
    const strict = this.options.strict;
    if (!strict) return undefined;
    let conversation = this.channels.get(channel);
    if (!conversation) this.channels.set(channel, conversation = new Bucket(strict.channelPerSecond ?? 1, strict.channelBurst ?? 2, now));
    this.workspace ??= new Bucket(strict.workspacePerSecond, strict.workspaceBurst ?? strict.workspacePerSecond, now);
    // The workspace is asked first: a message it refuses uses none of the channel's allowance.
    const workspace = this.workspace.take(now);
    if (!workspace.ok) return workspace.waitMs;
    const own = conversation.take(now);
    if (!own.ok) {
      this.workspace.giveBack();
      return own.waitMs;
    }
    return undefined;
  }

  private rateLimited(res: http.ServerResponse, method: string, channel: string, now: number, waitMs?: number): void {
    const seconds = waitMs !== undefined ? Math.max(1, Math.ceil(waitMs / 1000)) : this.options.retryAfterSeconds ?? 1;
    this.blockedUntil.set(channel, now + seconds * 1000);
    res.setHeader('Retry-After', String(seconds));
    this.answer(res, method, channel, 429, { ok: false, error: 'ratelimited' });
  }

  private answer(res: http.ServerResponse, method: string, channel: string | undefined, status: number, body: unknown): void {
    this.requests.push({ method, channel, at: Date.now(), status });
    res.statusCode = status;
    res.setHeader('Content-Type', typeof body === 'string' ? 'text/plain' : 'application/json');
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  }
}

/** WebClient posts form-encoded arguments, with objects (blocks, metadata) as JSON strings; JSON bodies work too. */
async function readArgs(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  if (String(req.headers['content-type'] ?? '').includes('application/json')) return raw ? JSON.parse(raw) : {};
  const args: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    args[k] = (k === 'metadata' || k === 'blocks') && (v.startsWith('{') || v.startsWith('[')) ? safeJson(v) : v;
  }
  return args;
}

function safeJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}
