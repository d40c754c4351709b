/**
 * Images in an outbox message (the review pack's charts) reach the person in Slack as PNG files in
 * their direct message with the bot, next to the message; a send that failed and is retried uploads
 * each image once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { SlackWorkspace, blockText } from './helpers/fake-slack-workspace.js';
import { deliverDue } from '../src/core/delivery.js';
import { outbox, people } from '../src/db/schema/index.js';
import { imageBlock, reply, text } from '../src/core/reply.js';
import { CHART_HEIGHT, CHART_WIDTH } from '../src/domain/reviews/charts.js';

let w: SlackWorkspace;
let boardId: number;

beforeAll(async () => {
  w = await SlackWorkspace.start();
  const [board] = await w.t.db.insert(people).values({ name: 'Bruno Board', email: 'bruno@test.example', roles: ['management_body'], slackUserId: 'UBRUNO' }).returning();
  boardId = board.id;
});

afterAll(async () => {
  await w?.close();
});

/** Width and height from a PNG's IHDR chunk, after checking its signature. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('the management review pack in Slack', () => {
  it('reaches the board member as a message and four chart PNGs, uploaded once although the first send failed', async () => {
    await w.sender.command(w.slashCommand('ULENA', 'review prepare', 'prepare'));
    expect(blockText((await w.responseTo('prepare')).args.blocks)).toContain('RP-0001');
    const [row] = await w.t.db.select().from(outbox).where(eq(outbox.recipientId, boardId));
    expect(row.idempotencyKey).toContain('review-pack:RP-0001');

    // Slack fails the message itself once, after the charts went up: the retry must not upload them again.
    w.fake.failNext('chat.postMessage', 500, 1);
    const first = await deliverDue(w.t.db, [w.slack.port], new Date(Date.now() + 1000));
    expect(first.sent).toBe(0);
    const [waiting] = await w.t.db.select().from(outbox).where(eq(outbox.id, row.id));
    expect(waiting.status).toBe('queued');
    const second = await deliverDue(w.t.db, [w.slack.port], new Date(waiting.notBefore.getTime() + 1000));
    expect(second.sent).toBe(1);

    const posts = w.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'UBRUNO' && c.status === 200);
    expect(posts).toHaveLength(1);
    expect(blockText(posts[0].args.blocks)).toContain('management review pack RP-0001');
    const dm = w.fake.callsTo('conversations.open').find((c) => c.args.users === 'UBRUNO')!.response!.channel.id;
    // The lead who prepared it got the pack's files too; the board member's direct message has the charts.
    const charts = w.fake.sharedFiles().filter((f) => f.shared?.channel === dm);
    expect(charts.map((f) => f.filename).sort()).toEqual([
      'review-pack-RP-0001-evidence-freshness.png', 'review-pack-RP-0001-policy-training.png',
      'review-pack-RP-0001-poam-open-closed.png', 'review-pack-RP-0001-risks-appetite.png',
    ].sort());
    for (const chart of charts) {
      expect(pngSize(chart.bytes!)).toEqual({ width: CHART_WIDTH, height: CHART_HEIGHT });
    }
    expect(w.fake.callsTo('files.completeUploadExternal').filter((c) => c.args.channel_id === dm)).toHaveLength(4);
  });
});

describe('a chart whose sharing may have gone through though Slack\'s answer was lost', () => {
  it.each([
    ['Slack answered 504 (a gateway timeout)', 'chart-504', () => w.fake.failNext('files.completeUploadExternal', 504, 1)],
    ['the connection was lost mid-request', 'chart-dropped', () => w.fake.takeThenDropConnection('files.completeUploadExternal')],
  ] as const)('is not shared again when the message is sent again: %s', async (_why, name, fail) => {
    const lena = (await w.t.db.select().from(people).where(eq(people.slackUserId, 'ULENA')))[0];
    const message = reply(text(`Your chart ${name}.`), imageBlock({ title: 'A chart', alt: 'a bar', fileName: `${name}.png`, png: Buffer.from('89504e470d0a1a0a', 'hex') }));
    // The message itself is refused once (surely not posted), so the outbox sends it again.
    fail();
    w.fake.failNext('chat.postMessage', 500, 1);
    try {
      await expect(w.slack.port.sendWithKey(lena, message, `test:${name}`)).rejects.toThrow();
    } finally {
      w.fake.clearFailures();
    }
    await w.slack.port.sendWithKey(lena, message, `test:${name}`);
    const shares = w.fake.callsTo('files.completeUploadExternal').filter((c) => c.args.files?.[0]?.title === 'A chart' && w.fake.uploads.get(c.args.files[0].id)?.filename === `${name}.png`);
    expect(shares).toHaveLength(1);
    expect(w.fake.callsTo('chat.postMessage').filter((c) => c.status === 200 && String(c.args.text).startsWith(`Your chart ${name}.`))).toHaveLength(1);
  });
});
