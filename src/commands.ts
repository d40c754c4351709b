import type { Db } from './db/client.js';
import { CommandRouter, type CommandSpec } from './core/router.js';
import { helpCommand } from './domain/help/help.js';
import { statusCommands } from './domain/status/index.js';
import { declarationCommands } from './domain/declarations/index.js';
import { evidenceCommands } from './domain/evidence/index.js';
import { policyCommands } from './domain/policies/index.js';
import { trainingCommands } from './domain/training/index.js';
import { poamCommands } from './domain/poam/index.js';
import { triageCommands } from './domain/triage/index.js';
import { registerCommands } from './domain/registers/index.js';
import { auditWitnessCommand } from './domain/registers/audit-verify.js';
import { nudgeCommands } from './domain/nudges/index.js';
import { riskCommands } from './domain/risks/index.js';
import { reviewCommands } from './domain/reviews/index.js';
import { soaCommands } from './domain/soa/index.js';
import { exportCommands } from './domain/exports/index.js';
import { approvalCommands } from './domain/approvals/index.js';

/** Every command of the bot, in the order help lists them. Each feature module exports its own list. */
export function buildRouter(db: Db, options: { witnessFile?: string; plainLanguage?: boolean } = {}): CommandRouter {
  const router: CommandRouter = new CommandRouter(db);
  const specs: CommandSpec[] = [
    helpCommand(() => router, { plainLanguage: options.plainLanguage ?? false }),
    ...statusCommands,
    ...declarationCommands,
    ...evidenceCommands,
    ...policyCommands,
    ...trainingCommands,
    ...poamCommands,
    ...triageCommands,
    ...registerCommands,
    auditWitnessCommand(options.witnessFile),
    ...nudgeCommands,
    ...approvalCommands,
    ...riskCommands,
    ...reviewCommands,
    ...soaCommands,
    ...exportCommands,
  ];
  for (const s of specs) router.register(s);
  return router;
}
