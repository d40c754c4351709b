/**
 * Payloads as Slack sends them from Enterprise Grid orgs and Slack Connect channels: a click whose
 * team is the clicker's own organisation's workspace, a colleague from another workspace of the same
 * org, an org-wide install's slash command and event (authorizations with team_id null), and a
 * slash command's text with Slack's escapes, links, mentions and phone-typed quotes, and a Google
 * Drive file shared in the thread of an evidence request (a file object with mode "external").
 * Slack documents these in docs.slack.dev (interaction payloads, "Slack Connect: working with
 * channels between organizations", organization-wide apps' changes to the Events API).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eq } from 'drizzle-orm';
import { addControl, addPolicy, addPolicyVersion } from './helpers/fixtures.js';
import { SECRET, SlackWorkspace, blockText, directMessage, postedMessage, retryConfig } from './helpers/fake-slack-workspace.js';
import { SlackSender } from './helpers/slack-sign.js';
import { HttpServer } from '../src/http.js';
import { attachSlack } from '../adapters/slack/slack.js';
import { SlackApi } from '../adapters/slack/api.js';
import { webApi } from '@slack/bolt';
import { createLogger } from '../src/log.js';
import { EVENTS_PATH } from '../adapters/slack/ids.js';
import { reply, text, actions } from '../src/core/reply.js';
import { deliverDue } from '../src/core/delivery.js';
import { aiTools, auditEvents, evidenceItems, outbox, people, policyAcknowledgements } from '../src/db/schema/index.js';

let w: SlackWorkspace;

beforeAll(async () => {
  w = await SlackWorkspace.start();
});

afterAll(async () => {
  await w?.close();
});

const ELSEWHERE = "people from other workspaces can't use the ISMS bot here";

/** A policy to acknowledge, sent to the ISMS lead with its button; gives the message as Slack shows it in a click. */
async function acknowledgeButton(title: string) {
  const policy = await addPolicy(w.t.db, { title });
  await addPolicyVersion(w.t.db, { policyId: policy.id, version: '1.0', content: 'Read me.' });
  await w.slack.port.send(await w.person('lead'), reply(text(`Please read ${policy.ref} ${title}.`), actions({ label: 'Acknowledge version 1.0', command: `ack ${policy.ref} --version 1.0` })));
  return postedMessage(w.fake.callsTo('chat.postMessage').at(-1)!);
}

/** A click as Slack sends it when the clicker's home is another workspace: team and user.team_id are theirs. */
function clickFrom(sender: SlackWorkspace, who: string, message: ReturnType<typeof postedMessage>, responseId: string, team: string, enterprise?: string) {
  const click = sender.clickPayload(who, message, 'Acknowledge version 1.0', responseId);
  return {
    ...click, is_enterprise_install: false, enterprise: enterprise ? { id: enterprise, name: 'Partner Org' } : null,
    team: { id: team, domain: 'partner', ...(enterprise ? { enterprise_id: enterprise, enterprise_name: 'Partner Org' } : {}) },
    user: { ...click.user, team_id: team },
  };
}

/** A second Slack adapter on the same register, for an app whose auth.test says it is installed as `installed` says. */
async function adapterInstalledAs(installed: Record<string, unknown>): Promise<{ http: HttpServer; sender: SlackSender }> {
  w.fake.on('auth.test', () => ({ ok: true, url: 'https://org.slack.example/', user: 'isms', user_id: 'UBOT', bot_id: 'BBOT', ...installed }));
  try {
    const http = new HttpServer(() => undefined);
    await attachSlack(w.bot, http, { retryConfig });
    const port = await http.listen(0, '127.0.0.1');
    return { http, sender: new SlackSender(`http://127.0.0.1:${port}${EVENTS_PATH}`, SECRET) };
  } finally {
    w.fake.off('auth.test');
  }
}

