import { randomUUID } from 'node:crypto';
import { open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Attachment } from 'botbuilder';
import type { FileOut } from '../../src/core/reply.js';
import { isSafeFileUrl } from './files.js';

/** A file the bot offers in a personal chat; Teams asks the person to accept it into their OneDrive. */
export const FILE_CONSENT_TYPE = 'application/vnd.microsoft.teams.card.file.consent';
/** The card that shows a file once it is in the person's OneDrive. */
export const FILE_INFO_TYPE = 'application/vnd.microsoft.teams.card.file.info';

/** An offer not taken within a day is withdrawn and its file removed. */
export const OFFER_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * OneDrive takes an upload session in fragments that are multiples of 320 KiB and at most 60 MiB;
 * 10 MiB keeps the memory of one upload small while needing few requests.
 */
export const UPLOAD_FRAGMENT_BYTES = 32 * 320 * 1024;

/** Only folders the core made for one file each are ever removed. */
const EXPORTS_ROOT = path.join(tmpdir(), 'isms-exports');

export interface FileOffer {
  id: string;
  path: string;
  name: string;
  size: number;
  mimeType: string;
  /** What it is, in words: "Risk register (CSV, 12 rows)". */
  title: string;
  /** The Entra (AAD) object id of the one person who may accept it. */
  offeredTo: string;
  expires: number;
  /** Accepted once: a second accept of the same card uploads nothing. */
  claimed: boolean;
  /** Declined: its file is gone, and a decline Teams delivers again gets the same answer. */
  declined?: boolean;
}

/** What the consent card sends back on accept and decline: only the offer's id, never a path. */
export interface OfferContext { offerId: string }

export type Claim =
  | { status: 'claimed'; offer: FileOffer }
  | { status: 'missing' }
  | { status: 'not yours' }
  | { status: 'already sent'; offer: FileOffer };

export type Decline =
  | { status: 'declined'; offer: FileOffer }
  | { status: 'missing' }
  | { status: 'already sent'; offer: FileOffer };

/**
 * The files offered and not yet taken, in this process's memory. That is enough because the file
 * itself lives in this process's temporary folder: an offer outliving the process (a restart) would
 * point at nothing anyway. With several replicas behind one bot, an accept reaching another replica
 * finds no offer and the person is asked to run the command again.
 */
export class FileOffers {
  private readonly offers = new Map<string, FileOffer>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Offers a file to one person; undefined when the file is already gone. A repeated answer reuses its open offer. */
  async offer(file: FileOut, offeredTo: string): Promise<FileOffer | undefined> {
    await this.sweep();
    for (const open of this.offers.values()) {
      if (open.path === file.path && open.offeredTo === offeredTo && isOpen(open)) return open;
    }
    let size: number;
    try {
      size = (await stat(file.path)).size;
    } catch {
      return undefined;
    }
    const offer: FileOffer = {
      id: randomUUID(), path: file.path, name: file.name, size, mimeType: file.mimeType, title: file.title,
      offeredTo, expires: this.now() + OFFER_TTL_MS, claimed: false,
    };
    this.offers.set(offer.id, offer);
    // Removes the file a day on even if no other offer or accept comes to sweep it; never keeps the process alive.
    setTimeout(() => void this.sweep().catch(() => undefined), OFFER_TTL_MS + 1000).unref();
    return offer;
  }

  /** Whether a file is held by an open offer (else nobody will take it and its folder can go). */
  holds(filePath: string): boolean {
    for (const offer of this.offers.values()) if (offer.path === filePath && isOpen(offer)) return true;
    return false;
  }

  /** Takes an offer for upload, once, and only by the person it was made to. */
  async claim(offerId: unknown, by: string | undefined): Promise<Claim> {
    await this.sweep();
    const offer = typeof offerId === 'string' ? this.offers.get(offerId) : undefined;
    if (!offer || offer.declined) return { status: 'missing' };
    if (!by || offer.offeredTo !== by) return { status: 'not yours' };
    if (offer.claimed) return { status: 'already sent', offer };
    offer.claimed = true;
    return { status: 'claimed', offer };
  }

