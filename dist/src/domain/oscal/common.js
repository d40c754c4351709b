import { createHash } from 'node:crypto';
import { asc, desc, eq, gt } from 'drizzle-orm';
import { v5 } from 'uuid';
import { bundlePath } from '../evidence/file-names.js';
import { controls, evidenceItems, evidenceRequests, people, ROLES, scopeStatements } from '../../db/schema/index.js';
import { ROLE_LABELS } from '../../core/actor.js';
/** OSCAL's version of the documents written here. */
export const OSCAL_VERSION = '1.2.1';
/** The project's UUID namespace: an item's UUID is derived from it and the item's reference, so it is the same in every export. */
const UUID_NAMESPACE = '7a6526f0-e01a-46b2-b6f2-50476072aa94';
/** A UUID (version 5) that stays the same for the same name: "poam-item:POA-0001". */
export const stableUuid = (name) => v5(name, UUID_NAMESPACE);
/** The namespace of this project's props and risk facets (OSCAL's own names have none). */
export const NS = 'urn:isms-bot:oscal';
/** One line of text (OSCAL titles, prop values): whitespace runs become one space, ends trimmed. */
export const line = (s) => s.replace(/\s+/g, ' ').trim();
/** A prop in this project's namespace, or nothing when there is no value. */
export function prop(name, value) {
    if (value === null || value === undefined)
        return [];
    const text = line(String(value));
    return text ? [{ name, ns: NS, value: text }] : [];
}
/** Keys whose value is empty are left out: OSCAL arrays hold at least one item. */
export function compact(o) {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)));
}
/** A calendar day as an OSCAL date-time: the end of that day in UTC (deadlines and due dates). */
export const endOfDay = (day) => `${day}T23:59:59Z`;
/** "in_progress" as an OSCAL token: "in-progress". */
export const token = (code) => code.replace(/_/g, '-');
/** An OSCAL token (an XML NCName) for an identifier: "A.5.15" is one already, "6.1.3" becomes "clause-6.1.3". */
export function asToken(id, prefix) {
    const t = id.trim().replace(/[^\p{L}\p{N}._-]+/gu, '-');
    return /^[\p{L}_]/u.test(t) ? t : `${prefix}${t}`;
}
/**
 * The document's UUID: derived from its content without the moment of export, so an unchanged register
 * gives the same UUID and any change gives a new one, as OSCAL asks of a document's revisions.
 */
export function documentUuid(model, timeless) {
    return stableUuid(`${model}:${createHash('sha256').update(JSON.stringify(timeless)).digest('hex')}`);
}
/** A party UUID per person and the organisation; the metadata names every person the document refers to and the ISMS role holders. */
export class Parties {
    byId;
    organisation = stableUuid('organisation');
    used = new Set();
    constructor(byId) {
        this.byId = byId;
    }
    static async load(db) {
        const all = await db.select({ id: people.id, name: people.name, email: people.email, roles: people.roles }).from(people).orderBy(asc(people.id));
        return new Parties(new Map(all.map((p) => [p.id, p])));
    }
    /** The party UUID of a person, who is then listed in the metadata. */
    of(personId) {
        const p = this.byId.get(personId);
        if (!p)
            return this.organisation;
        this.used.add(personId);
        return stableUuid(`person:${p.email.toLowerCase()}`);
    }
    email(personId) {
        return personId === null ? null : this.byId.get(personId)?.email ?? null;
    }
    name(personId) {
        return personId === null ? null : this.byId.get(personId)?.name ?? null;
    }
    /** Metadata's roles, parties and responsible parties: the ISMS roles someone holds (staff aside), and who holds them. */
    async metadata(db, title, now) {
        const holders = [...this.byId.values()].filter((p) => p.roles.some((r) => r !== 'staff'));
        for (const p of holders)
            this.of(p.id);
        const listed = [...this.byId.values()].filter((p) => this.used.has(p.id));
        const [scope] = await db.select({ text: scopeStatements.text }).from(scopeStatements).orderBy(desc(scopeStatements.version)).limit(1);
        const roles = ROLES.filter((r) => r !== 'staff' && holders.some((p) => p.roles.includes(r)));
        return compact({
            title,
            'last-modified': now.toISOString(),
            version: now.toISOString().slice(0, 10),
            'oscal-version': OSCAL_VERSION,
            roles: roles.map((r) => ({ id: token(r), title: ROLE_LABELS[r].replace(/^./, (c) => c.toUpperCase()) })),
            parties: [
                compact({ uuid: this.organisation, type: 'organization', remarks: scope ? `ISMS scope: ${scope.text}` : undefined }),
                ...listed.map((p) => ({
                    uuid: this.of(p.id), type: 'person', name: line(p.name) || p.email, 'email-addresses': [p.email], 'member-of-organizations': [this.organisation],
                })),
            ],
            'responsible-parties': roles.map((r) => ({ 'role-id': token(r), 'party-uuids': holders.filter((p) => p.roles.includes(r)).map((p) => this.of(p.id)) })),
        });
    }
}
/** Revisions read per query: the evidence register is the one that grows without bound. */
const EVIDENCE_PAGE = 500;
const asHref = (link) => (URL.canParse(link) ? new URL(link).href : undefined);
function push(map, key, value) {
    map.set(key, [...(map.get(key) ?? []), value]);
}
/**
 * Every evidence revision as an observation (method EXAMINE) with its file as a back-matter resource
 * carrying the recorded SHA-256. Read a page at a time, and never the file's bytes.
 */
