import { z } from 'zod';
import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { risks } from '../../db/schema/index.js';
import { defineCommand } from '../../core/router.js';
import { reply, text, type ListItem } from '../../core/reply.js';
import { threatId, threats } from '../../refdata/threats.js';
import { seesAllRisks } from './register.js';

/** How many risk references a threat shows before "and n more": a long register keeps the answer short. */
const SHOWN_REFS = 10;

/** The catalogue as the risk form's menu. */
export const threatChoices = async () => threats().map((t) => ({ value: t.id, label: `${t.id} ${t.name}` }));

/** How many risks name a threat (or name one outside the catalogue), and the first SHOWN_REFS of them. */
interface Named { n: number; shown: string[] }

const refsInWords = (refs: Named) =>
  `${refs.n} (${refs.shown.join(', ')}${refs.n > SHOWN_REFS ? `, and ${refs.n - SHOWN_REFS} more` : ''})`;

/**
 * The risks naming each threat of the catalogue (the owner's, or all), with the first SHOWN_REFS of each
 * by id: counted in the database per threat as stored, never every risk read. Each stored value is read as
 * threatId reads it ("t-is-4" is T-IS-004); anything else, typed before threats were checked, is outside
 * the catalogue (null), shown as stored.
 */
async function risksByThreat(db: Db, ownerId: number | undefined): Promise<Map<string | null, Named>> {
  const first = sql.raw(String(SHOWN_REFS));
  const stored = await db.select({
    threatRef: risks.threatRef,
    n: sql<number>`count(*)::int`,
    ids: sql<number[]>`(array_agg(${risks.id} order by ${risks.id}))[1:${first}]`,
    refs: sql<string[]>`(array_agg(${risks.ref} order by ${risks.id}))[1:${first}]`,
  }).from(risks)
    .where(and(isNotNull(risks.threatRef), ownerId === undefined ? undefined : eq(risks.ownerId, ownerId)))
    .groupBy(risks.threatRef);
  const found = new Map<string | null, { n: number; first: { id: number; label: string }[] }>();
  for (const r of stored) {
    const id = threatId(r.threatRef!) ?? null;
    const entry = found.get(id) ?? { n: 0, first: [] };
    found.set(id, entry);
    entry.n += r.n;
    r.ids.forEach((riskId, i) => entry.first.push({ id: riskId, label: id === null ? `${r.refs[i]} "${r.threatRef}"` : r.refs[i] }));
  }
  return new Map([...found].map(([id, { n, first: refs }]) => [id, { n, shown: refs.sort((x, y) => x.id - y.id).slice(0, SHOWN_REFS).map((r) => r.label) }]));
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
