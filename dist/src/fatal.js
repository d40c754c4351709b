import { ConfigError } from './config.js';
import { UserError } from './core/errors.js';
import { DatabaseSetupError, explainConnectionError } from './db/client.js';
/**
 * What the person who started the bot or the CLI reads when it stops on an error: the error's own
 * words when they can fix it (a bad setting, a data folder in use, an unreachable database, a bad
 * import file), else one sentence pointing at the debug log. Never a stack and never the message of
 * an unexpected error: a driver's message may hold an SQL statement and its parameters.
 */
export function explainFailure(e, options) {
    if (e instanceof ConfigError)
        return `${e.message}\nFix the variable(s) above in the environment or .env, then try again.`;
    if (e instanceof UserError)
        return e.hint ? `${e.message}\n${e.hint}` : e.message;
    if (e instanceof DatabaseSetupError)
        return e.message;
    const connection = options.database?.kind === 'postgres' ? explainConnectionError(e, options.database.url) : undefined;
    if (connection)
        return connection;
    options.logger?.debug({ err: e }, `${options.what} stopped because of an unexpected error`);
    return `${options.what} stopped because of an unexpected error; run it again with LOG_LEVEL=debug to see the details.`;
}
//# sourceMappingURL=fatal.js.map