/**
 * The front door: a thread of its own that owns the bot's listening socket, so that acknowledging a
 * request never waits behind the commands the main thread is running (their JavaScript and their
 * database round trips). Routes with a lane (an adapter's module, e.g. Slack's slash commands) are
 * answered here and handed to the main thread as a message; every other request is passed on to the
 * main thread's own HTTP server on the loopback interface, as it came.
 *
 * This module runs inside the worker: adapters/front-door-thread.ts starts it with the lanes the adapters
 * offer, and src/http.ts starts that thread.
 */
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

/** A request as a lane sees it: its body already read. */
export interface LaneRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A lane's answer to a request it takes: sent at once; `forward`, if given, goes to the main thread. */
export interface LaneAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  forward?: unknown;
}

/** Given what the main thread counts as in flight of this lane's forwards, takes a request or leaves it (undefined) to the main thread. */
export type Lane = (request: LaneRequest, inFlight: number) => LaneAnswer | undefined;

/** A lane as registered: which of the thread's lanes (by name) serves the route, with what options. */
export interface LaneSpec {
  route: string;
  lane: string;
  options: unknown;
}

/** The lanes a front-door thread can open, by name: each made from its options. */
export type Lanes = Record<string, (options: never) => Lane>;

export interface FrontDoorData {
  port: number;
  host: string;
  /** Where the main thread's own server listens (loopback). */
  inner: number;
  lanes: LaneSpec[];
  /** A lane's request body larger than this is passed on unread by the lane. */
  bodyLimit: number;
}

/** Messages the main thread sends here. */
export type ToFrontDoor = { type: 'done'; route: string } | { type: 'drain' } | { type: 'close' };
/** Messages sent to the main thread. */
export type FromFrontDoor =
  | { type: 'listening'; port: number }
  | { type: 'failed'; error: { message: string; code?: string } }
  | { type: 'forward'; route: string; forward: unknown }
  | { type: 'closed' };

/** Connection-level headers: each hop sets its own. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const kept: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
  return kept;
}

function run(data: FrontDoorData, offered: Lanes): void {
  const port = parentPort!;
  const lanes = new Map<string, Lane>();
  for (const spec of data.lanes) {
    const make = offered[spec.lane] as ((options: unknown) => Lane) | undefined;
    if (!make) throw new Error(`the front door has no lane "${spec.lane}"`);
    lanes.set(spec.route, make(spec.options));
  }
  const inFlight = new Map<string, number>();
  let draining = false;
  const agent = new http.Agent({ keepAlive: true });

  /** Passes the request on to the main thread's server: `head` (what was read of it already), then the rest of it unless `whole`. */
  const passOn = (req: http.IncomingMessage, res: http.ServerResponse, head?: Buffer, whole = false) => {
    const inner = http.request({ host: '127.0.0.1', port: data.inner, method: req.method, path: req.url, headers: endToEnd(req.headers), agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      answer.pipe(res);
    });
    inner.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');
      else res.destroy();
    });
    if (head) inner.write(head);
    if (whole) inner.end();
    else req.pipe(inner);
  };

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const route = `${req.method} ${path}`;
    const lane = lanes.get(route);
    if (!lane) {
      passOn(req, res);
      return;
    }
    // While the process stops its lanes are refused, as the main thread refuses the rest (probes aside).
    if (draining) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '5', connection: 'close' }).end('shutting down; try again');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let passed = false;
    req.on('data', (chunk: Buffer) => {
      if (passed) return;
      chunks.push(chunk);
      size += chunk.length;
      if (size > data.bodyLimit) {
        // Too large for a lane: the main thread reads (and refuses) it as it would without the front door.
        passed = true;
        req.removeAllListeners('data');
        passOn(req, res, Buffer.concat(chunks));
      }
    });
    req.on('end', () => {
      if (passed) return;
      const body = Buffer.concat(chunks);
      let answer: LaneAnswer | undefined;
      try {
        answer = lane({ method: req.method ?? 'GET', path, headers: req.headers, body }, inFlight.get(route) ?? 0);
      } catch {
        answer = undefined;
      }
      if (!answer) {
        passOn(req, res, body, true);
        return;
      }
      res.writeHead(answer.status, answer.headers ?? {}).end(answer.body ?? '');
      if (answer.forward !== undefined) {
        inFlight.set(route, (inFlight.get(route) ?? 0) + 1);
        port.postMessage({ type: 'forward', route, forward: answer.forward } satisfies FromFrontDoor);
      }
    });
    req.on('error', () => res.destroy());
  });

  port.on('message', (message: ToFrontDoor) => {
    if (message.type === 'done') inFlight.set(message.route, Math.max(0, (inFlight.get(message.route) ?? 0) - 1));
    else if (message.type === 'drain') draining = true;
    else if (message.type === 'close') {
      server.closeAllConnections();
      server.close(() => {
        agent.destroy();
        port.postMessage({ type: 'closed' } satisfies FromFrontDoor);
      });
    }
  });
  server.on('error', (e: NodeJS.ErrnoException) => port.postMessage({ type: 'failed', error: { message: e.message, code: e.code } } satisfies FromFrontDoor));
  server.listen(data.port, data.host, () => {
    port.postMessage({ type: 'listening', port: (server.address() as { port: number }).port } satisfies FromFrontDoor);
  });
}

/** Runs the front door in this (worker) thread with the lanes given, as src/http.ts asked it to. */
export function startFrontDoor(offered: Lanes): void {
  try {
    run((workerData as { frontDoor: FrontDoorData }).frontDoor, offered);
  } catch (e) {
    parentPort!.postMessage({ type: 'failed', error: { message: (e as Error).message } } satisfies FromFrontDoor);
  }
}