describe('a Slack Connect member of another organisation clicking a button in a shared channel', () => {
  it('is told people from other workspaces cannot use the bot here, not the scope hint, and nothing is recorded', async () => {
    // Slack names the clicker's own workspace as the payload's team, not the one the app is installed in.
    w.fake.users.set('UPARTNER', { tz: 'Europe/Paris', team: 'T0PARTNER' });
    const message = await acknowledgeButton('Shared desk');
    const before = await w.auditCount();
    await w.sender.interaction(clickFrom(w, 'UPARTNER', message, 'partner-click', 'T0PARTNER'));
    const said = blockText((await w.responseTo('partner-click')).args.blocks);
    expect(said).toContain(ELSEWHERE);
    expect(said).toContain('Nothing was recorded');
    expect(said).not.toContain('users:read.email');
    expect(await w.auditCount()).toBe(before);
    expect(await w.t.db.select().from(policyAcknowledgements)).toEqual([]);
  });
});

describe('a Slack Connect account of another organisation linked to someone in the register before such accounts were refused', () => {
  /** A person in the register linked to the Slack account `slack`, as an earlier version linked them by email. */
  async function linkedPerson(name: string, slack: string) {
    const [row] = await w.t.db.insert(people).values({ name, email: `${slack.toLowerCase()}@test.example`, roles: ['staff'], timezone: 'Europe/Paris', slackUserId: slack }).returning();
    return row;
  }
  const toldLead = async (slack: string) => (await w.t.db.select().from(outbox).where(eq(outbox.kind, 'external_account')))
    .filter((m) => JSON.stringify(m.reply).includes(slack));
  const refusals = async (slack: string) => (await w.t.db.select().from(auditEvents).where(eq(auditEvents.action, 'refuse_external_account')))
    .filter((e) => JSON.stringify(e.after).includes(slack));

  it('is refused when the click names its own organisation\'s workspace, without asking Slack; nothing runs, and the ISMS lead is told once', async () => {
    const paula = await linkedPerson('Paula Partner', 'UPAULA');
    const message = await acknowledgeButton('Linked desk');
    for (const click of ['paula-click-1', 'paula-click-2']) {
      await w.sender.interaction(clickFrom(w, 'UPAULA', message, click, 'T0PARTNER'));
      const said = blockText((await w.responseTo(click)).args.blocks);
      expect(said).toContain(ELSEWHERE);
      expect(said).toContain('Nothing was recorded');
    }
    expect(await w.t.db.select().from(policyAcknowledgements).where(eq(policyAcknowledgements.personId, paula.id))).toEqual([]);
    expect(w.fake.callsTo('users.info').filter((c) => c.args.user === 'UPAULA')).toEqual([]);
    expect(await toldLead('UPAULA')).toMatchObject([{ recipientId: w.cast.lead.id }]);
    expect(await refusals('UPAULA')).toHaveLength(1);
    expect(w.logs.lines.filter((l) => l.personId === paula.id && /belongs to another organisation/.test(l.msg ?? ''))).toHaveLength(1);
    // The link stays for the ISMS lead to clear.
    expect((await w.t.db.select().from(people).where(eq(people.id, paula.id)))[0].slackUserId).toBe('UPAULA');
  });

  it('is refused when its slash command names another workspace', async () => {
    await linkedPerson('Carl Connect', 'UCARL');
    await w.sender.command({ ...w.slashCommand('UCARL', 'declare ai Carlbot', 'carl-command'), team_id: 'T0PARTNER', team_domain: 'partner' });
    expect(blockText((await w.responseTo('carl-command')).args.blocks)).toContain(ELSEWHERE);
    expect(await w.t.db.select().from(aiTools).where(eq(aiTools.name, 'Carlbot'))).toEqual([]);
    expect(await refusals('UCARL')).toHaveLength(1);
  });

  it('is refused when Slack says it is a stranger, for a direct message that names no workspace: Slack is asked once for the account', async () => {
    await linkedPerson('Stan Stranger', 'USTANLINK');
    w.fake.users.set('USTANLINK', { tz: 'Europe/Paris', team: 'T0OTHERORG', stranger: true });
    const answers = () => w.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'DSTANLINK');
    for (const [i, typed] of ['declare ai Stanbot', 'status'].entries()) {
      await w.sender.event(directMessage('USTANLINK', 'DSTANLINK', typed, `170001000${i}.000100`), `EvSTANLINK${i}`);
      await vi.waitFor(() => expect(answers()).toHaveLength(i + 1), { timeout: 15_000 });
      expect(blockText(answers()[i].args.blocks)).toContain(ELSEWHERE);
    }
    expect(await w.t.db.select().from(aiTools).where(eq(aiTools.name, 'Stanbot'))).toEqual([]);
    expect(w.fake.callsTo('users.info').filter((c) => c.args.user === 'USTANLINK')).toHaveLength(1);
    expect(await refusals('USTANLINK')).toHaveLength(1);
  });

  it('does not slow a member of this workspace: their slash commands ask Slack nothing (but their timezone, once, when the register has none)', async () => {
    await w.sender.command(w.slashCommand('ULENA', 'declare ai Homebot', 'home-command'));
    expect(blockText((await w.responseTo('home-command')).args.blocks)).toContain('Recorded Homebot in the AI register');
    const lookups = w.fake.callsTo('users.info').length;
    await w.sender.command(w.slashCommand('ULENA', 'status', 'home-status'));
    await w.responseTo('home-status');
    expect(w.fake.callsTo('users.info')).toHaveLength(lookups);
  });
});

