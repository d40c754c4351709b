/**
 * A file a reply hands to the person (an export) reaches them as a file in their direct message
 * with the bot, through Slack's external upload: conversations.open, files.getUploadURLExternal,
 * the bytes POSTed to the upload URL, files.completeUploadExternal. WebClient.filesUploadV2 takes
 * the same three steps but reads the whole file into memory first; here the bytes are streamed
 * from disk, so a large export never sits in memory.
 *
 * In the reply, the file block becomes a sentence saying the file was sent, or why it was not.
 * The file's temporary folder goes afterwards, whatever happened. A request Slack sends again, or a
 * double click, gets the stored reply of the first: the file is claimed per request and sent once.
 */
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { eq } from 'drizzle-orm';
import { webApi } from '@slack/bolt';
import { processedEvents } from '../../src/db/schema/index.js';
import { type Block, type FileOut, type ImageBlock, type Reply, text } from '../../src/core/reply.js';
import { type RequestInfo, type SlackApi, describeSlackError, retryAfterMs } from './api.js';
import { escapeMrkdwn } from './render.js';
import { showing, shownMaybe } from './answers.js';
import type { SlackContext, SlackDeps } from './listeners/shared.js';

/** Slack takes files up to 1 GB. */
export const SLACK_MAX_UPLOAD_BYTES = 1024 ** 3;

/** An upload that sends nothing for this long has stalled. */
const UPLOAD_IDLE_MS = 60_000;

/** Where the core writes files it hands out: only folders below it are removed after delivery. */
const EXPORTS_ROOT = path.join(tmpdir(), 'isms-exports');

/** Where the upload failed, for the log and for what the person is told. */
class UploadFailure extends Error {
  constructor(message: string, readonly reason: 'too_large' | 'gone' | 'upload_url') {
    super(message);
  }
}

/**
 * The reply with each file and image sent to the acting person's direct messages, its block replaced
 * by what happened. `idempotencyKey` is the request's: a repeat of the request sends nothing again.
 */
export async function deliverFiles(deps: SlackDeps, context: SlackContext, reply: Reply, idempotencyKey: string | undefined): Promise<Reply> {
  if (!hasFile(reply)) return reply;
  const blocks: Block[] = [];
  for (const [i, b] of reply.blocks.entries()) {
    const claimKey = idempotencyKey && `slack:file:${idempotencyKey}:${i}`;
    if (b.type === 'file') {
      blocks.push(await once(deps, claimKey, b.file.name, async () => {
        try {
          return await deliver(deps, context, b.file.name, () => sendToDirectMessage(deps, context, b.file));
        } finally {
          await removeTemporaryFolder(b.file.path);
        }
      }));
    } else if (b.type === 'image') {
      blocks.push(await once(deps, claimKey, b.fileName, () => deliver(deps, context, b.fileName, async () => {
        const request = { ...context.request, file: b.fileName };
        await uploadToChannel(deps.api, await directMessageChannel(deps.api, context.user.id, request), imageUpload(b), request);
      })));
    } else blocks.push(b);
  }
  return { ...reply, blocks };
}

/** Runs a delivery once per claim key; a repeat gets what the first said, or that it is still under way. */
async function once(deps: SlackDeps, claimKey: string | undefined, name: string, work: () => Promise<Block>): Promise<Block> {
  const db = deps.core.database.db;
  if (claimKey) {
    const claimed = await db.insert(processedEvents).values({ key: claimKey }).onConflictDoNothing().returning({ key: processedEvents.key });
    if (claimed.length === 0) {
      const [first] = await db.select({ reply: processedEvents.reply }).from(processedEvents).where(eq(processedEvents.key, claimKey));
      return (first?.reply as Block | null) ?? text(`${name} is on its way to your direct messages with me.`);
    }
  }
  const said = await work();
  if (claimKey) await db.update(processedEvents).set({ reply: said }).where(eq(processedEvents.key, claimKey));
  return said;
}

/** What the person is told about one upload: sent, or why not. */
async function deliver(deps: SlackDeps, context: SlackContext, name: string, send: () => Promise<void>): Promise<Block> {
  try {
    await send();
    return text(`Sent ${name} to your direct messages with me.`, 'success');
  } catch (e) {
    deps.core.logger.error({ platform: 'slack', request: context.request, file: name, error: uploadError(e) }, 'Slack file delivery failed');
    return text(failureText(name, e), shownMaybe(e) ? 'warning' : 'error');
  }
}

async function sendToDirectMessage(deps: SlackDeps, context: SlackContext, file: FileOut): Promise<void> {
  const { api } = deps;
  const request = { ...context.request, file: file.name };
  const size = await stat(file.path).then((s) => s.size, () => {
    throw new UploadFailure(`${file.path} is gone`, 'gone');
  });
  if (size > SLACK_MAX_UPLOAD_BYTES) throw new UploadFailure(`${size} bytes is more than Slack takes`, 'too_large');
  const channel = await directMessageChannel(api, context.user.id, request);
  await uploadToChannel(api, channel, { name: file.name, title: file.title, mimeType: file.mimeType, size, path: file.path },
    request, `Here is ${escapeMrkdwn(file.title)}, as you asked.`);
}

