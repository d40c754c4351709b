import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
/**
 * The folder holding package.json, migrations/, reference/ and examples/: found by walking up from
 * this file, so the same code finds them when run from src/ through tsx and from the compiled dist/.
 */
function findProjectRoot(from) {
    let dir = from;
    while (!existsSync(path.join(dir, 'package.json'))) {
        const parent = path.dirname(dir);
        if (parent === dir)
            throw new Error(`No package.json above ${from}: the bot's files are incomplete.`);
        dir = parent;
    }
    return dir;
}
export const PROJECT_ROOT = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)));
/** A file or folder shipped with the bot, e.g. projectPath('migrations'). */
export const projectPath = (...parts) => path.join(PROJECT_ROOT, ...parts);
/** The bot's version, as package.json states it. */
export const VERSION = JSON.parse(readFileSync(projectPath('package.json'), 'utf8')).version;
//# sourceMappingURL=paths.js.map