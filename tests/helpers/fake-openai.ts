import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake answers to the next call: the model's content, an HTTP error, and how long it waits first. */
export type Scripted =
  | { content: string; delayMs?: number }
  | { status: 429 | 500; delayMs?: number };

/**
 * A local server that plays the OpenAI chat-completions API (POST /v1/chat/completions): answers
 * are scripted per call, and every request body is kept so tests can read what left the bot.
 */
export class FakeOpenAi {
  readonly requests: { body: Record<string, any>; authorization?: string }[] = [];
  private readonly script: Scripted[] = [];
  private constructor(private readonly server: Server, readonly baseUrl: string) {}

  static async start(): Promise<FakeOpenAi> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const fake = new FakeOpenAi(server, `http://127.0.0.1:${port}/v1`);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      // One connection per call: a kept-alive socket the server closes just as the next test reuses it
      // would fail that call with a reset (the bot does not retry), which is not what a test is about.
      res.setHeader('connection', 'close');
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => { void fake.answer(req.method, req.url, req.headers.authorization, Buffer.concat(chunks).toString('utf8'), res); });
    });
    return fake;
  }

  /** Forgets queued answers and recorded requests: each test starts from nothing. */
  reset(): void {
    this.script.length = 0;
    this.requests.length = 0;
  }

  /** Queues answers for the next calls, in order; a call with nothing queued gets a 500. */
  next(...answers: Scripted[]): void {
    this.script.push(...answers);
  }

  /** The model proposing this object as its JSON answer. */
  static proposal(proposal: Record<string, unknown>, delayMs?: number): Scripted {
    return { content: JSON.stringify({ proposal }), delayMs };
  }

  private async answer(method: string | undefined, url: string | undefined, authorization: string | undefined, raw: string,
    res: ServerResponse): Promise<void> {
    if (method !== 'POST' || url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
      return;
    }
    this.requests.push({ body: JSON.parse(raw) as Record<string, any>, authorization });
    const scripted = this.script.shift() ?? { status: 500 };
    if (scripted.delayMs) await new Promise((resolve) => setTimeout(resolve, scripted.delayMs));
    if (res.destroyed) return;
    if ('status' in scripted) {
      const error = scripted.status === 429
        ? { message: 'Rate limit reached for requests', type: 'requests', param: null, code: 'rate_limit_exceeded' }
        : { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null };
      res.writeHead(scripted.status, { 'content-type': 'application/json', ...(scripted.status === 429 ? { 'retry-after': '20' } : {}) })
        .end(JSON.stringify({ error }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      id: `chatcmpl-${this.requests.length}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: 'fake-model',
      choices: [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content: scripted.content, refusal: null } }],
      usage: { prompt_tokens: 321, completion_tokens: 45, total_tokens: 366 },
    }));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
