import { z } from 'zod';
import { and, eq, isNotNull, lte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { risks } from '../../db/schema/index.js';
import { defineCommand } from '../../core/router.js';
import { reply, text, type ListItem } from '../../core/reply.js';
import { threats } from '../../refdata/threats.js';
import { seesAllRisks } from './register.js';

/** How many risk references a threat shows before "and n more": a long register keeps the answer short. */
const SHOWN_REFS = 10;

/** The catalogue as the risk form's menu. */
export const threatChoices = async () => threats().map((t) => ({ value: t.id, label: `${t.id} ${t.name}` }));

/** The number of a catalogue id as threatId reads it, as a database pattern: "T-IS-004", " t-is-4 ". */
const THREAT_NUMBER = '^[[:space:]]*t-is-([0-9]{3}|[1-9][0-9]?)[[:space:]]*$';

/** How many risks name a threat (or name one outside the catalogue), and the first SHOWN_REFS of them. */
interface Named { n: number; shown: string[] }

const refsInWords = (refs: Named) =>
  `${refs.n} (${refs.shown.join(', ')}${refs.n > SHOWN_REFS ? `, and ${refs.n - SHOWN_REFS} more` : ''})`;

/**
 * The risks naming each threat of the catalogue (the owner's, or all), counted in the database, with the
 * first SHOWN_REFS of each by id: never every risk. A threat is read as threatId reads it ("t-is-4" is
 * T-IS-004); anything else, typed before threats were checked, is outside the catalogue (null), shown as stored.
 */
async function risksByThreat(db: Db, ownerId: number | undefined) {
  const ids = threats().map((t) => t.id);
  const catalogue = sql`${`{${ids.join(',')}}`}::text[]`;
  const read = sql`'T-IS-' || lpad(substring(lower(${risks.threatRef}) from ${THREAT_NUMBER}), 3, '0')`;
  // Stored as an id of the catalogue (as risks are since threats are checked), or read as threatId reads it; compared byte by byte, which sorts fastest.
  const threat = sql<string | null>`(case when ${risks.threatRef} = any(${catalogue}) then ${risks.threatRef}
    when ${read} = any(${catalogue}) then ${read} end) collate "C"`.as('threat');
  const named = db.select({ id: risks.id, ref: risks.ref, threatRef: risks.threatRef, threat }).from(risks)
    .where(and(isNotNull(risks.threatRef), ownerId === undefined ? undefined : eq(risks.ownerId, ownerId))).as('named');
  const ranked = db.select({
    threat: named.threat, ref: named.ref, threatRef: named.threatRef,
    n: sql<number>`(count(*) over (partition by ${named.threat}))::int`.as('n'),
    k: sql<number>`row_number() over (partition by ${named.threat} order by ${named.id})`.as('k'),
  }).from(named).as('ranked');
  const rows = await db.select().from(ranked).where(lte(ranked.k, SHOWN_REFS)).orderBy(ranked.threat, ranked.k);
  const byThreat = new Map<string | null, Named>();
  for (const r of rows) {
    const named = byThreat.get(r.threat) ?? { n: r.n, shown: [] };
    byThreat.set(r.threat, named);
    named.shown.push(r.threat === null ? `${r.ref} "${r.threatRef}"` : r.ref);
  }
  return byThreat;
}

export const threatsCommand = defineCommand({
  name: 'threats',
  readOnly: true,
  summary: 'The threat catalogue (T-IS-001 to T-IS-015) with how many risks name each, so threats no risk covers stand out',
  examples: ['threats'],
  schema: z.object({}),
  async run(ctx) {
    const all = seesAllRisks(ctx.actor);
    const byThreat = await risksByThreat(ctx.db, all ? undefined : ctx.actor.id);
    const uncatalogued = byThreat.get(null);
    const whose = all ? 'in the register' : 'you own';
    const items: ListItem[] = threats().map((t) => {
      const refs = byThreat.get(t.id);
      return {
        title: `${t.id} ${t.name}`,
        ...(t.description !== t.name ? { detail: t.description } : {}),
        fields: [
          { label: all ? 'Risks' : 'Your risks', value: refs ? refsInWords(refs) : 'none' },
          ...(t.stewardedBy ? [{ label: 'Stewarded by', value: `${t.stewardedBy} (the ISMS requires the programme; its detail lives there)` }] : []),
        ],
      };
    });
    const covered = threats().filter((t) => byThreat.has(t.id)).length;
    return reply(
      text(coverage(whose, covered, items.length)),
      ...(uncatalogued
        ? [text(`${uncatalogued.n === 1 ? 'One risk names a threat' : `${uncatalogued.n} risks name threats`} not in the catalogue, `
          + `recorded as free text before threats were checked: ${uncatalogued.shown.join(', ')}`
          + `${uncatalogued.n > SHOWN_REFS ? `, and ${uncatalogued.n - SHOWN_REFS} more` : ''}. `
          + '"/isms risk update <risk> --threat <threat id> "<why>"" names one from the catalogue.', 'warning')]
        : []),
      { type: 'list', title: 'Threat catalogue', items },
    );
  },
});

/** How many threats the risks name, read naturally for none, some and all. */
function coverage(whose: string, covered: number, total: number): string {
  if (covered === 0) return `No risk ${whose} names any of the ${total} threats yet.`;
  if (covered === total) return `Risks ${whose} name all ${total} threats.`;
  const others = total - covered;
  return `Risks ${whose} name ${covered} of the ${total} threats; the other ${others} ${others === 1 ? 'is' : 'are'} named by no risk.`;
}
