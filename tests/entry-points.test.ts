import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT, runScript } from './helpers/process.js';

const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const run = promisify(execFile);

describe('the bot and the CLI say their version and help without touching a register', () => {
  it('--version prints package.json\'s version on both entry points, also through npm start\'s launcher', async () => {
    const [bot, cli, launched] = await Promise.all([
      runScript('src/main.ts', ['--version']),
      runScript('src/cli.ts', ['--version']),
      // What "npm start -- --version" runs on a checkout without a build: the sources through tsx.
      run(process.execPath, [path.join(ROOT, 'bin/run.js'), 'src/main.ts', '--version'], { cwd: ROOT }),
    ]);
    expect(bot).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    expect(cli).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    expect(launched.stdout).toBe(`${VERSION}\n`);
  }, 120_000);

  it('--help explains how to run each, and an unknown option is a usage error (status 2) that shows the help', async () => {
    const [help, cliHelp, wrong] = await Promise.all([
      runScript('src/main.ts', ['--help']),
      runScript('src/cli.ts', ['--help']),
      runScript('src/main.ts', ['--sehll']),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(`ISMS bot ${VERSION}`);
    expect(help.stdout).toContain('--shell      also chat in this terminal while serving Slack or Teams');
    expect(cliHelp.code).toBe(0);
    expect(cliHelp.stdout).toContain('Usage: npm run isms -- <command>');
    expect(cliHelp.stdout).toContain('--version           Print the version.');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('Unknown option --sehll.');
  }, 120_000);
});
