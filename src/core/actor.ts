import { z } from 'zod';
import { type SQL, and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import { people, type Role } from '../db/schema/index.js';
import { appendAudit } from './audit.js';
import { isTimeZone } from './validate.js';
import { invalid, notFound } from './errors.js';
import { alikeIn, didYouMean } from './suggest.js';

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

/**
 * A person's name as lists order it, the same on every database whatever its locale: ASCII letters
 * case-blind, every other character by its code point ("Zoe" before "Émile"). Seeked with the index
 * people_name_key (migration 0031), whose expression this must stay identical to.
 */
export const nameKey = sql<string>`lower(${people.name} collate "C")`;

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

/** A name as people type it for a handle, in SQL: "Lena.Fischer" and "lena_fischer" read as "lena fischer". */
const handleWords = (s: SQL) => sql`btrim(regexp_replace(lower(${s}), '[._[:space:]]+', ' ', 'g'))`;

/**
 * Email, exact name, a unique part of a name, or an @handle as chat platforms write them ("@lena.fischer",
 * "@lena"): how people are named in commands. A handle also matches the local part of the email and the
 * name with dots and underscores read as spaces.
 */
export async function findPerson(db: Db, query: string): Promise<Person[]> {
  const q = query.trim().replace(/^@/, '').trim();
  if (!q) return [];
  if (q.includes('@')) {
    const p = await findPersonByEmail(db, q);
    return p ? [p] : [];
  }
  // The name as typed, letter case aside, is seeked in people_name_key (nameKey): no reading of the register.
  const exact = await db.select().from(people).where(sql`${nameKey} = lower(${q}::text collate "C")`).orderBy(asc(people.id));
  if (exact.length) return exact;
  // Compared in SQL, so that a large register is not read whole for one name; the typed words are
  // lowered by the same database as the names (its locale decides what "Ö" lowers to, so "émile zola"
  // finds "Émile Zola" here). A handle, or the name with other letter case or spacing, wins over a part
  // of a name: both are looked for in one pass over the register.
  const words = handleWords(sql`${q}`);
  const name = handleWords(sql`${people.name}`);
  const handle = handleWords(sql`split_part(${people.email}, '@', 1)`);
  // A name or handle that matches has the typed first word, letter for letter, in the lowered name or email:
  // only the rows that do have their name and handle worked out, once each ("offset 0" keeps the subquery).
  const first = sql`split_part(${words}, ' ', 1)`;
  const found = await db.select({ person: people, byHandle: sql<boolean>`(${handle} = ${words} or ${name} = ${words})` }).from(people)
    .where(sql`${people.id} in (select c.id from (select ${people.id} as id, ${name} as n, ${handle} as h from ${people}
      where strpos(lower(${people.name}), ${first}) > 0 or strpos(lower(${people.email}), ${first}) > 0 offset 0) c
      where c.h = ${words} or c.n = ${words} or strpos(c.n, ${words}) > 0 or ${words} = any(string_to_array(c.h, ' ')))`)
    .orderBy(asc(people.id));
  const handled = found.filter((f) => f.byHandle);
  return (handled.length ? handled : found).map((f) => f.person);
}

/**
 * The person a slip of the keyboard most likely meant (nearest() of their names or emails, `columns`, a
 * person's in that order), or undefined: chosen among the values most alike (alikeIn), in the register's
 * order, so that everyone is never read to suggest one person.
 */
export async function personMeant(db: Db, typed: string, columns: PgColumn[]): Promise<Person | undefined> {
  const alike: { id: number; value: string; k: number }[] = [];
  for (const [k, column] of columns.entries()) alike.push(...(await alikeIn(db, people, people.id, column, typed)).map((p) => ({ ...p, k })));
  alike.sort((a, b) => a.id - b.id || a.k - b.k);
  const meant = didYouMean(typed, alike.map((p) => p.value));
  return meant ? findPersonById(db, alike.find((p) => p.value === meant)!.id) : undefined;
}

/**
 * The one person a command names in `field` (see findPerson). Nobody matching is refused with the
 * closest name or email in the register, several with who they are; either way nothing is written.
 */
export async function personNamed(db: Db, field: string, query: string): Promise<Person> {
  const found = await findPerson(db, query);
  if (found.length === 1) return found[0];
  if (found.length > 1) {
    throw invalid(`${field}: "${query}" matches ${found.length} people: ${found.slice(0, 5).map((p) => `${p.name} <${p.email}>`).join(', ')}${found.length > 5 ? ', …' : ''}.`,
      'Use their email address, or more of their name.').on(field);
  }
  const typed = query.trim().replace(/^@/, '');
  const match = await personMeant(db, typed, [typed.includes('@') ? people.email : people.name]);
  throw notFound(`${field}: nobody in the register matches "${query}".${match ? ` Did you mean ${match.name} <${match.email}>?` : ''}`,
    'Use their email address, their name as the register has it, or their @handle.').on(field);
}

/** A person as a command option takes them: an email, a name in "quotes", a unique part of a name or an @handle. */
export const personRef = z.string({ required_error: 'name the person: an email address, a name or an @handle', invalid_type_error: 'must be an email address, a name or an @handle' })
  .trim().min(1, 'name the person: an email address, a name or an @handle').max(320, 'must be at most 320 characters');

export async function peopleWithRole(db: Db, role: Role): Promise<Person[]> {
  return db.select().from(people).where(sql`${role} = any(${people.roles})`);
}

/** Everyone holding any of the roles, in one read: the caller tells them apart by their roles. */
export async function peopleWithAnyRole(db: Db, roles: Role[]): Promise<Person[]> {
  return db.select().from(people).where(sql`${people.roles} && ${`{${roles.join(',')}}`}::text[]`);
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
