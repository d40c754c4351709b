/**
 * Evidence summaries: once a submission has committed, the evidence text (and only it, with the
 * control's title and description; a file's extracted text only when the organisation switches that on) goes to the configured model, which says what the text appears to
 * show and whether it matches what was asked for. The answer is stored beside the evidence, marked
 * machine-generated, for the reviewer; the evidence itself is never changed. The work runs after the
 * command, so a slow or failing endpoint never holds up or fails a submission: it just leaves no summary.
 */
import { z } from 'zod';
import { eq, inArray } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.js';
import { controls, evidenceItems, evidenceSummaries, EVIDENCE_SUMMARY_MATCHES } from '../../db/schema/index.js';
import { appendAudit } from '../../core/audit.js';
import { minimiseAll, type ModelClient } from '../../core/assist.js';
import type { Prompt } from '../../core/prompts.js';
import type { Field } from '../../core/reply.js';
import type { CommandRouter } from '../../core/router.js';
import { InFlight } from '../../lifecycle.js';
import { extractFileText, textKindOf } from './file-text.js';

interface FileText { kind: string; text: string }

export type EvidenceSummary = typeof evidenceSummaries.$inferSelect;

/** The answer the prompt must give; anything else is discarded. */
export const summaryAnswer = z.object({
  summary: z.string().trim().min(1).max(2_000),
  matchesRequest: z.enum(EVIDENCE_SUMMARY_MATCHES),
  reason: z.string().trim().min(1).max(2_000),
});

export class EvidenceSummariser {
  /** `fileText`: the organisation lets a file's extracted text be sent too (ISMS_AI_FILE_TEXT); off, no file content leaves. */
  constructor(private readonly client: ModelClient, private readonly prompt: Prompt, private readonly db: Db,
    private readonly logger: Logger, private readonly inFlight = new InFlight(), private readonly fileText = false) {}

  /** Summarises every evidence revision a command records, after it has committed. */
  attach(router: CommandRouter): void {
    router.afterCommit('evidence_item', 'submit', this.inFlight, (ref, now) => this.summarise(ref, now));
  }

  /** Resolves once no summary is being made (true), or false when `timeoutMs` ran out first. */
  settled(timeoutMs: number): Promise<boolean> {
    return this.inFlight.settled(timeoutMs);
  }

  /** Stores a summary of the evidence item `ref`; any failure is logged without content and leaves none. */
  async summarise(ref: string, now: Date): Promise<void> {
    try {
      const [found] = await this.db.select({ item: evidenceItems, control: controls }).from(evidenceItems)
        .innerJoin(controls, eq(controls.id, evidenceItems.controlId)).where(eq(evidenceItems.ref, ref));
      if (!found) return;
      // Links are never sent, files only when switched on: typed text (or a file's text) is what there is to summarise.
      const fileText = this.fileText ? await this.fileTextOf(found.item) : undefined;
      if (!found.item.text && !fileText) return;
      const answer = await this.client.ask(this.prompt, summaryAnswer, 'evidence_summary', this.prompt.text,
        await this.message(found.control, found.item.text, fileText));
      if (!answer) return;
      await this.db.transaction(async (tx) => {
        const [row] = await tx.insert(evidenceSummaries).values({
          evidenceItemId: found.item.id, summary: answer.summary, matches: answer.matchesRequest, reason: answer.reason,
          model: this.client.model, promptName: this.prompt.name, promptVersion: this.prompt.version, machineGenerated: true, createdAt: now,
        }).returning();
        await appendAudit(tx, { id: null, label: `machine-generated summary (prompt ${this.prompt.version})` },
          { action: 'summarise', entity: 'evidence_summary', entityRef: ref, after: row }, now);
      });
    } catch (e) {
      this.logger.warn({ evidence: ref, promptVersion: this.prompt.version, error: e instanceof Error ? e.name : 'unknown' },
        'evidence summary not stored');
    }
  }

  /**
   * What leaves the organisation: the control's title and description, the evidence text and (when
   * switched on) the file's extracted text, with no one's name or email.
   */
  private async message(control: typeof controls.$inferSelect, evidence: string | null, fileText: FileText | undefined): Promise<string> {
    const lines = [`Control: ${control.title}`, `Asked for: ${control.description ?? control.title}`];
    if (evidence) lines.push('', 'Evidence text:', await minimiseAll(this.db, evidence));
    if (fileText) lines.push('', `Text extracted from the attached ${fileText.kind} file:`, await minimiseAll(this.db, fileText.text));
    return lines.join('\n');
  }

  /** The extracted text of the item's file, when it is of a kind that has one. */
  private async fileTextOf(item: typeof evidenceItems.$inferSelect): Promise<FileText | undefined> {
    if (!item.fileName || !item.fileSha256 || !textKindOf(item.fileName)) return undefined;
    const text = await extractFileText(this.db, { id: item.id, ref: item.ref, name: item.fileName, size: item.fileSize ?? 0, sha256: item.fileSha256 });
    // The kind, not the name: a file name may name a person.
    return text?.trim() ? { kind: item.fileName.split('.').pop()!.toUpperCase(), text } : undefined;
  }
}

/** The stored summaries of these evidence items, by item id. */
export async function summariesOf(db: Db, itemIds: number[]): Promise<Map<number, EvidenceSummary>> {
  if (itemIds.length === 0) return new Map();
  const rows = await db.select().from(evidenceSummaries).where(inArray(evidenceSummaries.evidenceItemId, itemIds));
  return new Map(rows.map((r) => [r.evidenceItemId, r]));
}

const MATCH_WORDS: Record<EvidenceSummary['matches'], string> = {
  yes: 'matches the request', partly: 'partly matches the request', no: 'does not match the request', unclear: 'unclear whether it matches the request',
};

/** A summary as the reviewer sees it: plainly marked as machine-generated and not verified, with its prompt version. */
export function summaryField(s: EvidenceSummary): Field {
  const version = s.promptVersion.split('/').pop();
  return {
    label: 'Summary',
    value: `Machine-generated summary (prompt ${s.promptName} v${version}, not verified): ${s.summary} It ${MATCH_WORDS[s.matches]}: ${s.reason}`,
  };
}