async function directMessageChannel(api: SlackApi, user: string | undefined, request: RequestInfo): Promise<string> {
  const opened = await api.call<{ channel?: { id?: string } }>('conversations.open', { users: user }, request);
  const channel = opened.channel?.id;
  if (!channel) throw new Error('conversations.open gave no channel');
  return channel;
}

/** What goes up: a file on disk (streamed) or bytes already in memory (an image block's PNG). */
type Upload = { name: string; title: string; mimeType: string; size: number } & ({ path: string } | { bytes: Buffer });

/** An image block's PNG as an upload. */
export function imageUpload(image: ImageBlock): Upload {
  const bytes = Buffer.from(image.pngBase64, 'base64');
  return { name: image.fileName, title: image.title, mimeType: 'image/png', size: bytes.length, bytes };
}

/** Slack's external upload into a conversation: get an upload URL, POST the bytes there, complete it into the channel. */
export async function uploadToChannel(api: SlackApi, channel: string, upload: Upload, request: RequestInfo, comment?: string): Promise<void> {
  const { upload_url: uploadUrl, file_id: fileId } = await api.call<{ upload_url?: string; file_id?: string }>(
    'files.getUploadURLExternal', { filename: upload.name, length: upload.size }, request);
  if (!uploadUrl || !fileId) throw new Error('files.getUploadURLExternal gave no upload URL');
  await postBytes(uploadUrl, upload);
  await showing(() => api.call('files.completeUploadExternal', {
    files: [{ id: fileId, title: upload.title }], channel_id: channel, ...(comment ? { initial_comment: comment } : {}),
  }, request));
}

/** Sends the bytes to Slack's upload URL raw (Slack also takes multipart), a file streamed from disk; Slack answers 200 when it has them. */
async function postBytes(url: string, upload: Upload): Promise<void> {
  const target = new URL(url);
  const request = (target.protocol === 'http:' ? http : https).request(target, {
    method: 'POST', timeout: UPLOAD_IDLE_MS, headers: { 'content-type': upload.mimeType || 'application/octet-stream', 'content-length': upload.size },
  });
  const answered = new Promise<http.IncomingMessage>((resolve, reject) => {
    request.once('response', resolve);
    request.once('error', reject);
    request.once('timeout', () => request.destroy(new Error('the upload stalled')));
  });
  const [, response] = await Promise.all(['path' in upload ? pipeline(createReadStream(upload.path), request) : endWith(request, upload.bytes), answered]);
  response.resume();
  if (response.statusCode !== 200) throw new UploadFailure(`the upload URL answered HTTP ${response.statusCode}`, 'upload_url');
}

const endWith = (request: http.ClientRequest, bytes: Buffer) => new Promise<void>((resolve) => request.end(bytes, resolve));

/** The reply as it reads while its files are being sent (a modal shows it until they are). */
export function whileSending(reply: Reply): Reply {
  const sending = (name: string) => text(`⏳ Sending ${name} to your direct messages with me…`);
  return { ...reply, blocks: reply.blocks.map((b) => (b.type === 'file' ? sending(b.file.name) : b.type === 'image' ? sending(b.fileName) : b)) };
}

/** A reply with something to upload: a file, or an image Block Kit cannot show from bytes. */
export const hasFile = (reply: Reply): boolean => reply.blocks.some((b) => b.type === 'file' || b.type === 'image');

/** Only a folder of its own below the exports folder is the core's to give away. */
async function removeTemporaryFolder(file: string): Promise<void> {
  const folder = path.dirname(path.resolve(file));
  if (path.dirname(folder) !== EXPORTS_ROOT) return;
  await rm(folder, { recursive: true, force: true }).catch(() => undefined);
}

function failureText(name: string, e: unknown): string {
  // Shared, perhaps, though Slack's answer was lost: asked again, the file would come twice.
  if (shownMaybe(e)) return `Slack did not confirm that ${name} reached your direct messages with me. Look there before you ask again: it may well have arrived.`;
  if (e instanceof UploadFailure && e.reason === 'too_large') {
    return `${name} is larger than the 1 GB Slack takes, so I could not send it. Nothing is lost: export it in the terminal ("npm run isms -- export"), where --from/--to narrow it down.`;
  }
  if (e instanceof UploadFailure && e.reason === 'gone') {
    return `${name} is no longer here to send. Nothing is lost: ask again.`;
  }
  const slackError = (e as { code?: string; data?: { error?: string } })?.code === webApi.ErrorCode.PlatformError
    ? (e as { data?: { error?: string } }).data?.error : undefined;
  if (retryAfterMs(e) !== undefined || slackError === 'ratelimited') {
    return `Slack is too busy right now to take ${name}, so it was not sent. Nothing is lost: ask again in a minute.`;
  }
  const why = slackError ? `Slack refused it (${slackError})` : 'Slack did not take it';
  return `I could not send ${name} to your direct messages: ${why}. Nothing is lost: ask again in a minute; if it keeps failing, tell the ISMS lead.`;
}

/** What the log says about a failed delivery: Slack's reason or the stage, never a token or the upload URL. */
function uploadError(e: unknown): Record<string, unknown> {
  if (e instanceof UploadFailure) return { reason: e.reason, message: e.message };
  return describeSlackError(e);
}

