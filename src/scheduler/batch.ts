import { createHash } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { nudgeLog, outbox, people } from '../db/schema/index.js';
import { enqueue } from '../core/outbox.js';
import { actions, reply, text, type Button, type ListItem, type Reply } from '../core/reply.js';
import type { Person } from '../core/actor.js';
import type { NudgeSettings } from './settings.js';
import { nextWorkingMoment, zoneOr } from '../core/time.js';

/** One thing a person is nudged about; the batch turns a person's nudges of one run into one message. */
export interface Nudge {
  recipientId: number;
  /** Unique per item, recipient, cycle and ladder step: a key is nudged once, ever. */
  key: string;
  /** The register item, e.g. "EVR-0003" or "POAM-0002". */
  itemRef: string;
  kind: string;
  step?: number;
  title: string;
  detail?: string;
  /** What the person can do about it; a manager told about someone else's item may have none. */
  button?: Button;
  campaignId?: number;
}

export interface FlushResult { messages: number; nudges: number }

/** When a message to this person may go out: in their working hours, after their leave. */
export function deliveryTime(person: Pick<Person, 'timezone' | 'pausedUntil'>, now: Date, settings: NudgeSettings): Date {
  const from = person.pausedUntil && person.pausedUntil > now ? person.pausedUntil : now;
  return nextWorkingMoment(from, zoneOr(person.timezone, settings.timezone), settings);
}

/** Collects the nudges of one run and writes one outbox message per person, in the run's transaction. */
export class NudgeBatch {
  private readonly byRecipient = new Map<number, Map<string, Nudge>>();

  /** `cycle` names the run, e.g. its date: part of each grouped message's idempotency key. */
  constructor(private readonly now: Date, private readonly settings: NudgeSettings, private readonly cycle: string) {}

  add(nudge: Nudge): void {
    let mine = this.byRecipient.get(nudge.recipientId);
    if (!mine) this.byRecipient.set(nudge.recipientId, (mine = new Map()));
    mine.set(nudge.key, nudge);
  }

  get size(): number {
    let n = 0;
    for (const m of this.byRecipient.values()) n += m.size;
    return n;
  }

  async flush(tx: Db): Promise<FlushResult> {
    const result: FlushResult = { messages: 0, nudges: 0 };
    const ids = [...this.byRecipient.keys()].sort((a, b) => a - b);
    if (ids.length === 0) return result;
    const recipients = new Map((await tx.select().from(people).where(inArray(people.id, ids))).map((p) => [p.id, p]));
    for (const id of ids) {
      const person = recipients.get(id);
      if (!person) continue;
      const candidates = [...this.byRecipient.get(id)!.values()];
      const done = new Set((await tx.select({ key: nudgeLog.key }).from(nudgeLog)
        .where(inArray(nudgeLog.key, candidates.map((n) => n.key)))).map((r) => r.key));
      const fresh = candidates.filter((n) => !done.has(n.key)).sort((a, b) => a.itemRef.localeCompare(b.itemRef) || a.key.localeCompare(b.key));
      if (fresh.length === 0) continue;
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
      if (!queued) continue;
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
export function groupedReply(nudges: Nudge[]): Reply {
  if (nudges.length === 1) {
    const [n] = nudges;
    const sentence = text(n.detail ? `${n.title} — ${n.detail}` : n.title);
    return { ...(n.button ? reply(sentence, actions(n.button)) : reply(sentence)), about: n.itemRef };
  }
  const items: ListItem[] = nudges.map((n) => ({ title: n.title, detail: n.detail, buttons: n.button ? [n.button] : undefined }));
  return reply(text(`${nudges.length} things need your attention:`), { type: 'list', items });
}