export async function evidenceRecord(db, parties) {
    const record = { observations: [], resources: [], byControl: new Map(), byRequest: new Map() };
    for (let after = 0;;) {
        const page = await db.select({
            id: evidenceItems.id, ref: evidenceItems.ref, revision: evidenceItems.revision, controlId: evidenceItems.controlId, control: controls.code,
            request: evidenceRequests.ref, submittedBy: evidenceItems.submittedBy, submittedAt: evidenceItems.submittedAt, effectiveOn: evidenceItems.effectiveOn,
            text: evidenceItems.text, link: evidenceItems.link, fileName: evidenceItems.fileName, fileSize: evidenceItems.fileSize, fileSha256: evidenceItems.fileSha256,
        }).from(evidenceItems).innerJoin(controls, eq(controls.id, evidenceItems.controlId)).leftJoin(evidenceRequests, eq(evidenceRequests.id, evidenceItems.requestId))
            .where(gt(evidenceItems.id, after)).orderBy(asc(evidenceItems.id)).limit(EVIDENCE_PAGE);
        for (const e of page) {
            const uuid = stableUuid(`observation:${e.ref}`);
            const evidence = [];
            if (e.fileName && e.fileSha256) {
                const resource = stableUuid(`evidence-file:${e.ref}`);
                record.resources.push(compact({
                    uuid: resource,
                    title: line(e.fileName),
                    description: `The file submitted as evidence ${e.ref} (revision ${e.revision}) for ${e.control}; its bytes are in the register, checked by \`verify\` against this SHA-256.`,
                    props: [...prop('evidence', e.ref), ...prop('file-size', e.fileSize)],
                    rlinks: [{ href: bundlePath(e.ref, e.fileName), hashes: [{ algorithm: 'SHA-256', value: e.fileSha256 }] }],
                }));
                evidence.push({ href: `#${resource}`, description: `File ${e.fileName} (${e.fileSize ?? 0} bytes, SHA-256 ${e.fileSha256}).` });
            }
            if (e.link)
                evidence.push(compact({ href: asHref(e.link), description: `Link: ${e.link}` }));
            if (e.text)
                evidence.push({ description: e.text });
            record.observations.push(compact({
                uuid,
                title: `${e.ref}: evidence for ${e.control}, revision ${e.revision}`,
                description: `Evidence ${e.ref} for control ${e.control}${e.request ? `, answering ${e.request}` : ''}, effective ${e.effectiveOn}.`,
                props: [...prop('evidence', e.ref), ...prop('revision', e.revision), ...prop('control', e.control), ...prop('evidence-request', e.request), ...prop('effective-on', e.effectiveOn)],
                methods: ['EXAMINE'],
                types: ['control-objective'],
                origins: [{ actors: [{ type: 'party', 'actor-uuid': parties.of(e.submittedBy) }] }],
                'relevant-evidence': evidence,
                collected: e.submittedAt.toISOString(),
            }));
            push(record.byControl, e.controlId, uuid);
            if (e.request)
                push(record.byRequest, e.request, uuid);
        }
        if (page.length < EVIDENCE_PAGE)
            return record;
        after = page[page.length - 1].id;
    }
}
//# sourceMappingURL=common.js.map