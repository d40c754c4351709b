import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Db } from '../db/client.js';
import { frameworkRequirements, requirementCrosswalks } from '../db/schema/index.js';
import { appendAudit } from '../core/audit.js';
import type { FrameworkId } from './frameworks.js';
import { projectPath } from '../paths.js';
import { LOCK_KEYS, lockRegister } from '../db/locks.js';

export const REFERENCE_DIR = projectPath('reference');

/** Rows per INSERT: well below PostgreSQL's 65,535 bind parameters, few round trips. */
const CHUNK = 1000;

type Requirement = typeof frameworkRequirements.$inferInsert;
type Crosswalk = typeof requirementCrosswalks.$inferInsert;

export interface ReferenceLoadResult {
  /** Requirements added per framework (0 when they were already there). */
  requirements: Record<string, number>;
  crosswalks: number;
}

/** Framework names as the crosswalk CSVs spell them, to the register's identifiers. */
const CROSSWALK_FRAMEWORKS: Record<string, string> = {
  'ISO/IEC 27001:2022': 'ISO27001:2022',
  'NIST CSF 2.0': 'NIST-CSF-2.0',
  'NIST CSF 1.1': 'NIST-CSF-1.1',
  'NIST SP 800-53 Rev 5': 'SP800-53r5',
  'NIS2 IR (EU) 2024/2690 Annex': 'NIS2-IR-2024-2690',
};

const CROSSWALK_FILES = [
  'mappings/nist-csf-2.0_to_iso27001-2022.csv',
  'mappings/nist-sp800-53r5_to_iso27001-2022.csv',
  'mappings/nis2-ir-2024-2690-annex_to_iso27001-2022.csv',
  'mappings/nist-csf-1.1_to_csf-2.0.csv',
];

const readCsv = (dir: string, file: string) =>
  parse(readFileSync(path.join(dir, file), 'utf8'), { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
const readJson = <T>(dir: string, file: string) => JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as T;
const titleCase = (s: string) => s.charAt(0) + s.slice(1).toLowerCase();

/** Every shipped requirement, read from reference/. */
export function readRequirements(dir = REFERENCE_DIR): Requirement[] {
  const out: Requirement[] = [];
  const add = (framework: FrameworkId, reference: string, title: string | null, parentReference: string | null = null) =>
    out.push({ framework, reference, title: title || null, parentReference });

  const csf = readJson<{
    functions: { id: string; title: string }[];
    categories: { id: string; function_id: string; title: string }[];
    subcategories: { id: string; category_id: string; statement: string }[];
  }>(dir, 'nist-csf-2.0/csf2_core.json');
  for (const f of csf.functions) add('NIST-CSF-2.0', f.id, titleCase(f.title));
  for (const c of csf.categories) add('NIST-CSF-2.0', c.id, c.title, c.function_id);
  for (const s of csf.subcategories) add('NIST-CSF-2.0', s.id, s.statement, s.category_id);

  const nis2 = readJson<{ paragraphs: { ref: string; text: string }[] }>(dir, 'eu/nis2_art21.json');
  for (const p of nis2.paragraphs) {
    const parent = p.ref.split('.').slice(0, -1).join('.');
    add('NIS2', p.ref, p.text, parent.includes('.') ? parent : null);
  }

  for (const r of readCsv(dir, 'eu/nis2_ir-2024-2690_annex.csv')) {
    // Two unnumbered continuation paragraphs in the source have nothing a control could be mapped to.
    if (!r.id) continue;
    add('NIS2-IR-2024-2690', r.id, r.title || r.text, r.id.includes('.') ? r.id.split('.').slice(0, -1).join('.') : null);
  }

  for (const r of readCsv(dir, 'eu/dora_articles.csv')) add('DORA', r.article, r.title);

  // ISO titles are ISO copyright: identifiers only; organisations load their own titles.
  for (const r of readCsv(dir, 'iso/iso27001-2022_ids.csv')) add('ISO27001:2022', r.id, null);
  for (const r of readCsv(dir, 'iso/iso42001-2023_ids.csv')) add('ISO42001:2023', r.id, null);

  // Withdrawn controls are left out: a control mapped to one would point at nothing NIST still asks for.
  for (const r of readCsv(dir, 'nist-sp800-53r5/sp800-53r5_controls.csv')) {
    if (r.withdrawn === 'True') continue;
    add('SP800-53r5', r.label, r.title, r.is_enhancement === 'True' ? r.label.replace(/\(\d+\)$/, '') : null);
  }
  return out;
}

/** Every shipped crosswalk pair, with framework names translated to the register's identifiers. */
export function readCrosswalks(dir = REFERENCE_DIR): Crosswalk[] {
  return CROSSWALK_FILES.flatMap((file) => readCsv(dir, file).map((r) => {
    const source = CROSSWALK_FRAMEWORKS[r.source_framework];
    const target = CROSSWALK_FRAMEWORKS[r.target_framework];
    if (!source || !target) throw new Error(`${file}: unknown framework "${source ? r.target_framework : r.source_framework}"`);
    return {
      sourceFramework: source, sourceReference: r.source_id,
      targetFramework: target, targetReference: r.target_id, relationship: r.relationship,
    };
  }));
}

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/**
 * Loads the shipped framework requirements and crosswalks. Rows already present are left as they are,
 * so loading again adds nothing; a load that adds rows records one audit event with the counts.
 */
export async function loadReferenceData(db: Db, dir = REFERENCE_DIR): Promise<ReferenceLoadResult> {
  const requirements = readRequirements(dir);
  const crosswalks = readCrosswalks(dir);
  return db.transaction(async (tx) => {
    await lockRegister(tx, LOCK_KEYS.referenceData);
    const added: Record<string, number> = {};
    for (const chunk of chunks(requirements)) {
      const inserted = await tx.insert(frameworkRequirements).values(chunk).onConflictDoNothing()
        .returning({ framework: frameworkRequirements.framework });
      for (const r of inserted) added[r.framework] = (added[r.framework] ?? 0) + 1;
    }
    let crosswalksAdded = 0;
    for (const chunk of chunks(crosswalks)) {
      const inserted = await tx.insert(requirementCrosswalks).values(chunk).onConflictDoNothing()
        .returning({ id: requirementCrosswalks.id });
      crosswalksAdded += inserted.length;
    }
    const result = { requirements: added, crosswalks: crosswalksAdded };
    if (Object.keys(added).length > 0 || crosswalksAdded > 0) {
      await appendAudit(tx, { id: null, label: 'load-reference' }, {
        action: 'load', entity: 'reference_data', entityRef: 'framework-data', after: result,
      });
    }
    return result;
  });
}
