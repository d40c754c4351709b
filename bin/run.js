#!/usr/bin/env node
/* global process */
// Runs an entry point of the bot: the compiled JavaScript in dist/ when `npm run build` made it,
// else the TypeScript source through tsx (development, and a fresh clone before any build).
// Usage: node bin/run.js src/main.ts [args…]
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [entry] = process.argv.splice(2, 1);
const compiled = path.join(root, 'dist', entry.replace(/\.ts$/, '.js'));

/** A source file edited after the build: the compiled bot would not be what the checkout says. */
function newerSource(than) {
  const built = statSync(than).mtimeMs;
  for (const folder of ['src', 'adapters', 'scripts']) {
    const dir = path.join(root, folder);
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir, { recursive: true })) {
      if (String(file).endsWith('.ts') && statSync(path.join(dir, String(file))).mtimeMs > built) return path.join(folder, String(file));
    }
  }
  return undefined;
}

// The entry point sees itself as the script run (argv[1]), as it would when run directly.
if (existsSync(compiled)) {
  const edited = newerSource(compiled);
  if (edited) process.stderr.write(`Note: ${edited} changed after the last build; running the build in dist/. Run "npm run build" again, or "npm run dev".\n`);
  process.argv[1] = compiled;
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  process.argv[1] = path.join(root, entry);
  await import(pathToFileURL(process.argv[1]).href);
}
