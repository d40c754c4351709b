import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { rows } from '../src/db/migrate.js';
import { loadReferenceData } from '../src/refdata/index.js';
import { EXAMPLE_FILE, importFile, importYaml, loadExampleOrganisation, ImportError, type ImportOptions } from '../src/import/index.js';
import { buildRouter } from '../src/commands.js';
import { toActor } from '../src/core/actor.js';
import { toPlainText } from '../src/core/reply.js';
import { daysBetween, isoDay } from '../src/core/time.js';
import { people } from '../src/db/schema/index.js';
import { readFile } from 'node:fs/promises';
import YAML from 'yaml';

const GOOD = `
people:
  - name: Iris Lead
    email: Iris@Example.org
    roles: [isms_lead]
    timezone: Europe/Berlin
  - name: Olaf Owner
    email: olaf@example.org
    slack_user_id: U0OLAF01
    roles: [control_owner, asset_owner]
    manager: iris@example.org
    timezone: America/New_York
  - { name: Bea Board, email: bea@example.org, roles: [management_body] }

framework_titles:
  - { framework: SOC2, reference: CC6.1, title: Logical and physical access controls }

controls:
  - code: CTL-AC-01
    title: Access control
    owner: olaf@example.org
    evidence_frequency: quarterly
    mappings:
      - { framework: ISO27001:2022, reference: A.5.15 }
      - { framework: nist-csf-2.0, reference: pr.aa-05 }
      - { framework: NIS2, reference: "Art. 21(2)(i)" }
      - { framework: SOC2, reference: CC6.1 }

policies:
  - title: Information Security Policy
    owner: iris@example.org
    version: 1.10
    content: We protect the information entrusted to us.
    approved_by: bea@example.org

risks:
  - title: Stolen laptop exposes customer data
    likelihood: 3
    impact: 4
    treatment: mitigate
    owner: olaf@example.org
`;

/** GOOD's people, as an organisation imports them before the file that names its approvers. */
const PEOPLE = GOOD.slice(0, GOOD.indexOf('framework_titles:'));
/** GOOD's ISMS lead, who runs its imports. */
const LEAD = 'iris@example.org';

