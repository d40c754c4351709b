/**
 * The fake Slack Web API (with response_url) and the fake Bot Connector for the acknowledgement bench,
 * in a process of their own. Slack and Microsoft answer the bot from their own servers: here, taking
 * the bot's answers would otherwise load the process that sends the requests and times them, during
 * the bot's turns only (the bare apps send no answers), and count against the bot's figures.
 * Started by bench/ack.ts over an IPC channel: it sends { ready } once listening, then answers each
 * { id, op } with { id, result }.
 */
import { setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { FakeSlack } from '../tests/helpers/fake-slack.js';
import { FakeConnector } from '../tests/helpers/fake-connector.js';

// Slack's and Microsoft's servers are not on the bot's machine: their stand-ins here take only the CPU
// the bot and the load generator leave, rather than competing with the bot during its turns alone.
setPriority(19);

export interface AckFakesReady {
  slackApiUrl: string;
  /** A response_url is this followed by its id. */
  respondPrefix: string;
  connectorUrl: string;
}

export interface Sender { slack: string; teams: string; aad: string; name: string; email: string }

export type AckFakesQuery =
  /** Numbers ≥ from whose command has its answer: a response_url post ("c<n>") or an opened form ("t<n>"). */
  | { op: 'slackAnswered'; from: number }
  /** response_url posts saying "busy". */
  | { op: 'slackBusy' }
  /** The first reply to each activity of one run ("<run>-<n>"): [activity id, epoch ms it arrived]. */
  | { op: 'teamsFirstReplies'; run: string }
  /** How many activities of one run have a reply. */
  | { op: 'teamsAnswered'; run: string }
  /** Replies saying "busy". */
  | { op: 'teamsBusy' };

const senders = JSON.parse(process.argv[2] ?? '[]') as Sender[];
const slack = await FakeSlack.start();
const connector = await new FakeConnector().start();
for (const s of senders) {
  slack.users.set(s.slack, { email: s.email, tz: 'Europe/Berlin', real_name: s.name });
  connector.members.set(s.teams, { id: s.teams, name: s.name, aadObjectId: s.aad, email: s.email });
}

function firstReplies(run: string): Map<string, number> {
  const first = new Map<string, number>();
  for (const p of connector.posted) {
    if (!p.replyToId?.startsWith(`${run}-`) || first.has(p.replyToId)) continue;
    // Epoch milliseconds: the bench process reads its own clock for when it sent each activity.
    first.set(p.replyToId, performance.timeOrigin + p.at);
  }
  return first;
}

function answer(query: AckFakesQuery): unknown {
  switch (query.op) {
    case 'slackAnswered': {
      const done = new Set<number>();
      for (const c of slack.calls) {
        const id = c.method === 'response_url' ? String(c.args.id ?? '').slice(1) : c.method === 'views.open' ? String(c.args.trigger_id ?? '').slice(1) : '';
        const n = Number(id);
        if (id && n >= query.from) done.add(n);
      }
      return [...done];
    }
    case 'slackBusy':
      return slack.calls.filter((c) => c.method === 'response_url' && /busy/.test(JSON.stringify(c.args))).length;
    case 'teamsFirstReplies':
      return [...firstReplies(query.run)];
    case 'teamsAnswered':
      return firstReplies(query.run).size;
    case 'teamsBusy':
      return connector.posted.filter((p) => /busy/.test(JSON.stringify(p.activity))).length;
  }
}

process.on('message', (message: { id: number } & AckFakesQuery) => process.send?.({ id: message.id, result: answer(message) }));
process.on('disconnect', () => { void Promise.all([slack.close(), connector.stop()]).then(() => process.exit(0)); });
process.send?.({ ready: { slackApiUrl: slack.apiUrl, respondPrefix: slack.responseUrl(''), connectorUrl: connector.url } satisfies AckFakesReady });
