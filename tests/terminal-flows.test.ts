import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { openDatabase, type Database } from '../src/db/client.js';
import {
  aiTools, auditEvents, evidenceItems, evidenceRequests, people, policies, policyAcknowledgements, policyVersions,
  poamExtensions, poamItems, scopeChanges, trainingAttestations, trainingCourses,
} from '../src/db/schema/index.js';
import { verifyAuditChain } from '../src/core/audit.js';
import { shiftExampleDates } from '../src/import/example.js';
import { isoDay } from '../src/core/time.js';
import { createTestDatabase, testDbKind, type TestDatabase } from './helpers/db.js';
import { ROOT, entryArgs, freshRegister, pipedSession } from './helpers/process.js';
import { storedFileBytes } from './helpers/fixtures.js';

/** One terminal session walks every flow: a start costs several seconds (tsx, PGlite, the example import). */
const SESSION_TIMEOUT = 300_000;

interface ExamplePerson { name: string; email: string; roles: string[] }
interface ExampleOrganisation {
  people: ExamplePerson[];
  controls: { code: string; owner?: string; applicable: boolean }[];
  policies: { ref: string; title: string }[];
  training_courses: { code: string; audience_role?: string; validity_months: number }[];
  poam: { weakness: string; owner: string; due_on: string }[];
}

/**
 * The terminal chat as a child process on piped stdin, driven line by line like a person typing:
 * each line is followed by "/whoami", whose answer marks the end of the reply to the line.
 */
