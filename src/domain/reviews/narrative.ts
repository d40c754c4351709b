/**
 * The review pack's narrative: once a pack has committed, its figures (the one-line inputs and the
 * charts' data, never the detail lines that name people) go to the configured model, which drafts a
 * few short paragraphs. The draft is stored beside the pack marked machine-generated with its prompt
 * version, for the ISMS lead to edit; an edit is a new row, and the draft stays as the model wrote it.
 * The work runs after the command, so a slow or failing endpoint never holds up or fails the pack.
 */
import { z } from 'zod';
import { and, desc, eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.js';
import { managementReviews, people, reviewNarratives, reviewPacks } from '../../db/schema/index.js';
import { appendAudit } from '../../core/audit.js';
import { minimise, type ModelClient } from '../../core/assist.js';
import type { Prompt } from '../../core/prompts.js';
import { conflict } from '../../core/errors.js';
import { nextRef } from '../../core/refs.js';
import { formBlock, reply, text } from '../../core/reply.js';
import { defineCommand, type CommandRouter } from '../../core/router.js';
import { isoDay, readersTime } from '../../core/time.js';
import { InFlight } from '../../lifecycle.js';
import { compileReviewPack, findPack, packDocument, packRef, REVIEW_INPUTS, sha256, type CompiledPack, type ReviewPack } from './review-pack.js';
import { currentNarrative, narrativeBlocks, narrativeMarking } from './narrative-view.js';

const INPUT_KEYS = REVIEW_INPUTS.map((i) => i.key) as [string, ...string[]];

/** The answer the prompt must give; anything else is discarded. */
export const narrativeAnswer = z.object({
  overview: z.string().trim().min(1).max(1_500),
  sections: z.array(z.object({ input: z.enum(INPUT_KEYS), text: z.string().trim().min(1).max(1_500) })).min(1).max(REVIEW_INPUTS.length)
    .refine((s) => new Set(s.map((x) => x.input)).size === s.length, 'each input at most once'),
});

type NarrativeAnswer = z.infer<typeof narrativeAnswer>;

/** A draft of a few hundred tokens takes longer than a proposal; nobody waits for it, so it may. */
export const DRAFT_TIMEOUT_MS = 30_000;

/** Every whole number a text holds ("2026-06-30" holds 2026, 6 and 30; "75%" holds 75). */
const numbersIn = (s: string) => new Set([...s.matchAll(/\d+/g)].map((m) => Number(m[0])));

/** The narrative as stored: the overview, then each input's paragraph under its heading, in the pack's order. */
function narrativeText(answer: NarrativeAnswer): string {
  const byKey = new Map(answer.sections.map((s) => [s.input, s.text]));
  return [answer.overview, ...REVIEW_INPUTS.filter((i) => byKey.has(i.key)).map((i) => `(${i.key}) ${i.heading}: ${byKey.get(i.key)}`)].join('\n\n');
}

/** One line per data point, e.g. "risk: R-0001, residualScore: 8"; points split by state are one line, "AC: 0 fresh, 2 none". */
function pointLines(values: Record<string, unknown>[]): string[] {
  if (!values.every((v) => 'state' in v)) return values.map((v) => `- ${Object.entries(v).map(([k, x]) => `${k}: ${String(x)}`).join(', ')}`);
  const lines = new Map<string, string[]>();
  for (const v of values) {
    const count = Object.entries(v).find(([k, x]) => k !== 'state' && typeof x === 'number');
    const label = Object.entries(v).filter(([k, x]) => k !== 'state' && typeof x !== 'number').map(([, x]) => String(x)).join(' ');
    lines.set(label, [...lines.get(label) ?? [], `${String(count?.[1])} ${String(v.state)}`]);
  }
  return [...lines].map(([label, counts]) => `- ${label}: ${counts.join(', ')}`);
}

/** What the pack's charts show: each chart's title and data points. */
function chartFigures(pack: ReviewPack): string[] {
  return pack.charts.flatMap((chart) => {
    const values = (chart.spec.data as { values?: Record<string, unknown>[] } | undefined)?.values ?? [];
    return [`Chart: ${typeof chart.spec.title === 'string' ? chart.spec.title : chart.title}`, ...pointLines(values)];
  });
}

export class NarrativeDrafter {
  constructor(private readonly client: ModelClient, private readonly prompt: Prompt, private readonly db: Db,
    private readonly logger: Logger, private readonly inFlight = new InFlight()) {}

  /** Drafts the narrative of every pack a command prepares, after it has committed. */
  attach(router: CommandRouter): void {
    router.afterCommit('review_pack', 'prepare', this.inFlight, (ref, now) => this.draft(ref, now));
  }

  /** Resolves once no draft is being made (true), or false when `timeoutMs` ran out first. */
  settled(timeoutMs: number): Promise<boolean> {
    return this.inFlight.settled(timeoutMs);
  }

  /** Stores a draft narrative of the pack `ref`; any failure is logged without content and leaves none. */
  async draft(ref: string, now: Date): Promise<void> {
    try {
      const [found] = await this.db.select({ pack: reviewPacks, preparer: people.name }).from(reviewPacks)
        .innerJoin(people, eq(people.id, reviewPacks.preparedBy)).where(eq(reviewPacks.ref, ref));
      if (!found) return;
      const { pack } = found;
      // The figures are compiled again; they are the pack's only if they give its very document.
      const compiled = await compileReviewPack(this.db, pack.preparedAt);
      if (sha256(packDocument(pack.ref, isoDay(pack.preparedAt), found.preparer, compiled)) !== pack.documentSha256) {
        this.logger.warn({ pack: ref, promptVersion: this.prompt.version }, 'review narrative not drafted: the register changed since the pack was prepared');
        return;
      }
      const message = await this.message(pack, compiled);
      const answer = await this.client.ask(this.prompt, narrativeAnswer, 'review_narrative', this.prompt.text, message);
      if (!answer) return;
      const written = narrativeText(answer);
      const known = numbersIn(message);
      if ([...numbersIn(written)].some((n) => !known.has(n))) {
        this.logger.warn({ pack: ref, promptVersion: this.prompt.version }, 'review narrative discarded: it quotes a figure the pack does not hold');
        return;
      }
      await this.db.transaction(async (tx) => {
        const [row] = await tx.insert(reviewNarratives).values({
          ref: await nextRef(tx, 'RN'), packId: pack.id, text: written, machineGenerated: true,
          model: this.client.model, promptName: this.prompt.name, promptVersion: this.prompt.version, createdAt: now,
        }).returning();
        await appendAudit(tx, { id: null, label: `machine-generated draft (prompt ${this.prompt.version})` },
          { action: 'draft', entity: 'review_narrative', entityRef: row.ref, after: row }, now);
      });
    } catch (e) {
      this.logger.warn({ pack: ref, promptVersion: this.prompt.version, error: e instanceof Error ? e.name : 'unknown' }, 'review narrative not stored');
    }
  }

  /**
   * What leaves the organisation: each input's heading and one-line figures and the charts' data, the
   * labels the pack shows; any registered person's name or email in them is replaced all the same.
   */
  private async message(pack: ReviewPack, compiled: CompiledPack): Promise<string> {
    let out = [
      `Management review pack ${pack.ref}, compiled on ${isoDay(pack.preparedAt)}: the inputs of ISO/IEC 27001:2022 cl. 9.3.2.`,
      compiled.since ? `Figures "since" count from the last management review, held on ${compiled.since.heldOn}.` : 'No earlier management review is recorded.',
      '',
      ...compiled.sections.map((s) => `(${s.key}) ${s.heading}: ${s.summary}`),
      '',
      ...chartFigures(pack),
    ].join('\n');
    for (const person of await this.db.select({ name: people.name, email: people.email }).from(people)) out = minimise(out, person);
    return out;
  }
}

export const reviewNarrativeInput = z.object({
  pack: packRef.describe('The pack (RP-0001) or the review that considered it (MR-0001)'),
  // Optional so that the "Edit the draft" button (the pack alone) opens the form with the current text.
  text: z.string().trim().min(1).max(8_000, 'must be at most 8000 characters').optional()
    .describe('The narrative as the management body should read it; it replaces the draft, which is kept'),
});

export const reviewNarrativeCommand = defineCommand({
  name: 'review narrative',
  summary: 'Write or edit the narrative of a management review pack (the machine-generated draft is kept, marked as such)',
  examples: ['review narrative RP-0001 "Evidence is fresh for 80% of controls; two POA&M items are overdue."', 'review narrative RP-0001'],
  roles: ['isms_lead'],
  schema: reviewNarrativeInput,
  args: {
    pack: {
      positional: true, value: 'RP-ref or MR-ref', placeholder: 'e.g. RP-0001',
      options: async (ctx) => (await ctx.db.select().from(reviewPacks).orderBy(desc(reviewPacks.id)).limit(20))
        .map((p) => ({ value: p.ref, label: `${p.ref} — prepared ${isoDay(p.preparedAt)}` })),
    },
    text: { positional: 'rest', required: true, label: 'Narrative', value: 'narrative' },
  },
  form: { title: 'Narrative of a management review pack', submitLabel: 'Save narrative' },
  async run(ctx, input) {
    const pack = await findPack(ctx.db, input.pack);
    const [closed] = await ctx.db.select({ ref: managementReviews.ref }).from(managementReviews)
      .where(and(eq(managementReviews.packId, pack.id), eq(managementReviews.status, 'closed'))).limit(1);
    if (closed) {
      throw conflict(`${closed.ref}, which considered ${pack.ref}, is closed, so the pack's narrative is final. Nothing was recorded.`,
        '"/isms review prepare" compiles a new pack for the next review.');
    }
    const current = await currentNarrative(ctx.db, pack.id);
    if (!input.text) {
      return reply(
        ...(current ? [text(narrativeMarking(current, (at) => readersTime(at, ctx.actor.timezone)), current.narrative.machineGenerated ? 'warning' : 'info')] : []),
        formBlock(await ctx.form({ title: `Narrative of ${pack.ref}`, known: { pack: pack.ref }, fields: { text: { initial: current?.narrative.text } } })),
      );
    }
    if (current && current.narrative.text === input.text) {
      throw conflict(`The narrative of ${pack.ref} already reads exactly this (${current.narrative.ref}). Nothing was recorded.`,
        `Change the text, or leave it as it is: "/isms review pack ${pack.ref}" gives it.`);
    }
    const [row] = await ctx.db.insert(reviewNarratives).values({
      ref: await nextRef(ctx.db, 'RN'), packId: pack.id, text: input.text, machineGenerated: false,
      writtenBy: ctx.actor.id, basedOn: current?.narrative.id ?? null, createdAt: ctx.now,
    }).returning();
    await ctx.audit({ action: current ? 'edit' : 'write', entity: 'review_narrative', entityRef: row.ref, after: row });
    const shown = { narrative: row, writer: ctx.actor.name, ...(current && { basedOn: current.narrative }) };
    return {
      ...reply(
        text(`Saved the narrative of ${pack.ref} (${row.ref}). "/isms review pack ${pack.ref}" now gives it${current ? ` in place of ${current.narrative.ref}, which is kept` : ''}.`, 'success'),
        ...narrativeBlocks(shown, pack.ref, ctx.actor),
      ),
      about: pack.ref,
    };
  },
});