/** Line (1-based) of the first line of `text` containing `needle`. */
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('YAML import', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase();
    await loadReferenceData(t.db);
  });
  afterEach(async () => { await t.destroy(); });

  const count = async (table: string) => rows<{ n: number }>(await t.db.execute(sql.raw(`select count(*)::int as n from ${table}`)))[0].n;
  const registerSize = async () => ({
    people: await count('people'), controls: await count('controls'), mappings: await count('control_mappings'),
    policies: await count('policies'), risks: await count('risks'), requirements: await count('framework_requirements'),
    audit: await count('audit_events'),
  });
  /** A file imported by GOOD's ISMS lead. */
  const importAs = (text: string, fileName: string, options: ImportOptions = {}) => importYaml(t.db, text, fileName, { by: LEAD, ...options });
  /** GOOD (or a variant) into an empty register: its people first, then the file, run by its ISMS lead. */
  const importGood = async (text = GOOD, fileName = 'org.yaml') => {
    await importYaml(t.db, PEOPLE, 'people.yaml');
    return importAs(text, fileName);
  };
  const importError = async (text: string, fileName: string, options: ImportOptions = {}): Promise<ImportError> => {
    const error = await importYaml(t.db, text, fileName, options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImportError);
    return error as ImportError;
  };

  it('writes what the file says, with one audit event per entry, and a new risk\'s first assessment', async () => {
    await importYaml(t.db, PEOPLE, 'people.yaml');
    const before = await count('audit_events');
    const counts = await importAs(GOOD, 'org.yaml');

    expect(counts).toEqual({
      people: { created: 0, updated: 0, unchanged: 3 },
      framework_titles: { created: 1, updated: 0, unchanged: 0 },
      controls: { created: 1, updated: 0, unchanged: 0 },
      policies: { created: 1, updated: 0, unchanged: 0 },
      risks: { created: 1, updated: 0, unchanged: 0 },
    });
    const events = rows<{ action: string; entity: string; entity_ref: string; actor_label: string }>(await t.db.execute(
      sql`select action, entity, entity_ref, actor_label from audit_events where seq > ${before} order by seq`));
    expect(events.map((e) => `${e.action} ${e.entity} ${e.entity_ref}`)).toEqual([
      'create framework_requirement SOC2 CC6.1',
      'create control CTL-AC-01', 'create policy POL-0001', 'create risk R-0001', 'assess risk_assessment R-0001',
    ]);
    expect(new Set(events.map((e) => e.actor_label))).toEqual(new Set(['import org.yaml']));

    const olaf = rows<{ manager: string; slack_user_id: string; timezone: string; roles: string[] }>(await t.db.execute(sql`
      select m.email as manager, p.slack_user_id, p.timezone, p.roles from people p join people m on m.id = p.manager_id
      where p.email = 'olaf@example.org'`))[0];
    expect(olaf).toEqual({ manager: 'iris@example.org', slack_user_id: 'U0OLAF01', timezone: 'America/New_York', roles: ['control_owner', 'asset_owner'] });

    const mapped = rows<{ framework: string; reference: string; title: string | null }>(await t.db.execute(sql`
      select r.framework, r.reference, r.title from control_mappings m join framework_requirements r on r.id = m.requirement_id
      join controls c on c.id = m.control_id where c.code = 'CTL-AC-01' order by r.framework`));
    expect(mapped.map((m) => `${m.framework} ${m.reference}`)).toEqual(['ISO27001:2022 A.5.15', 'NIS2 21.2.i', 'NIST-CSF-2.0 PR.AA-05', 'SOC2 CC6.1']);
    expect(mapped.find((m) => m.framework === 'SOC2')?.title).toBe('Logical and physical access controls');

    const policy = rows<{ ref: string; version: string; major: number; minor: number; approved: boolean }>(await t.db.execute(sql`
      select p.ref, v.version, v.major, v.minor, v.approved_by is not null as approved from policies p join policy_versions v on v.policy_id = p.id`));
    // "1.10" stays version 1.10, not the number 1.1.
    expect(policy).toEqual([{ ref: 'POL-0001', version: '1.10', major: 1, minor: 10, approved: true }]);
    expect(await t.db.execute(sql`select 1 from policy_versions where approved_at is null`).then((r) => rows(r))).toEqual([]);

    const risk = rows(await t.db.execute(sql`select ref, inherent_score, residual_score from risks`));
    expect(risk).toEqual([{ ref: 'R-0001', inherent_score: 12, residual_score: 12 }]);
  });

  it('rejects a bad row naming the file, line and field, and writes nothing', async () => {
    await importGood();
    const before = await registerSize();
    const bad = `people:
  - name: Ann Able
    email: ann@example.org
    roles: [staff]
  - name: Ben Baker
    email: ben@example.org
    roles: [staff]
  - name: Cid Cole
    email: cid.example.org
    roles: [staff]
controls:
  - code: CTL-NEW-01
    title: A new control
`;
    const error = await importError(bad, 'people.yaml');
    expect(error.message).toBe('people.yaml:9: people[2].email: must be an email address');
    expect(await registerSize()).toEqual(before);
  });

  it('refuses an alias bomb ("billion laughs") without expanding it, and an alias without its anchor, naming the line', async () => {
    const levels = 'abcdefghij'.split('');
    const bomb = [
      'people:',
      '  - name: Ann Able',
      '    email: ann@example.org',
      '    roles: [staff]',
      'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
      ...levels.slice(1).map((c, i) => `${c}: &${c} [${Array(10).fill(`*${levels[i]}`).join(', ')}]`),
    ].join('\n');
    const before = await registerSize();
    // Ten levels of ten would be 10^10 strings: expanding any share of it would not return.
    expect((await importError(bomb, 'laughs.yaml')).message)
      .toBe('laughs.yaml:6: the aliases (such as *a) expand to too much data; write the entries out instead of nesting aliases');
    expect((await importError('people:\n  - *ann\nothers:\n  - &ann { name: Ann }\n', 'early.yaml')).message)
      .toBe('early.yaml:2: not valid YAML: the alias *ann has no anchor &ann before it');
    expect(await registerSize()).toEqual(before);
  });

  it('takes a risk\'s threat_ref only from the threat catalogue, as risk add does, naming the line of one that is not', async () => {
    const file = (threat: string) => `people:\n  - { name: Ada Admin, email: ada@example.org, roles: [isms_lead] }\nrisks:
  - { title: Controls drift, likelihood: 2, impact: 3, treatment: mitigate }
  - { title: Shadow AI, likelihood: 3, impact: 3, treatment: mitigate, threat_ref: "${threat}" }\n`;
    const before = await registerSize();
    expect((await importError(file('phishing'), 'risks.yaml')).message)
      .toBe('risks.yaml:5: risks[1].threat_ref: "phishing" is not in the threat catalogue (T-IS-001 to T-IS-015); "/isms threats" lists them with their names');
    expect((await importError(file('T-IS-04'), 'risks.yaml')).message).toContain('risks.yaml:5: risks[1].threat_ref: "T-IS-04" is not in the threat catalogue');
    expect(await registerSize()).toEqual(before);
    await importYaml(t.db, file('t-is-12'), 'risks.yaml', { by: 'ada@example.org' });
    expect(rows(await t.db.execute(sql`select threat_ref from risks order by ref`))).toEqual([{ threat_ref: null }, { threat_ref: 'T-IS-012' }]);
  });

  it('refuses a supplier imported as declared when nobody could declare it, new and accepted when nobody is named as running the import, or a scope to propose without an ISMS lead', async () => {
    const before = await registerSize();
    expect((await importError('suppliers:\n  - { name: Acme Cloud }\n', 'suppliers.yaml')).message)
      .toBe('suppliers.yaml:2: suppliers[0].owner: a supplier imported as declared waits for triage, which names who declared it: give its owner, '
        + 'or name who runs the import (npm run isms -- import <file> --as <email>)');
    expect((await importError('suppliers:\n  - { name: Nimbus, criticality_tier: tier1_critical, status: accepted }\n', 'suppliers.yaml')).message)
      .toBe('suppliers.yaml:2: suppliers[0].status: Nimbus is new to the register, and accepted by the import it skips triage, which is recorded under the person running it: '
        + 'name who runs it (npm run isms -- import <file> --as <email>), or leave status out to put it in triage');
    expect((await importError('scope:\n  statement: The payments platform.\n', 'scope.yaml')).message).toBe('scope.yaml:2: scope.approved_by: left out, '
      + 'the scope statement is proposed to the management body, as "/isms scope statement" proposes it, which an ISMS lead does, and neither the register '
      + 'nor this file has one to run the import: add one under people to run it (npm run isms -- import <file> --as <email>), '
      + 'or write the management-body member who approved it');
    expect(await registerSize()).toEqual(before);
  });

  it('refuses a folder given as the file, saying so', async () => {
    await expect(importFile(t.db, 'examples')).rejects.toThrow('examples is a folder: give the path of a YAML file.');
  });

  it('names every problem it finds at once: unknown fields, values out of range, unknown people', async () => {
    const bad = `people:
  - name: Ann Able
    emial: ann@example.org
    roles: [staff]
risks:
  - title: Flood in the server room
    likelihood: 7
    impact: 2
    treatment: ignore
    owner: nobody@example.org
`;
    const error = await importError(bad, 'org.yaml');
    expect(error.message.split('\n')).toEqual([
      'org.yaml:2: people[0].email: is required',
      'org.yaml:3: people[0]: unknown field "emial"; the fields are: name, email, slack_user_id, teams_aad_object_id, roles, manager, timezone, in_scope',
      'org.yaml:7: risks[0].likelihood: must be between 1 and 5',
      'org.yaml:9: risks[0].treatment: must be one of mitigate, accept, transfer, avoid',
    ]);
    const unknownOwner = await importError(bad.replace('emial', 'email').replace('likelihood: 7', 'likelihood: 2').replace('ignore', 'accept'), 'org.yaml');
    expect(unknownOwner.message).toBe(
      'org.yaml:10: risks[0].owner: no person with the email nobody@example.org is in this file or the register; add them under people');
  });

  it('refuses a mapping to a requirement that does not exist, with the line and a suggestion', async () => {
    const before = await registerSize();
    const bad = GOOD.replace('reference: A.5.15', 'reference: A5.15');
    const error = await importError(bad, 'controls.yaml');
    expect(error.message).toBe(`controls.yaml:${lineOf(bad, 'A5.15')}: controls[0].mappings[0].reference: ` +
      'ISO27001:2022 has no requirement "A5.15"; references look like A.5.1 or 6.1.2. Did you mean "A.5.15"?');
    const soc2 = await importError(GOOD.replace(/framework_titles:\n.*\n/, ''), 'controls.yaml');
    expect(soc2.message).toContain('controls[0].mappings[3].reference: SOC2 has no requirement "CC6.1" in the register');
    expect(await registerSize()).toEqual(before);
  });

  it('rolls back rows already written when a later entry fails', async () => {
    const before = await registerSize();
    // The policy reference is checked only when the policy is written, after people, control and mappings.
    const bad = GOOD.replace('  - title: Information Security Policy', '  - ref: POL-0007\n    title: Information Security Policy');
    const error = await importError(bad, 'org.yaml');
    expect(error.message).toBe(`org.yaml:${lineOf(bad, 'POL-0007')}: policies[0].ref: POL-0007 is not in the register; ` +
      'a new policy gets the next free reference, POL-0001. Leave ref out to add one');
    expect(await registerSize()).toEqual(before);
    // The reference counter rolled back too: the next policy is still POL-0001.
    await importGood();
    expect(rows(await t.db.execute(sql`select ref from policies`))).toEqual([{ ref: 'POL-0001' }]);
  });

  it('updates a person or control imported again instead of duplicating it, recording before and after', async () => {
    await importGood();
    const size = await registerSize();

    const again = await importAs(GOOD, 'org.yaml');
    expect(again.people).toEqual({ created: 0, updated: 0, unchanged: 3 });
    expect(again.controls).toEqual({ created: 0, updated: 0, unchanged: 1 });
    expect(await registerSize()).toEqual(size);

    const changed = GOOD.replace('name: Olaf Owner', 'name: Olaf Owens')
      .replace('title: Access control\n', 'title: Access control and MFA\n')
      .replace('      - { framework: SOC2, reference: CC6.1 }\n', '');
    const counts = await importAs(changed, 'org-v2.yaml');
    expect(counts.people).toEqual({ created: 0, updated: 1, unchanged: 2 });
    expect(counts.controls).toEqual({ created: 0, updated: 1, unchanged: 0 });
    expect(await count('people')).toBe(size.people);
    expect(await count('controls')).toBe(size.controls);
    expect(await count('control_mappings')).toBe(size.mappings - 1);
    expect(await count('audit_events')).toBe(size.audit + 2);

    const events = rows<{ action: string; entity_ref: string; before: any; after: any; actor_label: string }>(await t.db.execute(sql`
      select action, entity_ref, before, after, actor_label from audit_events order by seq desc limit 2`)).reverse();
    expect(events[0]).toMatchObject({ action: 'update', entity_ref: 'olaf@example.org', actor_label: 'import org-v2.yaml' });
    expect([events[0].before.name, events[0].after.name]).toEqual(['Olaf Owner', 'Olaf Owens']);
    expect(events[1]).toMatchObject({ action: 'update', entity_ref: 'CTL-AC-01' });
    expect([events[1].before.title, events[1].after.title]).toEqual(['Access control', 'Access control and MFA']);
    expect(events[1].before.mappings).toHaveLength(4);
    expect(events[1].after.mappings).toHaveLength(3);
  });

  it('a scope without approved_by is proposed by the ISMS lead and put to the management body, not approved, and the answer says so; an approver must be in it', async () => {
    const scopeFile = (approver = '') => `people:
  - { name: Iris Lead, email: iris@example.org, roles: [isms_lead] }
  - { name: Bea Board, email: bea@example.org, roles: [management_body] }
  - { name: Olaf Owner, email: olaf@example.org, roles: [control_owner] }
scope:
  statement: The payments platform and the people and suppliers supporting it.
${approver ? `  approved_by: ${approver}\n` : ''}`;
    const notes: string[] = [];
    await importYaml(t.db, scopeFile(), 'scope.yaml', { onNote: (n) => notes.push(n) });
    // The answer says what it did not take as approved.
    expect(notes).toEqual(['The scope statement version 1 was proposed by Iris Lead without an approval in the file: the management body is asked to approve it (APR-0001).']);
    const scope = async () => rows<{ version: number; proposed_by: string | null; approved_by: string | null; approved: boolean }>(await t.db.execute(sql`
      select s.version, p.email as proposed_by, a.email as approved_by, s.approved_at is not null as approved from scope_statements s
      left join people p on p.id = s.proposed_by left join people a on a.id = s.approved_by order by s.version`));
    expect(await scope()).toEqual([{ version: 1, proposed_by: 'iris@example.org', approved_by: null, approved: false }]);
    const approvals = async () => rows<{ ref: string; subject_ref: string; status: string }>(await t.db.execute(sql`select ref, subject_ref, status from management_approvals order by id`));
    expect(await approvals()).toEqual([{ ref: 'APR-0001', subject_ref: 'scope v1', status: 'pending' }]);
    const events = rows<{ action: string; entity_ref: string }>(await t.db.execute(sql`select action, entity_ref from audit_events where entity in ('scope_statement', 'management_approval') order by seq`));
    expect(events.map((e) => `${e.action} ${e.entity_ref}`)).toEqual(['propose scope v1', 'request APR-0001']);

    const before = await registerSize();
    expect((await importError(scopeFile('olaf@example.org'), 'scope.yaml')).message).toBe('scope.yaml:7: scope.approved_by: Olaf Owner <olaf@example.org> is not in the management body, '
      + 'which approves the scope statement: write the member who approved it, or leave approved_by out to ask the management body');
    expect(await registerSize()).toEqual(before);
    await importYaml(t.db, scopeFile('bea@example.org'), 'scope.yaml');
    expect((await scope())[1]).toEqual({ version: 2, proposed_by: null, approved_by: 'bea@example.org', approved: true });
    expect(await approvals()).toEqual([{ ref: 'APR-0001', subject_ref: 'scope v1', status: 'withdrawn' }]);
  });

  it('refuses a policy version approved_by someone outside the management body, naming the row; without approved_by it has no approval', async () => {
    await importGood();
    const before = await registerSize();
    const file = (approver: string) => `policies:\n  - title: Acceptable use\n    content: Use company devices for work.\n${approver}`;
    expect((await importError(file('    approved_by: iris@example.org\n'), 'policies.yaml')).message).toBe('policies.yaml:4: policies[0].approved_by: '
      + 'Iris Lead <iris@example.org> is not in the management body, which approves POL-0002 version 1.0: write the member who approved it, '
      + 'or leave approved_by out (it is published as "/isms policy publish" does, a major version put to the management body)');
    expect(await registerSize()).toEqual(before);
    await importYaml(t.db, file(''), 'policies.yaml');
    expect(rows(await t.db.execute(sql`select v.approved_by, v.approved_at from policy_versions v join policies p on p.id = v.policy_id where p.ref = 'POL-0002'`)))
      .toEqual([{ approved_by: null, approved_at: null }]);
  });

  it('refuses an approved_by that differs from the approval the register holds for a policy version already in it, naming the row; the same one is kept', async () => {
    await importGood(); // POL-0001 v1.10, approved by Bea Board
    await importYaml(t.db, `${PEOPLE}  - { name: Max Member, email: max@example.org, roles: [management_body] }\n`, 'people.yaml');
    const policiesFile = (isp: string, aup: string) => `policies:
  - { title: Information Security Policy, version: "1.10", content: We protect the information entrusted to us.${isp} }
  - { title: Acceptable use, content: Use company devices for work.${aup} }
`;
    await importAs(policiesFile(', approved_by: bea@example.org', ''), 'policies.yaml'); // the same approver; POL-0002 v1.0 put to the management body
    const size = await registerSize();
    expect((await importError(policiesFile(', approved_by: max@example.org', ''), 'policies.yaml', { by: LEAD })).message).toMatch(new RegExp(
      '^policies\\.yaml:2: policies\\[0\\]\\.approved_by: POL-0001 version 1\\.10 is already in the register \\(approved by Bea Board on \\d{4}-\\d{2}-\\d{2} \\(recorded on the version\\)\\); '
      + 'an import does not record or change the approval of a version already published: leave approved_by out, or write the approver the register holds$'));
    expect((await importError(policiesFile('', ', approved_by: bea@example.org'), 'policies.yaml', { by: LEAD })).message).toBe('policies.yaml:3: policies[1].approved_by: '
      + 'POL-0002 version 1.0 is already in the register (awaiting management-body approval (APR-0001)); an import does not record or change the approval of a version '
      + 'already published: leave approved_by out (the management body decides it in chat: "/isms approvals" shows what waits for it)');
    expect(await registerSize()).toEqual(size);
    expect(rows(await t.db.execute(sql`select a.email from policy_versions v left join people a on a.id = v.approved_by order by v.id`)))
      .toEqual([{ email: 'bea@example.org' }, { email: null }]);
  });

  it('puts a new major policy version imported without approved_by to the management body as "policy publish" does: approval item, audit events, notifications, and says so', async () => {
    await importGood();
    const seq = await count('audit_events');
    const notes: string[] = [];
    const v2 = GOOD.replace('version: 1.10', 'version: "2.0"').replace('We protect the information entrusted to us.', 'We protect all information.')
      .replace('    approved_by: bea@example.org\n', '');
    await importAs(v2, 'org.yaml', { onNote: (n) => notes.push(n) });
    expect(rows(await t.db.execute(sql`select a.ref, a.subject_kind, a.subject_ref, a.status, p.email as requested_by from management_approvals a
      join people p on p.id = a.requested_by`))).toEqual([{ ref: 'APR-0001', subject_kind: 'policy_version', subject_ref: 'POL-0001 v2.0', status: 'pending', requested_by: LEAD }]);
    const events = rows<{ action: string; entity: string; entity_ref: string }>(await t.db.execute(sql`select action, entity, entity_ref from audit_events where seq > ${seq} order by seq`));
    expect(events.map((e) => `${e.action} ${e.entity} ${e.entity_ref}`)).toEqual([
      'publish policy_version POL-0001 v2.0', 'request management_approval APR-0001', 'update policy POL-0001',
    ]);
    expect(rows(await t.db.execute(sql`select p.email, o.kind from outbox o join people p on p.id = o.recipient_id`))).toEqual([{ email: 'bea@example.org', kind: 'approval' }]);
    expect(rows(await t.db.execute(sql`select v.version, p.email as published_by, v.approved_by from policy_versions v left join people p on p.id = v.published_by order by v.id`)))
      .toEqual([{ version: '1.10', published_by: null, approved_by: expect.any(Number) }, { version: '2.0', published_by: LEAD, approved_by: null }]);
    expect(notes).toEqual(['POL-0001 Information Security Policy version 2.0 was published by Iris Lead without an approval in the file: '
      + 'the management body is asked to approve it (APR-0001).']);
    // The board approves it in chat, as one published there.
    const [bea] = await t.db.select().from(people).where(eq(people.email, 'bea@example.org'));
    expect(toPlainText(await buildRouter(t.db).handle('/isms approve APR-0001', { actor: toActor(bea), channel: 'shell', now: new Date() })))
      .toContain('Approved: Information Security Policy POL-0001 version 2.0 (APR-0001).');
  });

  it('refuses an approved_by whom the same file gives the management-body role, naming the rows, and writes nothing', async () => {
    const before = await registerSize();
    const policy = 'policies:\n  - { title: Acceptable use, content: Use company devices for work., approved_by: bea@example.org }\n';
    expect((await importError(`${PEOPLE}${policy}`, 'org.yaml')).message).toBe(`org.yaml:${lineOf(`${PEOPLE}${policy}`, 'Acceptable use')}: policies[0].approved_by: `
      + `Bea Board <bea@example.org> is given the management-body role by this file (people[2], line ${lineOf(PEOPLE, 'Bea Board')}), and an approval comes from someone `
      + 'who held it before the import: import the people first and then this file, or leave approved_by out (it is published as "/isms policy publish" does, '
      + 'a major version put to the management body)');
    expect(await registerSize()).toEqual(before);
    // Someone already registered whom the file promotes is no different.
    await importYaml(t.db, PEOPLE.replace('roles: [management_body]', 'roles: [staff]'), 'people.yaml');
    const size = await registerSize();
    const scope = 'scope:\n  statement: The payments platform.\n  approved_by: bea@example.org\n';
    expect((await importError(`${PEOPLE}${scope}`, 'org.yaml')).message).toBe(`org.yaml:${lineOf(`${PEOPLE}${scope}`, '  approved_by')}: scope.approved_by: `
      + `Bea Board <bea@example.org> is given the management-body role by this file (people[2], line ${lineOf(PEOPLE, 'Bea Board')}), and an approval comes from someone `
      + 'who held it before the import: import the people first and then this file, or leave approved_by out to ask the management body');
    expect(await registerSize()).toEqual(size);
  });

  it('refuses to republish a policy version with different content', async () => {
    await importGood();
    const size = await registerSize();
    const edited = GOOD.replace('We protect the information entrusted to us.', 'We protect all information.');
    const error = await importError(edited, 'org.yaml');
    expect(error.message).toBe(`org.yaml:${lineOf(edited, 'version: 1.10')}: policies[0].version: version 1.10 of POL-0001 is already ` +
      'published with other content; publish the change as a new version, e.g. 1.11');
    expect(await registerSize()).toEqual(size);

    const counts = await importAs(edited.replace('version: 1.10', 'version: "2.0"'), 'org.yaml');
    expect(counts.policies).toEqual({ created: 0, updated: 1, unchanged: 0 });
    expect(rows(await t.db.execute(sql`select version from policy_versions order by id`))).toEqual([{ version: '1.10' }, { version: '2.0' }]);
  });

  it('reads a policy row without version as the policy\'s current version, refusing changed text with the version to write; a new policy starts at 1.0', async () => {
    await importGood();
    const noVersion = GOOD.replace('    version: 1.10\n', '');
    expect(await importAs(noVersion, 'org.yaml')).toMatchObject({ policies: { created: 0, updated: 0, unchanged: 1 } });
    const size = await registerSize();

    const edited = noVersion.replace('We protect the information entrusted to us.', 'We protect all information.');
    const error = await importError(edited, 'org.yaml');
    expect(error.message).toBe(`org.yaml:${lineOf(edited, 'title: Information Security Policy')}: policies[0].version: left out, it is the current version 1.10 `
      + 'of POL-0001 (Information Security Policy), which is published with other content: to publish this text, write version: "1.11" (or "2.0" for a major change)');
    expect(await registerSize()).toEqual(size);

    await importAs(edited.replace('title: Information Security Policy', 'title: Acceptable Use Policy'), 'org.yaml');
    expect(rows(await t.db.execute(sql`select p.ref, v.version from policies p join policy_versions v on v.policy_id = p.id order by v.id`)))
      .toEqual([{ ref: 'POL-0001', version: '1.10' }, { ref: 'POL-0002', version: '1.0' }]);
  });

  /** What a file proposes, publishes or declares without naming who did: the scope, the risk appetite, a policy version, a supplier. */
  const UNNAMED = `scope:
  statement: The payments platform and the people supporting it.
risk_appetite: { max_residual_score: 10, statement: We accept residual risks scored up to 10. }
policies:
  - { title: Acceptable use, content: Use company devices for work. }
suppliers:
  - { name: Acme Cloud }
`;
  /** GOOD's people and a second ISMS lead, listed after the first. */
  const TWO_LEADS = `${PEOPLE}  - { name: Lena Second, email: lena@example.org, roles: [isms_lead] }\n`;

  it('records what a file proposes, publishes or declares without naming who did under the person running it, with audit events naming them', async () => {
    await importYaml(t.db, TWO_LEADS, 'people.yaml');
    const seq = await count('audit_events');
    const notes: string[] = [];
    await importYaml(t.db, UNNAMED, 'org.yaml', { by: 'lena@example.org', onNote: (n) => notes.push(n) });
    const who = async (column: string, table: string) => rows<{ email: string | null }>(await t.db.execute(
      sql.raw(`select p.email from ${table} x left join people p on p.id = x.${column} order by x.id`))).map((r) => r.email);
    expect({
      scope: await who('proposed_by', 'scope_statements'), appetite: await who('proposed_by', 'risk_appetite'),
      policy: await who('published_by', 'policy_versions'), supplier: await who('declared_by', 'suppliers'),
      triage: await who('declared_by', 'scope_changes'), approvals: await who('requested_by', 'management_approvals'),
    }).toEqual({
      scope: ['lena@example.org'], appetite: ['lena@example.org'], policy: ['lena@example.org'], supplier: ['lena@example.org'],
      triage: ['lena@example.org'], approvals: ['lena@example.org', 'lena@example.org', 'lena@example.org'],
    });
    expect(notes).toEqual([
      'The scope statement version 1 was proposed by Lena Second without an approval in the file: the management body is asked to approve it (APR-0001).',
      'POL-0001 Acceptable use version 1.0 was published by Lena Second without an approval in the file: the management body is asked to approve it (APR-0002).',
      'The risk appetite version 1 was proposed by Lena Second without an approval in the file: the management body is asked to approve it (APR-0003).',
    ]);
    const events = rows<{ action: string; entity_ref: string; actor_label: string }>(await t.db.execute(
      sql`select action, entity_ref, actor_label from audit_events where seq > ${seq} order by seq`));
    const lena = 'Lena Second <lena@example.org> via import org.yaml';
    expect(events.map((e) => `${e.action} ${e.entity_ref}: ${e.actor_label}`)).toEqual([
      `propose scope v1: ${lena}`, `request APR-0001: ${lena}`,
      `publish POL-0001 v1.0: ${lena}`, `request APR-0002: ${lena}`, 'create POL-0001: import org.yaml',
      `declare SUP-0001: ${lena}`, `propose SC-0001: ${lena}`,
      `propose risk appetite #1: ${lena}`, `request APR-0003: ${lena}`,
    ]);
  });

  it('refuses, naming the row, a proposal or a policy version without approval in a file run by someone who is not an ISMS lead; anyone may declare a supplier', async () => {
    await importYaml(t.db, TWO_LEADS, 'people.yaml');
    const before = await registerSize();
    const scope = UNNAMED.slice(0, UNNAMED.indexOf('risk_appetite:'));
    const appetite = UNNAMED.slice(UNNAMED.indexOf('risk_appetite:'), UNNAMED.indexOf('policies:'));
    const policy = UNNAMED.slice(UNNAMED.indexOf('policies:'), UNNAMED.indexOf('suppliers:'));
    const byOlaf = { by: 'olaf@example.org' };
    expect((await importError(scope, 'scope.yaml', byOlaf)).message).toBe('scope.yaml:2: scope.approved_by: Olaf Owner <olaf@example.org> runs this import, '
      + 'and left out, the scope statement is proposed to the management body, as "/isms scope statement" proposes it, which only the ISMS lead does: '
      + 'have the ISMS lead run it (npm run isms -- import <file> --as <email>), or write the management-body member who approved it');
    expect((await importError(appetite, 'appetite.yaml', byOlaf)).message).toBe('appetite.yaml:1: risk_appetite.approved_by: Olaf Owner <olaf@example.org> runs this import, '
      + 'and left out, the risk appetite is proposed to the management body, as "/isms risk appetite" proposes it, which only the ISMS lead does: '
      + 'have the ISMS lead run it (npm run isms -- import <file> --as <email>), or write the management-body member who approved it');
    expect((await importError(policy, 'policies.yaml', byOlaf)).message).toBe('policies.yaml:2: policies[0].approved_by: Olaf Owner <olaf@example.org> runs this import, '
      + 'and left out, POL-0001 version 1.0 is published as "/isms policy publish" publishes it, which only the ISMS lead does: '
      + 'have the ISMS lead run it (npm run isms -- import <file> --as <email>), or write the management-body member who approved it');
    expect(await registerSize()).toEqual(before);
    await importYaml(t.db, 'suppliers:\n  - { name: Acme Cloud }\n', 'suppliers.yaml', byOlaf);
    expect(rows(await t.db.execute(sql`select p.email from suppliers s join people p on p.id = s.declared_by`))).toEqual([{ email: 'olaf@example.org' }]);
  });

  it('does not let a file give the person running it a role and use it in the same import, naming both rows, and writes nothing', async () => {
    await importYaml(t.db, PEOPLE, 'people.yaml');
    const before = await registerSize();
    const promoted = (role: string) => PEOPLE.replace('roles: [control_owner, asset_owner]', `roles: [control_owner, asset_owner, ${role}]`);
    const olafRow = `people[1], line ${lineOf(PEOPLE, 'Olaf Owner')}`;
    const byOlaf = { by: 'olaf@example.org' };
    const scope = `${promoted('isms_lead')}scope:\n  statement: The payments platform.\n`;
    expect((await importError(scope, 'org.yaml', byOlaf)).message).toBe(`org.yaml:${lineOf(scope, 'statement: The payments')}: scope.approved_by: Olaf Owner <olaf@example.org> runs this import `
      + `and is given the ISMS lead role by this file (${olafRow}), and left out, the scope statement is proposed to the management body, as "/isms scope statement" `
      + 'proposes it, which is for someone who was the ISMS lead before the import: import the people first and then this file, or write the management-body member who approved it');
    const risk = `${promoted('isms_lead')}risks:\n  - { title: Phishing, likelihood: 3, impact: 3, treatment: mitigate }\n`;
    expect((await importError(risk, 'org.yaml', byOlaf)).message).toBe(`org.yaml:${lineOf(risk, 'Phishing')}: risks[0]: Olaf Owner <olaf@example.org> runs this import `
      + `and is given the ISMS lead role by this file (${olafRow}), and this file adds Phishing with its first assessment, which is for someone who was the ISMS lead `
      + 'before the import: import the people first and then this file, or leave the risk out');
    const supplier = `${promoted('management_body')}suppliers:\n  - { name: Nimbus, status: accepted }\n`;
    expect((await importError(supplier, 'org.yaml', byOlaf)).message).toBe(`org.yaml:${lineOf(supplier, 'Nimbus')}: suppliers[0].status: Olaf Owner <olaf@example.org> `
      + `runs this import and is given the management body role by this file (${olafRow}), and this file accepts Nimbus without triage, which is for someone who was `
      + 'the ISMS lead or the management body before the import: import the people first and then this file, or leave status out to put it in triage');
    expect(await registerSize()).toEqual(before);
  });

  it('lets a new register\'s first file give the person running it the ISMS lead role and use it: the scope, a risk and a supplier are theirs', async () => {
    const file = `${PEOPLE}${UNNAMED.slice(0, UNNAMED.indexOf('risk_appetite:'))}risks:\n  - { title: Phishing, likelihood: 3, impact: 3, treatment: mitigate }\n`
      + 'suppliers:\n  - { name: Acme Cloud }\n';
    await importYaml(t.db, file, 'org.yaml', { by: LEAD });
    // Nobody was an ISMS lead before: Iris, made one by the file, proposes the scope, declares the supplier and assesses the risk.
    expect(rows<{ action: string; entity_ref: string }>(await t.db.execute(sql`select action, entity_ref from audit_events
      where actor_label = 'Iris Lead <iris@example.org> via import org.yaml' order by seq`)).map((e) => `${e.action} ${e.entity_ref}`))
      .toEqual(['propose scope v1', 'request APR-0001', 'declare SUP-0001', 'propose SC-0001']);
    expect(rows(await t.db.execute(sql`select p.email from risk_assessments a join people p on p.id = a.assessed_by`))).toEqual([{ email: LEAD }]);
    expect(rows(await t.db.execute(sql`select p.email from scope_statements s join people p on p.id = s.proposed_by`))).toEqual([{ email: LEAD }]);
  });
});

