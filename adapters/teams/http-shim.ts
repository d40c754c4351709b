import type http from 'node:http';
import type { Request, Response } from 'botbuilder';

/** Bot Framework activities are small; anything larger is not one. */
const MAX_BODY_BYTES = 1024 * 1024;

export class BadRequest extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'BadRequest';
  }
}

/** Reads the request body as a JSON object, the shape the Bot Framework adapter expects. */
export async function readJsonBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BadRequest(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BadRequest(400, 'request body is not JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BadRequest(400, 'request body is not a JSON object');
  return parsed as Record<string, unknown>;
}

/** The request and response objects TeamsAdapter.process() expects (Express-like), over node's own. */
export function toBotRequest(req: http.IncomingMessage, body: Record<string, unknown>): Request {
  return { body, headers: req.headers, method: req.method };
}

export function toBotResponse(res: http.ServerResponse): Response {
  return {
    socket: res.socket,
    status(code: number) {
      res.statusCode = code;
    },
    header(name: string, value: unknown) {
      res.setHeader(name, String(value));
    },
    send(body: unknown) {
      if (body === undefined || body === null) return;
      if (typeof body === 'string' || Buffer.isBuffer(body)) {
        if (!res.hasHeader('content-type')) res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.write(body);
      } else {
        res.setHeader('content-type', 'application/json');
        res.write(JSON.stringify(body));
      }
    },
    end() {
      res.end();
    },
  };
}
