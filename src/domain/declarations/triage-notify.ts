import { decidersOf } from '../../core/duties.js';
import type { CommandContext } from '../../core/router.js';
import { reply, text, actions } from '../../core/reply.js';
import { triageButtons } from '../triage/labels.js';

/**
 * Tells whoever may decide a declaration that it waits for triage (through the outbox, once per change):
 * the ISMS leads other than the declarer or, when the sole lead declared it, the management body.
 */
export async function notifyTriage(ctx: CommandContext, changeRef: string, summary: string): Promise<void> {
  const { people } = await decidersOf(ctx.db, [ctx.actor.id]);
  // One statement for every decider: the same message, a key each.
  const message = reply(text(`New for triage: ${summary}`), actions(...triageButtons(changeRef)));
  await ctx.notifyEach(people.map((decider) => ({
    recipientId: decider.id, kind: 'triage', idempotencyKey: `triage:${changeRef}:${decider.id}`, reply: message,
  })));
}
