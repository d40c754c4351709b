/**
 * Administration from the terminal: npm run isms -- <command>.
 * Opens the register the way the bot does (DATABASE_URL, else PGlite in ISMS_DATA_DIR) and migrates it first.
 */
import 'dotenv/config';
import type { Logger } from 'pino';
import { loadConfig } from './config.js';
import { explainFailure } from './fatal.js';
import { VERSION } from './paths.js';
import { createLogger } from './log.js';
import { openDatabase, type Database, type DatabaseTarget, type Db } from './db/client.js';
import { migrate } from './db/migrate.js';
import { readFile } from 'node:fs/promises';
import { describeVerdict, parseWitness, verifyRegister, type WitnessedHead } from './core/verify.js';
import { loadReferenceData, type ReferenceLoadResult } from './refdata/load.js';
import { importFile, describeCounts, PROGRESS_EVERY } from './import/import.js';
import { loadExampleOrganisation } from './import/example.js';
import { userInfo } from 'node:os';
import { appendAudit } from './core/audit.js';
import { invalid } from './core/errors.js';
import { parseBundleRequest, parseExportRequest } from './domain/exports/request.js';
import { documentFileName, exportDirectory, exportDocumentToFile, exportFileName, exportToFile } from './domain/exports/files.js';
import { bundleFileName, describePeriod, writeBundle } from './domain/exports/bundle.js';
import { verifyBundle } from './domain/exports/bundle-verify.js';
import { isoDay } from './core/time.js';
import { existsSync, statSync } from 'node:fs';
import { describeDocumentExport, describeExport, PROGRESS_AFTER_ROWS, progressMessage } from './domain/exports/command.js';
import { ARTEFACTS, DOCUMENTS } from './domain/exports/artefacts.js';
import { OscalDocumentInvalid } from './domain/oscal/index.js';
import type { DocumentExport } from './domain/exports/document.js';
import { describeSlackSync, explainSlackRefusal, slackApiFor, syncSlack } from '../adapters/slack/sync.js';

const USAGE = `Usage: npm run isms -- <command>

Commands:
  import <file.yaml> [--as <email>]
                      Import people, scope, assets, controls, policies, training, suppliers, risks and
                      POA&M items from a YAML file (see examples/example-org.yaml). A file with any
                      problem imports nothing; entries already in the register are updated. --as names
                      who runs it (a person in the register or the file): risks it assesses and new
                      suppliers it accepts without triage are recorded under them, as are what it
                      proposes, publishes or declares without saying who did (without --as, under
                      the register's first ISMS lead). They may do only what their roles before the
                      import allow.
  load-reference      Load the shipped framework requirements and crosswalks (safe to repeat).
  load-example        Load the example organisation Northwind Payments GmbH into an empty register.
  verify [--witness <file or seq:hash>]
                      Check the register for tampering: the audit trail's hash chain, every audited
                      register row against its last audit event, every evidence file against its
                      SHA-256 and, with --witness, the chain heads the bot witnessed (a witness file
                      of JSON lines, or one pasted head) to catch a cut or rewritten tail.
                      Names the first mismatch and exits 1; exits 0 when everything matches.
  verify-audit        The same as verify.
  export <artefact> [--format csv|json|xlsx] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--out <file>]
                      Export an artefact (default XLSX) into ISMS_EXPORT_DIR (default ./exports) or --out;
                      "export all --format xlsx" gives one workbook with a sheet per artefact. Artefacts:
                      ${ARTEFACTS.map((a) => a.name).join(', ')}.
                      Every column is described in docs/exports.md.
  export oscal-poam|oscal-assessment-results [--out <file>]
                      The POA&M or the control set's state as an OSCAL 1.2.1 JSON document, validated
                      against NIST's schema before it is written (${DOCUMENTS.map((d) => d.name).join(', ')}).
  bundle [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--out <file.zip>]
                      An evidence bundle for auditors: the evidence files submitted in the period (all
                      time without --from/--to), their index with SHA-256, the period's audit events and
                      the chain head, in one zip (default ISMS_EXPORT_DIR/evidence-bundle-<day>.zip).
  verify-bundle <file.zip>
                      Check a bundle offline, without the register: every file against its SHA-256, the
                      audit events' hash chain, the chain head. Names the first mismatch and exits 1.
  sync slack          Link everyone in the register to their Slack account by email (users.list;
                      needs SLACK_BOT_TOKEN and the scopes users:read and users:read.email), so the
                      bot can nudge people who never wrote to it. Lists who has no Slack account.
  help                Show this help.
  --version           Print the version.

The register is PostgreSQL when DATABASE_URL is set, else PGlite in ISMS_DATA_DIR (default ./data).
With PGlite, stop the bot first: two processes must not open one data directory.

Exit status: 0 done (for verify: everything matches), 1 failed (for verify: a mismatch was found),
2 a mistake in the command or its arguments, said on stderr before the register is opened.
`;

