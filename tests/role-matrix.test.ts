import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { people, poamItems, riskAppetite, ROLES, type Role } from '../src/db/schema/index.js';
import { holdersOf, toActor, type Actor } from '../src/core/actor.js';
import { toPlainText } from '../src/core/reply.js';
import type { CommandSpec } from '../src/core/router.js';
import { createTestBot, type TestBot } from './helpers/bot.js';
import { addControl } from './helpers/fixtures.js';
import { nextRef } from '../src/core/refs.js';

const NOW = new Date('2026-06-15T09:00:00Z');

/** The refusal the router gives someone without the role, as the person reads it. */
const roleRefusal = (spec: CommandSpec) => `Only ${holdersOf(spec.roles!)} may use "/isms ${spec.name}".${spec.readOnly ? '' : ' Nothing was recorded.'}`;

describe('role matrix: every privileged command, tried by every role', () => {
  let bot: TestBot;
  const actors = new Map<string, Actor>();

  beforeAll(async () => {
    bot = await createTestBot();
    // One person per role (and one with none), so that no other role lends a permission.
    for (const role of [...ROLES, 'none'] as const) {
      const [p] = await bot.t.db.insert(people).values({
        name: `Only ${role}`, email: `only-${role}@test.example`, roles: role === 'none' ? [] : [role], timezone: 'Europe/Berlin',
      }).returning();
      actors.set(role, toActor(p));
    }
  });
  afterAll(async () => { await bot.destroy(); });

  const privileged = () => bot.router.specs.filter((s) => s.roles?.length);

  it('covers the privileged commands the router has, whichever are added later', () => {
    expect(privileged().length).toBeGreaterThan(40);
    for (const spec of privileged()) for (const role of spec.roles!) expect(ROLES).toContain(role);
  });

  it('only the roles a command names get past its role check, typed or submitted as a form; the others are refused and nothing is written', async () => {
    for (const spec of privileged()) {
      // An option no command has: past the role check the parser refuses it, so nothing runs either way.
      const line = `/isms ${spec.name} --past-the-role-check`;
      for (const [role, actor] of actors) {
        const permitted = spec.roles!.includes(role as Role);
        const audits = await bot.auditCount();
        const typed = toPlainText(await bot.router.handle(line, { actor, channel: 'test', now: NOW }));
        if (permitted) {
          expect(typed, `${role}: ${line}`).toContain(`"/isms ${spec.name}" has no option --past-the-role-check.`);
          continue;
        }
        expect(typed, `${role}: ${line}`).toContain(roleRefusal(spec));
        const submitted = await bot.router.submit(spec.name, {}, { actor, channel: 'test', now: NOW });
        expect(submitted.outcome, `${role} submitted ${spec.name}`).toBe('refused');
        expect(toPlainText(submitted), `${role} submitted ${spec.name}`).toContain(roleRefusal(spec));
        expect(await bot.auditCount(), `${role}: ${line}`).toBe(audits);
      }
    }
  });
});

/**
 * Commands that decide on someone's work. Each is tried by the author of the item it decides; those
 * tested the same way in separation-of-duties.test.ts are named here rather than tried again.
 */
const DECIDING = /\b(approve|reject|accept|restrict|prohibit|duplicate|close|verify|reopen|return)\b/;
const TRIED_IN_SEPARATION_OF_DUTIES = ['triage accept', 'triage reject', 'poam approve', 'poam reject', 'finding close'];
/** Deciding by name, but not on anyone's work: the chair closes the record of the meeting they chaired; verifying the trail decides nothing. */
const NOT_ABOUT_OWN_WORK = ['review close', 'audit verify'];

