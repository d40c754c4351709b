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

  responseUrl(id: string): string { return `${this.url}/respond/${id}`; }

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
  addFile(id: string, name: string, content: Buffer | string, mimetype = 'application/octet-stream', options: { statedSize?: number; endless?: boolean; redirectTo?: string } = {}): void {
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
      if (failure && failure.remaining > 0) {
        failure.remaining -= 1;
        call.status = failure.status;
      }
      this.record(call);
      res.writeHead(call.status, { 'content-type': 'text/plain' }).end(call.status === 200 ? 'ok' : 'upstream failure');
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

  private defaultAnswer(method: string, args: Record<string, any>): Record<string, any> {
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
