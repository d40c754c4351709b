import { openDatabase } from './db/client.js';
import { migrate } from './db/migrate.js';
import { buildRouter } from './commands.js';
import { InboundPipeline } from './core/inbound.js';
import { loadExampleOrganisation } from './import/example.js';
import { InFlight } from './lifecycle.js';
export async function startCore(config, logger) {
    const database = await openDatabase(config.database);
    const { applied } = await migrate(database.db);
    if (applied.length)
        logger.info({ applied }, 'database migrated');
    const loadedExample = config.loadExampleOrg ? await loadExampleOrganisation(database.db) : false;
    if (loadedExample)
        logger.info('loaded the example organisation into the empty register');
    return assembleCore(config, logger, database, loadedExample);
}
/** The core around an open, migrated register (tests build theirs on a test database). */
export function assembleCore(config, logger, database, loadedExample = false) {
    const router = buildRouter(database.db, { witnessFile: config.nudges.witnessFile });
    return { config, logger, database, router, inbound: new InboundPipeline(database.db, router, logger), loadedExample, inFlight: new InFlight() };
}
//# sourceMappingURL=app.js.map