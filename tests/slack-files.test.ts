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
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { BOT_TOKEN, SlackWorkspace, blockText, postedMessage, submission, unique } from './helpers/fake-slack-workspace.js';
import { defineCommand } from '../src/core/router.js';
import { actions, fileBlock, reply, text, type Block, type Reply } from '../src/core/reply.js';
import { processedEvents, risks } from '../src/db/schema/index.js';
import { ARTEFACTS } from '../src/domain/exports/artefacts.js';
import { fieldBlockId } from '../adapters/slack/ids.js';

let w: SlackWorkspace;

beforeEach(async () => {
  w = await SlackWorkspace.start();
  await w.t.db.insert(risks).values([
    { ref: 'R-0001', title: 'Laptop theft', likelihood: 3, impact: 4, inherentScore: 12, residualScore: 6, treatment: 'mitigate', ownerId: w.cast.lead.id },
    { ref: 'R-0002', title: 'Phishing', likelihood: 4, impact: 3, inherentScore: 12, residualScore: 8, treatment: 'mitigate', ownerId: w.cast.lead.id },
  ]);
});

afterEach(async () => {
  await w?.close();
});

const today = () => new Date().toISOString().slice(0, 10);

/** The folders the core wrote files into, as the replies it stored for each request name them. */
async function fileFolders(): Promise<string[]> {
  const rows = await w.t.db.select().from(processedEvents);
  return rows.flatMap((r) => ((r.reply as Reply | null)?.blocks ?? []))
    .filter((b): b is Extract<Block, { type: 'file' }> => b.type === 'file')
    .map((b) => path.dirname(b.file.path));
}

