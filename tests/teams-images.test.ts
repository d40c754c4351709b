/**
 * Images in an outbox message (the review pack's charts) reach the person in Teams: the card says
 * each chart's title, and each chart follows as a message of its own carrying the PNG inline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverDue } from '../src/core/delivery.js';
import { CHART_HEIGHT, CHART_WIDTH } from '../src/domain/reviews/charts.js';
import { cardOf, cardProblems, cardText, personalChatOf, personalMessage, startTeamsStack, type TeamsStack } from './helpers/teams.js';

let stack: TeamsStack;

beforeAll(async () => {
  stack = await startTeamsStack();
});
afterAll(() => stack.stop());

const say = (who: 'lead' | 'board', text: string) => stack.server.post(personalMessage(who, text, { serviceUrl: stack.connector.url }));

describe('the management review pack in Teams', () => {
  it('reaches the board member as a card and the four charts as PNG images', async () => {
    // The board member wrote to the bot once, so it has their personal chat.
    expect((await say('board', 'help')).status).toBe(200);
    expect((await say('lead', 'review prepare')).status).toBe(200);
    const before = stack.connector.postedTo(personalChatOf('board')).length;
    expect(await deliverDue(stack.h.t.db, [stack.server.port])).toMatchObject({ sent: 1 });

    const posted = stack.connector.postedTo(personalChatOf('board')).slice(before).map((p) => p.activity);
    const card = cardOf(posted[0]);
    expect(cardProblems(card)).toEqual([]);
    expect(cardText(card)).toContain('management review pack RP-0001');
    const images = posted.slice(1);
    expect(images.map((a) => a.attachments?.[0]?.name)).toEqual([
      'review-pack-RP-0001-poam-open-closed.png', 'review-pack-RP-0001-evidence-freshness.png',
      'review-pack-RP-0001-policy-training.png', 'review-pack-RP-0001-risks-appetite.png',
    ]);
    for (const activity of images) {
      const [attachment] = activity.attachments!;
      expect(attachment.contentType).toBe('image/png');
      const [prefix, data] = String(attachment.contentUrl).split(',');
      expect(prefix).toBe('data:image/png;base64');
      const png = Buffer.from(data, 'base64');
      expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      expect({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) }).toEqual({ width: CHART_WIDTH, height: CHART_HEIGHT });
      // One chart per message keeps each well under the Bot Framework's message size.
      expect(JSON.stringify(activity).length).toBeLessThan(100_000);
    }
  });
});
