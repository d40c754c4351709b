import { afterEach, describe, expect, it } from 'vitest';
import { HttpServer, addHealthRoutes } from '../src/http.js';
import { openDatabase, type Database } from '../src/db/client.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

describe('health probes', () => {
  let http: HttpServer | undefined;
  let t: TestDatabase | undefined;
  let down: Database | undefined;
  afterEach(async () => {
    await http?.close();
    await t?.destroy();
    await down?.close().catch(() => undefined);
    http = t = down = undefined;
  });

  async function serve(ping: () => Promise<void>): Promise<string> {
    http = new HttpServer(() => undefined);
    addHealthRoutes(http, ping);
    const port = await http.listen(0, '127.0.0.1');
    return `http://127.0.0.1:${port}`;
  }

  it('answers /healthz and /readyz while the database answers', async () => {
    t = await createTestDatabase({ migrate: false });
    const base = await serve(t.ping);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('stays live but not ready when the database does not answer', async () => {
    // Nothing listens on port 1: the same refusal a stopped PostgreSQL gives.
    down = await openDatabase({ kind: 'postgres', url: 'postgres://isms@127.0.0.1:1/isms', poolSize: 1 });
    const base = await serve(down.ping);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'database unavailable' });
  });

  it('answers 404 for paths it does not serve', async () => {
    const base = await serve(async () => undefined);
    expect((await fetch(`${base}/nothing-here`)).status).toBe(404);
  });
});
