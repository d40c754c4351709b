import http from 'node:http';
import { InFlight } from './lifecycle.js';
/** Probes answer while the process stops; every other route is refused then, so the platform retries it elsewhere or later. */
const PROBES = new Set(['/healthz', '/readyz']);
/** The bot's one HTTP server: health probes plus whatever routes the chat adapters add. */
export class HttpServer {
    onError;
    routes = new Map();
    server;
    /** Requests being answered: a stop lets them finish. */
    inFlight = new InFlight();
    /** Set once the process is stopping: /readyz says 503 and new requests are refused with 503. */
    draining = false;
    constructor(onError) {
        this.onError = onError;
        this.server = http.createServer((req, res) => void this.inFlight.run(() => this.dispatch(req, res)));
    }
    /** Stops taking new work: readiness fails at once and new requests get 503 with Retry-After. */
    drain() {
        this.draining = true;
    }
    route(method, path, handler) {
        this.routes.set(`${method} ${path}`, handler);
    }
    async dispatch(req, res) {
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
        }
        catch (e) {
            this.onError(e);
            if (!res.headersSent)
                res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
        }
    }
    async listen(port, host = '0.0.0.0') {
        await new Promise((resolve) => this.server.listen(port, host, resolve));
        return this.server.address().port;
    }
    async close() {
        this.server.closeAllConnections?.();
        await new Promise((resolve) => this.server.close(() => resolve()));
    }
}
/** /healthz answers while the process is up; /readyz only while the database answers too and the process is not stopping. */
export function addHealthRoutes(http, ping) {
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
        }
        catch {
            res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"database unavailable"}');
        }
    });
}
//# sourceMappingURL=http.js.map