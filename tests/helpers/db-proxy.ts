/**
 * A TCP proxy between the bot and PostgreSQL that can fail the way networks do: drop every connection
 * mid-traffic, refuse new ones, or black-hole them (accept, then never pass a byte either way).
 */
import net from 'node:net';

export type ProxyMode = 'pass' | 'refuse' | 'blackhole';

export class DbProxy {
  mode: ProxyMode = 'pass';
  private readonly pairs = new Set<{ client: net.Socket; upstream?: net.Socket }>();

  private constructor(private readonly server: net.Server, private readonly target: { host: string; port: number }) {}

  static async start(targetUrl: string): Promise<DbProxy> {
    const u = new URL(targetUrl);
    const server = net.createServer();
    const proxy = new DbProxy(server, { host: u.hostname, port: Number(u.port || 5432) });
    server.on('connection', (client) => proxy.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** `url` with its host and port replaced by the proxy's. */
  through(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  /** Every open connection dropped at once, as a database restart or a failover does. */
  dropAll(): void {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    client.on('error', () => undefined);
    if (this.mode === 'refuse') {
      client.destroy();
      return;
    }
    const pair: { client: net.Socket; upstream?: net.Socket } = { client };
    this.pairs.add(pair);
    client.on('close', () => { pair.upstream?.destroy(); this.pairs.delete(pair); });
    if (this.mode === 'blackhole') return;
    const upstream = net.connect(this.target);
    pair.upstream = upstream;
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    // Bytes pass only while the proxy passes: a black hole swallows them on open connections too.
    client.on('data', (chunk) => { if (this.mode === 'pass') upstream.write(chunk); });
    upstream.on('data', (chunk) => { if (this.mode === 'pass') client.write(chunk); });
  }
}