  /**
   * The person it was made to declines an offer: its file is removed, and it stays known as declined
   * until its day is over, so that a decline delivered again is answered as the first one was. A
   * decline of an offer already accepted says so instead of claiming nothing was sent.
   */
  async decline(offerId: unknown, by: string | undefined): Promise<Decline> {
    await this.sweep();
    const offer = typeof offerId === 'string' ? this.offers.get(offerId) : undefined;
    if (!offer || !by || offer.offeredTo !== by) return { status: 'missing' };
    if (offer.claimed) return { status: 'already sent', offer };
    if (!offer.declined) {
      offer.declined = true;
      await removeExportFolder(offer.path);
    }
    return { status: 'declined', offer };
  }

  /** Withdraws an offer that never reached the person or could not be uploaded, and removes its file. */
  async withdraw(offerId: unknown): Promise<FileOffer | undefined> {
    const offer = typeof offerId === 'string' ? this.offers.get(offerId) : undefined;
    if (!offer) return undefined;
    this.offers.delete(offer.id);
    await removeExportFolder(offer.path);
    return offer;
  }

  /** Withdraws the offers past their day, removing their files; the tombstones of sent and declined ones go too. */
  async sweep(): Promise<void> {
    const now = this.now();
    for (const offer of [...this.offers.values()]) {
      if (offer.expires > now) continue;
      this.offers.delete(offer.id);
      if (isOpen(offer)) await removeExportFolder(offer.path);
    }
  }
}

/** Neither accepted nor declined: its file still waits for the person. */
const isOpen = (offer: FileOffer) => !offer.claimed && !offer.declined;

/** Removes the folder the core made for one exported file; anything outside that root is left alone. */
export async function removeExportFolder(filePath: string): Promise<void> {
  const folder = path.dirname(path.resolve(filePath));
  if (path.dirname(folder) !== EXPORTS_ROOT) return;
  await rm(folder, { recursive: true, force: true });
}

/** The card Teams shows with Accept and Decline; the file name is what lands in OneDrive. */
export function consentAttachment(offer: FileOffer): Attachment {
  const context: OfferContext = { offerId: offer.id };
  return {
    contentType: FILE_CONSENT_TYPE,
    name: offer.name,
    content: { description: offer.title, sizeInBytes: offer.size, acceptContext: context, declineContext: context },
  };
}

export interface UploadInfo { contentUrl?: string; uploadUrl?: string; name?: string; fileType?: string; uniqueId?: string }

/** The card for a file now in the person's OneDrive. */
export function fileInfoAttachment(info: UploadInfo): Attachment {
  return { contentType: FILE_INFO_TYPE, contentUrl: info.contentUrl ?? '', name: info.name, content: { uniqueId: info.uniqueId, fileType: info.fileType } };
}

export class UploadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UploadError';
  }
}

/**
 * Puts a file into the OneDrive upload session Teams opened on accept, one fragment at a time read
 * from disk, so a large export never sits in memory whole. The session URL is pre-authorised: no
 * token goes with it.
 */
export async function uploadFile(filePath: string, uploadUrl: string, fragmentBytes = UPLOAD_FRAGMENT_BYTES): Promise<void> {
  if (!isSafeFileUrl(uploadUrl)) throw new UploadError('Teams gave no secure upload link');
  const file = await open(filePath, 'r');
  try {
    const size = (await file.stat()).size;
    // An upload session takes at least one byte.
    if (size === 0) throw new UploadError('the file is empty');
    const buffer = Buffer.alloc(Math.min(fragmentBytes, size));
    let offset = 0;
    do {
      const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, size - offset), offset);
      const last = offset + bytesRead - 1;
      const res = await fetch(uploadUrl, {
        method: 'PUT',
        headers: { 'content-range': `bytes ${offset}-${last}/${size}`, 'content-type': 'application/octet-stream' },
        body: buffer.subarray(0, bytesRead),
      });
      const done = res.status === 200 || res.status === 201;
      await res.body?.cancel();
      if (!done && res.status !== 202) throw new UploadError(`OneDrive refused the upload (HTTP ${res.status})`);
      offset += bytesRead;
      if (done !== (offset >= size)) throw new UploadError(`OneDrive ${done ? 'finished early' : 'still expects bytes'} at byte ${offset} of ${size}`);
    } while (offset < size);
  } finally {
    await file.close();
  }
}
