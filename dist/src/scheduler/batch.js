import { createHash } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import { nudgeLog, outbox, people } from '../db/schema/index.js';
import { enqueue } from '../core/outbox.js';
import { actions, reply, text } from '../core/reply.js';
import { nextWorkingMoment, zoneOr } from '../core/time.js';
/** When a message to this person may go out: in their working hours, after their leave. */
export function deliveryTime(person, now, settings) {
    const from = person.pausedUntil && person.pausedUntil > now ? person.pausedUntil : now;
    return nextWorkingMoment(from, zoneOr(person.timezone, settings.timezone), settings);
}
/** Collects the nudges of one run and writes one outbox message per person, in the run's transaction. */
export class NudgeBatch {
    now;
    settings;
    cycle;
    byRecipient = new Map();
    /** `cycle` names the run, e.g. its date: part of each grouped message's idempotency key. */
    constructor(now, settings, cycle) {
        this.now = now;
        this.settings = settings;
        this.cycle = cycle;
    }
    add(nudge) {
        let mine = this.byRecipient.get(nudge.recipientId);
        if (!mine)
            this.byRecipient.set(nudge.recipientId, (mine = new Map()));
        mine.set(nudge.key, nudge);
    }
    get size() {
        let n = 0;
        for (const m of this.byRecipient.values())
            n += m.size;
        return n;
    }
    async flush(tx) {
        const result = { messages: 0, nudges: 0 };
        const ids = [...this.byRecipient.keys()].sort((a, b) => a - b);
        if (ids.length === 0)
            return result;
        const recipients = new Map((await tx.select().from(people).where(inArray(people.id, ids))).map((p) => [p.id, p]));
        for (const id of ids) {
            const person = recipients.get(id);
            if (!person)
                continue;
            const candidates = [...this.byRecipient.get(id).values()];
            const done = new Set((await tx.select({ key: nudgeLog.key }).from(nudgeLog)
                .where(inArray(nudgeLog.key, candidates.map((n) => n.key)))).map((r) => r.key));
            const fresh = candidates.filter((n) => !done.has(n.key)).sort((a, b) => a.itemRef.localeCompare(b.itemRef) || a.key.localeCompare(b.key));
            if (fresh.length === 0)
                continue;
            const itemsHash = createHash('sha256').update(fresh.map((n) => n.key).join('\n')).digest('hex').slice(0, 16);
            const idempotencyKey = `nudges:${id}:${this.cycle}:${itemsHash}`;
            const kinds = new Set(fresh.map((n) => n.kind));
            const campaigns = new Set(fresh.map((n) => n.campaignId));
            const queued = await enqueue(tx, {
                recipientId: id,
                kind: kinds.size === 1 ? fresh[0].kind : 'nudge',
                idempotencyKey,
                reply: groupedReply(fresh),
                notBefore: deliveryTime(person, this.now, this.settings),
                campaignId: campaigns.size === 1 ? fresh[0].campaignId : undefined,
            });
            if (!queued)
                continue;
            const [message] = await tx.select({ id: outbox.id }).from(outbox).where(eq(outbox.idempotencyKey, idempotencyKey));
            await tx.insert(nudgeLog).values(fresh.map((n) => ({
                key: n.key, outboxId: message.id, itemRef: n.itemRef, recipientId: id, step: n.step ?? null, createdAt: this.now,
            })));
            result.messages++;
            result.nudges += fresh.length;
        }
        return result;
    }
}
/** One item: a sentence and its button. Several: one list, a button per item. */
export function groupedReply(nudges) {
    if (nudges.length === 1) {
        const [n] = nudges;
        const sentence = text(n.detail ? `${n.title} — ${n.detail}` : n.title);
        return { ...(n.button ? reply(sentence, actions(n.button)) : reply(sentence)), about: n.itemRef };
    }
    const items = nudges.map((n) => ({ title: n.title, detail: n.detail, buttons: n.button ? [n.button] : undefined }));
    return reply(text(`${nudges.length} things need your attention:`), { type: 'list', items });
}
//# sourceMappingURL=batch.js.map