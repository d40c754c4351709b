import { decidersOf } from '../../core/duties.js';
import { reply, text, actions } from '../../core/reply.js';
/**
 * Tells whoever may decide a declaration that it waits for triage (through the outbox, once per change):
 * the ISMS leads other than the declarer or, when the sole lead declared it, the management body.
 */
export async function notifyTriage(ctx, changeRef, summary) {
    const { people } = await decidersOf(ctx.db, [ctx.actor.id]);
    for (const decider of people) {
        await ctx.notify({
            recipientId: decider.id,
            kind: 'triage',
            idempotencyKey: `triage:${changeRef}:${decider.id}`,
            reply: reply(text(`New for triage: ${summary}`), actions({ label: 'Accept', command: `triage accept ${changeRef}`, style: 'primary' }, { label: 'Reject', command: `triage reject ${changeRef}`, style: 'danger' })),
        });
    }
}
//# sourceMappingURL=triage-notify.js.map