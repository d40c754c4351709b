import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { people, type Role } from '../db/schema/index.js';
import { appendAudit } from './audit.js';
import { isTimeZone } from './validate.js';

export type Person = typeof people.$inferSelect;

/** The person a command runs as, always loaded from the register on the server. */
export interface Actor {
  id: number;
  name: string;
  email: string;
  roles: Role[];
  /** Their IANA time zone when the register knows it: moments in answers to them read on their clock. */
  timezone?: string | null;
}

export const ROLE_LABELS: Record<Role, string> = {
  management_body: 'management body',
  isms_lead: 'ISMS lead',
  control_owner: 'control owner',
  asset_owner: 'asset owner',
  staff: 'staff',
  auditor: 'auditor',
};

/** Who holds a role, as a sentence names them: "the ISMS lead", "an auditor", "staff". */
const ROLE_HOLDERS: Record<Role, string> = {
  management_body: 'the management body',
  isms_lead: 'the ISMS lead',
  control_owner: 'a control owner',
  asset_owner: 'an asset owner',
  staff: 'staff',
  auditor: 'an auditor',
};

/** Who holds any of the roles, in words: "the ISMS lead, an auditor or the management body". */
export function holdersOf(roles: Role[]): string {
  const named = roles.map((r) => ROLE_HOLDERS[r]);
  return named.length > 1 ? `${named.slice(0, -1).join(', ')} or ${named.at(-1)}` : named[0] ?? '';
}

export function toActor(p: Person): Actor {
  return { id: p.id, name: p.name, email: p.email, roles: p.roles ?? [], timezone: p.timezone };
}

export const hasRole = (actor: Actor, ...roles: Role[]) => roles.some((r) => actor.roles.includes(r));
export const isLead = (actor: Actor) => hasRole(actor, 'isms_lead');

export async function findPersonByEmail(db: Db, email: string): Promise<Person | undefined> {
  const [p] = await db.select().from(people).where(sql`lower(${people.email}) = lower(${email})`);
  return p;
}

export async function findPersonById(db: Db, id: number): Promise<Person | undefined> {
  const [p] = await db.select().from(people).where(eq(people.id, id));
  return p;
}

/** Email, exact name or a unique part of a name: how people are named in commands. */
export async function findPerson(db: Db, query: string): Promise<Person[]> {
  const q = query.trim().replace(/^@/, '');
  if (q.includes('@')) {
    const p = await findPersonByEmail(db, q);
    return p ? [p] : [];
  }
  const exact = await db.select().from(people).where(sql`lower(${people.name}) = lower(${q})`);
  if (exact.length) return exact;
  return db.select().from(people).where(sql`${people.name} ilike ${'%' + q.replace(/[%_]/g, '') + '%'}`);
}

export async function peopleWithRole(db: Db, role: Role): Promise<Person[]> {
  return db.select().from(people).where(sql`${role} = any(${people.roles})`);
}

/**
 * Takes the timezone a chat platform reports for a person who has none in the register (audited),
 * so their nudges arrive in their working hours. A timezone already in the register wins.
 */
export async function adoptTimezone(db: Db, person: Person, tz: string | undefined, platform: string): Promise<Person> {
  if (person.timezone || !tz || !isTimeZone(tz)) return person;
  return db.transaction(async (tx) => {
    const [updated] = await tx.update(people).set({ timezone: tz })
      .where(and(eq(people.id, person.id), isNull(people.timezone))).returning();
    if (!updated) return person;
    await appendAudit(tx, { id: person.id, label: `${person.name} <${person.email}> via ${platform}` }, {
      action: 'set_timezone', entity: 'person', entityRef: person.email, before: { timezone: null }, after: { timezone: tz },
    });
    return updated;
  });
}