describe('a Slack Connect member of another organisation whose email Slack shows', () => {
  it.each([
    ['an email the register does not hold', 'UPARTNER3', 'pat@partner.example'],
    ['the email of someone in the register not linked yet, which the other organisation set on its account', 'UPARTNER4', 'eve@test.example'],
  ])('with %s is told people from other workspaces cannot use the bot, is not told who runs it here, and is linked to nobody', async (_with, id, email) => {
    w.fake.users.set(id, { tz: 'Europe/Paris', team: 'T0PARTNER', email });
    const before = await w.auditCount();
    await w.sender.command({ ...w.slashCommand(id, 'declare ai Partnerbot', `connect-${id}`), channel_id: 'C0SHARED', channel_name: 'shared-with-partner' });
    const said = blockText((await w.responseTo(`connect-${id}`)).args.blocks);
    expect(said).toContain(ELSEWHERE);
    expect(said).not.toContain('Lena Lead');
    expect(said).not.toContain('lena@test.example');
    expect(await w.t.db.select().from(people).where(eq(people.slackUserId, id))).toEqual([]);
    expect((await w.person('eve')).slackUserId).toBeNull();
    expect(await w.t.db.select().from(aiTools).where(eq(aiTools.name, 'Partnerbot'))).toEqual([]);
    expect(await w.auditCount()).toBe(before);
  });
});

