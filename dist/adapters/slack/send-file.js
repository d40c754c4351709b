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
import { text } from '../../src/core/reply.js';
import { describeSlackError, retryAfterMs } from './api.js';
import { escapeMrkdwn } from './render.js';
/** Slack takes files up to 1 GB. */
export const SLACK_MAX_UPLOAD_BYTES = 1024 ** 3;
/** An upload that sends nothing for this long has stalled. */
const UPLOAD_IDLE_MS = 60_000;
/** Where the core writes files it hands out: only folders below it are removed after delivery. */
const EXPORTS_ROOT = path.join(tmpdir(), 'isms-exports');
/** Where the upload failed, for the log and for what the person is told. */
class UploadFailure extends Error {
    reason;
    constructor(message, reason) {
        super(message);
        this.reason = reason;
    }
}
/**
 * The reply with each file sent to the acting person's direct messages, its block replaced by what
 * happened. `idempotencyKey` is the request's: a repeat of the request sends nothing again.
 */
export async function deliverFiles(deps, context, reply, idempotencyKey) {
    if (!hasFile(reply))
        return reply;
    const blocks = [];
    for (const [i, b] of reply.blocks.entries()) {
        blocks.push(b.type === 'file' ? await deliverOnce(deps, context, b.file, idempotencyKey && `slack:file:${idempotencyKey}:${i}`) : b);
    }
    return { ...reply, blocks };
}
async function deliverOnce(deps, context, file, claimKey) {
    const db = deps.core.database.db;
    if (claimKey) {
        const claimed = await db.insert(processedEvents).values({ key: claimKey }).onConflictDoNothing().returning({ key: processedEvents.key });
        if (claimed.length === 0) {
            // Slack sent the request again: what the first delivery said, or that it is still under way.
            const [first] = await db.select({ reply: processedEvents.reply }).from(processedEvents).where(eq(processedEvents.key, claimKey));
            return first?.reply ?? text(`${file.name} is on its way to your direct messages with me.`);
        }
    }
    let said;
    try {
        await sendToDirectMessage(deps, context, file);
        said = text(`Sent ${file.name} to your direct messages with me.`, 'success');
    }
    catch (e) {
        deps.core.logger.error({ platform: 'slack', request: context.request, file: file.name, error: uploadError(e) }, 'Slack file delivery failed');
        said = text(failureText(file, e), 'error');
    }
    finally {
        await removeTemporaryFolder(file.path);
    }
    if (claimKey)
        await db.update(processedEvents).set({ reply: said }).where(eq(processedEvents.key, claimKey));
    return said;
}
async function sendToDirectMessage(deps, context, file) {
    const { api } = deps;
    const request = { ...context.request, file: file.name };
    const size = await stat(file.path).then((s) => s.size, () => {
        throw new UploadFailure(`${file.path} is gone`, 'gone');
    });
    if (size > SLACK_MAX_UPLOAD_BYTES)
        throw new UploadFailure(`${size} bytes is more than Slack takes`, 'too_large');
    const opened = await api.call('conversations.open', { users: context.user.id }, request);
    const channel = opened.channel?.id;
    if (!channel)
        throw new Error('conversations.open gave no channel');
    const { upload_url: uploadUrl, file_id: fileId } = await api.call('files.getUploadURLExternal', { filename: file.name, length: size }, request);
    if (!uploadUrl || !fileId)
        throw new Error('files.getUploadURLExternal gave no upload URL');
    await postBytes(uploadUrl, file.path, size, file.mimeType);
    await api.call('files.completeUploadExternal', {
        files: [{ id: fileId, title: file.title }], channel_id: channel, initial_comment: `Here is ${escapeMrkdwn(file.title)}, as you asked.`,
    }, request);
}
/** Streams the file to Slack's upload URL as raw bytes (Slack also takes multipart); Slack answers 200 when it has them. */
async function postBytes(url, file, size, mimeType) {
    const target = new URL(url);
    const upload = (target.protocol === 'http:' ? http : https).request(target, {
        method: 'POST', timeout: UPLOAD_IDLE_MS, headers: { 'content-type': mimeType || 'application/octet-stream', 'content-length': size },
    });
    const answered = new Promise((resolve, reject) => {
        upload.once('response', resolve);
        upload.once('error', reject);
        upload.once('timeout', () => upload.destroy(new Error('the upload stalled')));
    });
    const [, response] = await Promise.all([pipeline(createReadStream(file), upload), answered]);
    response.resume();
    if (response.statusCode !== 200)
        throw new UploadFailure(`the upload URL answered HTTP ${response.statusCode}`, 'upload_url');
}
/** The reply as it reads while its files are being sent (a modal shows it until they are). */
export function whileSending(reply) {
    return { ...reply, blocks: reply.blocks.map((b) => (b.type === 'file' ? text(`⏳ Sending ${b.file.name} to your direct messages with me…`) : b)) };
}
export const hasFile = (reply) => reply.blocks.some((b) => b.type === 'file');
/** Only a folder of its own below the exports folder is the core's to give away. */
async function removeTemporaryFolder(file) {
    const folder = path.dirname(path.resolve(file));
    if (path.dirname(folder) !== EXPORTS_ROOT)
        return;
    await rm(folder, { recursive: true, force: true }).catch(() => undefined);
}
function failureText(file, e) {
    const name = file.name;
    if (e instanceof UploadFailure && e.reason === 'too_large') {
        return `${name} is larger than the 1 GB Slack takes, so I could not send it. Nothing is lost: export it in the terminal ("npm run isms -- export"), where --from/--to narrow it down.`;
    }
    if (e instanceof UploadFailure && e.reason === 'gone') {
        return `${name} is no longer here to send. Nothing is lost: ask again.`;
    }
    const slackError = e?.code === webApi.ErrorCode.PlatformError
        ? e.data?.error : undefined;
    if (retryAfterMs(e) !== undefined || slackError === 'ratelimited') {
        return `Slack is too busy right now to take ${name}, so it was not sent. Nothing is lost: ask again in a minute.`;
    }
    const why = slackError ? `Slack refused it (${slackError})` : 'Slack did not take it';
    return `I could not send ${name} to your direct messages: ${why}. Nothing is lost: ask again in a minute; if it keeps failing, tell the ISMS lead.`;
}
/** What the log says about a failed delivery: Slack's reason or the stage, never a token or the upload URL. */
function uploadError(e) {
    if (e instanceof UploadFailure)
        return { reason: e.reason, message: e.message };
    return describeSlackError(e);
}
//# sourceMappingURL=send-file.js.map