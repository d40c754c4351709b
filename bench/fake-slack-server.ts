/**
 * The fake Slack Web API with Slack's documented limits on chat.postMessage, in a process of its own
 * so its CPU is not the bot's. Started by bench/campaign.ts over an IPC channel:
 *   argv[2]  workspace-wide messages per second
 * It sends { url } once listening and { response } for each answer to a response_url; asked
 * { stats: channels[] } it answers with what it took for those channels.
 */
import { FakeSlackApi } from '../tests/helpers/fake-slack-api.js';

export interface FakeStats {
  /** chat.postMessage calls Slack took, per asked channel that got any: how many got exactly one, and how many more than one. */
  channelsWithOne: number;
  duplicates: number;
  missing: number;
  accepted: number;
  rateLimited: number;
  /** Requests to a channel before its Retry-After ran out. */
  tooEarly: number;
  firstAcceptedAt: number;
  lastAcceptedAt: number;
}

const perSecond = Number(process.argv[2] ?? 20);
const fake = await new FakeSlackApi({ strict: { workspacePerSecond: perSecond } }).start();
fake.onResponse = (response) => process.send?.({ response });

process.on('message', (message: { stats?: string[] }) => {
  if (!message.stats) return;
  const perChannel = fake.postsPerChannel();
  let channelsWithOne = 0;
  let duplicates = 0;
  let missing = 0;
  for (const channel of message.stats) {
    const n = perChannel.get(channel) ?? 0;
    if (n === 0) missing++;
    else if (n === 1) channelsWithOne++;
    else duplicates += n - 1;
  }
  const stats: FakeStats = {
    channelsWithOne, duplicates, missing, accepted: fake.accepted.count, rateLimited: fake.count('chat.postMessage', 429),
    tooEarly: fake.tooEarly.length, firstAcceptedAt: fake.accepted.first, lastAcceptedAt: fake.accepted.last,
  };
  process.send?.({ stats });
});
process.on('disconnect', () => { void fake.stop().then(() => process.exit(0)); });
process.send?.({ url: fake.url, respond: fake.responseUrl('') });
