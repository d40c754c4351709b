import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FakeConnector } from './helpers/fake-connector.js';
import { personalMessage, personalChatOf, startTeamsStack, type TeamsServer, type TeamsStack, type TeamsTestCore } from './helpers/teams.js';
import { IDLE_SOCKET_MS } from '../adapters/teams/connectors.js';

/**
 * The bot's connections to the Bot Connector: kept for the replies that follow one another, and
 * closed by the bot once unused before the connector would close them. A reply written onto a
 * connection the connector is just closing is lost (ECONNRESET), and never sent again.
 */
describe('Teams: connections to the Bot Connector', () => {
  let stack: TeamsStack, h: TeamsTestCore, server: TeamsServer, connector: FakeConnector;
  beforeAll(async () => { ({ h, server, connector } = stack = await startTeamsStack()); });
  afterAll(() => stack.stop());
  afterEach(() => {
    connector.holdPosts = false;
    for (const { release } of connector.held.splice(0)) release();
  });

  const message = (who: 'staff' | 'owner', text: string) => ({ ...personalMessage(who, text), serviceUrl: connector.url });
  const reply = async (who: 'staff' | 'owner', text: string) => {
    const before = connector.posted.length;
    expect((await server.post(message(who, text))).status).toBe(200);
    const posted = connector.posted.slice(before);
    expect(posted).toHaveLength(1);
    return posted[0];
  };
  const turnFailures = () => h.logs.filter((l) => /Teams turn failed/.test(l));

  it('closes the connection of a reply once unused, before the time the connector announced', async () => {
    // The connector would close it after 10 s, and says it keeps it for 2.
    connector.keepAlive(10_000, 2);
    const { connection } = await reply('staff', 'help');
    await vi.waitFor(() => expect(connection.closedByBot).toBe(true), { timeout: 8_000, interval: 50 });
  });

  it('closes an unused connection after its own idle time when the connector announces none', async () => {
    connector.keepAlive(30_000, 0);
    const { connection } = await reply('staff', 'help');
    // Well before the connector's 30 s.
    await vi.waitFor(() => expect(connection.closedByBot).toBe(true), { timeout: IDLE_SOCKET_MS + 6_000, interval: 100 });
  });

  it('waits for a reply the connector answers later than a connection is kept unused, and sends it once', async () => {
    connector.keepAlive(10_000, 2);
    await reply('staff', 'help');
    const failures = turnFailures().length;
    const before = connector.posted.length;
    connector.holdPosts = true;
    expect((await server.answer(message('staff', 'help'))).status).toBe(200);
    await vi.waitFor(() => expect(connector.held).toHaveLength(1), { timeout: 15_000, interval: 20 });
    const [slow] = connector.held;
    // Another reply meanwhile takes a connection of its own; once the bot has closed that one unused, the
    // slow reply has waited longer than a connection is kept unused.
    expect((await server.answer(message('owner', 'help'))).status).toBe(200);
    await vi.waitFor(() => expect(connector.held).toHaveLength(2), { timeout: 15_000, interval: 20 });
    const other = connector.held[1];
    expect(other.connection).not.toBe(slow.connection);
    other.release();
    await vi.waitFor(() => expect(other.connection.closedByBot).toBe(true), { timeout: 8_000, interval: 50 });

    expect(slow.connection.closed).toBe(false);
    slow.release();
    await server.settled();
    expect(connector.posted.slice(before).map((p) => p.conversationId).sort()).toEqual([personalChatOf('owner'), personalChatOf('staff')]);
    expect(connector.posted.slice(before).find((p) => p.conversationId === personalChatOf('staff'))?.connection).toBe(slow.connection);
    expect(turnFailures()).toHaveLength(failures);
  });

  it('sends replies that follow one another on one connection', async () => {
    connector.keepAlive(65_000, 60);
    const opened = connector.connections.length;
    const first = await reply('staff', 'help');
    const second = await reply('owner', 'help');
    const third = await reply('staff', 'help');
    expect(second.connection).toBe(first.connection);
    expect(third.connection).toBe(first.connection);
    expect(connector.connections.length - opened).toBeLessThanOrEqual(1);
  });
});
