import YAML from 'yaml';
import type { ZodIssue } from 'zod';
import { UserError } from '../core/errors.js';
import { importFileSchema, type ImportData } from './schema.js';

export type FieldPath = (string | number)[];

export interface ImportProblem {
  line: number;
  /** e.g. "people[2].email"; empty for problems with the file as a whole. */
  field: string;
  message: string;
}

/** Everything wrong with an import file, each problem as "file:line: field: message". Nothing was written. */
export class ImportError extends UserError {
  constructor(readonly fileName: string, readonly problems: ImportProblem[]) {
    super('invalid_input', problems.map((p) => `${fileName}:${p.line}: ${p.field ? `${p.field}: ` : ''}${p.message}`).join('\n'),
      'Nothing was imported. Fix the file and import it again.');
    this.name = 'ImportError';
  }
}

/** Problems beyond this many are summarised: the first ones are what a person fixes first anyway. */
const MAX_PROBLEMS = 25;

export const formatPath = (path: FieldPath) =>
  path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${key}` : key), '');

/**
 * A double-quoted scalar without escapes or line breaks says exactly what the same text single-quoted
 * says. yaml builds a double-quoted value a character at a time, which holds about 30 times the text in
 * memory until the file is read: a 50 MB file with long quoted descriptions took 2 GB. Single-quoted
 * values are built a line at a time. (An apostrophe is doubled, so the scalar's end offset moves by one each.)
 */
function asSingleQuoted(token: YAML.CST.Token | null | undefined): void {
  if (token?.type !== 'double-quoted-scalar' || /[\\\n\r]/.test(token.source) || token.source.length < 3 || !token.source.endsWith('"')) return;
  token.type = 'single-quoted-scalar';
  token.source = `'${token.source.slice(1, -1).replaceAll("'", "''")}'`;
}

/** YAML.parseDocument, reading quoted scalars as asSingleQuoted says. */
function parseDocument(text: string, lines: YAML.LineCounter): YAML.Document {
  const parser = new YAML.Parser(lines.addNewLine);
  const composer = new YAML.Composer({ prettyErrors: false });
  function* tokens() {
    for (const token of parser.parse(text)) {
      if (token.type === 'document') YAML.CST.visit(token, (item) => { asSingleQuoted(item.key); asSingleQuoted(item.value); });
      yield token;
    }
  }
  let doc: YAML.Document | undefined;
  for (const next of composer.compose(tokens(), true, text.length)) {
    if (!doc) doc = next;
    else {
      doc.errors.push(new YAML.YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents; please use YAML.parseAllDocuments()'));
      break;
    }
  }
  return doc!;
}

/** A parsed import file that can say on which line any of its fields is written. */
export class ImportSource {
  private constructor(
    readonly fileName: string,
    readonly data: ImportData,
    private readonly doc: YAML.Document,
    private readonly lines: YAML.LineCounter,
  ) {}

  /** Parses and validates the file; a syntax or schema error throws an ImportError naming every bad field. */
  static parse(text: string, fileName: string): ImportSource {
    const lines = new YAML.LineCounter();
    const doc = parseDocument(text, lines);
    if (doc.errors.length > 0) {
      throw new ImportError(fileName, doc.errors.slice(0, MAX_PROBLEMS).map((e) => ({
        line: e.linePos?.[0].line ?? 1,
        field: '',
        message: `not valid YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`,
      })));
    }
    // Keep numbers as written: a version "1.10" or a reference "6.10" must not become 1.1.
    YAML.visit(doc, {
      Scalar(_key, node) {
        if (typeof node.value === 'number' && node.source !== undefined) node.value = node.source;
      },
    });
    const raw = toData(doc, fileName, lines) ?? {};
    const source = new ImportSource(fileName, {} as ImportData, doc, lines);
    const parsed = importFileSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ImportError(fileName, limit(parsed.error.issues.map((issue) => source.problemFromIssue(issue))));
    }
    return new ImportSource(fileName, parsed.data, doc, lines);
  }

  /** The line a field is written on; for a field that is missing, the line of the entry that lacks it. */
  lineOf(path: FieldPath): number {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, n), true);
      const range = (node as YAML.Node | undefined)?.range;
      if (range) return this.lines.linePos(range[0]).line;
    }
    return 1;
  }

  problem(path: FieldPath, message: string): ImportProblem {
    return { line: this.lineOf(path), field: formatPath(path), message };
  }

  /** Stops the import (and rolls its transaction back) with one problem. */
  fail(path: FieldPath, message: string): never {
    throw new ImportError(this.fileName, [this.problem(path, message)]);
  }

  failAll(problems: ImportProblem[]): void {
    if (problems.length > 0) throw new ImportError(this.fileName, limit(problems));
  }

  private problemFromIssue(issue: ZodIssue): ImportProblem {
    if (issue.code === 'unrecognized_keys') {
      const names = issue.keys.map((k) => `"${k}"`).join(', ');
      const where = this.problem([...issue.path, issue.keys[0]], '');
      return { ...where, field: formatPath(issue.path), message: `unknown field ${names}; ${issue.message}` };
    }
    return this.problem(issue.path, issue.message);
  }
}

/**
 * Aliases may repeat a few entries; a "billion laughs" file nests them so that a few lines expand to
 * millions of values. yaml stops expanding past this many and throws; that becomes a problem in the file.
 */
const MAX_ALIAS_EXPANSION = 100;

function toData(doc: YAML.Document, fileName: string, lines: YAML.LineCounter): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSION });
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    // yaml throws without a position: find the alias to blame, one without an anchor before it first.
    const anchors = new Set<string>();
    let first: YAML.Alias | undefined;
    let unresolved: YAML.Alias | undefined;
    YAML.visit(doc, (_key, node) => {
      if (YAML.isAlias(node)) {
        first ??= node;
        if (!anchors.has(node.source)) unresolved ??= node;
      } else if (YAML.isNode(node) && node.anchor) {
        anchors.add(node.anchor);
      }
    });
    const culprit = unresolved ?? first;
    throw new ImportError(fileName, [{
      line: culprit?.range ? lines.linePos(culprit.range[0]).line : 1,
      field: '',
      message: unresolved
        ? `not valid YAML: the alias *${unresolved.source} has no anchor &${unresolved.source} before it`
        : `the aliases (such as *${first?.source ?? '…'}) expand to too much data; write the entries out instead of nesting aliases`,
    }]);
  }
}

function limit(problems: ImportProblem[]): ImportProblem[] {
  const sorted = [...problems].sort((a, b) => a.line - b.line);
  if (sorted.length <= MAX_PROBLEMS) return sorted;
  const rest = sorted.length - MAX_PROBLEMS;
  return [...sorted.slice(0, MAX_PROBLEMS), { ...sorted[MAX_PROBLEMS], field: '', message: `and ${rest} more problem${rest === 1 ? '' : 's'}` }];
}
