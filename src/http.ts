import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InFlight } from './lifecycle.js';
import { metrics } from './core/metrics.js';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

/** Probes answer while the process stops; every other route is refused then, so the platform retries it elsewhere or later. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/** The bot's one HTTP server: health probes plus whatever routes the chat adapters add. */
export class HttpServer {
  private readonly routes = new Map<string, Handler>();
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
  }

  route(method: string, path: string, handler: Handler): void {
    this.routes.set(`${method} ${path}`, handler);
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

  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, host, resolve));
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
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
