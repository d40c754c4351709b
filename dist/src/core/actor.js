import { and, eq, isNull, sql } from 'drizzle-orm';
import { people } from '../db/schema/index.js';
import { appendAudit } from './audit.js';
import { isTimeZone } from './validate.js';
export const ROLE_LABELS = {
    management_body: 'management body',
    isms_lead: 'ISMS lead',
    control_owner: 'control owner',
    asset_owner: 'asset owner',
    staff: 'staff',
    auditor: 'auditor',
};
export function toActor(p) {
    return { id: p.id, name: p.name, email: p.email, roles: p.roles ?? [] };
}
export const hasRole = (actor, ...roles) => roles.some((r) => actor.roles.includes(r));
export const isLead = (actor) => hasRole(actor, 'isms_lead');
export async function findPersonByEmail(db, email) {
    const [p] = await db.select().from(people).where(sql `lower(${people.email}) = lower(${email})`);
    return p;
}
export async function findPersonById(db, id) {
    const [p] = await db.select().from(people).where(eq(people.id, id));
    return p;
}
/** Email, exact name or a unique part of a name: how people are named in commands. */
export async function findPerson(db, query) {
    const q = query.trim().replace(/^@/, '');
    if (q.includes('@')) {
        const p = await findPersonByEmail(db, q);
        return p ? [p] : [];
    }
    const exact = await db.select().from(people).where(sql `lower(${people.name}) = lower(${q})`);
    if (exact.length)
        return exact;
    return db.select().from(people).where(sql `${people.name} ilike ${'%' + q.replace(/[%_]/g, '') + '%'}`);
}
export async function peopleWithRole(db, role) {
    return db.select().from(people).where(sql `${role} = any(${people.roles})`);
}
/**
 * Takes the timezone a chat platform reports for a person who has none in the register (audited),
 * so their nudges arrive in their working hours. A timezone already in the register wins.
 */
export async function adoptTimezone(db, person, tz, platform) {
    if (person.timezone || !tz || !isTimeZone(tz))
        return person;
    return db.transaction(async (tx) => {
        const [updated] = await tx.update(people).set({ timezone: tz })
            .where(and(eq(people.id, person.id), isNull(people.timezone))).returning();
        if (!updated)
            return person;
        await appendAudit(tx, { id: person.id, label: `${person.name} <${person.email}> via ${platform}` }, {
            action: 'set_timezone', entity: 'person', entityRef: person.email, before: { timezone: null }, after: { timezone: tz },
        });
        return updated;
    });
}
//# sourceMappingURL=actor.js.map