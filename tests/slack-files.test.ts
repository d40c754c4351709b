/**
 * Files a reply hands out (exports) reach the person in Slack as a file in their direct message
 * with the bot, through Slack's external upload (getUploadURLExternal, the bytes, then
 * completeUploadExternal), from a slash command, a button or a form; once per request, and the
 * temporary folder is gone afterwards whatever happened.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { eq } from 'drizzle-orm';
import { BOT_TOKEN, SlackWorkspace, blockText, postedMessage, submission, unique } from './helpers/fake-slack-workspace.js';
import { defineCommand } from '../src/core/router.js';
import { actions, fileBlock, reply, text, type Block, type Reply } from '../src/core/reply.js';
import { processedEvents, risks } from '../src/db/schema/index.js';
import { ARTEFACTS } from '../src/domain/exports/artefacts.js';
import { fieldBlockId } from '../adapters/slack/ids.js';

let w: SlackWorkspace;

beforeAll(async () => {
  w = await SlackWorkspace.start();
  await w.t.db.insert(risks).values([
    { ref: 'R-0001', title: 'Laptop theft', likelihood: 3, impact: 4, inherentScore: 12, residualScore: 6, treatment: 'mitigate', ownerId: w.cast.lead.id },
    { ref: 'R-0002', title: 'Phishing', likelihood: 4, impact: 3, inherentScore: 12, residualScore: 8, treatment: 'mitigate', ownerId: w.cast.lead.id },
  ]);
});

afterEach(() => {
  w.fake.off('files.completeUploadExternal');
  w.fake.clearFailures();
});

afterAll(async () => {
  await w?.close();
});

const today = () => new Date().toISOString().slice(0, 10);

/** "/isms …" typed by the ISMS lead; the answer is the response_url call named `responseId`. */
async function leadTypes(typed: string, responseId: string): Promise<{ trigger: string; answer: string }> {
  const trigger = unique('trigger');
  await w.sender.command(w.slashCommand('ULENA', typed, responseId, trigger));
  return { trigger, answer: blockText((await w.responseTo(responseId)).args.blocks) };
}

/** The folder the core wrote a command's file into, as the reply it stored for the command names it. */
async function fileFolder(trigger: string): Promise<string> {
  const [row] = await w.t.db.select().from(processedEvents).where(eq(processedEvents.key, `slack:command:${trigger}`));
  const file = ((row.reply as Reply).blocks).find((b): b is Extract<Block, { type: 'file' }> => b.type === 'file')!.file;
  return path.dirname(file.path);
}

