/**
 * `npm run build`: the bot's TypeScript as JavaScript in dist/ (src/, adapters/, scripts/), the way
 * `node dist/src/main.js` runs it. esbuild strips the types file by file, without bundling, in about a
 * second; the type check is `npm run typecheck`, which CI runs on every change (compiling with tsc as
 * well repeated that check and took as long). The tests build the same way for the bot they start.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function compile(outdir: string, sourcemap: 'inline' | 'external'): Promise<void> {
  await build({
    entryPoints: ['src/**/*.ts', 'adapters/**/*.ts', 'scripts/**/*.ts'].map((p) => path.join(ROOT, p)),
    outdir, outbase: ROOT, format: 'esm', platform: 'node', target: 'node20', sourcemap, logLevel: 'error',
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const dist = path.join(ROOT, 'dist');
  // Nothing left over from a source file since removed.
  await rm(dist, { recursive: true, force: true });
  await compile(dist, 'external');
}
