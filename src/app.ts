import type { Logger } from 'pino';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/client.js';
import { migrate } from './db/migrate.js';
import { buildRouter } from './commands.js';
import type { CommandRouter } from './core/router.js';
import { InboundPipeline } from './core/inbound.js';
import { Assistant, ModelClient } from './core/assist.js';
import { EvidenceSummariser } from './domain/evidence/summary.js';
import { DRAFT_TIMEOUT_MS, NarrativeDrafter } from './domain/reviews/narrative.js';
import { loadPrompt } from './core/prompts.js';
import { loadExampleOrganisation } from './import/example.js';
import { InFlight } from './lifecycle.js';

/** The platform-neutral bot: the register, the command router, the logger. Adapters attach to it. */
export interface Core {
  config: Config;
  logger: Logger;
  database: Database;
  router: CommandRouter;
  /** The one way in for Slack, Teams and the terminal. */
  inbound: InboundPipeline;
  /** True when this start loaded the example organisation into an empty register. */
  loadedExample: boolean;
  /**
   * Commands accepted but not answered yet (Slack answers after its ack, a Teams turn): a stop waits
   * for them; past config.maxInFlight the platforms answer busyReply() instead of taking more on.
   */
  inFlight: InFlight;
}

/** `opening`: the register, when the caller began opening it already (so it starts while the bot loads). */
export async function startCore(config: Config, logger: Logger, opening?: Promise<Database>): Promise<Core> {
  const database = await (opening ?? openDatabase(config.database));
  const { applied } = await migrate(database.db);
  if (applied.length) logger.info({ applied }, 'database migrated');
  const loadedExample = config.loadExampleOrg ? await loadExampleOrganisation(database.db) : false;
  if (loadedExample) logger.info('loaded the example organisation into the empty register');
  return assembleCore(config, logger, database, loadedExample);
}

/** The core around an open, migrated register (tests build theirs on a test database). */
export function assembleCore(config: Config, logger: Logger, database: Database, loadedExample = false): Core {
  const router = buildRouter(database.db, { witnessFile: config.nudges.witnessFile, plainLanguage: Boolean(config.assistant) });
  const assistant = config.assistant ? new Assistant(config.assistant, loadPrompt('propose-command'), router, database.db, logger) : undefined;
  const inFlight = new InFlight(config.maxInFlight);
  if (config.assistant) {
    // Summaries are made after a submission commits; a graceful stop waits for them like for commands.
    new EvidenceSummariser(new ModelClient(config.assistant, logger), loadPrompt('summarise-evidence'), database.db, logger, inFlight,
      config.assistant.fileText).attach(router);
    const drafting = { ...config.assistant, timeoutMs: Math.max(config.assistant.timeoutMs, DRAFT_TIMEOUT_MS) };
    new NarrativeDrafter(new ModelClient(drafting, logger), loadPrompt('draft-review-narrative'), database.db, logger, inFlight).attach(router);
  }
  return { config, logger, database, router, inbound: new InboundPipeline(database.db, router, logger, assistant), loadedExample, inFlight };
}
