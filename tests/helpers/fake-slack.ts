/**
 * A local stand-in for the Slack Web API on 127.0.0.1: answers the methods the bot uses the way
 * Slack does (ok/error bodies, 429 with Retry-After, 5xx), serves private file downloads only with
 * a bot token, takes response_url posts, and records every call. It can also play Slack's Socket
 * Mode WebSocket server. Messages the bot posted can be read back with conversations.history,
 * with their metadata when include_all_metadata is set. Files go up as Slack's external upload:
 * files.getUploadURLExternal gives an upload URL here that takes the bytes (raw or multipart), and
 * files.completeUploadExternal shares them into a conversation. A modal's views.update with a hash
 * that is no longer the modal's is refused (hash_conflict), as Slack refuses it. Large files are
 * streamed both ways: a file to download can be served from disk, and a large upload is kept as its
 * SHA-256 and length.
 *
 * Slack's documented limits are enforced as Slack enforces them (see blockKitError): Block Kit
 * limits (invalid_blocks), message length (msg_too_long), a response_url used more than 5 times or
 * after 30 minutes (404 used_url / expired_url), a trigger_id used twice or after 3 seconds
 * (exchanged_trigger_id / expired_trigger_id), an update of a closed modal (not_found), and a
 * channel that is gone, archived or without the bot (channelState). Time is the fake's own clock,
 * which a test moves on (advance) instead of waiting.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface SlackCall {
  method: string;
  args: Record<string, any>;
  /** The bearer token the call carried. */
  token?: string;
  status: number;
  /** What the fake answered (Web API methods with HTTP 200). */
  response?: Record<string, any>;
  /** When the fake received the call (epoch ms). */
  at: number;
}

type Answer = (args: Record<string, any>, call: SlackCall) => Record<string, any>;

/** A file people shared, served from memory or, when large, streamed from a file on disk. */
interface FakeFile {
  id: string; name: string; mimetype: string; size: number; bytes?: Buffer; path?: string;
  /** The size files.info states, when it is not the file's. */
  statedSize?: number;
  /** The download repeats the bytes without a Content-Length until the client hangs up, as a broken or hostile server could. */
  endless?: boolean;
  /** The download answers 302 to this address, as files.slack.com sends some files on to a signed address on another host. */
  redirectTo?: string;
  /** Answered with Slack's sign-in page (200, HTML), as Slack answers a token without the files:read scope. */
  signInPage?: boolean;
}

/** Uploads up to this size keep their bytes for the test to read; larger ones only their SHA-256 and length. */
const KEPT_UPLOAD_BYTES = 8 * 1024 * 1024;

