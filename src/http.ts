import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FromFrontDoor, LaneSpec, ToFrontDoor } from './front-door.js';
import { InFlight } from './lifecycle.js';
import { metrics } from './core/metrics.js';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

/** Probes answer while the process stops; every other route is refused then, so the platform retries it elsewhere or later. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/** A route answered in the front door's thread (see src/front-door.ts): its module there, and what the main thread does with what it forwards. */
export interface LaneRoute {
  /** The lane's name among those the front door's thread offers. */
  lane: string;
  options: unknown;
  /** Runs on the main thread for each request the lane took and forwarded, counted in flight until it settles. */
  forwarded: (forward: unknown) => Promise<void>;
}

/** A lane reads at most this much of a request itself (Bolt's own limit); a larger one goes to the main thread. */
const LANE_BODY_LIMIT = 4 * 1024 * 1024;

/** The bot's one HTTP server: health probes plus whatever routes the chat adapters add. */
export class HttpServer {
  private readonly routes = new Map<string, Handler>();
  private readonly lanes = new Map<string, LaneRoute>();
  private frontDoor?: Worker;
  readonly server: http.Server;
  /** Requests being answered: a stop lets them finish. */
  readonly inFlight = new InFlight();
  /** Set once the process is stopping: /readyz says 503 and new requests are refused with 503. */
  draining = false;

  constructor(private readonly onError: (e: unknown) => void) {
    this.server = http.createServer((req, res) => void this.inFlight.run(() => this.dispatch(req, res)));
  }

  /** Stops taking new work: readiness fails at once and new requests get 503 with Retry-After. */
  drain(): void {
    this.draining = true;
    this.frontDoor?.postMessage({ type: 'drain' } satisfies ToFrontDoor);
  }

  route(method: string, path: string, handler: Handler): void {
    this.routes.set(`${method} ${path}`, handler);
  }

  /**
   * A lane for a route that also has a handler here: with a front door, the lane answers what it can
   * in the front door's thread and the handler gets the rest; without one, the handler gets everything.
   */
  lane(method: string, path: string, lane: LaneRoute): void {
    this.lanes.set(`${method} ${path}`, lane);
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const handler = this.routes.get(`${req.method} ${path}`);
    if (!handler) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if (this.draining && !PROBES.has(path)) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '5', connection: 'close' }).end('shutting down; try again');
      return;
    }
    try {
      await handler(req, res);
    } catch (e) {
      this.onError(e);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
    }
  }

  /**
   * Listens on `port`. With `frontDoor`, a thread of its own listens there (src/front-door.ts), answers
   * the lanes' requests and passes the rest on to this server, then listening on the loopback interface.
   * `frontDoor` is the URL of the thread's module (it calls startFrontDoor with the lanes it offers).
   */
  async listen(port: number, host = '0.0.0.0', options: { frontDoor?: string; frontDoorLost?: (e: Error) => void } = {}): Promise<number> {
    const listening = (at: number, on: string) => new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(at, on, () => { this.server.off('error', reject); resolve(); });
    });
    // Without a lane there is nothing for a front door to answer: it would only add a hop.
    if (!options.frontDoor || !this.lanes.size) {
      await listening(port, host);
      return (this.server.address() as AddressInfo).port;
    }
    // Its one client keeps connections open: with no idle timeout here, the front door never sends a
    // request on a connection this server is just closing (a reset, then a 502).
    this.server.keepAliveTimeout = 0;
    await listening(0, '127.0.0.1');
    const inner = (this.server.address() as AddressInfo).port;
    const lanes: LaneSpec[] = [...this.lanes].map(([route, { lane, options: laneOptions }]) => ({ route, lane, options: laneOptions }));
    const worker = thread(options.frontDoor, { frontDoor: { port, host, inner, lanes, bodyLimit: LANE_BODY_LIMIT } });
    this.frontDoor = worker;
    worker.on('message', (message: FromFrontDoor) => {
      if (message.type !== 'forward') return;
      const lane = this.lanes.get(message.route)!;
      void this.inFlight.run(() => lane.forwarded(message.forward)).catch(this.onError)
        .finally(() => worker.postMessage({ type: 'done', route: message.route } satisfies ToFrontDoor));
    });
    let opened = false;
    try {
      const listeningOn = await new Promise<number>((resolve, reject) => {
        const failed = (e: Error) => (opened ? options.frontDoorLost?.(e) : reject(e));
        worker.on('message', (message: FromFrontDoor) => {
          if (message.type === 'listening') resolve(message.port);
          else if (message.type === 'failed') failed(Object.assign(new Error(message.error.message), { code: message.error.code }));
        });
        worker.on('error', failed);
        worker.on('exit', (code) => { if (this.frontDoor === worker) failed(new Error(`the front door's thread stopped (exit code ${code})`)); });
      });
      opened = true;
      return listeningOn;
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  /** Whether a front door's thread takes the requests (see listen). */
  get frontDoorOpen(): boolean {
    return this.frontDoor !== undefined;
  }

  async close(): Promise<void> {
    const frontDoor = this.frontDoor;
    this.frontDoor = undefined;
    if (frontDoor) {
      await new Promise<void>((resolve) => {
        frontDoor.on('message', (message: FromFrontDoor) => { if (message.type === 'closed') resolve(); });
        frontDoor.once('exit', () => resolve());
        frontDoor.postMessage({ type: 'close' } satisfies ToFrontDoor);
      });
      await frontDoor.terminate();
    }
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The URL of a module beside `moduleUrl` (e.g. './front-lane'), as source or compiled, as `moduleUrl` is. */
export function sibling(moduleUrl: string, name: string): string {
  return new URL(`${name}${moduleUrl.endsWith('.ts') ? '.ts' : '.js'}`, moduleUrl).href;
}

/**
 * A worker thread running the module at `url`. A source (.ts) module is loaded through tsx's API: a
 * worker's own `--import tsx` is not in place before its first module loads on Node 20.
 */
function thread(url: string, workerData: unknown): Worker {
  if (!url.endsWith('.ts')) return new Worker(new URL(url), { workerData });
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  return new Worker(`import(${JSON.stringify(tsx)}).then((api) => api.tsImport(${JSON.stringify(url)}, ${JSON.stringify(url)}))`, { eval: true, workerData });
}

/**
 * /healthz answers while the process is up; /readyz only while the database answers too and the process
 * is not stopping; /metrics gives the process's counters in the Prometheus text format.
 */
export function addHealthRoutes(http: HttpServer, ping: () => Promise<void>): void {
  http.route('GET', '/metrics', async (_req, res) => {
    res.writeHead(200, { 'content-type': metrics.contentType }).end(await metrics.metrics());
  });
  http.route('GET', '/healthz', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  });
  http.route('GET', '/readyz', async (_req, res) => {
    if (http.draining) {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"stopping"}');
      return;
    }
    try {
      await ping();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}');
    } catch {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"database unavailable"}');
    }
  });
}
