/**
 * The baselines of the acknowledgement benchmark, run as a child process like the bot:
 * `slack`: a Bolt app (the bot's Bolt version, HTTP receiver, signatures verified) whose /isms handler only acks;
 * it is given the bot's ids, so it never calls auth.test. `teams`: a botbuilder CloudAdapter without credentials
 * (local mode, as the bot's is) whose turn only answers with one message. Listens on PORT.
 */
import http from 'node:http';
import { App, HTTPReceiver } from '@slack/bolt';
import { CloudAdapter, ConfigurationBotFrameworkAuthentication, type Activity } from 'botbuilder';

const port = Number(process.env.PORT);
const platform = process.argv[2];

if (platform === 'slack') {
  const receiver = new HTTPReceiver({ signingSecret: process.env.SLACK_SIGNING_SECRET!, endpoints: '/slack/events' });
  const app = new App({ token: process.env.SLACK_BOT_TOKEN, botId: 'BBOT', botUserId: 'UBOT', receiver });
  app.command('/isms', async ({ ack }) => { await ack(); });
  await app.start(port);
} else if (platform === 'teams') {
  /** processActivity takes an activity already read, as the bot's ActivityAdapter does. */
  class Adapter extends CloudAdapter {
    serve(auth: string, activity: Activity, logic: Parameters<CloudAdapter['processActivity']>[2]) { return this.processActivity(auth, activity, logic); }
  }
  const adapter = new Adapter(new ConfigurationBotFrameworkAuthentication({}));
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let activity: Activity;
      try {
        activity = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Activity;
      } catch {
        res.writeHead(400).end();
        return;
      }
      adapter.serve(req.headers.authorization ?? '', activity, async (context) => { await context.sendActivity('ok'); })
        .then((result) => res.writeHead(result?.status ?? 200).end(), () => res.writeHead(500).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
} else {
  process.stderr.write('usage: ack-bare.ts slack|teams\n');
  process.exit(2);
}