describe('an export asked for in Slack', () => {
  it('arrives as a file in the ISMS lead\'s direct message, once, even when Slack sends the command again', async () => {
    const shares = w.fake.sharedFiles().length;
    const uploadUrls = w.fake.callsTo('files.getUploadURLExternal').length;
    const command = w.slashCommand('ULENA', 'export risks csv', 'export', unique('trigger'));
    await w.sender.command(command);
    const answer = blockText((await w.responseTo('export')).args.blocks);
    expect(answer).toContain('Exported Risk register (CSV, 2 rows).');
    expect(answer).toContain(`Sent risks-${today()}.csv to your direct messages with me.`);
    expect((await w.responseTo('export')).args.response_type).toBe('ephemeral');

    const [shared] = w.fake.sharedFiles().slice(shares);
    expect(shared).toMatchObject({ filename: `risks-${today()}.csv`, shared: { channel: 'DLENA', title: 'Risk register (CSV, 2 rows)' } });
    expect(shared.shared!.comment).toContain('Risk register (CSV, 2 rows)');
    expect(shared.bytes!.length).toBe(shared.declared);
    const rows = parse(shared.bytes!, { bom: true }) as string[][];
    expect(rows[0]).toEqual(ARTEFACTS.find((a) => a.name === 'risks')!.columns.map((c) => c.header));
    expect(rows.slice(1).map((r) => r.slice(0, 2))).toEqual([['R-0001', 'Laptop theft'], ['R-0002', 'Phishing']]);
    const folder = await fileFolder(command.trigger_id);
    expect(folder.startsWith(path.join(tmpdir(), 'isms-exports'))).toBe(true);
    expect(existsSync(folder)).toBe(false);

    // Slack sends the same command again (same trigger): the same answer, and nothing uploaded twice.
    await w.sender.command({ ...command, response_url: w.fake.responseUrl('export-again') });
    expect(blockText((await w.responseTo('export-again')).args.blocks)).toContain(`Sent risks-${today()}.csv to your direct messages with me.`);
    expect(w.fake.callsTo('files.getUploadURLExternal')).toHaveLength(uploadUrls + 1);
    expect(w.fake.sharedFiles()).toHaveLength(shares + 1);
  });

  it('refuses staff and uploads nothing', async () => {
    const uploadUrls = w.fake.callsTo('files.getUploadURLExternal').length;
    await w.sender.command(w.slashCommand('USAM', 'export risks csv', 'staff-export'));
    expect(blockText((await w.responseTo('staff-export')).args.blocks)).toMatch(/Only the .* may use "\/isms export"/);
    expect(w.fake.callsTo('files.getUploadURLExternal')).toHaveLength(uploadUrls);
    expect(w.fake.callsIn('USAM').filter((c) => c.method === 'conversations.open')).toHaveLength(0);
  });

  it('says clearly when Slack does not take the file, that nothing is lost, logs it without the token, and removes the folder', async () => {
    w.fake.on('files.completeUploadExternal', () => ({ ok: false, error: 'not_in_channel' }));
    const { trigger, answer } = await leadTypes('export risks csv', 'refused-upload');
    expect(answer).toContain(`I could not send risks-${today()}.csv to your direct messages: Slack refused it (not_in_channel). Nothing is lost: ask again in a minute`);
    expect(answer).not.toContain('Sent ');
    expect(existsSync(await fileFolder(trigger))).toBe(false);
    const logged = await w.logs.waitFor((l) => l.msg === 'Slack file delivery failed' && l.error?.slackError === 'not_in_channel');
    expect(logged).toMatchObject({ file: `risks-${today()}.csv`, error: { slackError: 'not_in_channel' } });
    expect(w.logs.text()).not.toContain(BOT_TOKEN);
    // The upload URL is a short-lived credential: only the WebClient's own debug lines show it.
    expect(JSON.stringify(w.logs.lines.filter((l) => l.level >= 30))).not.toContain('/upload/v1/');
  });

  it('says Slack is too busy when it still answers 429 after the retries, and removes the folder', async () => {
    w.fake.failNext('files.getUploadURLExternal', 429);
    const uploads = w.fake.callsTo('file upload').length;
    const { trigger, answer } = await leadTypes('export risks csv', 'busy');
    expect(answer).toContain(`Slack is too busy right now to take risks-${today()}.csv, so it was not sent. Nothing is lost: ask again in a minute.`);
    expect(w.fake.callsTo('file upload')).toHaveLength(uploads);
    expect(existsSync(await fileFolder(trigger))).toBe(false);
  });

  it.each([
    ['Slack answered 504 (a gateway timeout)', 'maybe-504', () => w.fake.failNext('files.completeUploadExternal', 504, 1)],
    ['the connection was lost mid-request', 'maybe-dropped', () => w.fake.takeThenDropConnection('files.completeUploadExternal')],
  ] as const)('says the file may have arrived, not to ask again, when sharing it may have gone through: %s', async (_why, responseId, fail) => {
    const completes = w.fake.callsTo('files.completeUploadExternal').length;
    fail();
    const { trigger, answer } = await leadTypes('export risks csv', responseId);
    expect(answer).toContain('Exported Risk register (CSV, 2 rows).');
    expect(answer).toContain(`Slack did not confirm that risks-${today()}.csv reached your direct messages with me. Look there before you ask again`);
    expect(answer).not.toContain('ask again in a minute');
    // Shared once at most: a share that may have gone through is not tried again.
    expect(w.fake.callsTo('files.completeUploadExternal')).toHaveLength(completes + 1);
    expect(existsSync(await fileFolder(trigger))).toBe(false);
  });

  it('sends the file from a button, once for a double click', async () => {
    await w.slack.port.send(await w.person('lead'), reply(text('The quarterly export is due.'), actions({ label: 'Export risks', command: 'export risks csv' })));
    const message = postedMessage(w.fake.callsTo('chat.postMessage').at(-1)!);
    const [shares, uploads, updated] = [w.fake.sharedFiles().length, w.fake.callsTo('file upload').length, w.fake.callsTo('chat.update').length];
    await w.sender.interaction(w.clickPayload('ULENA', message, 'Export risks', 'click-1'));
    await w.sender.interaction(w.clickPayload('ULENA', message, 'Export risks', 'click-2'));
    const updates = (await w.fake.waitFor('chat.update', updated + 2)).slice(updated);
    // The second click may come while the first is still sending.
    for (const update of updates) expect(blockText(update.args.blocks)).toMatch(new RegExp(`(Sent risks-${today()}\\.csv to|risks-${today()}\\.csv is on its way to) your direct messages with me`));
    expect(w.fake.sharedFiles()).toHaveLength(shares + 1);
    expect(w.fake.callsTo('file upload')).toHaveLength(uploads + 1);
  });

  it('sends the file from the export form, the modal saying so', async () => {
    const shares = w.fake.sharedFiles().length;
    const view = await w.formOf('ULENA', 'export');
    const response = await w.sender.interaction(submission('ULENA', view, {
      [fieldBlockId('artefact')]: { selected_option: { value: 'risks' } },
      [fieldBlockId('format')]: { selected_option: { value: 'csv' } },
    }));
    expect(blockText(response.json().view.blocks)).toContain(`Sending risks-${today()}.csv to your direct messages with me`);
    const result = await w.fake.waitForCall('views.update', (c) => c.args.view_id === view.id && blockText(c.args.view.blocks).includes('Sent'));
    expect(blockText(result.args.view.blocks)).toContain(`Sent risks-${today()}.csv to your direct messages with me.`);
    expect(w.fake.sharedFiles().slice(shares)).toMatchObject([{ filename: `risks-${today()}.csv`, shared: { channel: 'DLENA' } }]);
  });
});

