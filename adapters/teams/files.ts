import type { Activity } from 'botbuilder';
import type { Attachment } from '../../src/core/router.js';
import { MAX_EVIDENCE_FILE_BYTES, downloadToTempFile, fileTooLarge } from '../../src/core/attachments.js';

/** How Teams hands a bot a file someone sent it in a personal chat. */
export const TEAMS_FILE_TYPE = 'application/vnd.microsoft.teams.file.download.info';

export interface TeamsFile { name: string; downloadUrl: string }

export class FileDownloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileDownloadError';
  }
}

/** The files attached to a message (inline images and HTML parts are not files). */
export function filesIn(activity: Partial<Activity>): TeamsFile[] {
  const files: TeamsFile[] = [];
  for (const a of activity.attachments ?? []) {
    const downloadUrl = (a.content as { downloadUrl?: unknown } | undefined)?.downloadUrl;
    if (a.contentType === TEAMS_FILE_TYPE && typeof downloadUrl === 'string') files.push({ name: a.name ?? 'file', downloadUrl });
  }
  return files;
}

/**
 * Downloads a file from the pre-authorised URL Teams gives into a temporary file (see
 * downloadToTempFile). Only https is accepted, except plain http to this machine (local development
 * against an emulator). A Content-Length over the limit is refused before the body is read.
 */
export async function downloadFile(file: TeamsFile): Promise<Attachment> {
  let url: URL;
  try {
    url = new URL(file.downloadUrl);
  } catch {
    throw new FileDownloadError(`Teams gave no usable download link for "${file.name}".`);
  }
  const local = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
    throw new FileDownloadError(`Teams gave no secure download link for "${file.name}".`);
  }
  let res: globalThis.Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch {
    throw new FileDownloadError(`I could not reach Teams to download "${file.name}".`);
  }
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new FileDownloadError(`Teams refused the download of "${file.name}" (HTTP ${res.status}).`);
  }
  if (Number(res.headers.get('content-length') ?? 0) > MAX_EVIDENCE_FILE_BYTES) {
    await res.body.cancel();
    throw fileTooLarge(file.name);
  }
  const mimeType = res.headers.get('content-type')?.split(';')[0].trim();
  return downloadToTempFile(file.name, res.body, mimeType && mimeType !== 'application/octet-stream' ? mimeType : undefined);
}
