import type { SCOPE_CHANGE_KINDS } from '../../db/schema/index.js';
import type { Button } from '../../core/reply.js';

export type ScopeChangeKind = (typeof SCOPE_CHANGE_KINDS)[number];

export const KIND_LABELS: Record<ScopeChangeKind, string> = {
  new_system: 'new system',
  retired_system: 'retired system',
  new_supplier: 'new supplier',
  new_ai_usage: 'new AI use',
  new_geography: 'new geography',
  new_regulatory_regime: 'new regulatory regime',
};

/** The decision buttons of a declaration or scope change waiting for triage, wherever it is shown. */
export const triageButtons = (ref: string): Button[] => [
  { label: 'Accept', command: `triage accept ${ref}`, style: 'primary' },
  { label: 'Reject', command: `triage reject ${ref}`, style: 'danger' },
];