describe('an export asked for in Slack', () => {
  it('arrives as a file in the ISMS lead\'s direct message, once, even when Slack sends the command again', async () => {
    const command = w.slashCommand('ULENA', 'export risks csv', 'export');
    await w.sender.command(command);
    const answer = blockText((await w.responseTo('export')).args.blocks);
    expect(answer).toContain('Exported Risk register (CSV, 2 rows).');
    expect(answer).toContain(`Sent risks-${today()}.csv to your direct messages with me.`);
    expect((await w.responseTo('export')).args.response_type).toBe('ephemeral');

    const [shared] = w.fake.sharedFiles();
    expect(shared).toMatchObject({ filename: `risks-${today()}.csv`, shared: { channel: 'DLENA', title: 'Risk register (CSV, 2 rows)' } });
    expect(shared.shared!.comment).toContain('Risk register (CSV, 2 rows)');
    expect(shared.bytes!.length).toBe(shared.declared);
    const rows = parse(shared.bytes!, { bom: true }) as string[][];
    expect(rows[0]).toEqual(ARTEFACTS.find((a) => a.name === 'risks')!.columns.map((c) => c.header));
    expect(rows.slice(1).map((r) => r.slice(0, 2))).toEqual([['R-0001', 'Laptop theft'], ['R-0002', 'Phishing']]);
    const [folder] = await fileFolders();
    expect(folder.startsWith(path.join(tmpdir(), 'isms-exports'))).toBe(true);
    expect(existsSync(folder)).toBe(false);

    // Slack sends the same command again (same trigger): the same answer, and nothing uploaded twice.
    await w.sender.command({ ...command, response_url: w.fake.responseUrl('export-again') });
    expect(blockText((await w.responseTo('export-again')).args.blocks)).toContain(`Sent risks-${today()}.csv to your direct messages with me.`);
    expect(w.fake.callsTo('files.getUploadURLExternal')).toHaveLength(1);
    expect(w.fake.callsTo('files.completeUploadExternal')).toHaveLength(1);
  });

  it('refuses staff and uploads nothing', async () => {
    await w.sender.command(w.slashCommand('USAM', 'export risks csv', 'staff-export'));
    expect(blockText((await w.responseTo('staff-export')).args.blocks)).toMatch(/Only the .* may use "\/isms export"/);
    expect(w.fake.callsTo('files.getUploadURLExternal')).toHaveLength(0);
    expect(w.fake.callsTo('conversations.open')).toHaveLength(0);
  });

  it('says clearly when Slack does not take the file, that nothing is lost, logs it without the token, and removes the folder', async () => {
    w.fake.on('files.completeUploadExternal', () => ({ ok: false, error: 'not_in_channel' }));
    await w.sender.command(w.slashCommand('ULENA', 'export risks csv', 'refused-upload'));
    const answer = blockText((await w.responseTo('refused-upload')).args.blocks);
    expect(answer).toContain(`I could not send risks-${today()}.csv to your direct messages: Slack refused it (not_in_channel). Nothing is lost: ask again in a minute`);
    expect(answer).not.toContain('Sent ');
    const [folder] = await fileFolders();
    expect(existsSync(folder)).toBe(false);
    const logged = await w.logs.waitFor((l) => l.msg === 'Slack file delivery failed');
    expect(logged).toMatchObject({ file: `risks-${today()}.csv`, error: { slackError: 'not_in_channel' } });
    expect(w.logs.text()).not.toContain(BOT_TOKEN);
    // The upload URL is a short-lived credential: only the WebClient's own debug lines show it.
    expect(JSON.stringify(w.logs.lines.filter((l) => l.level >= 30))).not.toContain('/upload/v1/');
  });

  it('sends the file from a button, once for a double click', async () => {
    await w.slack.port.send(await w.person('lead'), reply(text('The quarterly export is due.'), actions({ label: 'Export risks', command: 'export risks csv' })));
    const message = postedMessage(w.fake.callsTo('chat.postMessage').at(-1)!);
    await w.sender.interaction(w.clickPayload('ULENA', message, 'Export risks', 'click-1'));
    await w.sender.interaction(w.clickPayload('ULENA', message, 'Export risks', 'click-2'));
    const updates = await w.fake.waitFor('chat.update', 2);
    // The second click may come while the first is still sending.
    for (const update of updates) expect(blockText(update.args.blocks)).toMatch(new RegExp(`(Sent risks-${today()}\\.csv to|risks-${today()}\\.csv is on its way to) your direct messages with me`));
    expect(w.fake.sharedFiles()).toHaveLength(1);
    expect(w.fake.callsTo('file upload')).toHaveLength(1);
  });

  it('sends the file from the export form, the modal saying so', async () => {
    const view = await w.formOf('ULENA', 'export');
    const response = await w.sender.interaction(submission('ULENA', view, {
      [fieldBlockId('artefact')]: { selected_option: { value: 'risks' } },
      [fieldBlockId('format')]: { selected_option: { value: 'csv' } },
    }));
    expect(blockText(response.json().view.blocks)).toContain(`Sending risks-${today()}.csv to your direct messages with me`);
    const result = await w.fake.waitForCall('views.update', (c) => c.args.view_id === view.id && blockText(c.args.view.blocks).includes('Sent'));
    expect(blockText(result.args.view.blocks)).toContain(`Sent risks-${today()}.csv to your direct messages with me.`);
    expect(w.fake.sharedFiles()).toMatchObject([{ filename: `risks-${today()}.csv`, shared: { channel: 'DLENA' } }]);
  });
});

describe('a large file', () => {
  it('is streamed whole to the upload URL, after a message that it is on its way', async () => {
    const bytes = randomBytes(5 * 1024 * 1024);
    w.bot.router.register(defineCommand({
      name: 'bulk file', summary: 'A large file (test only)', examples: ['bulk file'], schema: z.object({}),
      async run(ctx) {
        await ctx.progress('Your file is on its way; this takes a moment.');
        const file = path.join(tmpdir(), 'isms-exports', randomUUID(), 'bulk.bin');
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, bytes);
        return reply(fileBlock({ name: 'bulk.bin', mimeType: 'application/octet-stream', path: file, title: 'Bulk file (5 MB)' }));
      },
    }));
    const responseId = unique('bulk');
    await w.sender.command(w.slashCommand('ULENA', 'bulk file', responseId));
    const said = await w.fake.waitFor('response_url', 2);
    const mine = said.filter((c) => c.args.id === responseId);
    expect(mine.map((c) => c.args.response_type)).toEqual(['ephemeral', 'ephemeral']);
    expect(mine[0].args.text).toBe('Your file is on its way; this takes a moment.');
    expect(blockText(mine[1].args.blocks)).toContain('Sent bulk.bin to your direct messages with me.');
    const [shared] = w.fake.sharedFiles();
    expect(shared).toMatchObject({ declared: bytes.length, encoding: 'raw', shared: { channel: 'DLENA' } });
    expect(createHash('sha256').update(shared.bytes!).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(existsSync((await fileFolders())[0])).toBe(false);
  });
});
