import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { and, asc, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import {
  people, scopeStatements, interestedParties, assets, controls, controlMappings, frameworkRequirements,
  policies, policyVersions, trainingCourses, suppliers, risks, riskAppetite, poamItems, poamMilestones, scopeChanges, TREATMENTS, type Role,
} from '../db/schema/index.js';
import { appendAuditMany, canonicalJson, type AuditActor, type AuditInput } from '../core/audit.js';
import { nextRef, nextRefs } from '../core/refs.js';
import { invalid, notFound } from '../core/errors.js';
import { SHIPPED_FRAMEWORKS, normaliseReference, type FrameworkId } from '../refdata/frameworks.js';
import { ImportSource, type FieldPath, type ImportProblem } from './source.js';
import type { ImportData, Section } from './schema.js';
import { suggestion, unknownRequirement } from '../refdata/requirements.js';
import { intArray } from '../scheduler/jobs/ladder.js';
import type { CommandContext } from '../core/router.js';
import { enqueue, enqueueMany } from '../core/outbox.js';
import { ROLE_LABELS, holdersOf, peopleWithRole, toActor, type Person } from '../core/actor.js';
import { putSupplierOnTriage } from '../domain/declarations/supplier.js';
import { TIER_LABELS } from '../domain/declarations/supplier-tier.js';
import { isTierOne, settleSupplierApproval } from '../domain/suppliers/approval.js';
import { recordAssessment, refreshAcceptanceApprovals, reopensAccepted } from '../domain/risks/assess.js';
import { RISK_APPETITE_REF, riskAppetiteSubject } from '../domain/risks/appetite.js';
import { scopeStatementApproval, scopeStatementRef } from '../domain/declarations/scope-approval.js';
import { requestApproval, withdrawPending } from '../domain/approvals/request.js';
import { publishPolicy } from '../domain/policies/publish.js';
import { versionApprovalInWords } from '../domain/policies/approval.js';

export type Outcome = 'created' | 'updated' | 'unchanged';
export interface SectionCounts { created: number; updated: number; unchanged: number }
/** Per section of the file: entries added, changed, and already as the file says. */
export type ImportCounts = Partial<Record<Section, SectionCounts>>;

/** How far the import has got in one section of the file. */
export interface ImportProgress { section: Section; done: number; total: number }

export interface ImportOptions {
  now?: Date;
  /** Told every PROGRESS_EVERY entries of a section and at its last one, so a large file shows that it moves. */
  onProgress?: (progress: ImportProgress) => void;
  /**
   * The email of the person running the import, as the register or the file knows them: imported assessments are
   * recorded under them, and a new supplier the file gives as accepted is accepted by them. What the file proposes
   * to the management body, publishes or declares without naming who did is theirs too; left out, that is whom the
   * terminal chat acts as, the register's first ISMS lead. They may do only what their roles before the import allow.
   */
  by?: string;
  /** Told what the import did besides adding and changing rows (what it put to the management body, what it accepted without triage). */
  onNote?: (note: string) => void;
}

export const PROGRESS_EVERY = 1000;

/** How a person running an import from the terminal is named. */
const RUN_AS = 'npm run isms -- import <file> --as <email>';
/** Who decides triage in chat, and so may accept a supplier without it. */
const TRIAGE_DECIDERS: Role[] = ['isms_lead', 'management_body'];

/**
 * Entries looked up and inserted per statement, and audit events appended per multi-row append:
 * few round trips for a large file, while what is held at once stays a batch (an asset may carry
 * a few kilobytes of description).
 */
const WRITE_BATCH = 200;

/** Reads a YAML file and imports it; see importYaml. */
export async function importFile(db: Db, filePath: string, options: ImportOptions = {}): Promise<ImportCounts> {
  let text: string;
  try {
    text = await readFile(filePath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw notFound(`There is no file ${filePath}.`);
    if (code === 'EISDIR') throw invalid(`${filePath} is a folder: give the path of a YAML file.`);
    if (code === 'EACCES' || code === 'EPERM') throw invalid(`Cannot read ${filePath}: permission denied.`);
    throw e;
  }
  return importYaml(db, text, filePath, options);
}

/**
 * Imports an organisation's register from YAML in one transaction: a file with any problem writes nothing.
 * Entries already in the register (same email, code, name or reference) are updated, not duplicated;
 * every row added or changed records one audit event.
 */
export async function importYaml(db: Db, text: string, fileName: string, options: ImportOptions = {}): Promise<ImportCounts> {
  const source = ImportSource.parse(text, fileName);
  const now = options.now ?? new Date();
  return db.transaction(async (tx) => {
    const run = new ImportRun(tx, source, now, options);
    await run.check();
    return run.write();
  });
}

/** "people: 3 created, 1 updated; controls: 8 created" */
export function describeCounts(counts: ImportCounts): string {
  const parts = Object.entries(counts).map(([section, c]) => {
    const said = (['created', 'updated', 'unchanged'] as const).filter((k) => c[k] > 0).map((k) => `${c[k]} ${k}`);
    return `${section}: ${said.join(', ') || 'none'}`;
  });
  return parts.join('; ') || 'nothing to import';
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const lower = (s: string) => s.toLowerCase();
const first = <T>(rows: T[]): T => rows[0];
const ieq = (column: PgColumn, value: string): SQL => sql`lower(${column}) = ${lower(value)}`;
const requirementKey = (framework: string, reference: string) => `${framework}\u0000${reference}`;

/** The fields of `values` whose value differs from the row; fields left undefined are not compared. */
function changedFields<V extends object>(existing: object, values: V): Partial<V> {
  const changes: Partial<V> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    if (canonicalJson((existing as Record<string, unknown>)[key]) !== canonicalJson(value)) (changes as Record<string, unknown>)[key] = value;
  }
  return changes;
}

type AssetEntry = NonNullable<ImportData['assets']>[number];
type RiskEntry = NonNullable<ImportData['risks']>[number];
type Supplier = typeof suppliers.$inferSelect;
type Risk = typeof risks.$inferSelect;

/** `items` in slices of WRITE_BATCH. */
const batches = <T>(items: T[]): T[][] =>
  Array.from({ length: Math.ceil(items.length / WRITE_BATCH) }, (_, b) => items.slice(b * WRITE_BATCH, (b + 1) * WRITE_BATCH));

class ImportRun {
  private readonly data: ImportData;
  private readonly actor: AuditActor;
  private readonly counts: ImportCounts = {};
  /** Lower-case email -> person id, for every person the file names. */
  private readonly personIds = new Map<string, number>();
  /** Framework + reference -> requirement id, for every requirement the file names. */
  private readonly requirementIds = new Map<string, number>();
  /** Audit events recorded but not yet appended, in the order they were recorded, with who did each (see WRITE_BATCH). */
  private pendingAudit: { actor: AuditActor; input: AuditInput }[] = [];
  /** The roles someone in the register held before this import: one nobody held, a file may give and use at once (a new register). */
  private readonly heldBefore = new Set<Role>();
  /** The register's first ISMS lead before this import, whom the terminal chat acts as when nobody is named. */
  private leadBeforeId: number | undefined;
  /** Who runs the import, once the file's people are in the register (see acting); named says whether by --as. */
  private acting: { person: Person | undefined; named: boolean } = { person: undefined, named: false };
  /** Person id -> the roles they held before this import, for every person the file lists who was in the register. */
  private readonly rolesBefore = new Map<number, string[]>();
  /** Person id -> the file's people row that lists them. */
  private readonly peopleRows = new Map<number, number>();
  private readonly onProgress?: (progress: ImportProgress) => void;

  constructor(private readonly tx: Db, private readonly source: ImportSource, private readonly now: Date, private readonly options: ImportOptions) {
    this.data = source.data;
    this.actor = { id: null, label: `import ${source.fileName}` };
    this.onProgress = options.onProgress;
  }

  /** Finds every reference the file makes that cannot be resolved, before anything is written. */
  async check(): Promise<void> {
    await this.lookAtRolesBefore();
    const problems = [
      ...this.duplicates(),
      ...(await this.checkPeople()),
      ...(await this.checkAssetNames()),
      ...(await this.checkRequirements()),
      ...this.checkResidualScores(),
    ];
    this.source.failAll(problems);
  }

  async write(): Promise<ImportCounts> {
    await this.writePeople();
    this.acting = await this.whoRunsIt();
    await this.writeScope();
    await this.writeInterestedParties();
    await this.writeAssets();
    await this.writeFrameworkTitles();
    await this.writeControls();
    await this.writePolicies();
    await this.writeTrainingCourses();
    await this.writeSuppliers();
    await this.writeRisks();
    await this.writeRiskAppetite();
    await this.writePoam();
    await this.flushAudit();
    return this.counts;
  }

  // ---- checks -------------------------------------------------------------------------------

  /** What the register held before the file: who leads it, and which of the deciding roles anyone held. */
  private async lookAtRolesBefore() {
    for (const role of ['isms_lead', 'management_body'] as const) {
      const holders = (await peopleWithRole(this.tx, role)).sort((a, b) => a.id - b.id);
      if (holders.length > 0) this.heldBefore.add(role);
      if (role === 'isms_lead') this.leadBeforeId = holders[0]?.id;
    }
  }

  private duplicates(): ImportProblem[] {
    const d = this.data;
    const problems: ImportProblem[] = [];
    const unique = <T>(section: Section, items: T[] | undefined, field: string, key: (item: T) => string | undefined) => {
      const seen = new Map<string, number>();
      items?.forEach((item, i) => {
        const k = key(item);
        if (k === undefined) return;
        const earlier = seen.get(k);
        if (earlier === undefined) seen.set(k, i);
        else problems.push(this.source.problem([section, i, field], `"${k}" is already given in ${section}[${earlier}] (line ${this.source.lineOf([section, earlier])})`));
      });
    };
    unique('people', d.people, 'email', (p) => p.email);
    unique('people', d.people, 'slack_user_id', (p) => p.slack_user_id);
    unique('people', d.people, 'teams_aad_object_id', (p) => p.teams_aad_object_id && lower(p.teams_aad_object_id));
    unique('interested_parties', d.interested_parties, 'name', (x) => lower(x.name));
    unique('assets', d.assets, 'name', (x) => lower(x.name));
    unique('framework_titles', d.framework_titles, 'reference', (x) => `${x.framework} ${normaliseReference(x.framework, x.reference)}`);
    unique('controls', d.controls, 'code', (x) => x.code);
    unique('policies', d.policies, 'title', (x) => lower(x.title));
    unique('policies', d.policies, 'ref', (x) => x.ref);
    unique('training_courses', d.training_courses, 'code', (x) => x.code);
    unique('suppliers', d.suppliers, 'name', (x) => lower(x.name));
    unique('risks', d.risks, 'title', (x) => lower(x.title));
    unique('poam', d.poam, 'weakness', (x) => lower(x.weakness));
    return problems;
  }

  /** Every place the file names a person by email. */
  private personReferences(): [FieldPath, string][] {
    const d = this.data;
    const refs: [FieldPath, string][] = [];
    const add = (path: FieldPath, email: string | undefined) => { if (email) refs.push([path, email]); };
    d.people?.forEach((p, i) => add(['people', i, 'manager'], p.manager));
    add(['scope', 'approved_by'], d.scope?.approved_by);
    d.assets?.forEach((a, i) => add(['assets', i, 'owner'], a.owner));
    d.controls?.forEach((c, i) => add(['controls', i, 'owner'], c.owner));
    d.policies?.forEach((p, i) => { add(['policies', i, 'owner'], p.owner); add(['policies', i, 'approved_by'], p.approved_by); });
    d.suppliers?.forEach((s, i) => add(['suppliers', i, 'owner'], s.owner));
    d.risks?.forEach((r, i) => add(['risks', i, 'owner'], r.owner));
    add(['risk_appetite', 'approved_by'], d.risk_appetite?.approved_by);
    d.poam?.forEach((p, i) => add(['poam', i, 'owner'], p.owner));
    return refs;
  }

  private async checkPeople(): Promise<ImportProblem[]> {
    const problems: ImportProblem[] = [];
    const filePeople = this.data.people ?? [];
    const inFile = new Set(filePeople.map((p) => p.email));
    const references = this.personReferences();
    const runBy = this.options.by && lower(this.options.by.trim());
    const wanted = [...new Set([...references.map(([, email]) => email), ...(runBy ? [runBy] : [])])].filter((e) => !inFile.has(e));
    if (wanted.length > 0) {
      const known = await this.tx.select({ id: people.id, email: people.email }).from(people)
        .where(inArray(sql`lower(${people.email})`, wanted));
      for (const p of known) this.personIds.set(lower(p.email), p.id);
    }
    for (const [path, email] of references) {
      if (!inFile.has(email) && !this.personIds.has(email)) {
        problems.push(this.source.problem(path, `no person with the email ${email} is in this file or the register; add them under people`));
      }
    }
    if (runBy && !inFile.has(runBy) && !this.personIds.has(runBy)) {
      problems.push(this.source.problem([], `${runBy}, named as running this import, is not in this file or the register: `
        + 'name the person running it by the email the register knows them by, or add them under people'));
    }
    filePeople.forEach((p, i) => {
      if (p.manager === p.email) problems.push(this.source.problem(['people', i, 'manager'], 'a person cannot be their own manager'));
    });
    // A chat account belongs to one person: refuse to move it silently from someone already registered.
    const accounts: [keyof (typeof filePeople)[number], PgColumn][] = [['slack_user_id', people.slackUserId], ['teams_aad_object_id', people.teamsAadObjectId]];
    for (const [field, column] of accounts) {
      const ids = filePeople.map((p) => p[field] as string | undefined).filter((v): v is string => Boolean(v));
      if (ids.length === 0) continue;
      const owners = await this.tx.select({ account: column, email: people.email, name: people.name }).from(people).where(inArray(column, ids));
      filePeople.forEach((p, i) => {
        const owner = owners.find((o) => o.account === p[field]);
        if (owner && lower(owner.email) !== p.email) {
          problems.push(this.source.problem(['people', i, field], `${String(p[field])} already belongs to ${owner.name} <${owner.email}> in the register`));
        }
      });
    }
    return problems;
  }

  /**
   * A residual score above the inherent one is refused, as "risk add" and "risk update" refuse it. A row that leaves
   * out its likelihood or impact is checked once the register's is known (see writeRisks).
   */
  private checkResidualScores(): ImportProblem[] {
    return (this.data.risks ?? []).flatMap((r, i) =>
      r.likelihood === undefined || r.impact === undefined ? [] : this.residualAboveInherent(r, i, r.likelihood * r.impact));
  }

  private residualAboveInherent(r: RiskEntry, i: number, inherent: number): ImportProblem[] {
    return r.residual_score !== undefined && r.residual_score > inherent
      ? [this.source.problem(['risks', i, 'residual_score'], `${r.residual_score} is above the inherent score ${inherent} (likelihood x impact); `
        + `controls in place cannot make a risk worse: give a residual score up to ${inherent}, or raise the likelihood or impact`)]
      : [];
  }

  private async checkAssetNames(): Promise<ImportProblem[]> {
    const named = (this.data.risks ?? []).map((r, i) => [i, r.asset] as const).filter(([, a]) => a !== undefined);
    if (named.length === 0) return [];
    const registered = await this.tx.select({ name: assets.name }).from(assets);
    const all = [...(this.data.assets ?? []).map((a) => a.name), ...registered.map((a) => a.name)];
    const known = new Set(all.map(lower));
    return named.filter(([, name]) => !known.has(lower(name!))).map(([i, name]) =>
      this.source.problem(['risks', i, 'asset'], `there is no asset named "${name}" in this file or the register.${suggestion(name!, all)}`));
  }

  private async checkRequirements(): Promise<ImportProblem[]> {
    const titles = this.data.framework_titles ?? [];
    const mappings = (this.data.controls ?? []).flatMap((c, i) => (c.mappings ?? []).map((m, j) => ({ ...m, path: ['controls', i, 'mappings', j, 'reference'] })));
    const frameworks = [...new Set([...titles, ...mappings].map((x) => x.framework))];
    if (frameworks.length === 0) return [];
    const rows = await this.tx.select({ id: frameworkRequirements.id, framework: frameworkRequirements.framework, reference: frameworkRequirements.reference })
      .from(frameworkRequirements).where(inArray(frameworkRequirements.framework, frameworks));
    const byFramework = new Map<string, string[]>();
    for (const r of rows) {
      this.requirementIds.set(requirementKey(r.framework, r.reference), r.id);
      byFramework.set(r.framework, [...(byFramework.get(r.framework) ?? []), r.reference]);
    }
    const problems: ImportProblem[] = [];
    const unknown = (framework: FrameworkId, given: string, reference: string): string =>
      unknownRequirement(framework, given, reference, byFramework.get(framework) ?? []);
    const definedHere = new Set<string>();
    titles.forEach((t, i) => {
      const reference = normaliseReference(t.framework, t.reference);
      if (this.requirementIds.has(requirementKey(t.framework, reference)) || !SHIPPED_FRAMEWORKS.includes(t.framework)) {
        definedHere.add(requirementKey(t.framework, reference));
      } else {
        problems.push(this.source.problem(['framework_titles', i, 'reference'], unknown(t.framework, t.reference, reference)));
      }
    });
    for (const m of mappings) {
      const reference = normaliseReference(m.framework, m.reference);
      const key = requirementKey(m.framework, reference);
      if (!this.requirementIds.has(key) && !definedHere.has(key)) problems.push(this.source.problem(m.path, unknown(m.framework, m.reference, reference)));
    }
    return problems;
  }

  // ---- writing ------------------------------------------------------------------------------

  private async record(section: Section, outcome: Outcome, entity: string, entityRef: string, before: unknown, after: unknown, action?: string,
    actor = this.actor) {
    const counts = (this.counts[section] ??= { created: 0, updated: 0, unchanged: 0 });
    counts[outcome]++;
    this.progress(section, counts.created + counts.updated + counts.unchanged);
    if (outcome === 'unchanged') return;
    await this.audit(actor, {
      action: action ?? (outcome === 'created' ? 'create' : 'update'), entity, entityRef, before: outcome === 'created' ? undefined : before, after,
    });
  }

  private async audit(actor: AuditActor, input: AuditInput) {
    this.pendingAudit.push({ actor, input });
    if (this.pendingAudit.length >= WRITE_BATCH) await this.flushAudit();
  }

  /** Appends the recorded events in order, chained as one-by-one appends would have chained them: one append per run of one actor. */
  private async flushAudit() {
    const events = this.pendingAudit;
    this.pendingAudit = [];
    for (let start = 0; start < events.length;) {
      const { actor } = events[start];
      let end = start + 1;
      while (end < events.length && events[end].actor.id === actor.id && events[end].actor.label === actor.label) end++;
      await appendAuditMany(this.tx, actor, events.slice(start, end).map((e) => e.input), this.now);
      start = end;
    }
  }

  private note(text: string) {
    this.options.onNote?.(text);
  }

  /** Says that `what`, given without approved_by, was put to the management body by `by`. */
  private askedNote(what: string, by: Person, asked: { approval: { ref: string } }, did = 'proposed') {
    this.note(`${what} was ${did} by ${by.name} without an approval in the file: the management body is asked to approve it (${asked.approval.ref}).`);
  }

  private progress(section: Section, done: number) {
    if (!this.onProgress) return;
    const entries = this.data[section];
    const total = Array.isArray(entries) ? entries.length : 1;
    if (done % PROGRESS_EVERY === 0 || done === total) this.onProgress({ section, done, total });
  }

  /** Adds the row, or changes the fields that differ from the register; fields left undefined are kept. */
  private async save<T extends object, V extends object>(
    existing: T | undefined,
    values: V,
    insert: (values: V) => Promise<T[]>,
    update: (changes: Partial<V>) => Promise<T[]>,
  ): Promise<{ row: T; outcome: Outcome }> {
    if (!existing) return { row: first(await insert(values)), outcome: 'created' };
    return this.change(existing, values, update);
  }

  /** Changes the fields of a registered row that differ from `values`; fields left undefined are kept. */
  private async change<T extends object, V extends object>(existing: T, values: V, update: (changes: Partial<V>) => Promise<T[]>)
    : Promise<{ row: T; outcome: Outcome }> {
    const changes = changedFields(existing, values);
    if (Object.keys(changes).length === 0) return { row: existing, outcome: 'unchanged' };
    return { row: first(await update(changes)), outcome: 'updated' };
  }

  private person(email: string | undefined): number | undefined {
    return email === undefined ? undefined : this.personIds.get(email);
  }

  /** A new register reference; one given in the file must be the one the register hands out next. */
  private async newRef(prefix: string, given: string | undefined, path: FieldPath, what: string): Promise<string> {
    const ref = await nextRef(this.tx, prefix);
    if (given !== undefined && given !== ref) {
      this.source.fail(path, `${given} is not in the register; a new ${what} gets the next free reference, ${ref}. Leave ref out to add one`);
    }
    return ref;
  }

  private async writePeople() {
    const entries = this.data.people ?? [];
    const saved: { existing?: typeof people.$inferSelect; row: typeof people.$inferSelect }[] = [];
    for (const chunk of batches(entries)) {
      // Emails are unique in the file (checked) and in the register: one lookup and one insert per batch.
      const found = await this.tx.select().from(people).where(inArray(sql`lower(${people.email})`, chunk.map((p) => lower(p.email))));
      const byEmail = new Map(found.map((r) => [lower(r.email), r]));
      const planned = chunk.map((p) => {
        const existing = byEmail.get(lower(p.email));
        return { p, existing, values: {
          name: p.name, email: existing?.email ?? p.email, slackUserId: p.slack_user_id, teamsAadObjectId: p.teams_aad_object_id,
          roles: p.roles, timezone: p.timezone, inScope: p.in_scope,
        } };
      });
      const fresh = planned.filter((x) => !x.existing);
      const inserted = fresh.length ? await this.tx.insert(people).values(fresh.map((x) => x.values)).returning() : [];
      const insertedByEmail = new Map(inserted.map((r) => [lower(r.email), r]));
      for (const { p, existing, values } of planned) {
        const row = existing
          ? (await this.change(existing, values, (c) => this.tx.update(people).set(c).where(eq(people.id, existing.id)).returning())).row
          : insertedByEmail.get(lower(p.email))!;
        this.personIds.set(p.email, row.id);
        this.rolesBefore.set(row.id, existing?.roles ?? []);
        this.peopleRows.set(row.id, saved.length);
        saved.push({ existing, row });
      }
    }
    // Managers second: a manager may be listed after the people reporting to them. One update per batch.
    const moves = entries.flatMap((p, i) => {
      const managerId = this.person(p.manager);
      return managerId !== undefined && saved[i].row.managerId !== managerId ? [{ i, id: saved[i].row.id, managerId }] : [];
    });
    for (const chunk of batches(moves)) {
      await this.tx.execute(sql`update people set manager_id = v.manager_id
        from unnest(${intArray(chunk.map((m) => m.id))}, ${intArray(chunk.map((m) => m.managerId))}) as v(id, manager_id) where people.id = v.id`);
      const updated = new Map((await this.tx.select().from(people).where(inArray(people.id, chunk.map((m) => m.id)))).map((r) => [r.id, r]));
      for (const { i, id } of chunk) saved[i].row = updated.get(id)!;
    }
    for (const { existing, row } of saved) {
      const outcome: Outcome = !existing ? 'created' : canonicalJson(existing) === canonicalJson(row) ? 'unchanged' : 'updated';
      await this.record('people', outcome, 'person', row.email, existing, row);
    }
  }

  private async writeScope() {
    const s = this.data.scope;
    if (!s) return;
    const path: FieldPath = ['scope', 'approved_by'];
    const [latest] = await this.tx.select().from(scopeStatements).orderBy(desc(scopeStatements.version)).limit(1);
    const same = latest?.text === s.statement;
    const approver = await this.approver(path, s.approved_by, 'the scope statement', same ? latest.proposedBy : null);
    if (latest && same && (!approver || latest.approvedBy === approver.id)) {
      await this.record('scope', 'unchanged', 'scope_statement', '', latest, latest);
      return;
    }
    // As in chat: approved, it is in force; otherwise proposed by the ISMS lead running the import and put to the management body.
    const proposer = approver ? undefined : this.proposer(path, 'the scope statement', '/isms scope statement');
    const [row] = await this.tx.insert(scopeStatements).values({
      version: (latest?.version ?? 0) + 1, text: s.statement, proposedBy: proposer?.id, createdAt: this.now,
      approvedBy: approver?.id, approvedAt: approver ? this.now : null,
    }).returning();
    await this.record('scope', latest ? 'updated' : 'created', 'scope_statement', scopeStatementRef(row.version), latest, row, proposer && 'propose', this.actorFor(proposer?.id));
    const ctx = proposer ? this.contextAs(proposer, this.actorFor(proposer.id)) : this.contextAs(approver!);
    await withdrawPending(ctx, scopeStatementApproval, `version ${row.version} replaces it`, proposer && scopeStatementRef(row.version));
    if (proposer) this.askedNote(`The scope statement version ${row.version}`, proposer, await requestApproval(ctx, scopeStatementApproval, scopeStatementRef(row.version)));
  }

  /**
   * The person a file says approved a version of the scope or the risk appetite (`approved_by`): as in chat, a member of the
   * management body who did not propose it (`proposedBy`, of the version in the register the file repeats).
   */
  private async approver(path: FieldPath, email: string | undefined, what: string, proposedBy: number | null,
    leftOut = 'leave approved_by out to ask the management body'): Promise<Person | undefined> {
    const person = await this.personById(this.person(email) ?? null);
    if (!person) return undefined;
    if (!person.roles.includes('management_body')) {
      this.source.fail(path, `${person.name} <${person.email}> is not in the management body, which approves ${what}: write the member who approved it, or ${leftOut}`);
    }
    // An approval comes from someone who was in the management body before the file: a file does not grant the role and use it at once.
    const row = this.peopleRows.get(person.id);
    if (row !== undefined && !this.rolesBefore.get(person.id)!.includes('management_body')) {
      this.source.fail(path, `${person.name} <${person.email}> is given the management-body role by this file (people[${row}], line ${this.source.lineOf(['people', row])}), `
        + `and an approval comes from someone who held it before the import: import the people first and then this file, or ${leftOut}`);
    }
    if (person.id === proposedBy) {
      this.source.fail(path, `${person.name} <${person.email}> proposed ${what} as the file gives it, and nobody approves their own proposal: `
        + 'write another member of the management body who approved it, or leave approved_by out (the management body is asked)');
    }
    return person;
  }

  /**
   * approved_by on a policy version already in the register: an approval is recorded when the version is published (or
   * by the management body's decision), and an import does not change it afterwards. A file repeating what the
   * register holds is fine; one saying otherwise is refused, with where the version's approval stands.
   */
  private async keepsApproval(policy: typeof policies.$inferSelect, version: typeof policyVersions.$inferSelect, email: string | undefined, path: FieldPath) {
    if (email === undefined) return;
    const given = await this.personById(this.person(email) ?? null);
    if (given && given.id === version.approvedBy) return;
    const stands = await versionApprovalInWords(this.tx, policy, version, undefined);
    this.source.fail(path, `${policy.ref} version ${version.version} is already in the register (${stands}); an import does not record or change `
      + `the approval of a version already published: leave approved_by out${version.approvedBy ? ', or write the approver the register holds' : ''}`
      + `${version.approvedBy ? '' : ' (the management body decides it in chat: "/isms approvals" shows what waits for it)'}`);
  }

  /** Who proposes a version a file gives without approver, as an ISMS lead proposes one in chat (`command`): the person running the import. */
  private proposer(path: FieldPath, what: string, command: string): Person {
    return this.leadRunning(path, `left out, ${what} is proposed to the management body, as "${command}" proposes it`,
      'write the management-body member who approved it');
  }

  private async writeInterestedParties() {
    for (const x of this.data.interested_parties ?? []) {
      const [existing] = await this.tx.select().from(interestedParties).where(ieq(interestedParties.name, x.name));
      const { row, outcome } = await this.save(existing, { name: x.name, kind: x.kind, needs: x.needs, reviewedOn: x.reviewed_on },
        (v) => this.tx.insert(interestedParties).values(v).returning(),
        (c) => this.tx.update(interestedParties).set(c).where(eq(interestedParties.id, existing!.id)).returning());
      await this.record('interested_parties', outcome, 'interested_party', row.name, existing, row);
    }
  }

  private assetValues(a: AssetEntry) {
    return {
      name: a.name, description: a.description, ownerId: this.person(a.owner), classification: a.classification,
      protectionRequirement: a.protection_requirement, inScope: a.in_scope,
    };
  }

  private async writeAssets() {
    const entries = this.data.assets ?? [];
    for (const [start, chunk] of batches(entries).map((c, b) => [b * WRITE_BATCH, c] as const)) {
      // An entry naming a ref may rename a row a later entry names: such a batch goes one entry at a time, as written.
      if (chunk.some((a) => a.ref !== undefined)) {
        for (const [k, a] of chunk.entries()) await this.writeAsset(a, start + k);
        continue;
      }
      const found = await this.tx.select().from(assets).where(inArray(sql`lower(${assets.name})`, chunk.map((a) => lower(a.name))));
      const byName = new Map(found.map((r) => [lower(r.name), r]));
      const planned = chunk.map((a) => ({ existing: byName.get(lower(a.name)), values: this.assetValues(a) }));
      const fresh = planned.filter((x) => !x.existing);
      const refs = await nextRefs(this.tx, 'AST', fresh.length);
      const inserted = fresh.length ? await this.tx.insert(assets).values(fresh.map((x, k) => ({ ...x.values, ref: refs[k] }))).returning() : [];
      const insertedByName = new Map(inserted.map((r) => [lower(r.name), r]));
      for (const { existing, values } of planned) {
        const { row, outcome } = existing
          ? await this.change(existing, values, (c) => this.tx.update(assets).set(c).where(eq(assets.id, existing.id)).returning())
          : { row: insertedByName.get(lower(values.name))!, outcome: 'created' as const };
        await this.record('assets', outcome, 'asset', row.ref, existing, row);
      }
    }
  }

  private async writeAsset(a: AssetEntry, i: number) {
    const [existing] = await this.tx.select().from(assets).where(a.ref ? eq(assets.ref, a.ref) : ieq(assets.name, a.name));
    const { row, outcome } = await this.save(existing, this.assetValues(a),
      async (v) => this.tx.insert(assets).values({ ...v, ref: await this.newRef('AST', a.ref, ['assets', i, 'ref'], 'asset') }).returning(),
      (c) => this.tx.update(assets).set(c).where(eq(assets.id, existing!.id)).returning());
    await this.record('assets', outcome, 'asset', row.ref, existing, row);
  }

  private async writeFrameworkTitles() {
    for (const t of this.data.framework_titles ?? []) {
      const reference = normaliseReference(t.framework, t.reference);
      const [existing] = await this.tx.select().from(frameworkRequirements)
        .where(and(eq(frameworkRequirements.framework, t.framework), eq(frameworkRequirements.reference, reference)));
      const parentReference = t.parent === undefined ? undefined : normaliseReference(t.framework, t.parent);
      const { row, outcome } = await this.save(existing, { framework: t.framework, reference, title: t.title, parentReference },
        (v) => this.tx.insert(frameworkRequirements).values(v).returning(),
        (c) => this.tx.update(frameworkRequirements).set(c).where(eq(frameworkRequirements.id, existing!.id)).returning());
      this.requirementIds.set(requirementKey(row.framework, row.reference), row.id);
      await this.record('framework_titles', outcome, 'framework_requirement', `${row.framework} ${row.reference}`, existing, row);
    }
  }

  private async mappingsOf(controlId: number): Promise<{ framework: string; reference: string }[]> {
    return this.tx.select({ framework: frameworkRequirements.framework, reference: frameworkRequirements.reference })
      .from(controlMappings).innerJoin(frameworkRequirements, eq(controlMappings.requirementId, frameworkRequirements.id))
      .where(eq(controlMappings.controlId, controlId)).orderBy(asc(frameworkRequirements.framework), asc(frameworkRequirements.reference));
  }

  private async writeControls() {
    for (const c of this.data.controls ?? []) {
      const [existing] = await this.tx.select().from(controls).where(eq(controls.code, c.code));
      const { row, outcome } = await this.save(existing, {
        code: c.code, title: c.title, description: c.description, ownerId: this.person(c.owner),
        evidenceFrequency: c.evidence_frequency, applicable: c.applicable, justification: c.justification,
      }, (v) => this.tx.insert(controls).values(v).returning(),
      (changes) => this.tx.update(controls).set(changes).where(eq(controls.id, existing!.id)).returning());
      const before = existing ? { ...existing, mappings: await this.mappingsOf(existing.id) } : undefined;
      let mappingsChanged = false;
      if (c.mappings) {
        // The file lists all of a control's mappings: it replaces the ones in the register.
        const wanted = [...new Set(c.mappings.map((m) => this.requirementIds.get(requirementKey(m.framework, normaliseReference(m.framework, m.reference)))!))];
        const current = existing
          ? (await this.tx.select().from(controlMappings).where(eq(controlMappings.controlId, row.id))).map((m) => m.requirementId)
          : [];
        const toRemove = current.filter((id) => !wanted.includes(id));
        const toAdd = wanted.filter((id) => !current.includes(id));
        if (toRemove.length) await this.tx.delete(controlMappings).where(and(eq(controlMappings.controlId, row.id), inArray(controlMappings.requirementId, toRemove)));
        if (toAdd.length) await this.tx.insert(controlMappings).values(toAdd.map((requirementId) => ({ controlId: row.id, requirementId })));
        mappingsChanged = toRemove.length + toAdd.length > 0;
      }
      const final = outcome === 'unchanged' && mappingsChanged ? 'updated' : outcome;
      await this.record('controls', final, 'control', row.code, before, { ...row, mappings: await this.mappingsOf(row.id) });
    }
  }

  private async writePolicies() {
    for (const [i, p] of (this.data.policies ?? []).entries()) {
      const path: FieldPath = ['policies', i];
      const [existing] = await this.tx.select().from(policies).where(p.ref ? eq(policies.ref, p.ref) : ieq(policies.title, p.title));
      const contentSha256 = sha256(p.content);
      const versions = existing
        ? await this.tx.select().from(policyVersions).where(eq(policyVersions.policyId, existing.id))
          .orderBy(desc(policyVersions.major), desc(policyVersions.minor))
        : [];
      const latest = versions[0];
      // Left out, the version is the policy's current one (1.0 for a new policy): a file left without it does not
      // publish its text under an older number; changed text needs the number it is published as.
      if (!p.version && latest && latest.contentSha256 !== contentSha256) {
        this.source.fail([...path, 'version'], `left out, it is the current version ${latest.version} of ${existing!.ref} (${existing!.title}), which is published `
          + `with other content: to publish this text, write version: "${latest.major}.${latest.minor + 1}" (or "${latest.major + 1}.0" for a major change)`);
      }
      const version = p.version ?? latest?.version ?? '1.0';
      const [major, minor] = version.split('.').map(Number);
      const same = versions.find((v) => v.version === version);
      if (same && same.contentSha256 !== contentSha256) {
        this.source.fail([...path, 'version'], `version ${version} of ${existing!.ref} is already published with other content; publish the change as a new version, e.g. ${major}.${minor + 1}`);
      }
      if (!same && latest && (major < latest.major || (major === latest.major && minor <= latest.minor))) {
        this.source.fail([...path, 'version'], `must be higher than the published version ${latest.version} of ${existing!.ref}`);
      }
      const { row, outcome } = await this.save(existing, { title: p.title, ownerId: this.person(p.owner) },
        async (v) => this.tx.insert(policies).values({ ...v, ref: await this.newRef('POL', p.ref, [...path, 'ref'], 'policy') }).returning(),
        (c) => this.tx.update(policies).set(c).where(eq(policies.id, existing!.id)).returning());
      let published = same ?? latest;
      if (same) {
        await this.keepsApproval(row, same, p.approved_by, [...path, 'approved_by']);
      } else {
        // As in chat, the management body approves a policy version: a file names the member who did, or else the
        // version is published as "policy publish" publishes it, a major one put to the management body.
        const approver = await this.approver([...path, 'approved_by'], p.approved_by, `${row.ref} version ${version}`, null,
          'leave approved_by out (it is published as "/isms policy publish" does, a major version put to the management body)');
        if (approver) {
          published = first(await this.tx.insert(policyVersions).values({
            policyId: row.id, version, major, minor, content: p.content, contentSha256, url: p.url,
            approvedBy: approver.id, approvedAt: this.now, publishedAt: this.now,
          }).returning());
        } else {
          const publisher = this.leadRunning([...path, 'approved_by'], `left out, ${row.ref} version ${version} is published as "/isms policy publish" publishes it`,
            'write the management-body member who approved it');
          const done = await publishPolicy(this.contextAs(publisher, this.actorFor(publisher.id)), { policy: row.ref, version: { major, minor, version }, content: p.content, url: p.url });
          published = done.version;
          if (done.approval) this.askedNote(`${row.ref} ${row.title} version ${version}`, publisher, { approval: done.approval }, 'published');
        }
      }
      const final = outcome === 'unchanged' && !same ? 'updated' : outcome;
      await this.record('policies', final, 'policy', row.ref, existing && { ...existing, version: latest }, { ...row, version: published });
    }
  }

  private async writeTrainingCourses() {
    for (const t of this.data.training_courses ?? []) {
      const [existing] = await this.tx.select().from(trainingCourses).where(eq(trainingCourses.code, t.code));
      const { row, outcome } = await this.save(existing, {
        code: t.code, title: t.title, audienceRole: t.audience_role, validityMonths: t.validity_months, legalBasis: t.legal_basis,
      }, (v) => this.tx.insert(trainingCourses).values(v).returning(),
      (c) => this.tx.update(trainingCourses).set(c).where(eq(trainingCourses.id, existing!.id)).returning());
      await this.record('training_courses', outcome, 'training_course', row.code, existing, row);
    }
  }

  private async writeSuppliers() {
    for (const [i, s] of (this.data.suppliers ?? []).entries()) {
      const path: FieldPath = ['suppliers', i];
      // By name, the live entry: a rejected supplier may have been declared again since.
      const [existing] = await this.tx.select().from(suppliers).where(s.ref ? eq(suppliers.ref, s.ref) : ieq(suppliers.name, s.name))
        .orderBy(sql`${suppliers.status} = 'rejected'`, desc(suppliers.id)).limit(1);
      // A decision taken on a supplier (accepted, rejected in triage) is not taken back by a file, as a due date is not.
      if (existing && s.status && s.status !== existing.status && existing.status !== 'declared') {
        this.source.fail([...path, 'status'], existing.status === 'rejected'
          ? `${existing.ref} (${existing.name}) was rejected in triage; an import does not take that decision back: leave the supplier out of the file, `
            + 'or declare it again ("/isms declare supplier") to put it to triage anew'
          : `${existing.ref} (${existing.name}) is ${existing.status}; an import does not take that decision back (declared, it would wait in triage again): `
            + `leave status out, or write ${existing.status}`);
      }
      // A declared supplier waiting in triage is decided there, by someone other than who declared it, not accepted by a file.
      // One an earlier import left declared without a triage item is no exception: the next import without status puts it there.
      if (existing?.status === 'declared' && s.status === 'accepted') {
        const waiting = await this.triageItemOf(existing.ref);
        this.source.fail([...path, 'status'], waiting
          ? `${existing.ref} (${existing.name}) waits in triage as ${waiting.ref}: decide it there `
            + `("/isms triage accept ${waiting.ref}", by someone other than who declared it); an import does not accept it: leave status out, or write declared`
          : `${existing.ref} (${existing.name}) is declared and waits for a triage decision, by someone other than who declared it; an import does not accept it: `
            + 'leave status out (or write declared) and import the file again, which puts it in triage ("/isms triage" lists it), then decide it there');
      }
      const ownerId = this.person(s.owner) ?? existing?.ownerId ?? null;
      const values = {
        name: s.name, service: s.service, ictService: s.ict_service, supportsCriticalFunction: s.supports_critical_function,
        dataAccess: s.data_access, criticalityTier: s.criticality_tier, contractRef: s.contract_ref, exitStrategy: s.exit_strategy,
        ownerId: this.person(s.owner), nextReviewOn: s.next_review_on, status: s.status,
        // A declared supplier names who declared it, as one declared in chat does; one imported before it did gets it now.
        declaredBy: (s.status ?? existing?.status ?? 'declared') === 'declared' && !existing?.declaredBy ? (await this.declarer(ownerId, path)).id : undefined,
      };
      const { row, outcome } = await this.save(existing, values,
        async (v) => this.tx.insert(suppliers).values({ ...v, ref: await this.newRef('SUP', s.ref, [...path, 'ref'], 'supplier') }).returning(),
        (c) => this.tx.update(suppliers).set(c).where(eq(suppliers.id, existing!.id)).returning());
      // New to the register and accepted, a supplier already relied on skips triage: its event and the answer say who accepted it so.
      const accepter = outcome === 'created' && row.status === 'accepted' ? this.accepter(row, path) : undefined;
      const acceptance = accepter && { by: { id: accepter.id, name: accepter.name, email: accepter.email }, how: `imported from ${this.source.fileName} as accepted, without triage` };
      // New to the register and declared: recorded as a declaration records it.
      await this.record('suppliers', outcome, 'supplier', row.ref, existing, acceptance ? { ...row, acceptance } : row,
        outcome === 'created' && row.status === 'declared' ? 'declare' : undefined, this.actorFor(outcome === 'created' ? row.declaredBy : undefined));
      if (accepter) this.note(`${row.ref} ${row.name} was accepted by this import, run by ${accepter.name}, without triage (the file gives it as accepted).`);
      await this.settleSupplier(row, outcome, path, accepter);
    }
  }

  /** Who accepts a supplier new to the register that a file gives as accepted: the person running the import. */
  private accepter(row: Supplier, path: FieldPath): Person {
    const runner = this.runner();
    if (!runner) {
      this.source.fail([...path, 'status'], `${row.name} is new to the register, and accepted by the import it skips triage, which is recorded under the person running it: `
        + `name who runs it (${RUN_AS}), or leave status out to put it in triage`);
    }
    // As in triage, where an ISMS lead or a member of the management body decides.
    this.requireRoles(runner, TRIAGE_DECIDERS, [...path, 'status'], `this file accepts ${row.name} without triage`, 'leave status out to put it in triage',
      `${runner.name} <${runner.email}> runs this import, and accepting ${row.name} without triage is for whoever decides `
        + 'triage, an ISMS lead or a member of the management body: have one of them run it, or leave status out to put it in triage');
    return runner;
  }

  /** Who an imported declared supplier is declared by: its owner, or else the person running the import (anyone may declare one in chat). */
  private async declarer(ownerId: number | null, path: FieldPath): Promise<Person> {
    const declarer = (await this.personById(ownerId)) ?? this.acting.person;
    if (!declarer) {
      this.source.fail([...path, 'owner'], 'a supplier imported as declared waits for triage, which names who declared it: give its owner, '
        + `or name who runs the import (${RUN_AS})`);
    }
    return declarer;
  }

  /**
   * Sets going what a declaration or a triage decision would have for the supplier as imported: a declared one
   * waits on the triage list; for an accepted one, approvals it no longer matches go stale and, at tier 1, the
   * management body is asked to approve it.
   */
  private async settleSupplier(row: Supplier, outcome: Outcome, path: FieldPath, accepter?: Person) {
    if (row.status === 'declared') {
      if (await this.triageItemOf(row.ref)) return;
      const declarer = (await this.personById(row.declaredBy)) ?? (await this.declarer(row.ownerId, path));
      await putSupplierOnTriage(this.contextAs(declarer, this.actorFor(declarer.id)), row, await nextRef(this.tx, 'SC'),
        `${row.name} (${row.ref}, ${TIER_LABELS[row.criticalityTier]}) was imported from ${this.source.fileName} as declared by ${declarer.name}.`);
      return;
    }
    if (outcome === 'unchanged' && !isTierOne(row)) return;
    // Whoever accepts a supplier in triage asks the body; for an import, the person running it if they decide triage, or else the supplier's owner.
    const runner = this.acting.person;
    const requester = accepter ?? (runner && this.mayAct(runner, TRIAGE_DECIDERS) ? runner : undefined) ?? (await this.personById(row.ownerId));
    if (!requester) {
      if (isTierOne(row)) {
        this.source.fail([...path, 'status'], 'an accepted tier-1 supplier needs the management body\'s approval, asked for by an ISMS lead or its owner: '
          + `give its owner, or have an ISMS lead run the import (${RUN_AS})`);
      }
      return;
    }
    await settleSupplierApproval(this.contextAs(requester), row, `the import ${this.source.fileName} changed ${row.ref}`);
  }

  /** The triage item a declared supplier waits in, if it does. */
  private async triageItemOf(supplierRef: string): Promise<{ ref: string } | undefined> {
    const [waiting] = await this.tx.select({ ref: scopeChanges.ref }).from(scopeChanges)
      .where(and(eq(scopeChanges.kind, 'new_supplier'), eq(scopeChanges.subjectRef, supplierRef), eq(scopeChanges.status, 'proposed')));
    return waiting;
  }

  private async personById(id: number | null): Promise<Person | undefined> {
    if (id === null) return undefined;
    const [person] = await this.tx.select().from(people).where(eq(people.id, id));
    return person;
  }

  /**
   * The import as a command run by `person`, for the register's own steps (triage, approvals): their audit events join the
   * import's, under `actor` (the import's own, unless the step is one the person running it takes in their name).
   */
  private contextAs(person: Person, actor = this.actor): CommandContext {
    return {
      db: this.tx, actor: toActor(person), channel: 'import', now: this.now, attachments: [],
      audit: (input) => this.audit(actor, input),
      notify: (msg) => enqueue(this.tx, msg),
      notifyEach: (msgs) => enqueueMany(this.tx, msgs),
      form: () => Promise.reject(new Error('An import asks nothing in a form.')),
      progress: () => Promise.resolve(),
    };
  }

  private async writeRisks() {
    for (const [i, r] of (this.data.risks ?? []).entries()) {
      const path: FieldPath = ['risks', i];
      const [existing] = await this.tx.select().from(risks).where(r.ref ? eq(risks.ref, r.ref) : ieq(risks.title, r.title));
      const [asset] = r.asset ? await this.tx.select({ id: assets.id }).from(assets).where(ieq(assets.name, r.asset)) : [];
      if (!existing) {
        this.source.failAll([
          ...(['likelihood', 'impact'] as const).filter((f) => r[f] === undefined).map((f) => this.source.problem([...path, f],
            'is required for a risk not yet in the register: a whole number from 1 to 5 (a registered risk left without it keeps its own)')),
          ...(r.treatment ? [] : [this.source.problem([...path, 'treatment'], `is required for a risk not yet in the register: one of ${TREATMENTS.join(', ')}`)]),
        ]);
      }
      // Left out, a registered risk's likelihood or impact is the register's, as "risk update" keeps what it is not given.
      const likelihood = r.likelihood ?? existing!.likelihood;
      const impact = r.impact ?? existing!.impact;
      const inherentScore = likelihood * impact;
      this.source.failAll(this.residualAboveInherent(r, i, inherentScore));
      const residualScore = this.residualOf(r, existing, inherentScore, path);
      // Scores changed by a file are a reassessment, as "risk update" makes one: a changed residual score reopens an accepted risk.
      const reassessed = existing && (existing.likelihood !== likelihood || existing.impact !== impact || existing.residualScore !== residualScore);
      const reopen = existing !== undefined && reopensAccepted(existing, residualScore);
      // An acceptance set the treatment "accept"; while the risk stays accepted, a file does not change it.
      if (existing?.status === 'accepted' && !reopen && r.treatment && r.treatment !== existing.treatment) {
        this.source.fail([...path, 'treatment'], `${existing.ref} (${existing.title}) is accepted; an import does not change the treatment its acceptance set `
          + `("${existing.treatment}"): leave treatment out, or write ${existing.treatment}; to reopen the risk, use "/isms risk update" or change its scores`);
      }
      // Only an acceptance decision ("risk accept", approved above the appetite) makes a registered risk's treatment "accept";
      // "risk update" does not change a treatment, and a new risk may be declared so, as "risk add" allows.
      if (existing && existing.status !== 'accepted' && r.treatment === 'accept' && existing.treatment !== 'accept') {
        this.source.fail([...path, 'treatment'], `${existing.ref} (${existing.title}) is ${existing.status}, treated "${existing.treatment}"; an import does not accept a risk: `
          + `accept it with "/isms risk accept ${existing.ref}" (the management body approves it above the risk appetite), or leave treatment out, or write ${existing.treatment}`);
      }
      const values = {
        title: r.title, description: r.description, assetId: asset?.id, scopeArea: r.scope_area, threatRef: r.threat_ref,
        likelihood, impact, inherentScore, residualScore,
        treatment: r.treatment, ownerId: this.person(r.owner), status: reopen ? 'open' : undefined,
      };
      const { row, outcome } = await this.save(existing, values,
        async (v) => this.tx.insert(risks).values({ ...v, treatment: v.treatment!, ref: await this.newRef('R', r.ref, [...path, 'ref'], 'risk') }).returning(),
        (c) => this.tx.update(risks).set(c).where(eq(risks.id, existing!.id)).returning());
      if (!existing) {
        await this.record('risks', outcome, 'risk', row.ref, existing, row);
        await recordAssessment(this.contextAs(this.assessor(row, undefined, path)), row, `first assessment, as the risk was imported from ${this.source.fileName}`);
        continue;
      }
      const ctx = reassessed ? this.contextAs(this.assessor(row, existing, path)) : undefined;
      if (ctx) await recordAssessment(ctx, row, `reassessed by the import ${this.source.fileName}`, existing);
      await this.record('risks', outcome, 'risk', row.ref, existing, row, reopen ? 'reopen' : undefined);
      if (ctx && residualScore !== existing.residualScore) {
        await refreshAcceptanceApprovals(ctx, existing, residualScore, ` in the import ${this.source.fileName}`);
      }
    }
  }

  /**
   * The residual score a file gives a risk. Left out, a new risk's is its inherent score and a registered risk keeps
   * its own (a file left without it does not undo a reassessment made since), unless the file's likelihood x impact
   * falls below it: the row is refused rather than the score lowered unasked.
   */
  private residualOf(r: RiskEntry, existing: Risk | undefined, inherent: number, path: FieldPath): number {
    if (r.residual_score !== undefined || !existing) return r.residual_score ?? inherent;
    if (existing.residualScore > inherent) {
      this.source.fail([...path, 'residual_score'], `left out, ${existing.ref} keeps its residual score ${existing.residualScore}, which is above the inherent `
        + `score ${inherent} (likelihood x impact) this file gives it: write residual_score (up to ${inherent}), or a likelihood and impact scoring ${existing.residualScore} or more`);
    }
    return existing.residualScore;
  }

  /** The person running the import, as the register holds them once the file's people are in it. */
  private runner(): Person | undefined {
    return this.acting.named ? this.acting.person : undefined;
  }

  /**
   * Who runs the import: the person named by --as or else, as the terminal chat acts by default, the register's first
   * ISMS lead before the import (in a register that had none, the first the file gives).
   */
  private async whoRunsIt(): Promise<{ person: Person | undefined; named: boolean }> {
    if (this.options.by) return { person: await this.personById(this.person(lower(this.options.by.trim())) ?? null), named: true };
    if (this.leadBeforeId !== undefined) return { person: await this.personById(this.leadBeforeId), named: false };
    const [lead] = (await peopleWithRole(this.tx, 'isms_lead')).sort((a, b) => a.id - b.id);
    return { person: lead, named: false };
  }

  /**
   * Whether `person` held one of `roles` before this import, or the file gives them one nobody in the register held
   * (a new register's first import): a file does not give a role and use it at once.
   */
  private mayAct(person: Person, roles: Role[]): boolean {
    const before = this.rolesBefore.get(person.id) ?? person.roles;
    return roles.some((r) => before.includes(r) || (!this.heldBefore.has(r) && person.roles.includes(r)));
  }

  /** Refuses `path` with `refusal` unless the person running the import may do `doing` by their roles before it (see mayAct). */
  private requireRoles(person: Person, roles: Role[], path: FieldPath, doing: string, instead: string, refusal: string): void {
    if (this.mayAct(person, roles)) return;
    const granted = roles.find((r) => person.roles.includes(r));
    const row = this.peopleRows.get(person.id);
    if (granted !== undefined && row !== undefined) {
      this.source.fail(path, `${person.name} <${person.email}> runs this import and is given the ${ROLE_LABELS[granted]} role by this file `
        + `(people[${row}], line ${this.source.lineOf(['people', row])}), and ${doing}, which is for someone who was ${holdersOf(roles)} before the import: `
        + `import the people first and then this file, or ${instead}`);
    }
    this.source.fail(path, refusal);
  }

  /** The person running the import (named or not), for a step only an ISMS lead takes in chat; otherwise the row is refused. */
  private leadRunning(path: FieldPath, doing: string, instead: string): Person {
    const runner = this.acting.person;
    if (!runner) {
      this.source.fail(path, `${doing}, which an ISMS lead does, and neither the register nor this file has one to run the import: `
        + `add one under people to run it (${RUN_AS}), or ${instead}`);
    }
    this.requireRoles(runner, ['isms_lead'], path, doing, instead, `${runner.name} <${runner.email}> runs this import, and ${doing}, which only the ISMS lead does: `
      + `have the ISMS lead run it (${RUN_AS}), or ${instead}`);
    return runner;
  }

  /**
   * Who the audit events of a step `personId` takes in their name (a proposal, a publication, a declaration) are under:
   * they, when they run the import; else the import.
   */
  private actorFor(personId: number | null | undefined): AuditActor {
    const runner = this.acting.person;
    return runner && runner.id === personId ? { id: runner.id, label: `${runner.name} <${runner.email}> via import ${this.source.fileName}` } : this.actor;
  }

  /**
   * Whom an imported assessment names, as a risk's history names a person: the person running the import, who may
   * assess it as in chat ("risk add" is the ISMS lead's; "risk update" its owner's or the ISMS lead's). Its rationale
   * and audit event say it came from the import.
   */
  private assessor(risk: Risk, existing: Risk | undefined, path: FieldPath): Person {
    const runner = this.runner();
    const what = existing ? `reassesses ${risk.ref} (${risk.title})` : `adds ${risk.title} with its first assessment`;
    if (!runner) {
      this.source.fail(path, `this file ${what}, which is recorded under the person running the import: name who runs it `
        + `(${RUN_AS}), an ISMS lead or, for a risk already in the register, its owner`);
    }
    // The owner as the register had it before the file: a file making the runner a risk's owner does not let them reassess it.
    if (existing?.ownerId === runner.id) return runner;
    this.requireRoles(runner, ['isms_lead'], path, `this file ${what}`, 'leave the risk out',
      `${runner.name} <${runner.email}> runs this import, and this file ${what}, which `
        + `${existing ? `only its owner or an ISMS lead may do ("/isms risk update")` : 'only an ISMS lead may do ("/isms risk add")'}: `
        + `have an ISMS lead${existing ? ' or the risk\'s owner' : ''} run it, or leave the risk out`);
    return runner;
  }

  private async writeRiskAppetite() {
    const a = this.data.risk_appetite;
    if (!a) return;
    const path: FieldPath = ['risk_appetite', 'approved_by'];
    const [latest] = await this.tx.select().from(riskAppetite).orderBy(desc(riskAppetite.id)).limit(1);
    const same = latest && latest.maxResidualScore === a.max_residual_score && latest.statement === a.statement;
    const approver = await this.approver(path, a.approved_by, 'the risk appetite', same ? latest.proposedBy : null);
    // approved_by left out keeps the approval (or the request for it) of an appetite the file leaves as it is, as for the scope.
    if (latest && same && (!approver || latest.approvedBy === approver.id)) {
      await this.record('risk_appetite', 'unchanged', 'risk_appetite', '', latest, latest);
      return;
    }
    // Appetite is kept as versions: the newest approved row is the one in force. Without an approver, a version is
    // proposed by the ISMS lead running the import and put to the management body, as "risk appetite" does; it has no approval time.
    const proposer = approver ? undefined : this.proposer(path, 'the risk appetite', '/isms risk appetite');
    const [row] = await this.tx.insert(riskAppetite).values({
      maxResidualScore: a.max_residual_score, statement: a.statement, approvedBy: approver?.id ?? null, approvedAt: approver ? this.now : null,
      proposedBy: proposer?.id ?? null, proposedAt: proposer ? this.now : null,
    }).returning();
    await this.record('risk_appetite', latest ? 'updated' : 'created', 'risk_appetite', `risk appetite #${row.id}`, latest, row, proposer && 'propose',
      this.actorFor(proposer?.id));
    // A request about an older version is withdrawn: by the new request, or by the approval the file records.
    if (proposer) this.askedNote(`The risk appetite version ${row.id}`, proposer, await requestApproval(this.contextAs(proposer, this.actorFor(proposer.id)), riskAppetiteSubject, RISK_APPETITE_REF));
    else await withdrawPending(this.contextAs(approver!), riskAppetiteSubject, `version ${row.id}, approved by ${approver!.name}, replaces it`);
  }

  private async writePoam() {
    for (const [i, p] of (this.data.poam ?? []).entries()) {
      const path: FieldPath = ['poam', i];
      const [existing] = await this.tx.select().from(poamItems).where(p.ref ? eq(poamItems.ref, p.ref) : ieq(poamItems.weakness, p.weakness));
      if (existing && existing.dueOn !== p.due_on) {
        this.source.fail([...path, 'due_on'], `${existing.ref} is due on ${existing.dueOn}; a due date changes through an extension request, not an import`);
      }
      const milestonesOf = (itemId: number) => this.tx.select().from(poamMilestones).where(eq(poamMilestones.itemId, itemId)).orderBy(asc(poamMilestones.seq));
      const { row, outcome } = await this.save(existing, {
        weakness: p.weakness, source: p.source, sourceRef: p.source_ref, ownerId: this.person(p.owner)!, dueOn: p.due_on,
      }, async (v) => this.tx.insert(poamItems).values({ ...v, ref: await this.newRef('POAM', p.ref, [...path, 'ref'], 'POA&M item') }).returning(),
      (c) => this.tx.update(poamItems).set(c).where(eq(poamItems.id, existing!.id)).returning());
      const before = existing ? { ...existing, milestones: await milestonesOf(existing.id) } : undefined;
      // Milestones already recorded keep their progress; the file can add new ones and move open ones.
      const current = before?.milestones ?? [];
      let milestonesChanged = false;
      let seq = current.reduce((max, m) => Math.max(max, m.seq), 0);
      for (const m of p.milestones ?? []) {
        const known = current.find((c) => lower(c.description) === lower(m.description));
        if (!known) {
          await this.tx.insert(poamMilestones).values({ itemId: row.id, seq: ++seq, description: m.description, dueOn: m.due_on });
          milestonesChanged = true;
        } else if (!known.doneAt && known.dueOn !== m.due_on) {
          await this.tx.update(poamMilestones).set({ dueOn: m.due_on }).where(eq(poamMilestones.id, known.id));
          milestonesChanged = true;
        }
      }
      const final = outcome === 'unchanged' && milestonesChanged ? 'updated' : outcome;
      await this.record('poam', final, 'poam_item', row.ref, before, { ...row, milestones: await milestonesOf(row.id) });
    }
  }
}