describe('an evidence bundle asked for in Slack', () => {
  it('says in its verify hint to download the zip before running the check, and on the line after it where the zip is (the direct message with the bot)', async () => {
    const responseId = unique('bundle');
    await w.sender.command(w.slashCommand('ULENA', 'export bundle', responseId, unique('trigger')));
    const answer = blockText((await w.fake.waitForCall('response_url', (c) => c.args.id === responseId && blockText(c.args.blocks ?? []).includes('Sent '))).args.blocks);
    const name = `evidence-bundle-${today()}.zip`;
    expect(answer).toContain(`To check it offline: download ${name} (the line below says where it is), `
      + `then run "npm run isms -- verify-bundle ~/Downloads/${name}" (with the folder you saved it to).\n✅ Sent ${name} to your direct messages with me.`);
    expect(w.fake.sharedFiles().at(-1)).toMatchObject({ filename: name, shared: { channel: 'DLENA' } });
  });
});

describe('a large file', () => {
  it('is streamed whole to the upload URL, after a message that it is on its way', async () => {
    const bytes = randomBytes(5 * 1024 * 1024);
    let written = '';
    w.bot.router.register(defineCommand({
      name: 'bulk file', summary: 'A large file (test only)', examples: ['bulk file'], schema: z.object({}),
      async run(ctx) {
        await ctx.progress('Your file is on its way; this takes a moment.');
        const file = path.join(tmpdir(), 'isms-exports', randomUUID(), 'bulk.bin');
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, bytes);
        written = file;
        return reply(fileBlock({ name: 'bulk.bin', mimeType: 'application/octet-stream', path: file, title: 'Bulk file (5 MB)' }));
      },
    }));
    const shares = w.fake.sharedFiles().length;
    const responseId = unique('bulk');
    const trigger = unique('trigger');
    await w.sender.command(w.slashCommand('ULENA', 'bulk file', responseId, trigger));
    await w.fake.waitForCall('response_url', (c) => c.args.id === responseId && blockText(c.args.blocks ?? []).includes('Sent'));
    const mine = w.fake.callsTo('response_url').filter((c) => c.args.id === responseId);
    expect(mine.map((c) => c.args.response_type)).toEqual(['ephemeral', 'ephemeral']);
    expect(mine[0].args.text).toBe('Your file is on its way; this takes a moment.');
    expect(blockText(mine[1].args.blocks)).toContain('Sent bulk.bin to your direct messages with me.');
    const [shared] = w.fake.sharedFiles().slice(shares);
    expect(shared).toMatchObject({ declared: bytes.length, encoding: 'raw', shared: { channel: 'DLENA' } });
    expect(createHash('sha256').update(shared.bytes!).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
    // A read keeps no answer to look the folder up by (see processed events): the command says where it wrote.
    expect(existsSync(path.dirname(written))).toBe(false);
  });
});
