/**
 * A 50 MB evidence file goes through chat and back unchanged: the control owner hands it in as a
 * reply to the evidence request, the answer names its SHA-256, and "evidence show EV-… --download"
 * later puts exactly those bytes into the platform's upload (Slack's upload URL, Teams' OneDrive
 * upload session). Both ends are the real frameworks over HTTP (signed requests to Bolt, activities
 * to the teams-ai Application) against the local fakes, which stream the file from disk and keep
 * only the SHA-256 and length of what is uploaded.
 *
 * On PostgreSQL when it is there (always in CI), else on PGlite: see vitest.config.ts for why.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import type { Activity } from 'botbuilder';
import { deliverDue } from '../src/core/delivery.js';
import { evidenceItems, evidenceRequests } from '../src/db/schema/index.js';
import type { Db } from '../src/db/client.js';
import { TEAMS_FILE_TYPE } from '../adapters/teams/files.js';
import { FILE_CONSENT_TYPE, FILE_INFO_TYPE } from '../adapters/teams/offers.js';
import { addControl } from './helpers/fixtures.js';
import { SlackWorkspace, blockText, postedMessage } from './helpers/fake-slack-workspace.js';
import { startTeamsStack, personalMessage, cardOf, cardText, personalChatOf, type TeamsStack } from './helpers/teams.js';

const FILE_BYTES = 50 * 1024 * 1024;
/** Storing and reading back 50 MB takes seconds on PostgreSQL, over a minute on PGlite. */
const ROUND_TRIP_MS = 120_000;

/** Random bytes written to disk a megabyte at a time, so the test holds no 50 MB buffer of its own. */
let evidence: { path: string; size: number; sha256: string };
let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'isms-roundtrip-'));
  const file = path.join(folder, 'restore-test.bin');
  const out = createWriteStream(file);
  const hash = createHash('sha256');
  for (let written = 0; written < FILE_BYTES; written += 1024 * 1024) {
    const chunk = randomBytes(1024 * 1024);
    hash.update(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  evidence = { path: file, size: FILE_BYTES, sha256: hash.digest('hex') };
});

afterAll(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
});

/** What the register recorded for one revision: its size and SHA-256, never its bytes. */
async function recorded(db: Db, ref: string) {
  const [item] = await db.select({ fileName: evidenceItems.fileName, fileSize: evidenceItems.fileSize, fileSha256: evidenceItems.fileSha256 })
    .from(evidenceItems).where(eq(evidenceItems.ref, ref));
  return item;
}

describe('a 50 MB evidence file in Slack', () => {
  let w: SlackWorkspace;
  beforeAll(async () => { w = await SlackWorkspace.start(); });
  afterAll(async () => { await w?.close(); });

  it('is recorded from the request thread with its SHA-256, and sent back to the owner byte for byte', async () => {
    await addControl(w.t.db, { code: 'CTL-BK-01', title: 'Backups restore', ownerId: w.cast.owner.id });
    await w.sender.command(w.slashCommand('ULENA', 'request CTL-BK-01', 'lead-request'));
    const requestRef = /EVR-\d{4}/.exec(blockText((await w.responseTo('lead-request')).args.blocks))![0];
    await deliverDue(w.t.db, [w.slack.port]);
    const dm = w.fake.callsTo('chat.postMessage').find((c) => c.args.channel === 'UOLGA' && String(c.args.text).includes(requestRef))!;
    const request = postedMessage(dm);

    w.fake.addFile('F0RESTORE', 'restore-test.bin', evidence.path);
    const response = await w.sender.event({
      type: 'message', subtype: 'file_share', channel: 'DOLGA', channel_type: 'im', user: 'UOLGA', text: 'Restore test, full image',
      ts: '1700000600.000100', thread_ts: request.ts, files: [{ id: 'F0RESTORE', name: 'restore-test.bin' }],
    }, 'Ev0RESTORE');
    expect(response.status).toBe(200);
    const answer = await w.fake.waitForCall('chat.postMessage', (c) => c.args.thread_ts === request.ts, ROUND_TRIP_MS);
    const said = blockText(answer.args.blocks);
    expect(said).toContain(`for ${requestRef}, CTL-BK-01 Backups restore`);
    expect(said).toContain(evidence.sha256);
    const ref = /EV-\d{4}/.exec(said)![0];
    expect(await recorded(w.t.db, ref)).toEqual({ fileName: 'restore-test.bin', fileSize: evidence.size, fileSha256: evidence.sha256 });

    await w.sender.command(w.slashCommand('UOLGA', `evidence show ${ref} --download`, 'owner-download'));
    const sent = await w.fake.waitForCall('response_url', (c) => c.args.id === 'owner-download' && blockText(c.args.blocks ?? []).includes('Sent '), ROUND_TRIP_MS);
    expect(blockText(sent.args.blocks)).toContain('Sent restore-test.bin to your direct messages with me.');
    const [uploaded] = w.fake.sharedFiles();
    expect(uploaded).toMatchObject({ filename: 'restore-test.bin', declared: evidence.size, length: evidence.size, sha256: evidence.sha256, shared: { channel: 'DOLGA' } });
  }, ROUND_TRIP_MS * 2);
});