describe('an Enterprise Grid org', () => {
  /** A second Slack adapter on the same register, for an app installed in workspace T0TEST of org E0ORG. */
  let grid: { http: HttpServer; sender: SlackSender };
  beforeAll(async () => {
    grid = await adapterInstalledAs({ team: 'Test', team_id: 'T0TEST', enterprise_id: 'E0ORG' });
    // users.info as Slack answers it in a Grid org: the account's home workspace and its org.
    const members: Record<string, { team: string; enterprise: string }> = {
      WCOLLEAGUE: { team: 'T0WS2', enterprise: 'E0ORG' },
      UPARTNER2: { team: 'T0PARTNER', enterprise: 'E0PARTNER' },
    };
    w.fake.on('users.info', (args) => {
      const member = members[args.user];
      if (!member) return { ok: false, error: 'user_not_found' };
      return {
        ok: true,
        user: {
          id: args.user, team_id: member.team, deleted: false, is_bot: false, tz: 'Europe/Berlin', profile: { real_name: args.user },
          enterprise_user: { id: args.user, enterprise_id: member.enterprise, enterprise_name: 'Org', is_admin: false, is_owner: false, teams: [member.team] },
        },
      };
    });
  });
  afterAll(async () => {
    w.fake.off('users.info');
    await grid?.http.close();
  });

  it('tells a colleague from another workspace of the same org, shown without an email, that Slack did not say who they are, naming the scope', async () => {
    await grid.sender.command({ ...w.slashCommand('WCOLLEAGUE', 'status', 'grid-colleague'), team_id: 'T0WS2', enterprise_id: 'E0ORG', enterprise_name: 'Org', is_enterprise_install: 'false' });
    const said = blockText((await w.responseTo('grid-colleague')).args.blocks);
    expect(said).toContain('Slack did not say who you are');
    expect(said).toContain('users:read.email');
    expect(said).not.toContain(ELSEWHERE);
  });

  it("tells a Slack Connect member of another Grid org, whose click names their own org, that people from other workspaces can't use the bot", async () => {
    const message = await acknowledgeButton('Partner desk');
    await grid.sender.interaction(clickFrom(w, 'UPARTNER2', message, 'grid-partner-click', 'T0PARTNER', 'E0PARTNER'));
    const said = blockText((await w.responseTo('grid-partner-click')).args.blocks);
    expect(said).toContain(ELSEWHERE);
    expect(said).not.toContain('users:read.email');
    expect(await w.t.db.select().from(policyAcknowledgements)).toEqual([]);
  });
});

describe('an org-wide install', () => {
  /** The app installed org-wide in E0ORG: auth.test names the org, no workspace. */
  let org: { http: HttpServer; sender: SlackSender };
  beforeAll(async () => { org = await adapterInstalledAs({ enterprise_id: 'E0ORG', is_enterprise_install: true }); });
  afterAll(async () => { await org?.http.close(); });

  it('records a slash command typed in another workspace of the org as the person typed it: escapes, links, mentions, channels and „German“ quotes', async () => {
    // Form-encoded as Slack posts it: is_enterprise_install is the string "true".
    const typed = 'declare ai „R&amp;D Helper“ "notes for <#C0SEC|security> with <@USAM|sam>, see <https://wiki.example/ai?x=1&amp;y=2|the page> &lt;draft&gt; <!here> :tada:"';
    await org.sender.command({ ...w.slashCommand('ULENA', typed, 'org-command'), team_id: 'T0WS2', team_domain: 'ws2', enterprise_id: 'E0ORG', enterprise_name: 'Org', is_enterprise_install: 'true' });
    expect(blockText((await w.responseTo('org-command')).args.blocks)).toContain('Recorded R&amp;D Helper in the AI register');
    expect(await w.t.db.select({ name: aiTools.name, purpose: aiTools.purpose }).from(aiTools).where(eq(aiTools.name, 'R&D Helper'))).toEqual([
      { name: 'R&D Helper', purpose: 'notes for #security with @Sam Staff, see the page (https://wiki.example/ai?x=1&y=2) <draft> @here :tada:' },
    ]);
  });

  it('answers a direct message whose event names the org in authorizations, with team_id null', async () => {
    const body = JSON.stringify({
      token: 'legacy', team_id: 'T0WS2', enterprise_id: 'E0ORG', context_team_id: 'T0WS2', context_enterprise_id: 'E0ORG', api_app_id: 'A0TEST',
      type: 'event_callback', event_id: 'EvORGDM', event_time: Math.floor(Date.now() / 1000), is_ext_shared_channel: false, event_context: '4-eyJldCI6Im1lc3NhZ2UifQ',
      event: { type: 'message', channel: 'DSAM', channel_type: 'im', user: 'USAM', text: 'hallo', ts: '1700009000.000100', event_ts: '1700009000.000100', team: 'T0WS2' },
      authorizations: [{ enterprise_id: 'E0ORG', team_id: null, user_id: 'UBOT', is_bot: true, is_enterprise_install: true }],
    });
    expect((await org.sender.send(body, 'application/json')).status).toBe(200);
    const answer = await w.fake.waitForCall('chat.postMessage', (c) => c.args.channel === 'DSAM' && blockText(c.args.blocks).includes('I take commands'));
    expect(answer.args.thread_ts).toBeUndefined();
  });
});