class TerminalSession {
  private stdout = '';
  private stderr = '';
  private readonly exit: Promise<number | null>;
  private notify: () => void = () => undefined;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (d) => { this.stdout += d; this.notify(); });
    child.stderr.on('data', (d) => { this.stderr += d; });
    this.exit = new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => { resolve(code); this.notify(); });
    });
  }

  static start(env: Record<string, string | undefined>, cwd: string): TerminalSession {
    const merged: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: undefined, DATABASE_URL: undefined, ...env };
    for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
    return new TerminalSession(spawn(process.execPath, entryArgs('src/main.ts'), { cwd, env: merged, stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  get transcript(): string { return this.stdout; }

  /** Types a line and returns what the terminal answered to it. */
  async say(line: string): Promise<string> {
    const from = this.stdout.length;
    this.child.stdin.write(`${line}\n/whoami\n`);
    const done = /> \/whoami\nYou are [^\n]*\n/;
    while (!done.test(this.stdout.slice(from))) {
      if (this.child.exitCode !== null) throw new Error(`The terminal exited while answering "${line}":\n${this.stdout}\n${this.stderr}`);
      // A form would take "/whoami" as its first answer: this driver types whole commands only.
      if (this.stdout.includes('answer each question;', from)) throw new Error(`"${line}" opened a form:\n${this.stdout.slice(from)}`);
      await new Promise<void>((resolve) => { this.notify = resolve; });
    }
    // The first answer comes after the start-up banner.
    const answered = this.stdout.slice(from);
    const echo = `> ${line}\n`;
    const start = answered.indexOf(echo);
    expect(start, `the terminal did not echo "${line}":\n${answered}`).toBeGreaterThanOrEqual(0);
    return answered.slice(start + echo.length, answered.indexOf('> /whoami\n'));
  }

  /** Ends the input, as a closed pipe does, and waits for the process to exit. */
  async end(): Promise<{ code: number | null; stderr: string }> {
    this.child.stdin.end();
    return { code: await this.exit, stderr: this.stderr };
  }
}

/** The first match's group, failing the test with the whole reply when it is missing. */
function pick(reply: string, pattern: RegExp): string {
  const m = pattern.exec(reply);
  expect(m, `expected ${pattern} in:\n${reply}`).not.toBeNull();
  return m![1];
}

const literally = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function isoPlusDays(isoDay: string, days: number): string {
  const d = new Date(`${isoDay}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** The same calendar day a year later (28 February for 29 February). */
function oneYearAfter(isoDay: string): string {
  const [y, m, d] = isoDay.split('-').map(Number);
  const lastDay = new Date(Date.UTC(y + 1, m, 0)).getUTCDate();
  return `${y + 1}-${String(m).padStart(2, '0')}-${String(Math.min(d, lastDay)).padStart(2, '0')}`;
}

describe('the flows in the terminal, as the people of the example organisation', () => {
  let workDir: string;
  let testDatabase: TestDatabase | undefined;
  let env: Record<string, string | undefined>;
  let pglite: Database | undefined;

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'isms-flows-'));
    const platformOff = { SLACK_BOT_TOKEN: undefined, SLACK_SIGNING_SECRET: undefined, SLACK_APP_TOKEN: undefined, MICROSOFT_APP_ID: undefined, TEAMS_ENABLED: undefined, ISMS_EXAMPLE_ORG: undefined };
    if (testDbKind === 'postgres') {
      testDatabase = await createTestDatabase({ migrate: false });
      // A start on PostgreSQL loads the example only when asked, as a trial on it would.
      env = { ...platformOff, DATABASE_URL: testDatabase.url, ISMS_EXAMPLE_ORG: 'true' };
    } else {
      env = { ...platformOff, ISMS_DATA_DIR: path.join(workDir, 'data') };
    }
  });
  afterAll(async () => {
    await pglite?.close();
    await testDatabase?.destroy();
    await rm(workDir, { recursive: true, force: true });
  });

  it('declare, triage, evidence with a file, policy acknowledgement, board training and a POA&M extension land in the register with an intact audit trail', async () => {
    // As the bot loads it on its first start today: its dates moved from the file's as_of day to today.
    const example = parse(shiftExampleDates(await readFile(path.join(ROOT, 'examples/example-org.yaml'), 'utf8'), isoDay(new Date()))) as ExampleOrganisation;
    const withRole = (role: string) => example.people.filter((p) => p.roles.includes(role));
    const lead = withRole('isms_lead')[0];
    const staff = withRole('staff')[0];
    const boardMember = withRole('management_body')[0];
    const boardCourse = example.training_courses.find((c) => c.audience_role === 'management_body')!;
    const policy = example.policies[0];
    // A control owner other than the lead, with an applicable control and a POA&M item of their own.
    const owner = withRole('control_owner').find((p) => !p.roles.includes('isms_lead')
      && example.controls.some((c) => c.owner === p.email && c.applicable) && example.poam.some((i) => i.owner === p.email))!;
    for (const [what, found] of Object.entries({ lead, staff, boardMember, boardCourse, policy, owner })) {
      expect(found, `the example organisation has no ${what} for this walk-through`).toBeDefined();
    }
    const control = example.controls.find((c) => c.owner === owner.email && c.applicable)!;
    const weakness = example.poam.find((i) => i.owner === owner.email)!;

    const evidenceFile = path.join(workDir, 'access-review-export.csv');
    const evidenceBytes = Buffer.from('account,reviewed,decision\nadmin@northwind.example,yes,keep\n\u0000\u00ff binary tail\n', 'latin1');
    await writeFile(evidenceFile, evidenceBytes);
    const evidenceSha256 = createHash('sha256').update(evidenceBytes).digest('hex');

    const s = TerminalSession.start(env, workDir);

    // 1. A staff member declares an AI tool, and 7. may not triage.
    expect(await s.say(`/as ${staff.email}`)).toContain(`Now acting as ${staff.name}`);
    const declared = await s.say('/isms declare ai ChatGPT "drafting merchant emails" --vendor OpenAI');
    const aiRef = pick(declared, /✔ Recorded ChatGPT in the AI register as (AI-\d{4})\./);
    expect(await s.say('/isms triage')).toContain('✖ Only the ISMS lead or the management body may use "/isms triage".');

    // 2. The ISMS lead sees it on the triage list and accepts it with a rationale.
    const leadArrives = await s.say(`/as ${lead.email}`);
    expect(leadArrives).toContain(`New for triage: ${staff.name} declared the AI tool ChatGPT (${aiRef})`);
    const triage = await s.say('/isms triage');
    const changeRef = pick(triage, /(SC-\d{4}) — new AI use: ChatGPT — declared by/);
    expect(triage).toContain(`Register entry: ${aiRef}`);
    const rationale = 'No customer data; assess in the next review';
    const accepted = await s.say(`/isms triage accept ${changeRef} "${rationale}"`);
    expect(accepted).toContain(`✔ Accepted ${changeRef} (new AI use: ChatGPT). ${aiRef} is now under review.`);
    expect(accepted).toContain(`Rationale: ${rationale}`);

    // 4 (first half). The lead starts an acknowledgement campaign for everyone.
    expect(await s.say(`/isms campaign ${policy.ref} all`)).toMatch(new RegExp(`✔ Started CMP-\\d{4} for ${literally(policy.ref)} `));

    // 3. The control owner submits evidence with a file for their evidence request (asked for first if none is open).
    await s.say(`/as ${owner.email}`);
    let open = await s.say('/isms evidence');
    if (!open.includes(control.code)) {
      await s.say(`/as ${lead.email}`);
      expect(await s.say(`/isms request ${control.code}`)).toContain(`✔ Asked ${owner.name} for evidence for ${control.code}`);
      await s.say(`/as ${owner.email}`);
      open = await s.say('/isms evidence');
    }
    const requestRef = pick(open, new RegExp(`(EVR-\\d{4}) — ${literally(control.code)} `));
    const submitted = await s.say(`/isms evidence submit ${requestRef} "Access review export, every account reviewed" --file ${evidenceFile}`);
    const evidenceRef = pick(submitted, new RegExp(`✔ Recorded (EV-\\d{4}) \\(revision 1\\) for ${requestRef}, ${literally(control.code)}`));
    expect(submitted).toContain(`File: access-review-export.csv (${evidenceBytes.length} bytes)`);
    expect(submitted).toContain(`SHA-256: ${evidenceSha256}`);

    // 4. A staff member acknowledges the policy; the lead's campaign status shows it.
    await s.say(`/as ${staff.email}`);
    expect(await s.say('/isms policies')).toContain(`• ${policy.ref} ${policy.title}`);
    expect(await s.say(`/isms ack ${policy.ref}`)).toContain(`✔ Thank you: you acknowledged ${policy.ref} ${policy.title} version`);
    await s.say(`/as ${lead.email}`);
    const status = await s.say(`/isms campaign status ${policy.ref}`);
    const acknowledgedList = status.slice(status.indexOf('\nAcknowledged\n'));
    expect(acknowledgedList).toContain(`• ${staff.name} — ${staff.email}, on `);
    expect(status).toContain('Acknowledged: 1');

    // 5. A management-body member attests the management body's own training.
    await s.say(`/as ${boardMember.email}`);
    const attested = await s.say(`/isms attest ${boardCourse.code}`);
    expect(attested).toContain('NIS2 Art. 20(2) / DORA Art. 5(4)');
    const completedOn = pick(attested, /completed on (\d{4}-\d{2}-\d{2})/);
    const expiresOn = pick(attested, /valid until (\d{4}-\d{2}-\d{2})/);
    expect(expiresOn).toBe(oneYearAfter(completedOn));

    // 6. The owner asks for more time on their POA&M item; the lead approves; the owner sees the new date.
    await s.say(`/as ${owner.email}`);
    const mine = await s.say('/isms poam');
    const itemRef = pick(mine, new RegExp(`(POAM-\\d{4}) — ${literally(weakness.weakness)} — due ${weakness.due_on}`));
    const today = new Date().toISOString().slice(0, 10);
    const newDue = isoPlusDays(weakness.due_on > today ? weakness.due_on : today, 60);
    const requested = await s.say(`/isms poam extend ${itemRef} ${newDue} "restore environment arrives late from the cloud provider"`);
    const extensionRef = pick(requested, /✔ Requested an extension of POAM-\d{4} to \d{4}-\d{2}-\d{2} \((PEX-\d{4})\)/);
    await s.say(`/as ${lead.email}`);
    expect(await s.say(`/isms poam approve ${extensionRef}`))
      .toContain(`✔ Approved ${extensionRef}: ${itemRef} is now due on ${newDue} (was ${weakness.due_on}). ${owner.name} has been told.`);
    const ownerBack = await s.say(`/as ${owner.email}`);
    expect(ownerBack).toContain(`approved your extension request ${extensionRef}`);
    expect(await s.say('/isms poam')).toContain(`${itemRef} — ${weakness.weakness} — due ${newDue} · open`);

    const { code, stderr } = await s.end();
    expect(code, stderr).toBe(0);

    // The register after the session (PGlite only once the bot has let go of the data dir).
    pglite = testDatabase ? undefined : await openDatabase({ kind: 'pglite', dataDir: env.ISMS_DATA_DIR! });
    const { db } = testDatabase ?? pglite!;
    const personId = async (email: string) => (await db.select({ id: people.id }).from(people).where(eq(people.email, email)))[0].id;

    const [tool] = await db.select().from(aiTools).where(eq(aiTools.ref, aiRef));
    expect(tool).toMatchObject({ name: 'ChatGPT', vendor: 'OpenAI', status: 'under_review', declaredBy: await personId(staff.email) });
    const [change] = await db.select().from(scopeChanges).where(eq(scopeChanges.ref, changeRef));
    expect(change).toMatchObject({ status: 'accepted', rationale, subjectRef: aiRef, decidedBy: await personId(lead.email) });

    const [item] = await db.select().from(evidenceItems).where(eq(evidenceItems.ref, evidenceRef));
    const [request] = await db.select().from(evidenceRequests).where(eq(evidenceRequests.ref, requestRef));
    expect(item).toMatchObject({
      requestId: request.id, fileName: 'access-review-export.csv', fileSize: evidenceBytes.length, fileSha256: evidenceSha256,
      submittedBy: await personId(owner.email), channel: 'shell',
    });
    expect((await storedFileBytes(db, item)).equals(evidenceBytes)).toBe(true);
    expect(request.status).toBe('submitted');

    const [version] = await db.select({ id: policyVersions.id, sha: policyVersions.contentSha256 }).from(policyVersions)
      .innerJoin(policies, eq(policies.id, policyVersions.policyId)).where(eq(policies.ref, policy.ref));
    const acks = await db.select().from(policyAcknowledgements)
      .where(and(eq(policyAcknowledgements.personId, await personId(staff.email)), eq(policyAcknowledgements.policyVersionId, version.id)));
    expect(acks).toHaveLength(1);
    expect(acks[0]).toMatchObject({ contentSha256: version.sha, channel: 'shell' });

    const attestations = await db.select({ completedOn: trainingAttestations.completedOn, expiresOn: trainingAttestations.expiresOn })
      .from(trainingAttestations).innerJoin(trainingCourses, eq(trainingCourses.id, trainingAttestations.courseId))
      .where(and(eq(trainingAttestations.personId, await personId(boardMember.email)), eq(trainingCourses.code, boardCourse.code)));
    expect(attestations).toEqual([{ completedOn, expiresOn: oneYearAfter(completedOn) }]);

    const [poam] = await db.select().from(poamItems).where(eq(poamItems.ref, itemRef));
    expect(poam.dueOn).toBe(newDue);
    const [extension] = await db.select().from(poamExtensions).where(eq(poamExtensions.ref, extensionRef));
    expect(extension).toMatchObject({ status: 'approved', previousDueOn: weakness.due_on, requestedDueOn: newDue, decidedBy: await personId(lead.email) });

    // Every change is in the audit trail, and the trail is unbroken.
    const trail = (await db.select({ action: auditEvents.action, ref: auditEvents.entityRef }).from(auditEvents)).map((e) => `${e.action} ${e.ref}`);
    expect(trail).toEqual(expect.arrayContaining([
      `declare ${aiRef}`, `triage ${aiRef}`, `accept ${changeRef}`, `submit ${evidenceRef}`, `submit ${requestRef}`,
      `request ${extensionRef}`, `approve ${extensionRef}`, `extend_due_date ${itemRef}`,
    ]));
    expect(trail.filter((e) => e.startsWith('acknowledge ')).length).toBe(1);
    expect(trail.filter((e) => e.startsWith(`attest ${boardCourse.code}#`)).length).toBe(1);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: true });
  }, SESSION_TIMEOUT);
});

describe('the piped session the README shows', () => {
  it('prints exactly what the README says it prints', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const shown = readme.slice(readme.indexOf('### A piped session'));
    const command = /```sh\n(printf[\s\S]*?\| npm start)\n```/.exec(shown);
    const transcript = /```text\n([\s\S]*?)```/.exec(shown);
    expect(command, 'the README lost its piped command').not.toBeNull();
    expect(transcript, 'the README lost its piped transcript').not.toBeNull();
    // printf '%s\n' 'line' 'line' ...: every single-quoted word after the format is a typed line.
    const lines = [...command![1].matchAll(/'([^']*)'/g)].map((m) => m[1]).slice(1);
    expect(lines.length).toBeGreaterThan(1);

    const register = await freshRegister();
    try {
      expect(await pipedSession(register, ...lines)).toBe(transcript![1]);
    } finally {
      await register.dispose();
    }
  }, SESSION_TIMEOUT);
});