describe('example organisation', () => {
  let t: TestDatabase;
  beforeEach(async () => { t = await createTestDatabase(); });
  afterEach(async () => { await t.destroy(); });

  const count = async (query: string) => rows<{ n: number }>(await t.db.execute(sql.raw(query)))[0].n;

  it('loads Northwind Payments into an empty register, and not a second time', async () => {
    expect(await loadExampleOrganisation(t.db)).toBe(true);

    const first = rows<{ name: string; email: string; roles: string[] }>(await t.db.execute(sql`select name, email, roles from people order by id limit 1`))[0];
    expect(first).toMatchObject({ email: 'iris@northwind.example', roles: expect.arrayContaining(['isms_lead']) });
    const roles = rows<{ role: string; n: number }>(await t.db.execute(sql`select unnest(roles) as role, count(*)::int as n from people group by 1`));
    expect(Object.fromEntries(roles.map((r) => [r.role, r.n]))).toMatchObject({
      management_body: 2, isms_lead: 1, control_owner: expect.any(Number), asset_owner: expect.any(Number), staff: expect.any(Number), auditor: expect.any(Number),
    });
    expect(await count(`select count(*)::int as n from people where timezone = 'America/New_York'`)).toBeGreaterThan(0);
    // Every applicable control maps to ISO/IEC 27001 Annex A and to CSF 2.0.
    expect(await count(`select count(*)::int as n from controls c where c.applicable and (
      not exists (select 1 from control_mappings m join framework_requirements r on r.id = m.requirement_id
                  where m.control_id = c.id and r.framework = 'ISO27001:2022' and r.reference like 'A.%')
      or not exists (select 1 from control_mappings m join framework_requirements r on r.id = m.requirement_id
                  where m.control_id = c.id and r.framework = 'NIST-CSF-2.0'))`)).toBe(0);
    expect(await count(`select count(*)::int as n from controls`)).toBeGreaterThanOrEqual(8);
    expect(rows(await t.db.execute(sql`select ref, title from policies order by ref`))).toEqual([
      { ref: 'POL-0001', title: 'Information Security Policy' }, { ref: 'POL-0002', title: 'Acceptable Use of AI' },
    ]);
    expect(rows(await t.db.execute(sql`select audience_role, validity_months, legal_basis from training_courses where code = 'MB-CYBER'`)))
      .toEqual([{ audience_role: 'management_body', validity_months: 12, legal_basis: 'NIS2 Art. 20(2); DORA Art. 5(4)' }]);
    expect(await count(`select count(*)::int as n from suppliers where ict_service and supports_critical_function and criticality_tier = 'tier1_critical'`)).toBe(1);
    expect(await count(`select count(*)::int as n from risks`)).toBe(5);
    expect(await count(`select count(*)::int as n from poam_items i where exists (select 1 from poam_milestones m where m.item_id = i.id)
      and exists (select 1 from controls c where c.owner_id = i.owner_id)`)).toBe(3);

    const events = await count('select count(*)::int as n from audit_events');
    expect(await loadExampleOrganisation(t.db)).toBe(false);
    expect(await count('select count(*)::int as n from audit_events')).toBe(events);
    expect(await count('select count(*)::int as n from people')).toBe(10);
  });

  it('puts the example\'s tier-1 supplier to its management body, so status, the supplier register and the approvals agree', async () => {
    const now = new Date('2031-03-10T09:00:00Z');
    expect(await loadExampleOrganisation(t.db, now)).toBe(true);
    const router = buildRouter(t.db);
    const as = async (email: string, line: string) => {
      const [person] = await t.db.select().from(people).where(eq(people.email, email));
      return toPlainText(await router.handle(line, { actor: toActor(person), channel: 'shell', now }));
    };
    const lead = 'iris@northwind.example';
    expect(await as(lead, 'status')).toContain('Approvals waiting for the management body: 1');
    const register = await as(lead, 'register suppliers');
    expect(register).toContain('awaiting management-body approval (APR-0001)');
    expect(register).not.toContain('not yet asked');
    const approvals = await as('katrin.vogel@northwind.example', 'approvals');
    expect(approvals).toContain('tier-1 supplier Nimbus Cloud Services EU');
    expect(approvals).toContain('APR-0001');
    expect(await as('katrin.vogel@northwind.example', 'approve APR-0001')).toContain('Approved: tier-1 supplier Nimbus Cloud Services EU');
    expect(await as(lead, 'status')).toContain('Approvals waiting for the management body: 0');
  });

  /** What the ISMS lead sees on `day` of a register the example was loaded into that day, and how far ahead each date lies. */
  async function exampleLoadedOn(day: string) {
    const now = new Date(`${day}T09:00:00Z`);
    const db = await createTestDatabase();
    try {
      expect(await loadExampleOrganisation(db.db, now)).toBe(true);
      const [lead] = await db.db.select().from(people).orderBy(people.id).limit(1);
      const router = buildRouter(db.db);
      const ask = async (line: string) => toPlainText(await router.handle(line, { actor: toActor(lead), channel: 'shell', now }));
      const dates = rows<{ what: string; due: string }>(await db.db.execute(sql`
        select ref as what, due_on::text as due from poam_items
        union all select i.ref || ' / ' || m.description, m.due_on::text from poam_milestones m join poam_items i on i.id = m.item_id
        union all select ref || ' review', next_review_on::text from suppliers order by 1`));
      return {
        daysAhead: Object.fromEntries(dates.map((d) => [d.what, daysBetween(isoDay(now), d.due)])),
        poam: await ask('poam --all'), suppliers: await ask('register suppliers'), status: await ask('status'),
        sources: rows<{ source: string }>(await db.db.execute(sql`select source_ref as source from poam_items where source_ref is not null`)).map((r) => r.source),
      };
    } finally {
      await db.destroy();
    }
  }

  it('keeps its dates as far ahead of the day it is loaded, whatever the year', async () => {
    const thisYear = await exampleLoadedOn('2031-03-10');
    const nextYear = await exampleLoadedOn('2032-03-10');
    expect(nextYear.daysAhead).toEqual(thisYear.daysAhead);
    expect(Object.keys(thisYear.daysAhead)).toHaveLength(2 + 3 + 7);
    // Nothing of the example is overdue: the POA&M items and supplier reviews lie ahead.
    expect(Object.values(thisYear.daysAhead).every((days) => days > 0)).toBe(true);
    for (const seen of [thisYear, nextYear]) {
      expect(seen.poam).toContain('Open POA&M items: 3');
      expect(`${seen.poam}\n${seen.suppliers}\n${seen.status}`).not.toMatch(/overdue(?!: 0)(?<!0 overdue)/);
    }
    expect(nextYear.poam).toContain('due 2032-');
    expect(thisYear.poam).not.toContain('due 2027-');
    // Nor does its free text date itself: a POA&M item's source names no year before the one it is loaded in.
    for (const [seen, year] of [[thisYear, 2031], [nextYear, 2032]] as const) {
      expect(seen.sources).toContain('R-0001');
      expect(seen.sources.flatMap((source) => source.match(/\b20\d\d\b/g) ?? []).filter((y) => Number(y) < year)).toEqual([]);
    }
  });

  it('leaves the dates of an organisation\'s own file as written, whenever it is imported', async () => {
    const own = `
people:
  - { name: Ada Admin, email: ada@example.org, roles: [isms_lead] }
suppliers:
  - { name: Acme Cloud, owner: ada@example.org, next_review_on: 2027-03-31 }
poam:
  - { weakness: No restore test, source: risk, owner: ada@example.org, due_on: 2027-03-31, milestones: [{ description: Write the runbook, due_on: 2027-01-15 }] }
`;
    await importYaml(t.db, own, 'org.yaml', { now: new Date('2031-03-10T09:00:00Z') });
    expect(rows(await t.db.execute(sql`select due_on::text as due from poam_items union all select due_on::text from poam_milestones
      union all select next_review_on::text from suppliers`))).toEqual([{ due: '2027-03-31' }, { due: '2027-01-15' }, { due: '2027-03-31' }]);
    // The example file itself, imported as an organisation's own, keeps its dates too: only loading the example moves them.
    const example = await createTestDatabase();
    try {
      await loadReferenceData(example.db);
      // Its people first: the file's approvals come from members of the management body already in the register.
      const { people: staff } = YAML.parse(await readFile(EXAMPLE_FILE, 'utf8')) as { people: unknown[] };
      await importYaml(example.db, YAML.stringify({ people: staff }), 'people.yaml');
      await importFile(example.db, EXAMPLE_FILE, { now: new Date('2031-03-10T09:00:00Z'), by: 'iris@northwind.example' });
      expect(rows(await example.db.execute(sql`select next_review_on::text as due from suppliers order by ref`))).toEqual([{ due: '2027-06-30' }, { due: '2027-03-31' }]);
    } finally {
      await example.destroy();
    }
  });

  it('does not load into a register that already has people', async () => {
    await importYaml(t.db, 'people:\n  - { name: Ada Admin, email: ada@example.org, roles: [isms_lead] }\n', 'people.yaml');
    expect(await loadExampleOrganisation(t.db)).toBe(false);
    expect(await count('select count(*)::int as n from people')).toBe(1);
    expect(await count('select count(*)::int as n from controls')).toBe(0);
  });
});