describe('a 50 MB evidence file in Teams', () => {
  let stack: TeamsStack;
  beforeAll(async () => { stack = await startTeamsStack(); });
  afterAll(async () => { await stack?.stop(); });

  const send = async (activity: Partial<Activity>) => {
    const { server, connector } = stack;
    const before = connector.posted.length;
    const res = await server.post({ ...activity, serviceUrl: connector.url });
    expect(res.status).toBe(200);
    // A typing indicator may come first while a large file is being handled: only messages count here.
    return connector.posted.slice(before).filter((p) => p.activity.type === 'message');
  };

  it('is recorded from a reply to the request card with its SHA-256, and uploaded back to the owner\'s OneDrive byte for byte', async () => {
    const { h, server, connector } = stack;
    await addControl(h.t.db, { code: 'CTL-BK-01', title: 'Backups restore', ownerId: h.ids.owner });
    await send(personalMessage('owner', 'help'));
    await send(personalMessage('lead', 'request CTL-BK-01'));
    const before = connector.posted.length;
    await deliverDue(h.t.db, [server.port]);
    const requestCard = connector.posted.slice(before).find((p) => p.conversationId === personalChatOf('owner'))!;
    const [{ ref: requestRef }] = await h.t.db.select({ ref: evidenceRequests.ref }).from(evidenceRequests);

    const [confirmation] = await send(personalMessage('owner', '', {
      text: undefined, replyToId: requestCard.id,
      attachments: [{
        contentType: TEAMS_FILE_TYPE, name: 'restore-test.bin', contentUrl: 'https://contoso.sharepoint.com/personal/olga/Documents/restore-test.bin',
        content: { downloadUrl: connector.addFile('restore-test.bin', evidence.path), uniqueId: randomUUID(), fileType: 'bin' },
      }],
    }));
    const said = cardText(cardOf(confirmation.activity));
    expect(said).toContain(`for ${requestRef}, CTL-BK-01 Backups restore`);
    expect(said).toContain(evidence.sha256);
    const ref = /EV-\d{4}/.exec(said)![0];
    expect(await recorded(h.t.db, ref)).toEqual({ fileName: 'restore-test.bin', fileSize: evidence.size, fileSha256: evidence.sha256 });

    const offered = await send(personalMessage('owner', `evidence show ${ref} --download`));
    const consentMessage = offered.find((p) => p.activity.attachments?.some((a: { contentType: string }) => a.contentType === FILE_CONSENT_TYPE))!;
    const consent = consentMessage.activity.attachments.find((a: { contentType: string }) => a.contentType === FILE_CONSENT_TYPE);
    expect(consent).toMatchObject({ name: 'restore-test.bin', content: { sizeInBytes: evidence.size } });

    // The owner clicks Accept: Teams opens a OneDrive upload session and hands the bot its URL.
    const uploadUrl = connector.uploadSession('restore-test.bin');
    const session = [...connector.uploads.values()].at(-1)!;
    const [saved] = await send({
      ...personalMessage('owner', '', { text: undefined, replyToId: consentMessage.id }),
      type: 'invoke', name: 'fileConsent/invoke',
      value: {
        type: 'fileUpload', action: 'accept', context: consent.content.acceptContext,
        uploadInfo: {
          contentUrl: 'https://contoso-my.sharepoint.com/personal/olga/Documents/Applications/ISMS/restore-test.bin',
          uploadUrl, name: 'restore-test.bin', fileType: 'bin', uniqueId: 'C2A7',
        },
      },
    });
    expect(saved.activity.attachments[0]).toMatchObject({ contentType: FILE_INFO_TYPE, name: 'restore-test.bin' });
    expect(session).toMatchObject({ complete: true, size: evidence.size, sha256: evidence.sha256 });
  }, ROUND_TRIP_MS * 2);
});
