import type { Activity } from 'botbuilder';
import type { Attachment } from '../../src/core/router.js';
import { MAX_EVIDENCE_FILE_BYTES, downloadToTempFile, fileTooLarge } from '../../src/core/attachments.js';

/** How Teams hands a bot a file someone sent it in a personal chat. */
export const TEAMS_FILE_TYPE = 'application/vnd.microsoft.teams.file.download.info';

export interface TeamsFile { name: string; downloadUrl: string }

export class FileDownloadError extends Error {
  /** `hint`: what to do instead, when sending the file again the same way would fail again. */
  constructor(message: string, readonly hint?: string) {
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
 * How many pictures were pasted into a message: Teams sends each as an image attachment with a link
 * only the bot's own token opens (beside a text/html part), never as a file.
 */
export function picturesIn(activity: Partial<Activity>): number {
  return (activity.attachments ?? []).filter((a) => a.contentType?.startsWith('image/') && a.contentUrl).length;
}

/**
 * The files shared into a message as links to OneDrive or SharePoint ("reference" attachments): their
 * link opens a page for people signed in, not the file, so the bot cannot take them.
 */
export function sharedLinksIn(activity: Partial<Activity>): string[] {
  return (activity.attachments ?? []).filter((a) => a.contentType === 'reference').map((a) => a.name ?? 'file');
}

/** A pre-authorised file link Teams gives is used only over https, or plain http to this machine (local development against an emulator). */
export function isSafeFileUrl(link: string): boolean {
  if (!URL.canParse(link)) return false;
  const url = new URL(link);
  const local = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  return url.protocol === 'https:' || (url.protocol === 'http:' && local);
}

/**
 * Downloads a file from the pre-authorised URL Teams gives (see isSafeFileUrl) into a temporary file
 * (see downloadToTempFile). A Content-Length over the limit is refused before the body is read.
 */
export async function downloadFile(file: TeamsFile): Promise<Attachment> {
  if (!URL.canParse(file.downloadUrl)) throw new FileDownloadError(`Teams gave no usable download link for "${file.name}".`);
  if (!isSafeFileUrl(file.downloadUrl)) throw new FileDownloadError(`Teams gave no secure download link for "${file.name}".`);
  const url = new URL(file.downloadUrl);
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
  const mimeType = res.headers.get('content-type')?.split(';')[0].trim().toLowerCase();
  // Teams on iPhone and iPad gives a sharing link, which opens a page about the file: that page is not the evidence.
  if (mimeType === 'text/html' && !/\.html?$/i.test(file.name)) {
    await res.body.cancel();
    throw new FileDownloadError(`Teams gave me a web page about "${file.name}" instead of the file itself, so nothing was recorded.`,
      'Teams on iPhone and iPad sends files this way: send it again from Teams on a computer or on the web, as a reply to the evidence request.');
  }
  return downloadToTempFile(file.name, res.body, mimeType && mimeType !== 'application/octet-stream' ? mimeType : undefined);
}