describe('a slash command typed on a phone', () => {
  it('takes "--" that a phone turned into an em or en dash before an option as the option; a dash in running text stays', async () => {
    await w.sender.command(w.slashCommand('ULENA', 'declare ai Kagi \u2014vendor „Kagi Inc“ \u2013data public', 'phone-dash'));
    expect(blockText((await w.responseTo('phone-dash')).args.blocks)).toContain('Recorded Kagi in the AI register');
    await w.sender.command(w.slashCommand('ULENA', 'declare ai Otter "notes \u2014 internal only" \u2014users 12', 'prose-dash'));
    expect(blockText((await w.responseTo('prose-dash')).args.blocks)).toContain('Recorded Otter in the AI register');
    const recorded = await w.t.db.select({ name: aiTools.name, vendor: aiTools.vendor, purpose: aiTools.purpose, data: aiTools.dataCategories, users: aiTools.userCount }).from(aiTools);
    expect(recorded.filter((t) => ['Kagi', 'Otter'].includes(t.name))).toEqual([
      { name: 'Kagi', vendor: 'Kagi Inc', purpose: null, data: ['public'], users: null },
      { name: 'Otter', vendor: null, purpose: 'notes \u2014 internal only', data: [], users: 12 },
    ]);
  });
  it('keeps an apostrophe inside ‘single quotes’ (a phone types both as ’) as part of the phrase', async () => {
    await w.sender.command(w.slashCommand('ULENA', 'declare ai ‘Ada’s Notes’ ‘what’s said in the board’s meetings’ --vendor O\'Reilly', 'phone-apostrophe'));
    expect(blockText((await w.responseTo('phone-apostrophe')).args.blocks)).toContain('Recorded Ada’s Notes in the AI register');
    expect(await w.t.db.select({ name: aiTools.name, vendor: aiTools.vendor, purpose: aiTools.purpose }).from(aiTools).where(eq(aiTools.name, 'Ada’s Notes'))).toEqual([
      { name: 'Ada’s Notes', vendor: "O'Reilly", purpose: 'what’s said in the board’s meetings' },
    ]);
  });
});

describe('a slash command with no-break spaces (Option+Space on a Mac, text pasted from a document or web page)', () => {
  it('records them as the spaces the person meant, so a name reads and is found as typed', async () => {
    await w.sender.command(w.slashCommand('ULENA', 'declare\u00a0ai „Chat\u00a0Pal“ «\u202fnotes\u00a0for the team\u202f»', 'no-break'));
    expect(blockText((await w.responseTo('no-break')).args.blocks)).toContain('Recorded Chat Pal in the AI register');
    expect(await w.t.db.select({ name: aiTools.name, purpose: aiTools.purpose }).from(aiTools).where(eq(aiTools.purpose, 'notes for the team'))).toEqual([
      { name: 'Chat Pal', purpose: 'notes for the team' },
    ]);
  });
});

describe('a slash command naming a person with a Slack mention', () => {
  it.each([
    ['without a label (as Slack escapes mentions now)', '<@UOLGA>', '2030-08-25'],
    ['labelled with a handle that is not their name', '<@UOLGA|o.owner>', '2030-08-26'],
  ])('%s acts on the person the mention names', async (_how, mention, until) => {
    await w.sender.command(w.slashCommand('ULENA', `pause ${mention} ${until}`, `pause-${until}`));
    expect(blockText((await w.responseTo(`pause-${until}`)).args.blocks)).toContain(`Nudges to Olga Owner wait until ${until}`);
  });

  it.each([
    ['‘typographic single quotes’', 'Fathom', '‘meeting notes with <@UOLGA>’'],
    ["'straight single quotes'", 'Grain', "'meeting notes with <@UOLGA|o.owner>'"],
    ['« guillemets »', 'Tactiq', '« meeting notes with <@UOLGA> »'],
  ])('inside text in %s records their name in that text, without quotes nobody typed', async (_how, tool, quoted) => {
    await w.sender.command(w.slashCommand('USAM', `declare ai ${tool} ${quoted}`, `quoted-${tool}`));
    expect(blockText((await w.responseTo(`quoted-${tool}`)).args.blocks)).toContain(`Recorded ${tool} in the AI register`);
    expect(await w.t.db.select({ purpose: aiTools.purpose }).from(aiTools).where(eq(aiTools.name, tool))).toEqual([{ purpose: 'meeting notes with @Olga Owner' }]);
  });
});

