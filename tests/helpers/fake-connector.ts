import { createHash, type Hash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One message the bot posted to a conversation (a reply, or a proactive message). */
export interface PostedActivity {
  conversationId: string;
  /** The activity the bot replied to, from the URL (absent for a new message). */
  replyToId?: string;
  /** The id the connector gave the new message. */
  id: string;
  activity: Record<string, any>;
  /** When it arrived (performance.now()): a benchmark times replies by it. */
  at: number;
  /** The region part of the serviceUrl it was posted to ("emea" for https://smba.trafficmanager.net/emea/), if any. */
  region?: string;
  /** The connection it came on. */
  connection: ConnectorConnection;
}

/** A connection the bot opened to the connector. */
export interface ConnectorConnection {
  /** How many requests came on it. */
  requests: number;
  /** The bot closed it (the connector saw its end), rather than the connector. */
  closedByBot: boolean;
  closed: boolean;
}

export interface UpdatedActivity { conversationId: string; activityId: string; activity: Record<string, any> }

export interface Member { id: string; name: string; aadObjectId?: string; email?: string; userPrincipalName?: string }

/** A conversation the bot asked the connector to open (a personal chat with one member). */
export interface CreatedConversation { id: string; parameters: Record<string, any> }

/** A OneDrive upload session as Teams opens one when someone accepts a file from the bot. */
export interface UploadSession {
  name: string;
  /** Every PUT, with the Content-Range it carried and the status it got. */
  puts: { range: string; bytes: number; status: number }[];
  /** The bytes received, in order, for a file up to KEPT_UPLOAD_BYTES; a larger one keeps only its size and SHA-256. */
  received: Buffer;
  /** How many bytes came so far. */
  size: number;
  /** The SHA-256 (hex) of the whole file, once complete. */
  sha256?: string;
  complete: boolean;
}

/** A file the connector serves: from memory or, when large, streamed from a file on disk. */
interface ServedFile { size: number; bytes?: Buffer; path?: string; contentType: string; declaredLength?: number }

/** Upload sessions up to this size keep their bytes for the test to read. */
const KEPT_UPLOAD_BYTES = 8 * 1024 * 1024;

interface Failure { status: number; retryAfter?: string; code: string }

/** How the answer to an activity that did reach its conversation goes missing. */
export type LostAnswer = 'gateway-timeout' | 'reset';

export interface FakeConnectorOptions {
  /** Every nth POST of an activity is answered 429 Too Many Requests with Retry-After: 1, and not posted. */
  rateLimitEvery?: number;
  /** The nth posted activity reaches the conversation but is never answered, as if its sender died waiting. */
  holdAfterPosts?: number;
}

/**
 * A local stand-in for the Bot Connector service (the serviceUrl in activities): it records what
 * the bot posts and updates, answers member look-ups, pages through team rosters (pagedmembers
 * with continuation tokens), opens personal chats (POST /v3/conversations: one member and the
 * tenant, else 400), serves file downloads, takes file uploads into OneDrive upload sessions, and
 * can be told to
 * answer with errors such as 429 Too Many Requests, as the real one does.
 */
export class FakeConnector {
  readonly posted: PostedActivity[] = [];
  readonly updated: UpdatedActivity[] = [];
  readonly members = new Map<string, Member>();
  readonly files = new Map<string, ServedFile>();
  readonly downloads: string[] = [];
  readonly created: CreatedConversation[] = [];
  /** The personal chat Teams has with each member (by member id), opened by the bot or set by a test. */
  readonly personalChats = new Map<string, string>();
  /** The parameters of every request to open a conversation, whatever it was answered. */
  readonly conversationRequests: Record<string, any>[] = [];
  readonly uploads = new Map<string, UploadSession>();
  /** While true, posted activities wait in `held` until released: a slow Bot Connector, answering when the test says. */
  holdPosts = false;
  readonly held: { conversationId: string; connection: ConnectorConnection; release(): void }[] = [];
  /** Every connection the bot opened, in order. */
  readonly connections: ConnectorConnection[] = [];
  private readonly connectionOf = new WeakMap<Socket, ConnectorConnection>();
  /** When set, answers announce "Keep-Alive: timeout=N" with this N, whatever the connector's own idle timeout. */
  private announcedKeepAlive?: number;
  /** When set, opening a conversation fails with this status (Teams' 403 when the bot may not message the user). */
  refuseNewConversations?: number;
  /** Team rosters by team id: what GET /v3/conversations/{teamId}/pagedmembers pages through. */
  readonly rosters = new Map<string, Member[]>();
  /** Every pagedmembers request, with the query it carried. */
  readonly rosterRequests: { teamId: string; pageSize?: string; continuationToken?: string }[] = [];
  /** The most members one page holds, whatever pageSize asks for (Teams caps it at 500). */
  maxPageSize = 500;
  /** Resolves with the activity held by holdAfterPosts, once it has reached its conversation. */
  readonly heldPost: Promise<PostedActivity>;
  private resolveHeld!: (posted: PostedActivity) => void;
  /** POSTs of activities answered so far (for rateLimitEvery), and how many were answered 429. */
  private activityPosts = 0;
  rateLimited = 0;
  private readonly failures: Failure[] = [];
  /** What becomes of the answers to the next posts of activities, which do reach their conversation. */
  private readonly lostAnswers: LostAnswer[] = [];
  private readonly hashes = new Map<UploadSession, Hash>();
  private readonly server = http.createServer((req, res) => void this.handle(req, res)).on('connection', (socket: Socket) => {
    const connection: ConnectorConnection = { requests: 0, closedByBot: false, closed: false };
    this.connections.push(connection);
    this.connectionOf.set(socket, connection);
    // The connector ends a connection by destroying it (its idle timeout): an end read from it is the bot's.
    socket.on('end', () => { connection.closedByBot = true; }).on('close', () => { connection.closed = true; });
  });
  private nextId = 1;
  url = '';

  constructor(private readonly options: FakeConnectorOptions = {}) {
    this.heldPost = new Promise((resolve) => { this.resolveHeld = resolve; });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * How long the connector keeps an unused connection before closing it (milliseconds), and the
   * timeout its answers announce (Keep-Alive: timeout=N, in seconds; by default the one it keeps, as
   * Node announces it; 0 for none).
   */
  keepAlive(idleMs: number, announcedSeconds?: number): void {
    this.server.keepAliveTimeout = idleMs;
    this.announcedKeepAlive = announcedSeconds;
  }

  /** The next `times` posts and updates of activities fail with this status. */
  failNext(times: number, status: number, retryAfterSeconds?: number): void {
    const code = status === 429 ? 'TooManyRequests' : status === 403 ? 'BotDisabledByAdmin' : 'ServiceError';
    for (let i = 0; i < times; i++) this.failures.push({ status, code, retryAfter: retryAfterSeconds === undefined ? undefined : String(retryAfterSeconds) });
  }

  /**
   * The next `times` posted (or updated) activities reach their conversation, but their sender hears back only a
   * 504 Gateway Timeout (a gateway that gave up waiting for the service, which took the message
   * after all) or a connection closed without an answer ('reset').
   */
  loseAnswerAfterPosting(outcome: LostAnswer, times = 1): void {
    for (let i = 0; i < times; i++) this.lostAnswers.push(outcome);
  }

  clearFailures(): void {
    this.failures.length = 0;
    this.lostAnswers.length = 0;
    this.refuseNewConversations = undefined;
  }

  /**
   * Serves a file, given as its bytes or as the path of a file on disk; returns its download URL. With
   * declaredLength, the Content-Length says that much and the body never ends.
   */
  addFile(name: string, content: Buffer | string, contentType = 'application/octet-stream', declaredLength?: number): string {
    this.files.set(name, typeof content === 'string'
      ? { size: statSync(content).size, path: content, contentType }
      : { size: content.length, bytes: content, contentType, declaredLength });
    return `${this.url}files/${encodeURIComponent(name)}`;
  }

  /** Opens an upload session for a file and returns its pre-authorised upload URL. */
  uploadSession(name: string): string {
    const id = `session-${this.uploads.size + 1}`;
    this.uploads.set(id, { name, puts: [], received: Buffer.alloc(0), size: 0, complete: false });
    return `${this.url}upload/${id}`;
  }

  /**
   * A PUT of one fragment, as OneDrive answers it: the fragments must come in order, each with its
   * "Content-Range: bytes start-end/total"; 202 with the next expected range until the last byte,
   * then 201 with the new item.
   */
  private putFragment(session: UploadSession, range: string | undefined, body: Buffer): { status: number; value: unknown } {
    const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(range ?? '');
    if (!match) return { status: 400, value: { error: { code: 'invalidRequest', message: 'Content-Range is missing or malformed' } } };
    const [start, end, total] = match.slice(1).map(Number);
    if (session.complete || start !== session.size || end < start || end >= total || body.length !== end - start + 1) {
      return { status: 416, value: { error: { code: 'invalidRange', message: `expected bytes from ${session.size}`, nextExpectedRanges: [`${session.size}-`] } } };
    }
    const hash = this.hashes.get(session) ?? createHash('sha256');
    this.hashes.set(session, hash.update(body));
    if (total <= KEPT_UPLOAD_BYTES) session.received = Buffer.concat([session.received, body]);
    session.size += body.length;
    if (session.size < total) {
      return { status: 202, value: { expirationDateTime: new Date(Date.now() + 3_600_000).toISOString(), nextExpectedRanges: [`${session.size}-${total - 1}`] } };
    }
    session.complete = true;
    session.sha256 = hash.digest('hex');
    this.hashes.delete(session);
    return { status: 201, value: { id: `item-${session.name}`, name: session.name, size: total, file: {} } };
  }

  /**
   * A page of a team's roster as the Bot Connector gives it: up to pageSize members (at most
   * maxPageSize), and a continuationToken while more follow; the last page has none. A token the
   * connector did not give out is 400.
   */
  private pagedMembers(teamId: string, query: URLSearchParams, json: (status: number, value: unknown) => void): void {
    const pageSize = query.get('pageSize') ?? undefined;
    const continuationToken = query.get('continuationToken') ?? undefined;
    this.rosterRequests.push({ teamId, pageSize, continuationToken });
    const roster = this.rosters.get(teamId);
    if (!roster) return json(404, { error: { code: 'ConversationNotFound', message: 'Conversation not found.' } });
    let offset = 0;
    if (continuationToken) {
      const decoded = /^page:(\d+)$/.exec(Buffer.from(continuationToken, 'base64').toString('utf8'));
      if (!decoded) return json(400, { error: { code: 'BadArgument', message: 'Invalid continuation token.' } });
      offset = Number(decoded[1]);
    }
    const size = Math.min(Number(pageSize) > 0 ? Number(pageSize) : 200, this.maxPageSize);
    const end = offset + size;
    const members = roster.slice(offset, end).map((m) => ({
      ...m, givenName: m.name.split(' ')[0], surname: m.name.split(' ').slice(1).join(' '), tenantId: 'tenant-1', userRole: 'user',
    }));
    json(200, { members, ...(end < roster.length ? { continuationToken: Buffer.from(`page:${end}`).toString('base64') } : {}) });
  }

  /** Messages posted to one conversation, in order. */
  postedTo(conversationId: string): PostedActivity[] {
    return this.posted.filter((p) => p.conversationId === conversationId);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const connection = this.connectionOf.get(req.socket)!;
    connection.requests++;
    if (this.announcedKeepAlive !== undefined) {
      // Set by hand, Node adds no announcement of its own.
      res.setHeader('connection', 'keep-alive');
      if (this.announcedKeepAlive > 0) res.setHeader('keep-alive', `timeout=${this.announcedKeepAlive}`);
    }
    const url = new URL(req.url ?? '/', this.url);
    let parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    // Teams gives each region its own serviceUrl under one host (…/emea/, …/amer/, …/apac/): the API follows it.
    const region = parts.length > 1 && parts[1] === 'v3' ? parts[0] : undefined;
    if (region) parts = parts.slice(1);
    if (req.method === 'PUT' && parts[0] === 'upload') {
      const session = this.uploads.get(parts[1]);
      const bytes = await readBytes(req);
      if (!session) return void res.writeHead(404).end();
      const range = req.headers['content-range'];
      const { status, value } = this.putFragment(session, range, bytes);
      session.puts.push({ range: range ?? '', bytes: bytes.length, status });
      return void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    }
    const body = (await readBytes(req)).toString('utf8');
    const json = (status: number, value: unknown, headers: Record<string, string> = {}) =>
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));

    if (req.method === 'GET' && parts[0] === 'files') {
      const file = this.files.get(parts[1]);
      this.downloads.push(parts[1]);
      if (!file) return void json(404, { error: { code: 'itemNotFound', message: 'The resource could not be found.' } });
      if (file.declaredLength !== undefined) {
        res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.declaredLength) }).write(file.bytes);
        return;
      }
      res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.size) });
      if (file.path) createReadStream(file.path).pipe(res);
      else res.end(file.bytes);
      return;
    }
    if (req.method === 'POST' && parts[0] === 'v3' && parts[1] === 'conversations' && !parts[2]) {
      const parameters = JSON.parse(body || '{}') as Record<string, any>;
      this.conversationRequests.push(parameters);
      if (this.refuseNewConversations) {
        return void json(this.refuseNewConversations, { error: { code: 'Forbidden', message: 'The bot is not installed for the user.' } });
      }
      // Teams opens a personal chat only with one member, and only knowing the tenant (its answer without one).
      if (!parameters.tenantId && !parameters.channelData?.tenant?.id) {
        return void json(400, { error: { code: 'BadSyntax', message: 'Could not parse tenant id' } });
      }
      if (!parameters.isGroup && (!Array.isArray(parameters.members) || parameters.members.length !== 1 || !parameters.members[0]?.id)) {
        return void json(400, { error: { code: 'BadArgument', message: 'A personal conversation needs exactly one member.' } });
      }
      // Teams keeps one personal chat per member with the bot: asked again, it gives the same conversation.
      const member = parameters.isGroup ? undefined : String(parameters.members[0].id);
      const id = (member && this.personalChats.get(member)) || `a:created-${this.created.length + 1}`;
      if (member) this.personalChats.set(member, id);
      this.created.push({ id, parameters });
      return void json(201, { id });
    }
    if (parts[0] !== 'v3' || parts[1] !== 'conversations' || !parts[2]) {
      return void json(404, { error: { code: 'NotFound', message: `no route ${req.method} ${url.pathname}` } });
    }
    const conversationId = parts[2];
    if (req.method === 'GET' && parts[3] === 'pagedmembers') return void this.pagedMembers(conversationId, url.searchParams, json);
    if (req.method === 'GET' && parts[3] === 'members' && parts[4]) {
      const member = this.members.get(parts[4]);
      if (!member) return void json(404, { error: { code: 'MemberNotFoundInConversation', message: 'The member was not found.' } });
      return void json(200, { ...member, givenName: member.name.split(' ')[0], surname: member.name.split(' ').slice(1).join(' ') });
    }
    if (parts[3] === 'activities' && (req.method === 'POST' || req.method === 'PUT')) {
      const failure = this.failures.shift();
      if (failure) {
        return void json(failure.status, { error: { code: failure.code, message: `fake connector: ${failure.code}` } },
          failure.retryAfter ? { 'retry-after': failure.retryAfter } : {});
      }
      if (req.method === 'POST' && this.options.rateLimitEvery && ++this.activityPosts % this.options.rateLimitEvery === 0) {
        this.rateLimited++;
        return void json(429, { error: { code: 'TooManyRequests', message: 'fake connector: too many requests' } }, { 'retry-after': '1' });
      }
      if (this.holdPosts && req.method === 'POST') await new Promise<void>((release) => this.held.push({ conversationId, connection, release }));
      const activity = JSON.parse(body || '{}') as Record<string, any>;
      if (req.method === 'PUT') {
        this.updated.push({ conversationId, activityId: parts[4], activity });
        const lost = this.lostAnswers.shift();
        if (lost === 'reset') return void res.socket?.destroy();
        if (lost === 'gateway-timeout') return void json(504, { error: { code: 'GatewayTimeout', message: 'fake connector: the gateway timed out' } });
        return void json(200, { id: parts[4] });
      }
      const id = `msg-${this.nextId++}`;
      const posted = { conversationId, replyToId: parts[4], id, activity, at: performance.now(), region, connection };
      this.posted.push(posted);
      const lost = this.lostAnswers.shift();
      if (lost === 'reset') return void res.socket?.destroy();
      if (lost === 'gateway-timeout') return void json(504, { error: { code: 'GatewayTimeout', message: 'fake connector: the gateway timed out' } });
      if (this.options.holdAfterPosts === this.posted.length) {
        this.resolveHeld(posted);
        return; // it reached the conversation, but its sender never hears back
      }
      // Send to Conversation and Reply to Activity answer 201 Created with the new activity's id.
      return void json(201, { id });
    }
    json(404, { error: { code: 'NotFound', message: `no route ${req.method} ${url.pathname}` } });
  }
}

async function readBytes(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
