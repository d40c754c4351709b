import { peopleWithRole } from '../../core/actor.js';
import type { CommandContext } from '../../core/router.js';
import { reply, text, actions } from '../../core/reply.js';

/** Tells every ISMS lead that a declaration waits for triage (through the outbox, once per change). */
export async function notifyTriage(ctx: CommandContext, changeRef: string, summary: string): Promise<void> {
  const leads = await peopleWithRole(ctx.db, 'isms_lead');
  for (const lead of leads) {
    if (lead.id === ctx.actor.id) continue;
    await ctx.notify({
      recipientId: lead.id,
      kind: 'triage',
      idempotencyKey: `triage:${changeRef}:${lead.id}`,
      reply: reply(
        text(`New for triage: ${summary}`),
        actions(
          { label: 'Accept', command: `triage accept ${changeRef}`, style: 'primary' },
          { label: 'Reject', command: `triage reject ${changeRef}`, style: 'danger' },
        ),
      ),
    });
  }
}
