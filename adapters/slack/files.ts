/**
 * Files people share with the bot (a thread reply, a modal's file input) become command
 * attachments: looked up with files.info, downloaded with the bot token. A file the register
 * cannot take is a UserError, which the pipeline turns into a refusal.
 */
import type { Attachment } from '../../src/core/router.js';
import { invalid } from '../../src/core/errors.js';
import { MAX_EVIDENCE_FILE_BYTES, fetchEach, fileTooLarge } from '../../src/core/attachments.js';
import type { RequestInfo, SlackApi } from './api.js';

interface FileInfo {
  file?: {
    id: string; name?: string; title?: string; mimetype?: string; size?: number; url_private?: string; url_private_download?: string;
    mode?: string; is_external?: boolean; external_type?: string;
  };
}

/** Slack's external_type of a file linked from another service, as people know the service. */
const SERVICES: Record<string, string> = { gdrive: 'Google Drive', dropbox: 'Dropbox', box: 'Box', onedrive: 'OneDrive' };

/** files.info's refusals for a file that is gone (deleted since it was shared) or not the bot's to see. */
const UNREADABLE = ['file_not_found', 'file_deleted'];

export function fetchAttachments(api: SlackApi, fileIds: string[], request: RequestInfo): Promise<Attachment[]> {
  return fetchEach(fileIds, async (id) => {
    // The event's file object may be partial ("check_file_info"): files.info has the download URL.
    const { file } = await api.call<FileInfo>('files.info', { file: id }, request, UNREADABLE).catch((e: unknown) => {
      if (UNREADABLE.includes((e as { data?: { error?: string } }).data?.error ?? '')) {
        throw invalid('Slack did not let me read a file you shared: it was deleted, or I may not see it. Nothing was recorded.', 'Upload it again, or share a link instead.');
      }
      throw e;
    });
    const name = file?.name ?? file?.title ?? id;
    const url = file?.url_private_download ?? file?.url_private;
    // A file kept elsewhere (Google Drive, Dropbox...) and only linked in Slack: its url_private is the
    // other service's address, which must never get the bot token, and whose answer is a sign-in page.
    // So is any file whose address is not Slack's own, whatever it says about itself.
    if (file?.is_external || file?.mode === 'external' || (url && !api.hostsFile(url))) {
      throw invalid(`"${name}" is stored in ${SERVICES[file?.external_type ?? ''] ?? 'another service'}, not in Slack, so I can't read it. Nothing was recorded.`,
        'Reply with its link as text instead, or upload the file itself.');
    }
    if (!url) throw invalid(`Slack did not let me read the file "${name}". Upload it again, or share a link instead.`);
    // Slack states the size: a file over the limit is refused without downloading it.
    if ((file?.size ?? 0) > MAX_EVIDENCE_FILE_BYTES) throw fileTooLarge(name);
    return api.download(url, name, request, file?.mimetype);
  });
}