describe('separation of duties: the author of an item never decides it, whatever roles they hold', () => {
  let bot: TestBot;
  let author: Actor;
  const as = async (who: 'author' | 'lead' | 'board', line: string) =>
    bot.router.handle(line, { actor: who === 'author' ? author : await bot.actor(who), channel: 'test', now: NOW });

  beforeAll(async () => {
    bot = await createTestBot();
    // Holds every deciding role: only the separation of duties stands between them and their own work.
    const [p] = await bot.t.db.insert(people).values({
      name: 'Max Author', email: 'max@test.example', roles: ['isms_lead', 'management_body', 'control_owner', 'auditor', 'staff'], timezone: 'Europe/Berlin',
    }).returning();
    author = toActor(p);
  });
  afterAll(async () => { await bot.destroy(); });

  /** The author's work, made through the bot: each entry makes an item and returns the lines that would decide it. */
  const scenarios: Record<string, () => Promise<string[]>> = {};
  /** One item serves every command that decides it: made on first use. */
  const once = (make: () => Promise<string[]>) => {
    let made: Promise<string[]> | undefined;
    return () => (made ??= make());
  };
  const expectRecorded = async (who: 'author' | 'lead' | 'board', line: string) => {
    const answer = await as(who, line);
    expect(answer.outcome, `${line}: ${toPlainText(answer)}`).toBe('recorded');
    return answer;
  };
  const declaredTool = once(async () => {
    await expectRecorded('author', '/isms declare ai Copilot "code completion" --data internal');
    await expectRecorded('lead', '/isms triage accept SC-0001 "assessed"');
    await expectRecorded('lead', '/isms declare ai Codeium "code completion"');
    return ['/isms ai approve AI-0001', '/isms ai restrict AI-0001 "internal code only"', '/isms ai prohibit AI-0001 "no"', '/isms ai duplicate AI-0001 AI-0002'];
  });
  for (const name of ['ai approve', 'ai restrict', 'ai prohibit', 'ai duplicate']) scenarios[name] = declaredTool;
  const ownEvidence = once(async () => {
    await addControl(bot.t.db, { code: 'CTL-AC-01', ownerId: author.id });
    await expectRecorded('lead', '/isms request CTL-AC-01 2026-12-31');
    await expectRecorded('author', '/isms evidence submit EVR-0001 "quarterly access review done"');
    return ['/isms evidence accept EV-0001', '/isms evidence return EV-0001 "redo"', '/isms evidence accept EVR-0001', '/isms evidence return EVR-0001 "redo"'];
  });
  for (const name of ['evidence accept', 'evidence return']) scenarios[name] = ownEvidence;
  const ownClosure = once(async () => {
    await bot.t.db.insert(poamItems).values({ ref: await nextRef(bot.t.db, 'POAM'), weakness: 'No MFA on the VPN', source: 'risk', ownerId: author.id, dueOn: '2026-11-30' });
    await expectRecorded('author', '/isms poam done POAM-0001 "MFA enforced"');
    return ['/isms poam verify POAM-0001', '/isms poam reopen POAM-0001 "not yet"'];
  });
  for (const name of ['poam verify', 'poam reopen']) scenarios[name] = ownClosure;
  const ownPolicy = once(async () => {
    await expectRecorded('author', '/isms policy add "Access control policy" --text "Access is granted on need."');
    return ['/isms approve APR-0001 "fine"', '/isms reject APR-0001 "no"'];
  });
  for (const name of ['approve', 'reject']) scenarios[name] = ownPolicy;
  scenarios['risk accept'] = async () => {
    await bot.t.db.insert(riskAppetite).values({ maxResidualScore: 12, statement: 'Moderate', proposedBy: bot.ids.lead, approvedBy: bot.ids.board, approvedAt: NOW });
    await expectRecorded('lead', '/isms risk add "Phishing" --likelihood 2 --impact 2 --treatment accept --owner max@test.example');
    return ['/isms risk accept R-0001 "cheaper to accept" --until 2027-06-30'];
  };
  scenarios['review decision close'] = async () => {
    await expectRecorded('lead', '/isms review record 2026-06-01 "all inputs" --attendees bruno@test.example,max@test.example --chair bruno@test.example');
    await expectRecorded('lead', '/isms review decide MR-0001 max@test.example 2026-12-31 "Fund MFA"');
    return ['/isms review decision close MR-0001/1 "done"'];
  };

  it('has a case for every command that decides on someone\'s work, whichever are added later', () => {
    const deciding = bot.router.specs.map((s) => s.name).filter((n) => DECIDING.test(n));
    const untried = deciding.filter((n) => !(n in scenarios) && !TRIED_IN_SEPARATION_OF_DUTIES.includes(n) && !NOT_ABOUT_OWN_WORK.includes(n));
    expect(untried).toEqual([]);
  });

  it.each(Object.keys(scenarios))('"%s" by the author of the item is refused, saying why, and nothing is written', async (name) => {
    const lines = await scenarios[name]();
    for (const line of lines.filter((l) => l.startsWith(`/isms ${name} `))) {
      const audits = await bot.auditCount();
      const answer = await as('author', line);
      const said = toPlainText(answer);
      expect(answer.outcome, `${line}: ${said}`).toBe('refused');
      expect(said, line).toMatch(/yourself|You own|You submitted|own proposal|your own/);
      expect(said, line).not.toContain('may use "/isms');
      expect(await bot.auditCount(), line).toBe(audits);
    }
  });
});
