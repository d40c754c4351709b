import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { projectPath } from '../paths.js';

/** A threat of the ISMS pattern's catalogue; `stewardedBy` names the sibling pattern that owns an operational one. */
export interface Threat { id: string; name: string; description: string; stewardedBy: string | null }

export const THREATS_FILE = projectPath('reference', 'threats', 'isms-sp018_threats.csv');

let catalogue: Threat[] | undefined;

/** T-IS-001 to T-IS-015, in order; read from reference/ once, when first asked for. */
export function threats(): Threat[] {
  catalogue ??= (parse(readFileSync(THREATS_FILE, 'utf8'), { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[])
    .map((r) => ({ id: r.id, name: r.name, description: r.description || r.name, stewardedBy: r.stewarded_by || null }));
  return catalogue;
}

/**
 * The catalogue id a person meant: any letter case, and the number with or without its leading zeros
 * ("t-is-4" is T-IS-004). "T-IS-04" is refused: it may be 004 or 014 with a digit missing.
 */
export function threatId(given: string): string | undefined {
  const m = /^t-is-(\d{3}|[1-9]\d?)$/i.exec(given.trim());
  const id = m ? `T-IS-${m[1].padStart(3, '0')}` : undefined;
  return threats().find((t) => t.id === id)?.id;
}

export const threatById = (id: string): Threat | undefined => threats().find((t) => t.id === id);

/**
 * A risk's threat as people read it, "T-IS-004 Control degradation and operational drift"; text
 * recorded before the catalogue was checked reads as it was stored.
 */
export function threatInWords(stored: string): string {
  const id = threatId(stored);
  return id ? `${id} ${threatById(id)!.name}` : stored;
}

/** A threat typed, chosen or imported for a risk: a catalogue id (see threatId), stored in its canonical form. */
export const catalogueThreat = z.string({ invalid_type_error: 'must be text' }).trim().min(1, 'must not be empty')
  .transform((given, ctx) => {
    const id = threatId(given);
    if (id) return id;
    const all = threats();
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `"${given}" is not in the threat catalogue (${all[0].id} to ${all.at(-1)!.id}); "/isms threats" lists them with their names`,
    });
    return z.NEVER;
  });