/** A host outside Slack that answers every request with `body`, and notes the token each came with. */
async function hostOutsideSlack(contentType: string, body: string): Promise<{ server: http.Server; url: string; tokens: (string | undefined)[] }> {
  const tokens: (string | undefined)[] = [];
  const server = http.createServer((req, res) => {
    tokens.push(req.headers.authorization);
    res.writeHead(200, { 'content-type': contentType }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tokens };
}

describe('a Google Drive file shared in the thread of an evidence request', () => {
  /** Another service's file host: it answers any request with a sign-in page, and notes who came with a token. */
  let drive: Awaited<ReturnType<typeof hostOutsideSlack>>;
  beforeAll(async () => {
    drive = await hostOutsideSlack('text/html', '<html>Sign in to continue to Google Docs</html>');
  });
  afterAll(async () => {
    w.fake.off('files.info');
    await new Promise((resolve) => drive?.server.close(resolve));
  });

  it('is refused saying it is stored in Google Drive and how to hand it in; the bot token never leaves for its address and nothing is recorded', async () => {
    await addControl(w.t.db, { code: 'CTL-GD-01', ownerId: w.cast.staff.id });
    await w.sender.command(w.slashCommand('ULENA', 'request CTL-GD-01', 'request-gdrive'));
    expect(blockText((await w.responseTo('request-gdrive')).args.blocks)).toMatch(/EVR-\d{4}/);
    await deliverDue(w.t.db, [w.slack.port]);
    const request = postedMessage(w.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'USAM').at(-1)!);
    // files.info of a linked Drive document, as Slack describes one: url_private is Google's address.
    const doc = `${drive.url}/document/d/1AbCdEf/edit?usp=drivesdk`;
    w.fake.on('files.info', () => ({
      ok: true,
      file: { id: 'F0GDOC', name: 'Access review Q4', title: 'Access review Q4', mimetype: 'application/vnd.google-apps.document', filetype: 'gdoc', pretty_type: 'Google Docs',
        mode: 'external', is_external: true, external_type: 'gdrive', external_url: doc, url_private: doc, size: 0 },
    }));
    const before = await w.auditCount();
    await w.sender.event({
      type: 'message', subtype: 'file_share', channel: 'DSAM', channel_type: 'im', user: 'USAM', text: '', upload: false, display_as_bot: false,
      files: [{ id: 'F0GDOC', name: 'Access review Q4', mode: 'external', is_external: true, external_type: 'gdrive', url_private: doc }],
      ts: '1700009500.000200', event_ts: '1700009500.000200', thread_ts: request.ts,
    }, 'EvGDRIVE');
    const said = blockText((await w.fake.waitForCall('chat.postMessage', (c) => c.args.thread_ts === request.ts)).args.blocks);
    expect(said).toContain('"Access review Q4" is stored in Google Drive, not in Slack, so I can\'t read it. Nothing was recorded.');
    expect(said).toContain('Reply with its link as text instead, or upload the file itself.');
    expect(drive.tokens).toEqual([]);
    expect(await w.t.db.select().from(evidenceItems)).toEqual([]);
    expect(await w.auditCount()).toBe(before);
  });

  it('sends the bot token only to Slack\'s file hosts over https, or to the Web API\'s own origin', () => {
    const api = (apiUrl?: string) => new SlackApi(new webApi.WebClient('xoxb-test', apiUrl ? { slackApiUrl: apiUrl } : {}), createLogger('silent'), 'xoxb-test');
    const production = api();
    for (const url of ['https://files.slack.com/files-pri/T1-F1/a.pdf', 'https://files.slack-gov.com/files-pri/T1-F1/a.pdf',
      'https://files-origin.slack.com/files-pri/T1-F1/a.pdf', 'https://slack-files.com/files-tmb/T1-F1-abc/a.pdf', 'https://files.slack-edge.com/a.pdf?sig=1']) expect(production.hostsFile(url)).toBe(true);
    for (const url of ['http://files.slack.com/files-pri/T1-F1/a.pdf', 'https://files.slack.com.example.net/a.pdf', 'https://notslack.com/a.pdf',
      'https://files.slack.com:8443/a.pdf', `${drive.url}/files-pri/T1-F1/a.pdf`, 'not a url']) expect(production.hostsFile(url)).toBe(false);
    expect(api(w.fake.apiUrl).hostsFile(`${w.fake.url}/files/F1`)).toBe(true);
    expect(api(w.fake.apiUrl).hostsFile(`${drive.url}/files/F1`)).toBe(false);
  });

  it('refuses a file whose url_private is not Slack\'s own although it does not say it is external; the bot token never leaves for its address', async () => {
    await addControl(w.t.db, { code: 'CTL-GD-02', ownerId: w.cast.staff.id });
    await w.sender.command(w.slashCommand('ULENA', 'request CTL-GD-02', 'request-elsewhere'));
    expect(blockText((await w.responseTo('request-elsewhere')).args.blocks)).toMatch(/EVR-\d{4}/);
    await deliverDue(w.t.db, [w.slack.port]);
    const request = postedMessage(w.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'USAM').at(-1)!);
    const elsewhere = `${drive.url}/files-pri/T0001-F0ELSE/report.pdf`;
    w.fake.on('files.info', () => ({
      ok: true,
      file: { id: 'F0ELSE', name: 'report.pdf', mimetype: 'application/pdf', size: 10, mode: 'hosted', is_external: false, url_private: elsewhere, url_private_download: elsewhere },
    }));
    const before = await w.auditCount();
    await w.sender.event({
      type: 'message', subtype: 'file_share', channel: 'DSAM', channel_type: 'im', user: 'USAM', text: '', upload: false, display_as_bot: false,
      files: [{ id: 'F0ELSE', name: 'report.pdf', mode: 'hosted', url_private: elsewhere }],
      ts: '1700009600.000200', event_ts: '1700009600.000200', thread_ts: request.ts,
    }, 'EvELSEWHERE');
    const said = blockText((await w.fake.waitForCall('chat.postMessage', (c) => c.args.thread_ts === request.ts)).args.blocks);
    expect(said).toContain('"report.pdf" is stored in another service, not in Slack, so I can\'t read it. Nothing was recorded.');
    expect(drive.tokens).toEqual([]);
    expect(await w.t.db.select().from(evidenceItems)).toEqual([]);
    expect(await w.auditCount()).toBe(before);
  });
});