/** A file uploaded through files.getUploadURLExternal and its upload URL. */
export interface UploadedFile {
  id: string;
  filename: string;
  /** The length files.getUploadURLExternal was told. */
  declared: number;
  /** The bytes POSTed to the upload URL (from the file part of a multipart body), once they came, if not larger than KEPT_UPLOAD_BYTES. */
  bytes?: Buffer;
  /** How many bytes came, and their SHA-256 (hex), once they came. */
  length?: number;
  sha256?: string;
  /** How the bytes came: "raw" or "multipart". */
  encoding?: 'raw' | 'multipart';
  /** Set by files.completeUploadExternal: where it was shared, with what title and comment. */
  shared?: { channel?: string; title?: string; comment?: string };
}

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  /** Slack users by id: users.info, users.lookupByEmail and users.list answer from here, in insertion order. */
  /** `team`: the user's own workspace (T0TEST unless said), another one's for a Slack Connect member; `stranger`: Slack's is_stranger. */
  readonly users = new Map<string, { email?: string; tz?: string; deleted?: boolean; is_bot?: boolean; real_name?: string; team?: string; stranger?: boolean }>();
  readonly files = new Map<string, FakeFile>();
  /** Uploads by file id, in the order files.getUploadURLExternal gave them out. */
  readonly uploads = new Map<string, UploadedFile>();
  /** What the Socket Mode server received from the app. */
  readonly socketFrames: any[] = [];
  socketClients: WebSocket[] = [];
  socketUrl?: string;

  private readonly answers = new Map<string, Answer>();
  private readonly failures = new Map<string, { status: number; remaining: number }>();
  /** Methods whose next calls are taken (recorded with 200) and then lose their answer: the connection closes. */
  private readonly droppedAnswers = new Map<string, number>();
  private readonly rateLimits = new Map<string, { seconds: number; until?: number }>();
  private readonly conversationLimits = new Map<string, { seconds: number; until?: number }>();
  private readonly holds = new Map<string, Promise<void>>();
  /** The current hash of each modal opened here, which views.update checks as Slack does. */
  private readonly viewHashes = new Map<string, string>();
  private readonly waiting = new Map<string, number>();
  private readonly events = new EventEmitter();
  private counter = 0;
  private wss?: WebSocketServer;
  /** How far the fake's clock has been moved on (advance); it does not move by itself. */
  private skewMs = 0;
  /** When each response_url was given out, and how many posts it took. */
  private readonly responseUrls = new Map<string, { issuedAt: number; uses: number }>();
  /** When each trigger_id was given out, and whether a modal was opened with it. */
  private readonly triggers = new Map<string, { issuedAt: number; used: boolean }>();
  /** Modals the person closed: views.update answers not_found. */
  private readonly closedViews = new Set<string>();
  private readonly closingTriggers = new Set<string>();
  /** Channels that are not as usual (see channelState). */
  private readonly channelStates = new Map<string, ChannelState>();

  /**
   * When set, the token is an org-wide (Enterprise Grid) install's: auth.test says is_enterprise_install,
   * auth.teams.list names these workspaces, and users.list needs team_id (missing_argument without).
   */
  orgInstall?: { enterpriseId: string; teams: { id: string; name: string }[] };

  private constructor(private readonly server: http.Server, readonly url: string) {}

  static async start(): Promise<FakeSlack> {
    const ready: { fake?: FakeSlack } = {};
    const server = http.createServer((req, res) => void ready.fake!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ready.fake = new FakeSlack(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return ready.fake;
  }

  /** The value for SLACK_API_URL. */
  get apiUrl(): string { return `${this.url}/api/`; }

  /** A response_url Slack gives out now (with a command or a click): it takes 5 posts within 30 minutes. */
  responseUrl(id: string): string {
    if (!this.responseUrls.has(id)) this.responseUrls.set(id, { issuedAt: this.now(), uses: 0 });
    return `${this.url}/respond/${id}`;
  }

  /** A trigger_id Slack gives out now (with a command or a click): it opens one modal within 3 seconds. */
  trigger(id: string): string {
    if (!this.triggers.has(id)) this.triggers.set(id, { issuedAt: this.now(), used: false });
    return id;
  }

  /**
   * The fake's clock (ms) for the ages of response_urls and trigger_ids: it moves only by advance(), so a
   * slow test on a busy machine never sees a trigger expire that the test did not age on purpose.
   */
  now(): number { return this.skewMs; }

  /** Moves the fake's clock on, as if the bot had taken that long: response_urls and trigger_ids age. */
  advance(ms: number): void { this.skewMs += ms; }

  /** The person closed the modal: updating it is answered not_found, as Slack does. */
  closeView(id: string): void { this.closedViews.add(id); }

  /** The modal opened with this trigger is closed by the person as soon as it shows. */
  closeViewOpenedWith(trigger: string): void { this.closingTriggers.add(trigger); }

  /**
   * A channel as Slack sees it: gone (channel_not_found, as a private channel without the bot reads
   * too), without the bot (not_in_channel), archived (is_archived), or with these members only
   * (an ephemeral to anyone else: user_not_in_channel).
   */
  channelState(channel: string, state: ChannelState): void { this.channelStates.set(channel, state); }

  /** Replaces the answer of one method. */
  on(method: string, answer: Answer): void { this.answers.set(method, answer); }

  /** Back to the usual answer of the method. */
  off(method: string): void { this.answers.delete(method); }

  /** The next `times` calls of the method get this HTTP status (e.g. 500). */
  failNext(method: string, status: number, times = Number.POSITIVE_INFINITY): void {
    this.failures.set(method, { status, remaining: times });
  }

  /**
   * The next `times` calls of the method are carried out (recorded as taken) but the caller never
   * hears back: the connection closes without an answer, as when a network drops mid-request.
   */
  takeThenDropConnection(method: string, times = 1): void { this.droppedAnswers.set(method, times); }

  /** Rate limits the method as Slack does: 429 with Retry-After, and again for any call before that time has passed. */
  rateLimit(method: string, seconds: number): void { this.rateLimits.set(method, { seconds }); }

  /**
   * Rate limits posting into one conversation (a user id or its D... channel), as Slack limits
   * messages per channel: 429 with Retry-After, and again for any post before that time has passed.
   */
  rateLimitConversation(channel: string, seconds: number): void { this.conversationLimits.set(dmOf(channel), { seconds }); }

  clearFailures(): void { this.droppedAnswers.clear(); this.failures.clear(); this.rateLimits.clear(); this.conversationLimits.clear(); }

  /**
   * Calls of the method (or "file download") wait until released, as a slow Slack would: shows
   * what the app did before the call returned.
   */
  hold(method: string): () => void {
    let release!: () => void;
    this.holds.set(method, new Promise<void>((r) => { release = r; }));
    return () => { this.holds.delete(method); release(); };
  }

  /** How many calls of the method are waiting in a hold right now. */
  waitingOn(method: string): number { return this.waiting.get(method) ?? 0; }

  private async held(method: string): Promise<void> {
    const hold = this.holds.get(method);
    if (!hold) return;
    this.waiting.set(method, this.waitingOn(method) + 1);
    this.events.emit('call');
    await hold;
    this.waiting.set(method, this.waitingOn(method) - 1);
  }

  /** A file people shared: its bytes, or the path of a file on disk to stream them from. */
  addFile(id: string, name: string, content: Buffer | string, mimetype = 'application/octet-stream', options: { statedSize?: number; endless?: boolean; redirectTo?: string; signInPage?: boolean } = {}): void {
    this.files.set(id, typeof content === 'string'
      ? { id, name, mimetype, size: statSync(content).size, path: content, ...options }
      : { id, name, mimetype, size: content.length, bytes: content, ...options });
  }

  callsTo(method: string): SlackCall[] { return this.calls.filter((c) => c.method === method); }

  /** Files shared with files.completeUploadExternal. */
  sharedFiles(): UploadedFile[] { return [...this.uploads.values()].filter((u) => u.shared); }

  /** Every call about one conversation, named by a user id or its D... channel (channel or users argument). */
  callsIn(channel: string): SlackCall[] {
    const dm = dmOf(channel);
    return this.calls.filter((c) => [c.args.channel, c.args.users].some((v) => typeof v === 'string' && dmOf(v) === dm));
  }

  /** Waits until the method has been called `count` times (or fails after `timeoutMs`). */
  async waitFor(method: string, count = 1, timeoutMs = 15_000): Promise<SlackCall[]> {
    const done = () => this.callsTo(method).length >= count;
    if (!done()) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { this.events.off('call', check); reject(new Error(`${method} was called ${this.callsTo(method).length} time(s), expected ${count}`)); }, timeoutMs);
        const check = () => { if (done()) { clearTimeout(timer); this.events.off('call', check); resolve(); } };
        this.events.on('call', check);
      });
    }
    return this.callsTo(method);
  }

  /** Waits for the first call of the method that matches. */
  async waitForCall(method: string, match: (call: SlackCall) => boolean, timeoutMs = 15_000): Promise<SlackCall> {
    const find = () => this.callsTo(method).find(match);
    const found = find();
    if (found) return found;
    return new Promise<SlackCall>((resolve, reject) => {
      const timer = setTimeout(() => { this.events.off('call', check); reject(new Error(`no matching ${method} call within ${timeoutMs} ms`)); }, timeoutMs);
      const check = () => {
        const hit = find();
        if (hit) { clearTimeout(timer); this.events.off('call', check); resolve(hit); }
      };
      this.events.on('call', check);
    });
  }

  /** Starts the Socket Mode server that apps.connections.open points to. */
  async startSocketServer(): Promise<void> {
    this.wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => this.wss!.once('listening', () => resolve()));
    this.socketUrl = `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/link`;
    this.wss.on('connection', (ws) => {
      this.socketClients.push(ws);
      ws.on('message', (data) => {
        this.socketFrames.push(JSON.parse(String(data)));
        this.events.emit('frame');
      });
      this.events.emit('socket');
    });
  }

  async waitForSocketClient(timeoutMs = 15_000): Promise<WebSocket> {
    if (!this.socketClients.length) await this.once('socket', timeoutMs);
    return this.socketClients[0];
  }

  async waitForFrame(match: (frame: any) => boolean, timeoutMs = 15_000): Promise<any> {
    for (;;) {
      const found = this.socketFrames.find(match);
      if (found) return found;
      await this.once('frame', timeoutMs);
    }
  }

  private once(event: string, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
      this.events.once(event, () => { clearTimeout(timer); resolve(); });
    });
  }

  async close(): Promise<void> {
    for (const ws of this.socketClients) ws.terminate();
    if (this.wss) await new Promise<void>((resolve) => this.wss!.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private record(call: SlackCall): void {
    this.calls.push(call);
    this.events.emit('call');
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    if (url.pathname.startsWith('/upload/v1/')) {
      await this.receiveUpload(url.pathname.slice('/upload/v1/'.length), req, res);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];

    if (req.method === 'GET' && url.pathname.startsWith('/files/')) {
      await this.held('file download');
      const file = this.files.get(url.pathname.slice('/files/'.length));
      const allowed = token?.startsWith('xoxb-');
      const status = !file ? 404 : !allowed ? 403 : file.redirectTo ? 302 : 200;
      this.record({ method: 'file download', args: { file: file?.id }, token, status, at: Date.now() });
      if (!file) { res.writeHead(404).end(); return; }
      // Slack answers a download without a valid token with its login page, not the file.
      if (!allowed) { res.writeHead(403).end('login required'); return; }
      if (file.redirectTo) { res.writeHead(302, { location: file.redirectTo }).end(); return; }
      if (file.signInPage) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!DOCTYPE html><html><head><title>Sign in | Slack</title></head><body>Sign in to your workspace</body></html>');
        return;
      }
      if (file.endless && file.bytes) {
        const bytes = file.bytes;
        res.writeHead(200, { 'content-type': file.mimetype });
        while (!res.destroyed && !res.writableEnded) {
          if (!res.write(bytes)) await new Promise((resolve) => { res.once('drain', resolve); res.once('close', resolve); });
        }
        return;
      }
      res.writeHead(200, { 'content-type': file.mimetype, 'content-length': String(file.size) });
      if (file.path) createReadStream(file.path).pipe(res);
      else res.end(file.bytes);
      return;
    }
    if (req.method === 'POST' && url.pathname.startsWith('/respond/')) {
      const call: SlackCall = { method: 'response_url', args: { ...JSON.parse(raw || '{}'), id: url.pathname.slice('/respond/'.length) }, status: 200, at: Date.now() };
      const dropping = this.droppedAnswers.get('response_url') ?? 0;
      if (dropping > 0) {
        this.droppedAnswers.set('response_url', dropping - 1);
        this.record(call);
        res.socket?.destroy();
        return;
      }
      const failure = this.failures.get('response_url');
      let said = 'upstream failure';
      if (failure && failure.remaining > 0) {
        failure.remaining -= 1;
        call.status = failure.status;
      } else {
        const refusal = this.responseUrlRefusal(call.args.id, call.args);
        if (refusal) [call.status, said] = refusal;
      }
      call.response = { said: call.status === 200 ? 'ok' : said };
      this.record(call);
      res.writeHead(call.status, { 'content-type': 'text/plain' }).end(call.response.said);
      return;
    }
    const method = url.pathname.replace(/^\/api\//, '');
    const args = parseArgs(raw, req.headers['content-type'] ?? '');
    const call: SlackCall = { method, args, token: token ?? args.token, status: 200, at: Date.now() };

    await this.held(method);

    const limit = this.rateLimits.get(method)
      ?? (method === 'chat.postMessage' && typeof args.channel === 'string' ? this.conversationLimits.get(dmOf(args.channel)) : undefined);
    if (limit) {
      const now = Date.now();
      if (limit.until === undefined || now < limit.until) {
        limit.until ??= now + limit.seconds * 1000;
        call.status = 429;
        this.record(call);
        res.writeHead(429, { 'retry-after': String(limit.seconds), 'content-type': 'application/json' }).end('{"ok":false,"error":"ratelimited"}');
        return;
      }
    }
    const dropping = this.droppedAnswers.get(method) ?? 0;
    if (dropping > 0) {
      this.droppedAnswers.set(method, dropping - 1);
      call.response = this.defaultAnswer(method, args);
      this.record(call);
      res.socket?.destroy();
      return;
    }
    const failure = this.failures.get(method);
    if (failure && failure.remaining > 0) {
      failure.remaining -= 1;
      call.status = failure.status;
      this.record(call);
      // A 429 always names its Retry-After, as Slack's do.
      res.writeHead(failure.status, { 'content-type': 'text/plain', ...(failure.status === 429 ? { 'retry-after': '1' } : {}) }).end('upstream failure');
      return;
    }
    const body = token?.startsWith('xoxb-') || token?.startsWith('xapp-') ? (this.answers.get(method) ?? ((a) => this.defaultAnswer(method, a)))(args, call) : { ok: false, error: 'not_authed' };
    call.response = body;
    this.record(call);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  /**
   * Slack's answer to a response_url post it refuses: 404 once the URL was used 5 times or is older
   * than 30 minutes, 400 for blocks breaking Block Kit's limits. A URL built without responseUrl()
   * counts from its first post.
   */
  private responseUrlRefusal(id: string, args: Record<string, any>): [number, string] | undefined {
    let url = this.responseUrls.get(id);
    if (!url) this.responseUrls.set(id, url = { issuedAt: this.now(), uses: 0 });
    if (this.now() - url.issuedAt > RESPONSE_URL_MS) return [404, 'expired_url'];
    if (url.uses >= RESPONSE_URL_USES) return [404, 'used_url'];
    const invalid = messageError(args, false);
    if (invalid) return [400, invalid];
    url.uses += 1;
    return undefined;
  }

  /** views.open and views.push: a trigger opens one modal, within 3 seconds of the click or command. */
  private triggerRefusal(id: unknown): string | undefined {
    if (typeof id !== 'string' || !id) return 'invalid_trigger_id';
    let trigger = this.triggers.get(id);
    if (!trigger) this.triggers.set(id, trigger = { issuedAt: this.now(), used: false });
    if (trigger.used) return 'exchanged_trigger_id';
    if (this.now() - trigger.issuedAt > TRIGGER_MS) return 'expired_trigger_id';
    trigger.used = true;
    return undefined;
  }

  /** A post (or an update) in a channel Slack refuses: gone, archived, without the bot, or (ephemeral) to someone not in it. */
  private channelRefusal(method: string, args: Record<string, any>): string | undefined {
    const state = this.channelStates.get(String(args.channel ?? ''));
    if (!state) return undefined;
    if (typeof state === 'string') return state;
    if (method === 'chat.postEphemeral' && !state.members.includes(String(args.user))) return 'user_not_in_channel';
    return undefined;
  }

  private defaultAnswer(method: string, args: Record<string, any>): Record<string, any> {
    const refused = this.refusal(method, args);
    if (refused) return { ok: false, error: refused };
    const n = ++this.counter;
    switch (method) {
      case 'auth.test':
        // An org-wide install's token belongs to the Enterprise Grid org, not to one of its workspaces.
        if (this.orgInstall) return { ok: true, url: 'https://test-org.enterprise.slack.example/', enterprise_id: this.orgInstall.enterpriseId, is_enterprise_install: true, user: 'isms', user_id: 'UBOT', bot_id: 'BBOT' };
        return { ok: true, url: 'https://test.slack.example/', team: 'Test', team_id: 'T0TEST', user: 'isms', user_id: 'UBOT', bot_id: 'BBOT' };
      case 'auth.teams.list':
        if (!this.orgInstall) return { ok: true, teams: [{ id: 'T0TEST', name: 'Test' }], response_metadata: { next_cursor: '' } };
        return { ok: true, teams: this.orgInstall.teams, response_metadata: { next_cursor: '' } };
      case 'users.info': {
        const user = this.users.get(args.user);
        if (!user) return { ok: false, error: 'user_not_found' };
        return {
          ok: true,
          user: {
            id: args.user, team_id: user.team ?? 'T0TEST', deleted: user.deleted ?? false, is_bot: user.is_bot ?? false, ...(user.stranger ? { is_stranger: true } : {}),
            ...(user.tz ? { tz: user.tz } : {}), ...(user.real_name ? { real_name: user.real_name } : {}),
            profile: { email: user.email, ...(user.real_name ? { real_name: user.real_name, display_name: user.real_name } : {}) },
          },
        };
      }
      case 'users.lookupByEmail': {
        // Slack finds active and deactivated members by their profile email; bots have none.
        const email = String(args.email ?? '').toLowerCase();
        if (!email) return { ok: false, error: 'invalid_arguments' };
        const found = [...this.users].find(([, u]) => u.email?.toLowerCase() === email);
        if (!found) return { ok: false, error: 'users_not_found' };
        return { ok: true, user: slackUserObject(found[0], found[1]) };
      }
      case 'users.list':
        return this.usersList(args);
      case 'views.open':
      case 'views.push':
        this.viewHashes.set(`V${n}`, `hash-${n}`);
        if (this.closingTriggers.has(args.trigger_id)) this.closedViews.add(`V${n}`);
        return { ok: true, view: { ...args.view, id: `V${n}`, hash: `hash-${n}` } };
      case 'views.update': {
        // A hash names the version the caller last saw: an update of a view changed since is refused.
        const current = this.viewHashes.get(args.view_id);
        if (args.hash && current && args.hash !== current) return { ok: false, error: 'hash_conflict' };
        if (current) this.viewHashes.set(args.view_id, `hash-${n}`);
        return { ok: true, view: { ...args.view, id: args.view_id, hash: `hash-${n}` } };
      }
      case 'views.publish':
        return { ok: true, view: { ...args.view, id: `VH${n}`, hash: `hash-${n}` } };
      case 'chat.postMessage': {
        // A message to a user id goes to the bot's direct message with them (a D... channel).
        // Its ts is the time it was posted, as Slack's are (conversations.history's oldest compares with it).
        const ts = `${Math.floor(Date.now() / 1000)}.${String(n).padStart(6, '0')}`;
        return { ok: true, channel: dmOf(String(args.channel)), ts, message: { text: args.text, blocks: args.blocks } };
      }
      case 'conversations.open': {
        const users = String(args.users ?? '').split(',').filter(Boolean);
        if (users.length === 0) return { ok: false, error: 'users_list_not_supplied' };
        return { ok: true, channel: { id: dmOf(users[0]) } };
      }
      case 'conversations.history':
        return this.history(args);
      case 'chat.postEphemeral':
        return { ok: true, message_ts: `1700000000.${String(n).padStart(6, '0')}` };
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts, text: args.text };
      case 'files.info': {
        const file = this.files.get(args.file);
        if (!file) return { ok: false, error: 'file_not_found' };
        return { ok: true, file: { id: file.id, name: file.name, mimetype: file.mimetype, size: file.statedSize ?? file.size, url_private: `${this.url}/files/${file.id}`, url_private_download: `${this.url}/files/${file.id}` } };
      }
      case 'files.getUploadURLExternal': {
        const length = Number(args.length);
        if (!args.filename || !Number.isInteger(length) || length <= 0) return { ok: false, error: 'invalid_arguments' };
        const id = `F0UP${n}`;
        this.uploads.set(id, { id, filename: String(args.filename), declared: length });
        return { ok: true, upload_url: `${this.url}/upload/v1/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal':
        return this.completeUploads(args);
      case 'apps.connections.open':
        return this.socketUrl ? { ok: true, url: this.socketUrl } : { ok: false, error: 'invalid_auth' };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  /** What Slack refuses before doing anything: a broken message or view, a spent trigger, a closed modal, a channel it cannot post to. */
  private refusal(method: string, args: Record<string, any>): string | undefined {
    switch (method) {
      case 'chat.postMessage':
      case 'chat.postEphemeral':
        return this.channelRefusal(method, args) ?? messageError(args, method === 'chat.postMessage');
      case 'chat.update':
        return this.channelRefusal(method, args) ?? messageError(args, true);
      case 'views.open':
      case 'views.push':
        return viewError(args.view) ?? this.triggerRefusal(args.trigger_id);
      case 'views.update':
        if (this.closedViews.has(args.view_id)) return 'not_found';
        return viewError(args.view);
      case 'views.publish':
        return viewError(args.view);
      default:
        return undefined;
    }
  }

  /**
   * users.list as Slack pages it: `limit` members per page (all at once without one), an opaque
   * cursor in response_metadata.next_cursor, empty on the last page. Deleted members and bots are
   * listed too, as Slack does; USLACKBOT always comes first.
   */
  private usersList(args: Record<string, any>): Record<string, any> {
    // An org token must name the workspace to list (team_id); a workspace token's team_id is ignored.
    if (this.orgInstall && !args.team_id) return { ok: false, error: 'missing_argument' };
    const inTeam = ([, u]: [string, { team?: string }]) => !this.orgInstall || (u.team ?? 'T0TEST') === args.team_id;
    const members = [slackUserObject('USLACKBOT', { real_name: 'Slackbot' }), ...[...this.users].filter(inTeam).map(([id, u]) => slackUserObject(id, u))];
    let offset = 0;
    if (args.cursor) {
      const decoded = /^offset:(\d+)$/.exec(Buffer.from(String(args.cursor), 'base64').toString('utf8'));
      if (!decoded) return { ok: false, error: 'invalid_cursor' };
      offset = Number(decoded[1]);
    }
    const limit = Number(args.limit ?? 0);
    const end = limit > 0 ? offset + limit : members.length;
    const next = end < members.length ? Buffer.from(`offset:${end}`).toString('base64') : '';
    return { ok: true, members: members.slice(offset, end), cache_ts: Math.floor(Date.now() / 1000), response_metadata: { next_cursor: next } };
  }

  /**
   * The upload URL takes the bytes raw or as multipart/form-data and answers 200 "OK - <length>";
   * a URL that was not given out is 404, and bytes that differ from the declared length are 400
   * (Slack's URL would take them and fail the file later: here the test sees it at once).
   * Raw bytes are hashed as they stream in; only an upload up to KEPT_UPLOAD_BYTES (or a multipart
   * body, to find its file part) is held in memory.
   */
  private async receiveUpload(id: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const upload = this.uploads.get(id);
    const contentType = String(req.headers['content-type'] ?? '');
    const multipart = contentType.startsWith('multipart/form-data');
    const keep = multipart || (upload?.declared ?? 0) <= KEPT_UPLOAD_BYTES;
    const hash = createHash('sha256');
    const kept: Buffer[] = [];
    let length = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      hash.update(chunk);
      length += chunk.length;
      if (keep) kept.push(chunk);
    }
    let bytes: Buffer | undefined = keep ? Buffer.concat(kept) : undefined;
    let sha256 = hash.digest('hex');
    if (multipart) {
      bytes = filePart(bytes!, contentType);
      length = bytes?.length ?? -1;
      sha256 = createHash('sha256').update(bytes ?? '').digest('hex');
    }
    const status = req.method !== 'POST' ? 405 : !upload || upload.length !== undefined ? 404 : length !== upload.declared ? 400 : 200;
    this.record({ method: 'file upload', args: { file_id: id, length, declared: upload?.declared, encoding: multipart ? 'multipart' : 'raw' }, status, at: Date.now() });
    if (status !== 200) { res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 400 ? 'length mismatch' : 'not found'); return; }
    Object.assign(upload!, { bytes, length, sha256, encoding: multipart ? 'multipart' : 'raw' });
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${length}`);
  }

  /** files.completeUploadExternal: each file must have had its bytes; it is then shared into channel_id (or stays private). */
  private completeUploads(args: Record<string, any>): Record<string, any> {
    const files = (typeof args.files === 'string' ? safeJson(args.files) : args.files) as { id?: string; title?: string }[] | undefined;
    if (!Array.isArray(files) || files.length === 0) return { ok: false, error: 'invalid_arguments' };
    const uploads = files.map((f) => this.uploads.get(String(f.id)));
    if (uploads.some((u) => u?.length === undefined)) return { ok: false, error: 'file_not_found' };
    const channel = args.channel_id ? dmOf(String(args.channel_id)) : undefined;
    return {
      ok: true,
      files: uploads.map((u, i) => {
        u!.shared = { channel, title: files[i].title, comment: args.initial_comment };
        return { id: u!.id, name: u!.filename, title: files[i].title ?? u!.filename, size: u!.length, ims: channel?.startsWith('D') ? [channel] : [], channels: [] };
      }),
    };
  }

  /**
   * The messages the bot posted into a conversation (not thread replies), newest first, between
   * oldest and latest (exclusive unless inclusive), a page of `limit` at a time with next_cursor.
   */
  private history(args: Record<string, any>): Record<string, any> {
    if (!args.channel) return { ok: false, error: 'channel_not_found' };
    const channel = dmOf(String(args.channel));
    const inclusive = String(args.inclusive) === 'true';
    const after = (ts: number) => args.oldest === undefined || (inclusive ? ts >= Number(args.oldest) : ts > Number(args.oldest));
    const before = (ts: number) => args.latest === undefined || (inclusive ? ts <= Number(args.latest) : ts < Number(args.latest));
    const withMetadata = String(args.include_all_metadata) === 'true';
    const messages = this.callsTo('chat.postMessage')
      .filter((c) => c.response?.ok && c.response.channel === channel && !c.args.thread_ts)
      .filter((c) => after(Number(c.response!.ts)) && before(Number(c.response!.ts)))
      .reverse()
      .map((c) => ({
        type: 'message', user: 'UBOT', bot_id: 'BBOT', app_id: 'A0TEST', ts: c.response!.ts, text: c.args.text,
        ...(c.args.blocks ? { blocks: c.args.blocks } : {}),
        ...(withMetadata && c.args.metadata ? { metadata: c.args.metadata } : {}),
      }));
    const start = Number(args.cursor ?? 0);
    const limit = Math.min(Number(args.limit ?? 100), 999);
    const page = messages.slice(start, start + limit);
    const more = start + limit < messages.length;
    return { ok: true, messages: page, has_more: more, ...(more ? { response_metadata: { next_cursor: String(start + limit) } } : {}) };
  }
}

export type ChannelState = 'channel_not_found' | 'not_in_channel' | 'is_archived' | { members: string[] };

const RESPONSE_URL_USES = 5;
const RESPONSE_URL_MS = 30 * 60_000;
const TRIGGER_MS = 3_000;

/** A message's text past this many characters is refused (msg_too_long). */
const MESSAGE_TEXT = 40_000;

/**
 * Block Kit's documented limits for what the bot sends (a message, a modal, the App Home): the
 * first limit broken, as Slack names it in the error's response_metadata, or undefined. Slack
 * answers invalid_blocks for any of them.
 */
export function blockKitError(blocks: unknown, maxBlocks: number): string | undefined {
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks)) return 'blocks must be an array';
  if (blocks.length > maxBlocks) return `no more than ${maxBlocks} items allowed [json-pointer:/blocks]`;
  for (const [i, b] of blocks.entries()) {
    const problem = blockError(b);
    if (problem) return `${problem} [json-pointer:/blocks/${i}]`;
  }
  return undefined;
}

function textError(t: any, max: number, what: string): string | undefined {
  if (!t || typeof t.text !== 'string') return `${what} must have text`;
  if (t.text.length === 0) return `${what} must be more than 0 characters`;
  if (t.text.length > max) return `${what} must be less than ${max + 1} characters`;
  if (t.type === 'plain_text' || t.type === 'mrkdwn') return undefined;
  return `${what} has an unknown text type`;
}

function elementError(e: any): string | undefined {
  if (!e || typeof e !== 'object') return 'element must be an object';
  if (typeof e.action_id === 'string' && e.action_id.length > 255) return 'action_id must be less than 256 characters';
  switch (e.type) {
    case 'button':
      if (e.text?.type !== 'plain_text') return 'button text must be plain_text';
      return textError(e.text, 75, 'button text')
        ?? (typeof e.value === 'string' && e.value.length > 2000 ? 'button value must be less than 2001 characters' : undefined)
        ?? (typeof e.url === 'string' && e.url.length > 3000 ? 'button url must be less than 3001 characters' : undefined);
    case 'static_select':
    case 'multi_static_select':
    case 'radio_buttons':
    case 'checkboxes': {
      const options: any[] = e.options ?? (e.option_groups ?? []).flatMap((g: any) => g.options ?? []);
      const max = e.type === 'radio_buttons' || e.type === 'checkboxes' ? 10 : 100;
      if (options.length > max) return `${e.type} must have no more than ${max} options`;
      for (const o of options) {
        const problem = textError(o.text, 75, 'option text') ?? (typeof o.value === 'string' && o.value.length > 150 ? 'option value must be less than 151 characters' : undefined);
        if (problem) return problem;
      }
      return e.placeholder ? textError(e.placeholder, 150, 'placeholder') : undefined;
    }
    case 'plain_text_input':
      if (typeof e.initial_value === 'string' && e.initial_value.length > 3000) return 'initial_value must be less than 3001 characters';
      return e.placeholder ? textError(e.placeholder, 150, 'placeholder') : undefined;
    default:
      return e.placeholder ? textError(e.placeholder, 150, 'placeholder') : undefined;
  }
}

function blockError(b: any): string | undefined {
  if (!b || typeof b !== 'object') return 'block must be an object';
  if (typeof b.block_id === 'string' && b.block_id.length > 255) return 'block_id must be less than 256 characters';
  switch (b.type) {
    case 'section':
      if (!b.text && !b.fields) return 'section must have text or fields';
      if (b.fields && (b.fields.length > 10)) return 'section must have no more than 10 fields';
      return (b.text ? textError(b.text, 3000, 'section text') : undefined)
        ?? (b.fields ?? []).map((f: any) => textError(f, 2000, 'field text')).find(Boolean)
        ?? (b.accessory ? elementError(b.accessory) : undefined);
    case 'header':
      return b.text?.type === 'plain_text' ? textError(b.text, 150, 'header text') : 'header text must be plain_text';
    case 'actions':
      if (!Array.isArray(b.elements) || b.elements.length === 0) return 'actions must have elements';
      if (b.elements.length > 25) return 'actions must have no more than 25 elements';
      return b.elements.map(elementError).find(Boolean);
    case 'context':
      if (!Array.isArray(b.elements) || b.elements.length === 0) return 'context must have elements';
      if (b.elements.length > 10) return 'context must have no more than 10 elements';
      return b.elements.map((e: any) => (e.type === 'image' ? undefined : textError(e, 3000, 'context text'))).find(Boolean);
    case 'input':
      return (b.label?.type === 'plain_text' ? textError(b.label, 2000, 'input label') : 'input label must be plain_text')
        ?? (b.hint ? textError(b.hint, 2000, 'input hint') : undefined)
        ?? elementError(b.element);
    case 'divider':
    case 'image':
    case 'rich_text':
    case 'file':
    case 'video':
      return undefined;
    default:
      return `unknown block type ${String(b.type)}`;
  }
}

/** A message Slack refuses: its text too long, or its blocks breaking Block Kit's limits (50 blocks). */
function messageError(args: Record<string, any>, textLimited: boolean): string | undefined {
  if (textLimited && typeof args.text === 'string' && args.text.length > MESSAGE_TEXT) return 'msg_too_long';
  return blockKitError(args.blocks, 50) ? 'invalid_blocks' : undefined;
}

/** A view Slack refuses: 100 blocks at most, a title and buttons of 24 characters, 3000 of private_metadata. */
function viewError(view: any): string | undefined {
  if (!view || typeof view !== 'object') return 'invalid_arguments';
  if (blockKitError(view.blocks, 100)) return 'invalid_blocks';
  for (const key of ['title', 'submit', 'close']) {
    if (view[key] && textError(view[key], 24, key)) return 'invalid_arguments';
  }
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > 3000) return 'invalid_arguments';
  if (typeof view.callback_id === 'string' && view.callback_id.length > 255) return 'invalid_arguments';
  return undefined;
}