const VERIFY_USAGE = 'Usage: npm run isms -- verify [--witness <file or seq:hash>]';
const IMPORT_USAGE = 'Usage: npm run isms -- import <file.yaml> [--as <email>]';

/** import's arguments: the file, and who runs it. */
function importArgs(args: string[]): { file: string; by?: string } {
  const rest = [...args];
  const at = rest.indexOf('--as');
  let by: string | undefined;
  if (at >= 0) {
    by = rest[at + 1];
    if (!by || by.startsWith('--')) throw invalid('"--as" needs the email of the person running the import.', IMPORT_USAGE);
    rest.splice(at, 2);
  }
  if (rest.length !== 1 || rest[0].startsWith('--')) {
    throw invalid(rest.length ? `"import" takes one file (and --as <email>), not "${rest.join(' ')}".` : '"import" needs the YAML file to import.', IMPORT_USAGE);
  }
  return { file: rest[0], by };
}
const SYNC_USAGE = 'Usage: npm run isms -- sync slack';

type Print = (line: string) => void;

interface CliCommand {
  /** How many arguments it takes; 'options' means it checks them itself, in check(), before the register is opened. */
  args: number | number[] | 'options';
  /** Throws a UserError for a mistake in the arguments: a usage error, exit status 2. */
  check?(args: string[]): void | Promise<unknown>;
  run(db: Db, args: string[], print: Print): Promise<number>;
}

/** A command that never opens the register: what an auditor runs on a copy of the evidence. */
interface OfflineCommand {
  offline(args: string[], print: Print, err: Print): Promise<number>;
}

const VERIFY_BUNDLE_USAGE = 'Usage: npm run isms -- verify-bundle <bundle.zip>';

const OFFLINE_COMMANDS: Record<string, OfflineCommand> = {
  'verify-bundle': {
    async offline(args, print, err) {
      const usage = (problem: string) => { err(`${problem}\n${VERIFY_BUNDLE_USAGE}`); return 2; };
      if (args.length !== 1 || args[0].startsWith('--')) return usage('"verify-bundle" takes one argument: the bundle\'s zip file.');
      const [file] = args;
      if (!existsSync(file)) return usage(`There is no file "${file}".`);
      if (!statSync(file).isFile()) return usage(`"${file}" is a folder, not a bundle's zip file.`);
      const verdict = await verifyBundle(file);
      print(verdict.ok ? verdict.summary : `${file}: ${verdict.problem}`);
      return verdict.ok ? 0 : 1;
    },
  },
};

