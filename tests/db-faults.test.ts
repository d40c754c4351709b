/**
 * PostgreSQL behind a network that fails: every connection dropped mid-traffic, new ones refused, or
 * black-holed (accepted, then silent). Every Slack command is acknowledged at once and answered within
 * the database timeout; what it wrote is there whole with its audit event, or not at all; and the bot
 * recovers without a restart. Runs on PostgreSQL only (the embedded database has no network).
 */
import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client.js';
import { aiTools } from '../src/db/schema/index.js';
import { appendAudit, verifyAuditChain } from '../src/core/audit.js';
import { FAULT_TEXT, UNREACHABLE_TEXT } from '../src/core/inbound.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { DbProxy } from './helpers/db-proxy.js';
import { SlackWorkspace, blockText, unique } from './helpers/fake-slack-workspace.js';

/** Short, so a black-holed query gives up within the test; long enough for a busy machine's real queries. */
const DATABASE_TIMEOUT_MS = 10_000;

let direct: TestDatabase;
let proxy: DbProxy;
let w: SlackWorkspace;

beforeAll(async () => {
  direct = await createTestDatabase();
  proxy = await DbProxy.start(direct.url!);
  const viaProxy = await openDatabase({ kind: 'postgres', url: proxy.through(direct.url!), poolSize: 4, timeoutMs: DATABASE_TIMEOUT_MS });
  w = await SlackWorkspace.start({}, { ...viaProxy, url: direct.url, destroy: () => viaProxy.close() });
});

afterAll(async () => {
  await w?.close();
  await proxy?.close();
  await direct?.destroy();
});

/** Sends `/isms declare ai <name>` as Sam; resolves to Slack's HTTP status (the acknowledgement). */
async function declare(name: string, responseId: string): Promise<number> {
  const response = await w.sender.command(w.slashCommand('USAM', `declare ai ${name} "meeting notes"`, responseId));
  return response.status;
}

/** Waits past the database timeout, twice over: a command may meet it once for its connection and once for a query. */
const answerText = async (responseId: string) =>
  blockText((await w.fake.waitForCall('response_url', (c) => c.args.id === responseId, 3 * DATABASE_TIMEOUT_MS)).args.blocks);

async function recordedTools(names: string[]): Promise<string[]> {
  return (await direct.db.select({ name: aiTools.name }).from(aiTools).where(inArray(aiTools.name, names))).map((r) => r.name);
}

async function expectRecoveredAndWhole(): Promise<void> {
  const id = unique('after');
  const name = unique('Recovered');
  expect(await declare(name, id)).toBe(200);
  expect(await answerText(id)).toContain(`Recorded ${name}`);
  const verdict = await verifyAuditChain(direct.db);
  expect(verdict.ok, JSON.stringify(verdict)).toBe(true);
}

describe('PostgreSQL behind a failing network', () => {
  it('every connection dropped mid-traffic: each command is acknowledged and answered, recorded whole or not at all, and the next one works', async () => {
    const names = Array.from({ length: 6 }, () => unique('Dropped'));
    const ids = names.map(() => unique('drop'));
    const acks = Promise.all(names.map((name, i) => declare(name, ids[i])));
    proxy.dropAll();
    expect(await acks).toEqual(names.map(() => 200));
    const answers = await Promise.all(ids.map(answerText));
    const recorded = await recordedTools(names);
    names.forEach((name, i) => {
      if (recorded.includes(name)) expect(answers[i]).toContain(`Recorded ${name}`);
      else expect(answers[i]).toMatch(new RegExp(`${escape(UNREACHABLE_TEXT)}|${escape(FAULT_TEXT)}`));
    });
    await expectRecoveredAndWhole();
  });

  it('connections refused: the person is told the register is not answering and nothing was recorded; then it recovers', async () => {
    proxy.mode = 'refuse';
    proxy.dropAll();
    const name = unique('Refused');
    const id = unique('refused');
    expect(await declare(name, id)).toBe(200);
    expect(await answerText(id)).toContain(UNREACHABLE_TEXT);
    proxy.mode = 'pass';
    expect(await recordedTools([name])).toEqual([]);
    await expectRecoveredAndWhole();
  });

  it('a black hole, on open connections and new ones: answered once the database timeout passes, nothing recorded; then it recovers', async () => {
    // Open connections go silent mid-traffic: the queries on them time out and those connections are dropped.
    proxy.mode = 'blackhole';
    const names = [unique('Silent'), unique('Silent')];
    const ids = names.map(() => unique('silent'));
    expect(await Promise.all(names.map((name, i) => declare(name, ids[i])))).toEqual([200, 200]);
    for (const id of ids) expect(await answerText(id)).toContain(UNREACHABLE_TEXT);
    proxy.mode = 'pass';
    expect(await recordedTools(names)).toEqual([]);
    await expectRecoveredAndWhole();
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('registers sharing one PostgreSQL database', () => {
  it('a register whose transaction hangs holding its audit lock holds up its own writes only, not a register in another schema', async () => {
    const [stuck, other] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    try {
      const actor = { id: null, label: 'ISMS test' };
      const event = (ref: string) => ({ action: 'create', entity: 'asset', entityRef: ref, after: { ref } });
      let release!: () => void;
      const held = new Promise<void>((resolve) => { release = resolve; });
      let lockTaken!: () => void;
      const taken = new Promise<void>((resolve) => { lockTaken = resolve; });
      // A transaction that took the audit lock and then hangs, as on a connection gone silent.
      const hanging = stuck.db.transaction(async (tx) => {
        await appendAudit(tx, actor, event('AS-1'));
        lockTaken();
        await held;
      });
      await taken;
      let ownWriteDone = false;
      const ownWrite = stuck.db.transaction((tx) => appendAudit(tx, actor, event('AS-2'))).then(() => { ownWriteDone = true; });

      await other.db.transaction((tx) => appendAudit(tx, actor, event('AS-9')));
      expect(await verifyAuditChain(other.db)).toMatchObject({ ok: true, rows: 1 });
      expect(ownWriteDone).toBe(false);

      release();
      await Promise.all([hanging, ownWrite]);
      expect(await verifyAuditChain(stuck.db)).toMatchObject({ ok: true, rows: 2 });
    } finally {
      await Promise.all([stuck.destroy(), other.destroy()]);
    }
  });
});
