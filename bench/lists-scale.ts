/**
 * Listings at scale (PostgreSQL only), in a scratch schema dropped afterwards: `poam --all` with 200,000
 * POA&M items (20,000 listed, three milestones each), `campaign status` of a campaign asking 50,000
 * people (half of whom acknowledged) and `training report` of those 50,000 people on two courses (a third
 * never attested, the rest expired, expiring or valid), first, middle (typed), the middle's Next, and last
 * page; the form of `finding close` with 50,000 open audit findings; the forms of `ack`, `policy text`,
 * `campaign` and `policy publish` with 50,000 policies in force; `threats` with 50,000 risks naming one; and a
 * mistyped control code (`evidence show`) among 50,000 controls and a mistyped name (`person`) among the 50,000
 * people, answered with "Did you mean"; through the router, each the fastest of five runs. Run:
 * DATABASE_URL=postgres://… npx tsx bench/lists-scale.ts (ONLY=poam, campaign, training, findings, policies,
 * threats or suggest, comma-separated, seeds and times only those; BENCH_KEEP=1 keeps the schema to EXPLAIN its queries).
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../src/db/client.js';
import { migrate } from '../src/db/migrate.js';
import { people } from '../src/db/schema/index.js';
import { buildRouter } from '../src/commands.js';
import { toActor } from '../src/core/actor.js';
import type { Reply } from '../src/core/reply.js';

const ITEMS = 200_000;
const ASKED = 50_000;
const FINDINGS = 50_000;
const POLICIES = 50_000;
const RISKS = 50_000;
const CONTROLS = 26 * 26 * 74;
const only = process.env.ONLY?.split(',').map((p) => p.trim());
const timed = (part: 'poam' | 'campaign' | 'training' | 'findings' | 'policies' | 'threats' | 'suggest') => !only || only.includes(part);

const nextOf = (reply: Reply) => reply.blocks.flatMap((b) => (b.type === 'list' && b.page?.next ? [b.page.next] : []))[0];

async function main(url: string) {
  const schema = `lists_${randomBytes(4).toString('hex')}`;
  const admin = await openDatabase({ kind: 'postgres', url, poolSize: 1 });
  await admin.db.execute(sql.raw(`create schema ${schema}`));
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  const database = await openDatabase({ kind: 'postgres', url: u.toString(), poolSize: 2, timeoutMs: 10 * 60_000 });
  const db = database.db;
  try {
    await migrate(db);
    await db.execute(sql`insert into people (id, name, email, roles)
      select g, 'Person ' || g, 'p' || g || '@scale.example', case when g = 1 then array['isms_lead', 'staff'] else array['staff'] end
      from generate_series(1, ${ASKED + 10}::int) g`);
    await db.execute(sql`select setval(pg_get_serial_sequence('people', 'id'), ${ASKED + 10}::int)`);
    if (timed('poam')) {
      // 10 % listed: 5 % open, 4 % in progress, 1 % awaiting verification (with its closure claim).
      await db.execute(sql`insert into poam_items (id, ref, weakness, source, owner_id, due_on, status)
        select g, 'POAM-' || lpad(g::text, 6, '0'), 'Weakness ' || g, 'risk', 2 + g % 1000, date '2019-01-01' + (g * 37) % 2900,
          case when g % 20 = 0 then 'open' when g % 20 = 1 then 'in_progress' when g % 100 = 2 then 'awaiting_verification' else 'completed' end
        from generate_series(1, ${ITEMS}::int) g`);
      await db.execute(sql`select setval(pg_get_serial_sequence('poam_items', 'id'), ${ITEMS}::int)`);
      await db.execute(sql`insert into poam_milestones (item_id, seq, description, due_on)
        select i.id, s, 'Milestone ' || s, i.due_on - (3 - s) * 30 from poam_items i, generate_series(1, 3) s`);
      await db.execute(sql`insert into poam_closures (ref, item_id, text, submitted_by)
        select 'PCL-' || lpad(id::text, 6, '0'), id, 'done', owner_id from poam_items where status = 'awaiting_verification'`);
    }
    if (timed('campaign')) {
      await db.execute(sql`insert into policies (id, ref, title) values (1, 'POL-0001', 'Acceptable use')`);
      await db.execute(sql`insert into policy_versions (id, policy_id, version, major, minor, content, content_sha256, approved_by, approved_at)
        values (1, 1, '1.0', 1, 0, 'Use with care', 'x', 2, now())`);
      await db.execute(sql`insert into ack_campaigns (id, ref, policy_version_id, audience, started_by) values (1, 'CMP-0001', 1, 'all', 1)`);
      await db.execute(sql`insert into ack_campaign_audience (campaign_id, person_id) select 1, g from generate_series(1, ${ASKED}::int) g`);
      await db.execute(sql`insert into policy_acknowledgements (person_id, policy_version_id, content_sha256, channel)
        select g, 1, 'x', 'slack' from generate_series(1, ${ASKED}::int) g where g % 2 = 0`);
    }
    if (timed('training')) {
      // Everyone in scope is bound to SEC-AWARE, the ISMS lead to ISMS-LEAD too: a third never attested, the
      // rest expired, expiring or valid on one of twelve days a month apart, from four months ago.
      await db.execute(sql`insert into training_courses (id, code, title, audience_role) values
        (1, 'SEC-AWARE', 'Security awareness', null), (2, 'ISMS-LEAD', 'Running the ISMS', 'isms_lead')`);
      await db.execute(sql`insert into training_attestations (person_id, course_id, completed_on, expires_on, channel)
        select g, 1, current_date - 485 + (g % 12) * 30, current_date - 120 + (g % 12) * 30, 'slack'
        from generate_series(1, ${ASKED + 10}::int) g where g % 3 <> 0`);
    }
    if (timed('findings')) {
      await db.execute(sql`insert into audit_findings (ref, type, clause, description, raised_by)
        select 'AF-' || lpad(g::text, 6, '0'), 'observation', '6.1', 'Observation ' || g, 2 from generate_series(1, ${FINDINGS}::int) g`);
    }
    if (timed('policies')) {
      // Policies 1001 on, each with version 1.0 in force, beside the campaign's POL-0001.
      await db.execute(sql`insert into policies (id, ref, title)
        select g, 'POL-' || lpad(g::text, 6, '0'), 'Policy ' || g from generate_series(1001, ${1000 + POLICIES}::int) g`);
      await db.execute(sql`insert into policy_versions (id, policy_id, version, major, minor, content, content_sha256, approved_by, approved_at)
        select g, g, '1.0', 1, 0, 'Text of policy ' || g, 'x', 2, now() from generate_series(1001, ${1000 + POLICIES}::int) g`);
    }
    if (timed('threats')) {
      // Every risk names a threat: fifteen catalogue ids in turn, one in a hundred as free text from before the catalogue.
      await db.execute(sql`insert into risks (ref, title, threat_ref, likelihood, impact, inherent_score, residual_score, treatment, owner_id)
        select 'R-' || lpad(g::text, 6, '0'), 'Risk ' || g,
          case when g % 100 = 0 then 'phishing ' || g else 'T-IS-' || lpad((1 + g % 15)::text, 3, '0') end,
          3, 3, 9, 6, 'mitigate', 2 + g % 1000
        from generate_series(1, ${RISKS}::int) g`);
    }
    if (timed('suggest')) {
      // CTL-AA-00 to CTL-ZZ-73: two letters and a number.
      await db.execute(sql`insert into controls (code, title)
        select 'CTL-' || chr(65 + g % 26) || chr(65 + (g / 26) % 26) || '-' || lpad((g / 676)::text, 2, '0'), 'Control ' || g
        from generate_series(0, ${CONTROLS - 1}::int) g`);
    }
    await db.execute(sql.raw('vacuum (analyze) people, poam_items, poam_milestones, poam_closures, ack_campaign_audience, policy_acknowledgements, training_attestations, audit_findings, policies, policy_versions, risks, controls'));

    const router = buildRouter(db);
    const [lead] = await db.select().from(people).where(sql`${people.id} = 1`);
    const actor = toActor(lead);
    /** The fastest of five runs: on a shared, loaded machine the others measure the neighbours. */
    const run = async (line: string) => {
      let best = { ms: Infinity, answer: undefined as unknown };
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const answer = await router.handle(`/isms ${line}`, { actor, channel: 'test' });
        const ms = Math.round(performance.now() - t0);
        if (ms < best.ms) best = { ms, answer };
      }
      return best;
    };
    const suggested = async (line: string) => {
      const { ms, answer } = await run(line);
      return { ms, said: /Did you mean [^?]*\?/.exec(JSON.stringify(answer))?.[0] ?? 'no suggestion' };
    };
    const series = async (base: string, pages: number) => {
      const out: Record<string, unknown> = {};
      out.first = (await run(base)).ms;
      const middle = await run(`${base} --page ${Math.ceil(pages / 2)}`);
      out.middle = middle.ms;
      const next = nextOf(middle.answer as Reply);
      out.middleNext = next ? { command: next, ms: (await run(next)).ms } : 'no Next';
      out.last = (await run(`${base} --page ${pages}`)).ms;
      return out;
    };
    console.log(JSON.stringify({
      poamAll: timed('poam') ? await series('poam --all', ITEMS / 100) : null,
      campaignStatus: timed('campaign') ? await series('campaign status CMP-0001', ASKED / 20) : null,
      // Everyone on SEC-AWARE and the ISMS lead on ISMS-LEAD too: ten to a page.
      trainingReport: timed('training') ? await series('training report', Math.ceil((ASKED + 11) / 10)) : null,
      findingCloseForm: timed('findings') ? (await run('finding close')).ms : null,
      policyForms: timed('policies') ? {
        ack: (await run('ack')).ms, policyText: (await run('policy text')).ms, campaign: (await run('campaign')).ms, publish: (await run('policy publish')).ms,
      } : null,
      threats: timed('threats') ? (await run('threats')).ms : null,
      // One letter left out of CTL-QX-04 and of Person 4242: each is suggested.
      suggest: timed('suggest') ? { control: await suggested('evidence show CTL-QX-4'), person: await suggested('person "Persn 4242"') } : null,
    }, null, 1));
  } finally {
    await database.close();
    if (process.env.BENCH_KEEP === '1') console.error(`kept schema ${schema}`);
    else await admin.db.execute(sql.raw(`drop schema ${schema} cascade`));
    await admin.close();
  }
}

await main(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