const COMMANDS: Record<string, CliCommand> = {
  import: {
    args: 'options',
    check: (args) => void importArgs(args),
    async run(db, args, print) {
      const { file, by } = importArgs(args);
      const notes: string[] = [];
      // Controls map to framework requirements, so the reference data has to be there first.
      reportReferenceLoad(await loadReferenceData(db), print);
      const started = Date.now();
      // A large file takes a while: say how far it got on stderr, so the result on stdout stays one line.
      const counts = await importFile(db, file, {
        by,
        onNote: (note) => notes.push(note),
        onProgress: ({ section, done, total }) => {
          if (total >= PROGRESS_EVERY) process.stderr.write(`Importing ${section}: ${done} of ${total} (${Math.round((Date.now() - started) / 1000)} s)\n`);
        },
      });
      print(`Imported ${file}: ${describeCounts(counts)}.`);
      for (const note of notes) print(`- ${note}`);
      return 0;
    },
  },
  'load-reference': {
    args: 0,
    async run(db, _args, print) {
      const started = Date.now();
      const result = await loadReferenceData(db);
      if (!reportReferenceLoad(result, print)) print('Framework reference data is already loaded; nothing added.');
      print(`(${Date.now() - started} ms)`);
      return 0;
    },
  },
  'load-example': {
    args: 0,
    async run(db, _args, print) {
      if (await loadExampleOrganisation(db)) print('Loaded the example organisation Northwind Payments GmbH.');
      else print('The register already has people; the example organisation was not loaded.');
      return 0;
    },
  },
  verify: { args: 'options', check: witnessOf, run: runVerify },
  sync: {
    args: 'options',
    check(args) {
      if (args.length !== 1 || args[0] !== 'slack') {
        throw invalid(args.length ? `"sync" knows only "slack", not "${args.join(' ')}".` : '"sync" needs the platform to sync with: slack.', SYNC_USAGE);
      }
    },
    run: runSync,
  },
  'verify-audit': { args: 'options', check: witnessOf, run: runVerify },
  export: {
    args: 'options',
    check: (args) => void parseExportRequest(args),
    async run(db, args, print) {
      const request = parseExportRequest(args);
      const now = new Date();
      if (request.document) return exportDocument(db, request.document, request.out, now, print);
      const file = request.out ?? `${exportDirectory()}/${exportFileName(request.artefacts, request.format, now)}`;
      // A long export says once, on stderr, that it is under way; stdout keeps only the result.
      const onRows = (total: number) => { if (total === PROGRESS_AFTER_ROWS + 1) console.error(progressMessage(request.artefacts)); };
      const counts = await exportToFile(db, request.artefacts, request.format, file, { period: request.period, now, onRows });
      // Exports from the command line are audited like those from chat, under the operating-system user.
      await db.transaction((tx) => appendAudit(tx, { id: null, label: `${userInfo().username} via command line` }, {
        action: 'export', entity: 'export', entityRef: request.name,
        after: { format: request.format, rows: counts, file: file.split(/[\\/]/).pop(), period: request.period },
      }, now));
      print(`Exported ${describeExport(request.artefacts, request.format, counts)} to ${file}`);
      return 0;
    },
  },
  bundle: {
    args: 'options',
    check: (args) => void parseBundleRequest(args, isoDay(new Date())),
    async run(db, args, print) {
      const now = new Date();
      const { period, out } = parseBundleRequest(args, isoDay(now));
      const file = out ?? `${exportDirectory()}/${bundleFileName(now)}`;
      const summary = await writeBundle(db, file, { period, now });
      await db.transaction((tx) => appendAudit(tx, { id: null, label: `${userInfo().username} via command line` }, {
        action: 'export', entity: 'export', entityRef: 'bundle',
        after: { format: 'zip', files: summary.files, events: summary.events, head: summary.head.seq, file: file.split(/[\\/]/).pop(), period },
      }, now));
      print(`Bundled ${summary.files} evidence file${summary.files === 1 ? '' : 's'} (${summary.bytes} bytes) and ${summary.events} audit event${summary.events === 1 ? '' : 's'} `
        + `for ${describePeriod(period)} into ${file}; chain head #${summary.head.seq}. Check it with: npm run isms -- verify-bundle ${file}`);
      return 0;
    },
  },
};

/** sync slack: the register against the workspace's members; a refusal or outage is one sentence, exit status 1. */
async function runSync(db: Db, _args: string[], print: Print): Promise<number> {
  const config = loadConfig();
  if (!config.slack) {
    console.error('SLACK_BOT_TOKEN is not set: "sync slack" needs the Slack app\'s Bot User OAuth Token (xoxb-...) in the environment or .env.');
    return 1;
  }
  const api = slackApiFor(config.slack.botToken, config.slack.apiUrl, createLogger(process.env.LOG_LEVEL ? config.logLevel : 'silent'));
  let report: Awaited<ReturnType<typeof syncSlack>>;
  try {
    report = await syncSlack(db, api, { id: null, label: `${userInfo().username} via command line` });
  } catch (e) {
    const refusal = explainSlackRefusal(e);
    if (refusal) {
      console.error(refusal);
      return 1;
    }
    if ((e as { code?: string }).code === 'slack_webapi_request_error') {
      console.error(`Slack could not be reached at ${config.slack.apiUrl ?? 'https://slack.com/api/'}: ${(e as Error).message}.`);
      return 1;
    }
    throw e;
  }
  for (const line of describeSlackSync(report)) print(line);
  return 0;
}