/** A user id stands for the bot's direct message with them (D... instead of U...). */
function dmOf(channel: string): string {
  return channel.startsWith('U') ? `D${channel.slice(1)}` : channel;
}

const JSON_FIELDS = new Set(['blocks', 'view', 'attachments', 'metadata', 'files']);

/** The bytes of the first part of a multipart/form-data body that carries a filename. */
function filePart(body: Buffer, contentType: string): Buffer | undefined {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!boundary) return undefined;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next === -1) return undefined;
    const part = body.subarray(start + delimiter.length + 2, next - 2); // after CRLF, before CRLF
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd !== -1 && /filename=/i.test(part.subarray(0, headerEnd).toString('utf8'))) return part.subarray(headerEnd + 4);
    start = next;
  }
  return undefined;
}

/** The Web API client sends form fields, with objects (blocks, views) as JSON strings; or JSON. */
function parseArgs(raw: string, contentType: string): Record<string, any> {
  if (!raw) return {};
  if (contentType.includes('application/json')) return JSON.parse(raw);
  const out: Record<string, any> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    out[k] = JSON_FIELDS.has(k) ? safeJson(v) : v;
  }
  return out;
}

function safeJson(v: string): unknown {
  try { return JSON.parse(v); } catch { return v; }
}

/** A member as users.info, users.lookupByEmail and users.list describe one. */
function slackUserObject(id: string, u: { email?: string; tz?: string; deleted?: boolean; is_bot?: boolean; real_name?: string }): Record<string, any> {
  const bot = u.is_bot ?? id === 'USLACKBOT';
  return {
    id, team_id: 'T0TEST', name: (u.real_name ?? id).toLowerCase().replace(/\s+/g, '.'), deleted: u.deleted ?? false, is_bot: u.is_bot ?? false,
    real_name: u.real_name ?? id, ...(u.tz ? { tz: u.tz } : {}),
    profile: { real_name: u.real_name ?? id, ...(u.email && !bot ? { email: u.email } : {}) },
  };
}
