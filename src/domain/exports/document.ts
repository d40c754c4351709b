import type { Db } from '../../db/client.js';

/**
 * An export that is one document rather than rows (an OSCAL document): JSON only, as of the moment of
 * export, never part of "export all". `build` returns the document only once it is known to be valid.
 */
export interface DocumentExport {
  /** What is typed: "oscal-poam". */
  name: string;
  /** A person's name for it. */
  title: string;
  /** What the document holds, for docs/exports.md. */
  contents: string[];
  build(db: Db, now: Date): Promise<{ document: object; counts: Record<string, number> }>;
}
