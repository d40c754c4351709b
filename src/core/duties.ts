import type { Db } from '../db/client.js';
import type { Role } from '../db/schema/index.js';
import { hasRole, isLead, peopleWithAnyRole, ROLE_LABELS, type Actor, type Person } from './actor.js';
import { forbidden } from './errors.js';

/** Someone's part in the work being decided, e.g. { by: 12, did: 'declared AI-0003 yourself' }. */
export interface Deed {
  by: number | null | undefined;
  /** Read after "You": "declared AI-0003 yourself", "own POAM-0004, which PEX-0001 would extend". */
  did: string;
}

/** Who normally decides: an ISMS lead (the management body stepping in), or an auditor (ISO 27001 cl. 9.2). */
export type Decider = 'isms_lead' | 'auditor';

/** Who acts instead, completing "so someone else decides it: ...". */
const INSTEAD: Record<Decider, string> = {
  isms_lead: 'another ISMS lead or, where there is none, the management body',
  auditor: 'another auditor (ISO 27001 cl. 9.2: auditors do not audit their own work)',
};

const names = (people: Person[]) => people.map((p) => p.name).join(' or ');

/**
 * The people who may decide work done by `doers`: the ISMS leads who had no part in it or, when every
 * lead had a part, the management body's members who had none. Auditors: the other auditors.
 */
export async function decidersOf(db: Db, doers: Iterable<number>, decider: Decider = 'isms_lead'): Promise<{ role: Role; people: Person[] }> {
  return (await decidersRule(db, decider))(doers);
}

/**
 * decidersOf for many items at once: the holders of the deciding roles are read once, and the rule is
 * applied to each item's doers (a list of waiting items asks the register twice, not twice per item).
 */
export type DecidersRule = (doers: Iterable<number>) => { role: Role; people: Person[] };

/** decidersRule read on first use and kept: the parts of one answer share a single read of the role holders. */
export function lazyDecidersRule(db: Db): () => Promise<DecidersRule> {
  let rule: Promise<DecidersRule> | undefined;
  return () => (rule ??= decidersRule(db));
}

export async function decidersRule(db: Db, decider: Decider = 'isms_lead'): Promise<DecidersRule> {
  const holders = await peopleWithAnyRole(db, decider === 'auditor' ? ['auditor'] : ['isms_lead', 'management_body']);
  return (doers) => {
    const excluded = new Set(doers);
    const free = (role: Role) => holders.filter((p) => p.roles.includes(role) && !excluded.has(p.id));
    if (decider === 'auditor') return { role: 'auditor', people: free('auditor') };
    const leads = free('isms_lead');
    return leads.length ? { role: 'isms_lead', people: leads } : { role: 'management_body', people: free('management_body') };
  };
}

async function whoCan(db: Db, doers: Set<number>, decider: Decider): Promise<string> {
  const { role, people } = await decidersOf(db, doers, decider);
  if (people.length) {
    const fallback = decider === 'isms_lead' && role === 'management_body' ? 'No other ISMS lead is free of it: ask ' : 'Ask ';
    return `${fallback}${names(people)} (${ROLE_LABELS[role]}).`;
  }
  return decider === 'auditor'
    ? 'No other auditor is in the register; the ISMS lead can add an independent one.'
    : 'Nobody else in the register can decide it: the ISMS lead adds another ISMS lead or a management-body member by import.';
}

/**
 * Separation of duties, stated once: nobody approves, accepts or closes their own work. Refuses the
 * acting person when they had a part in it, and a management-body member while an ISMS lead who had
 * no part in it is there to decide (the body steps in only for the leads' own work).
 */
export async function refuseOwnWork(ctx: { db: Db; actor: Actor }, work: {
  what: string;
  deeds: Deed[];
  decider?: Decider;
  /** What the decider does to it: "decides" (default), "closes", "raises findings on". */
  verb?: string;
}): Promise<void> {
  const decider = work.decider ?? 'isms_lead';
  const doers = new Set(work.deeds.flatMap((d) => (d.by == null ? [] : [d.by])));
  const own = work.deeds.find((d) => d.by === ctx.actor.id);
  if (own) {
    throw forbidden(`You ${own.did}, so someone else ${work.verb ?? 'decides'} it: ${INSTEAD[decider]}.`, await whoCan(ctx.db, doers, decider));
  }
  if (decider === 'isms_lead' && !isLead(ctx.actor) && hasRole(ctx.actor, 'management_body')) {
    const { role, people } = await decidersOf(ctx.db, doers);
    if (role === 'isms_lead') {
      throw forbidden(`${work.what} is for an ISMS lead to decide: the management body steps in only where every ISMS lead had a part in the work.`,
        `Ask ${names(people)} (ISMS lead).`);
    }
  }
}
