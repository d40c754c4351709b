import { rm } from 'node:fs/promises';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import type { Db } from '../../src/db/client.js';
import { people } from '../../src/db/schema/index.js';
import { toActor } from '../../src/core/actor.js';
import type { Reply } from '../../src/core/reply.js';
import type { CommandRouter } from '../../src/core/router.js';

/**
 * Says chat lines as a person (by email) at a fixed moment, keeping the files exports hand out:
 * they wait in a temporary folder of their own for the platform to take them, and `cleanUp` removes them.
 */
export function chatSession(on: () => { db: Db; router: CommandRouter }, now: Date) {
  const written: string[] = [];
  return {
    async say(email: string, line: string): Promise<Reply> {
      const { db, router } = on();
      const [p] = await db.select().from(people).where(eq(people.email, email));
      const answer = await router.handle(line, { actor: toActor(p), channel: 'test', now });
      for (const b of answer.blocks) if (b.type === 'file') written.push(b.file.path);
      return answer;
    },
    async cleanUp(): Promise<void> {
      for (const file of written) await rm(path.dirname(file), { recursive: true, force: true });
    },
  };
}
