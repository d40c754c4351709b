import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

/** The bot's one HTTP server: health probes plus whatever routes the chat adapters add. */
export class HttpServer {
  private readonly routes = new Map<string, Handler>();
  readonly server: http.Server;

  constructor(private readonly onError: (e: unknown) => void) {
    this.server = http.createServer((req, res) => this.dispatch(req, res));
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

/** /healthz answers while the process is up; /readyz only while the database answers too. */
export function addHealthRoutes(http: HttpServer, ping: () => Promise<void>): void {
  http.route('GET', '/healthz', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  });
  http.route('GET', '/readyz', async (_req, res) => {
    try {
      await ping();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}');
    } catch {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"database unavailable"}');
    }
  });
}
