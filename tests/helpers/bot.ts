import { eq } from 'drizzle-orm';
import { createTestDatabase, type TestDatabase } from './db.js';
import { buildRouter } from '../../src/commands.js';
import type { CommandRouter, Attachment, Channel } from '../../src/core/router.js';
import { people, outbox, auditEvents, type Role } from '../../src/db/schema/index.js';
import { toActor, type Actor } from '../../src/core/actor.js';
import { toPlainText, type Reply } from '../../src/core/reply.js';
import type { ChatPort } from '../../src/core/port.js';
import type { Person } from '../../src/core/actor.js';

/** A small cast with one person per role; tests add what else they need. */
export const CAST = {
  lead: { name: 'Lena Lead', email: 'lena@test.example', roles: ['isms_lead', 'staff'] as Role[] },
  board: { name: 'Bruno Board', email: 'bruno@test.example', roles: ['management_body'] as Role[] },
  owner: { name: 'Olga Owner', email: 'olga@test.example', roles: ['control_owner', 'asset_owner', 'staff'] as Role[] },
  staff: { name: 'Sam Staff', email: 'sam@test.example', roles: ['staff'] as Role[] },
  auditor: { name: 'Ada Auditor', email: 'ada@test.example', roles: ['auditor'] as Role[] },
} as const;
export type CastKey = keyof typeof CAST;

/** Records what the bot would send through a chat platform. */
export class FakeChatPort implements ChatPort {
  readonly platform = 'test' as const;
  readonly sent: { personId: number; email: string; message: Reply }[] = [];
  canReach(): boolean { return true; }
  async send(person: Person, message: Reply): Promise<void> {
    this.sent.push({ personId: person.id, email: person.email, message });
  }
  textsFor(email: string): string[] {
    return this.sent.filter((s) => s.email === email).map((s) => toPlainText(s.message));
  }
}

export interface TestBot {
  t: TestDatabase;
  router: CommandRouter;
  ids: Record<CastKey, number>;
  actor(who: CastKey): Promise<Actor>;
  /** Runs a command line as a cast member and returns the reply. */
  say(who: CastKey, line: string, opts?: { attachments?: Attachment[]; idempotencyKey?: string; now?: Date; channel?: Channel }): Promise<Reply>;
  /** The same, as plain text. */
  sayText(who: CastKey, line: string, opts?: { attachments?: Attachment[]; idempotencyKey?: string; now?: Date }): Promise<string>;
  auditCount(): Promise<number>;
  outboxFor(who: CastKey): Promise<(typeof outbox.$inferSelect)[]>;
  destroy(): Promise<void>;
}

export async function createTestBot(): Promise<TestBot> {
  const t = await createTestDatabase();
  const ids = {} as Record<CastKey, number>;
  for (const key of Object.keys(CAST) as CastKey[]) {
    const [row] = await t.db.insert(people).values({ ...CAST[key], roles: [...CAST[key].roles], timezone: 'Europe/Berlin' }).returning();
    ids[key] = row.id;
  }
  await t.db.update(people).set({ managerId: ids.lead }).where(eq(people.id, ids.owner));
  await t.db.update(people).set({ managerId: ids.owner }).where(eq(people.id, ids.staff));
  const router = buildRouter(t.db);
  const actor = async (who: CastKey) => {
    const [p] = await t.db.select().from(people).where(eq(people.id, ids[who]));
    return toActor(p);
  };
  const say: TestBot['say'] = async (who, line, opts = {}) =>
    router.handle(line, { actor: await actor(who), channel: opts.channel ?? 'test', ...opts });
  return {
    t, router, ids, actor, say,
    sayText: async (who, line, opts) => toPlainText(await say(who, line, opts)),
    auditCount: async () => (await t.db.select().from(auditEvents)).length,
    outboxFor: async (who) => t.db.select().from(outbox).where(eq(outbox.recipientId, ids[who])),
    destroy: () => t.destroy(),
  };
}
