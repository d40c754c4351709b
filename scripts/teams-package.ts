/**
 * Builds the Teams app package (dist/teams-app.zip) to upload in Teams or the Teams admin centre:
 * manifest/teams/manifest.json with its ${{PLACEHOLDERS}} filled from the environment (or .env),
 * plus the two icons.
 *
 *   MICROSOFT_APP_ID=<bot app id> TEAMS_DEVELOPER_URL=https://example.com npm run teams:package [-- <out.zip>]
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buffer } from 'node:stream/consumers';
import yazl from 'yazl';
import { config as loadDotenv } from 'dotenv';
import { PROJECT_ROOT } from '../src/paths.js';

const ROOT = PROJECT_ROOT;
const MANIFEST_DIR = path.join(ROOT, 'manifest', 'teams');
export const DEFAULT_OUT = path.join(ROOT, 'dist', 'teams-app.zip');

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class PackageError extends Error {
  constructor(readonly problems: string[]) {
    super(`Cannot build the Teams app package:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PackageError';
  }
}

/** The values of the manifest's placeholders, from the environment; every problem is named at once. */
export async function manifestValues(env: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  const problems: string[] = [];
  const get = (name: string) => env[name]?.trim() || undefined;
  const appId = get('MICROSOFT_APP_ID');
  if (!appId) problems.push('MICROSOFT_APP_ID is not set: use the application (client) id of the bot\'s Azure app registration');
  else if (!GUID.test(appId)) problems.push(`MICROSOFT_APP_ID "${appId}" is not a GUID such as 6f1c2a9e-3d4b-4c5a-9e8f-0a1b2c3d4e5f`);
  const teamsAppId = get('TEAMS_APP_ID') ?? appId;
  if (teamsAppId && !GUID.test(teamsAppId)) problems.push(`TEAMS_APP_ID "${teamsAppId}" is not a GUID`);
  const website = get('TEAMS_DEVELOPER_URL');
  if (!website) problems.push('TEAMS_DEVELOPER_URL is not set: Teams shows your organisation\'s https:// website in the app details');
  else if (!/^https:\/\/\S+$/.test(website)) problems.push(`TEAMS_DEVELOPER_URL "${website}" must start with https://`);
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const version = get('TEAMS_APP_VERSION') ?? pkg.version;
  if (!/^\d+\.\d+\.\d+$/.test(version)) problems.push(`TEAMS_APP_VERSION "${version}" must look like 1.0.0`);
  if (problems.length) throw new PackageError(problems);
  const base = website!.replace(/\/+$/, '');
  return {
    MICROSOFT_APP_ID: appId!,
    TEAMS_APP_ID: teamsAppId!,
    TEAMS_APP_VERSION: version,
    TEAMS_DEVELOPER_URL: website!,
    TEAMS_DEVELOPER_NAME: get('TEAMS_DEVELOPER_NAME') ?? new URL(website!).hostname,
    TEAMS_PRIVACY_URL: get('TEAMS_PRIVACY_URL') ?? `${base}/privacy`,
    TEAMS_TERMS_URL: get('TEAMS_TERMS_URL') ?? `${base}/terms`,
  };
}

/** Replaces every ${{NAME}} in the template; a placeholder without a value is an error, never left in. */
export function fillManifest(template: string, values: Record<string, string>): string {
  const missing = new Set<string>();
  const filled = template.replace(/\$\{\{\s*([A-Z0-9_]+)\s*\}\}/g, (_m, name: string) => {
    if (values[name] === undefined) missing.add(name);
    // Values go into JSON strings: escape them as such.
    return JSON.stringify(values[name] ?? '').slice(1, -1);
  });
  if (missing.size) throw new PackageError([...missing].map((m) => `the manifest needs ${m}, which has no value`));
  JSON.parse(filled);
  return filled;
}

/** The zip Teams accepts: manifest.json and the icons at its root. */
export async function buildTeamsPackage(env: NodeJS.ProcessEnv): Promise<Buffer> {
  const manifest = fillManifest(await readFile(path.join(MANIFEST_DIR, 'manifest.json'), 'utf8'), await manifestValues(env));
  // yazl is a dependency already (evidence bundles), so a production install can build the package too.
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(manifest, 'utf8'), 'manifest.json');
  for (const icon of ['color.png', 'outline.png']) zip.addBuffer(await readFile(path.join(MANIFEST_DIR, icon)), icon);
  zip.end();
  return buffer(zip.outputStream);
}

async function main(): Promise<number> {
  loadDotenv();
  const out = path.resolve(process.argv[2] ?? DEFAULT_OUT);
  try {
    const zip = await buildTeamsPackage(process.env);
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, zip);
    process.stdout.write(`Wrote ${out}: upload it in Teams (Apps > Manage your apps > Upload an app).\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof PackageError)) throw e;
    process.stderr.write(`${e.message}\nSet them in the environment or .env, then run "npm run teams:package" again.\n`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().then((code) => process.exit(code), (e) => {
    process.stderr.write(`Cannot build the Teams app package: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