describe('a file Slack answers with a redirect, as files.slack.com sends some files on to a signed address', () => {
  let outside: Awaited<ReturnType<typeof hostOutsideSlack>>;
  beforeAll(async () => { outside = await hostOutsideSlack('application/pdf', '%PDF-1.7 not the file'); });
  afterAll(async () => { await new Promise((resolve) => outside?.server.close(resolve)); });

  /** An evidence request for Sam, as his direct message shows it. */
  async function requestForSam(control: string) {
    await addControl(w.t.db, { code: control, ownerId: w.cast.staff.id });
    await w.sender.command(w.slashCommand('ULENA', `request ${control}`, `request-${control}`));
    expect(blockText((await w.responseTo(`request-${control}`)).args.blocks)).toMatch(/EVR-\d{4}/);
    await deliverDue(w.t.db, [w.slack.port]);
    return postedMessage(w.fake.callsTo('chat.postMessage').filter((c) => c.args.channel === 'USAM').at(-1)!);
  }

  /** Sam's reply with the file `id` in the thread of the request; gives what the bot said there. */
  async function samReplies(request: { ts: string }, id: string, name: string): Promise<string> {
    const ts = `${request.ts.split('.')[0]}.9${String(w.fake.calls.length).padStart(5, '0')}`;
    await w.sender.event({
      type: 'message', subtype: 'file_share', channel: 'DSAM', channel_type: 'im', user: 'USAM', text: '', upload: false, display_as_bot: false,
      files: [{ id, name, mode: 'hosted' }], ts, event_ts: ts, thread_ts: request.ts,
    }, `Ev${id}`);
    return blockText((await w.fake.waitForCall('chat.postMessage', (c) => c.args.thread_ts === request.ts)).args.blocks);
  }

  it('follows a redirect within Slack\'s hosts and records the file itself, with its SHA-256', async () => {
    const bytes = Buffer.from('%PDF-1.7 restore test, signed copy');
    w.fake.addFile('F0SIGNED', 'restore-signed.pdf', bytes, 'application/pdf');
    w.fake.addFile('F0MOVED', 'restore.pdf', bytes, 'application/pdf', { redirectTo: `${w.fake.url}/files/F0SIGNED?sig=abc123` });
    const said = await samReplies(await requestForSam('CTL-RD-01'), 'F0MOVED', 'restore.pdf');
    expect(said).toMatch(/Recorded/);
    const [item] = await w.t.db.select().from(evidenceItems).where(eq(evidenceItems.fileName, 'restore.pdf'));
    expect(item.fileSha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(w.fake.callsTo('file download').filter((c) => ['F0MOVED', 'F0SIGNED'].includes(c.args.file)).map((c) => [c.args.file, c.status]))
      .toEqual([['F0MOVED', 302], ['F0SIGNED', 200]]);
  });

  it('refuses Slack\'s sign-in page answered for a PDF (a token without files:read) instead of recording the web page as the evidence', async () => {
    w.fake.addFile('F0LOGIN', 'access-review.pdf', Buffer.from('%PDF-1.7'), 'application/pdf', { signInPage: true });
    const request = await requestForSam('CTL-RD-LOGIN');
    const before = await w.auditCount();
    const evidence = (await w.t.db.select().from(evidenceItems)).length;
    const said = await samReplies(request, 'F0LOGIN', 'access-review.pdf');
    expect(said).toContain('Slack answered the download of "access-review.pdf" with a web page, not the file, so nothing was recorded.');
    expect(said).toContain('files:read');
    expect(await w.t.db.select().from(evidenceItems)).toHaveLength(evidence);
    expect(await w.auditCount()).toBe(before);
  });

  it.each([
    ['to a host outside Slack', 'F0AWAY', () => `${outside.url}/signed/report.pdf?sig=abc123`, 'to an address outside Slack'],
    ['in a loop', 'F0LOOP', () => `${w.fake.url}/files/F0LOOP`, 'too many times'],
  ])('refuses a redirect %s in the thread, sends the bot token nowhere else and records nothing', async (_how, id, to, why) => {
    w.fake.addFile(id, `${id}.pdf`, Buffer.from('%PDF-1.7'), 'application/pdf', { redirectTo: to() });
    const request = await requestForSam(`CTL-RD-${id}`);
    const before = await w.auditCount();
    const evidence = (await w.t.db.select().from(evidenceItems)).length;
    const said = await samReplies(request, id, `${id}.pdf`);
    expect(said).toContain(`Slack sent the download of "${id}.pdf" on ${why}, so I did not download it. Nothing was recorded.`);
    expect(outside.tokens).toEqual([]);
    expect(w.fake.callsTo('file download').filter((c) => c.args.file === id).length).toBeLessThanOrEqual(4);
    expect(await w.t.db.select().from(evidenceItems)).toHaveLength(evidence);
    expect(await w.auditCount()).toBe(before);
  });
});