async function exportDocument(db: Db, document: DocumentExport, out: string | undefined, now: Date, print: Print): Promise<number> {
  const file = out ?? `${exportDirectory()}/${documentFileName(document, now)}`;
  let counts: Record<string, number>;
  try {
    counts = await exportDocumentToFile(db, document, file, now);
  } catch (e) {
    // A document that does not validate is a fault of the export; its problems name paths in the schema, never register data.
    if (!(e instanceof OscalDocumentInvalid)) throw e;
    print(e.message);
    return 1;
  }
  await db.transaction((tx) => appendAudit(tx, { id: null, label: `${userInfo().username} via command line` }, {
    action: 'export', entity: 'export', entityRef: document.name, after: { format: 'json', counts, file: file.split(/[\\/]/).pop() },
  }, now));
  print(`Exported ${describeDocumentExport(document, counts)} to ${file}`);
  return 0;
}

/** The heads verify's arguments name (none without --witness): a pasted "seq:hash" or a witness file. */
async function witnessOf(args: string[]): Promise<WitnessedHead[]> {
  if (args.length === 0) return [];
  const [flag, given, ...extra] = args;
  if (flag !== '--witness') throw invalid(`"verify" takes only --witness <file or seq:hash>, not "${flag}".`, VERIFY_USAGE);
  if (given === undefined || given.startsWith('--')) throw invalid('--witness needs a witness file or a chain head pasted as seq:hash.', VERIFY_USAGE);
  if (extra.length) throw invalid(`"verify" takes one --witness, not also "${extra.join(' ')}".`, VERIFY_USAGE);
  const text = /^#?\d+:/.test(given) ? given : await readFile(given, 'utf8').catch(() => undefined);
  if (text === undefined) throw invalid(`The witness file "${given}" cannot be opened.`, VERIFY_USAGE);
  const parsed = parseWitness(text);
  if (typeof parsed === 'string') throw invalid(`The witness "${given}" cannot be read: ${parsed}.`, VERIFY_USAGE);
  return parsed;
}

async function runVerify(db: Db, args: string[], print: Print): Promise<number> {
  const verdict = await verifyRegister(db, await witnessOf(args));
  print(describeVerdict(verdict));
  return verdict.ok ? 0 : 1;
}

function reportReferenceLoad(result: ReferenceLoadResult, print: Print): boolean {
  const added = Object.entries(result.requirements);
  if (added.length === 0 && result.crosswalks === 0) return false;
  const total = added.reduce((sum, [, n]) => sum + n, 0);
  print(`Loaded framework reference data: ${total} requirements (${added.map(([f, n]) => `${f} ${n}`).join(', ')}), ${result.crosswalks} crosswalk pairs.`);
  return true;
}

async function runCli(argv: string[], out: Print, err: Print): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    out(USAGE);
    return 0;
  }
  if (name === '--version' || name === 'version') {
    out(VERSION);
    return 0;
  }
  const offline = OFFLINE_COMMANDS[name];
  if (offline) {
    try {
      return await offline.offline(args, out, err);
    } catch (e) {
      err(explainFailure(e, { what: `"npm run isms -- ${name}"` }));
      return 1;
    }
  }
  const command = COMMANDS[name];
  if (!command) {
    err(`Unknown command "${name}".\n\n${USAGE}`);
    return 2;
  }
  const allowed = command.args === 'options' ? undefined : typeof command.args === 'number' ? [command.args] : command.args;
  if (allowed && !allowed.includes(args.length)) {
    err(command.args ? `"${name}" needs ${command.args} argument, e.g. npm run isms -- ${name} examples/example-org.yaml` : `"${name}" takes no arguments.`);
    return 2;
  }
  try {
    await command.check?.(args);
  } catch (e) {
    err(explainFailure(e, { what: `"npm run isms -- ${name}"` }));
    return 2;
  }
  let logger: Logger | undefined;
  let target: DatabaseTarget | undefined;
  let database: Database | undefined;
  try {
    // The same settings, checked the same way, as the bot's.
    const config = loadConfig();
    logger = createLogger(process.env.LOG_LEVEL ? config.logLevel : 'warn');
    target = config.database;
    database = await openDatabase(target);
    await migrate(database.db);
    return await command.run(database.db, args, out);
  } catch (e) {
    err(explainFailure(e, { what: `"npm run isms -- ${name}"`, logger, database: target }));
    return 1;
  } finally {
    await database?.close().catch(() => undefined);
  }
}

process.exitCode = await runCli(process.argv.slice(2), (line) => console.log(line), (line) => console.error(line));
