import type { Db } from './db/client.js';
import { CommandRouter, type CommandSpec } from './core/router.js';
import { helpCommand } from './domain/help/help.js';
import { declareAiCommand } from './domain/declarations/ai.js';

/** Every command of the bot, in the order help lists them. Feature modules add theirs here. */
export function buildRouter(db: Db): CommandRouter {
  const router: CommandRouter = new CommandRouter(db);
  const specs: CommandSpec[] = [
    helpCommand(() => router),
    declareAiCommand,
  ];
  for (const s of specs) router.register(s);
  return router;
}
