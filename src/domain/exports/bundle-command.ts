import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { defineCommand, type Channel } from '../../core/router.js';
import { fileBlock, reply, text } from '../../core/reply.js';
import { isoDate } from '../../core/validate.js';
import { addMonths, readersDay } from '../../core/time.js';
import { BUNDLE_MIME_TYPE, bundleFileName, checkBundlePeriod, defaultBundlePeriod, describePeriod, writeBundle } from './bundle.js';

/** Where the zip is handed over as a file to download; the terminal saves it to disk itself. */
const HANDED_OVER_IN_CHAT: ReadonlySet<Channel> = new Set(['slack', 'teams']);

/**
 * How to check the zip offline. The terminal saves the zip and puts the path it saved it to in place
 * of the name. A chat hands it over as a file to download first: where it is (a direct message, a
 * file to accept) is the chat's to say, on the line it gives the file, below this one.
 */
function verifyHint(channel: Channel, fileName: string): string {
  if (!HANDED_OVER_IN_CHAT.has(channel)) return `Check it offline with "npm run isms -- verify-bundle ${fileName}".`;
  return `To check it offline: download ${fileName} (the line below says where it is), then run "npm run isms -- verify-bundle ~/Downloads/${fileName}" (with the folder you saved it to).`;
}

/**
 * "/isms export bundle": the evidence bundle in chat. Without --from it covers the last 12 months, a
 * usual audit period, which also keeps the zip within what chat platforms accept as a file.
 */
export const exportBundleCommand = defineCommand({
  name: 'export bundle',
  summary: 'Bundle the evidence files of a period with their SHA-256 index and audit events, for an auditor to check offline',
  examples: (today) => ['export bundle', `export bundle --from ${addMonths(today, -6)} --to ${today}`],
  roles: ['isms_lead', 'auditor', 'management_body'],
  schema: z.object({
    from: isoDate.optional().describe('First day of the period (submitted on or after); empty means 12 months before --to'),
    to: isoDate.optional().describe('Last day of the period (submitted on or before); empty means up to now'),
  }),
  args: {
    from: { label: 'From' },
    to: { label: 'To' },
  },
  async run(ctx, given) {
    const today = readersDay(ctx.now, ctx.actor.timezone);
    checkBundlePeriod(given, today);
    const period = defaultBundlePeriod(given, today);
    const fileName = bundleFileName(ctx.now);
    await ctx.progress(`Bundling the evidence of ${describePeriod(period)}; the zip follows.`);
    // A folder of its own per bundle: the platform takes the file from here and may remove the folder.
    const file = path.join(tmpdir(), 'isms-exports', randomUUID(), fileName);
    const summary = await writeBundle(ctx.db, file, { period, now: ctx.now });
    await ctx.audit({
      action: 'export', entity: 'export', entityRef: 'bundle',
      after: { format: 'zip', files: summary.files, events: summary.events, head: summary.head.seq, file: fileName, period },
    });
    const title = `Evidence bundle ${describePeriod(period)} (${summary.files} file${summary.files === 1 ? '' : 's'}, ${summary.events} audit event${summary.events === 1 ? '' : 's'})`;
    return reply(
      text(`Bundled ${summary.files} evidence file${summary.files === 1 ? '' : 's'} and ${summary.events} audit event${summary.events === 1 ? '' : 's'} for ${describePeriod(period)}; chain head #${summary.head.seq}.`, 'success'),
      text(verifyHint(ctx.channel, fileName)),
      fileBlock({ name: fileName, mimeType: BUNDLE_MIME_TYPE, path: file, title }),
    );
  },
});
