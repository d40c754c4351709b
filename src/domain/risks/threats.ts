import { z } from 'zod';
import { and, asc, eq, isNotNull } from 'drizzle-orm';
import { risks } from '../../db/schema/index.js';
import { defineCommand } from '../../core/router.js';
import { reply, text, type ListItem } from '../../core/reply.js';
import { threatId, threats } from '../../refdata/threats.js';
import { seesAllRisks } from './register.js';

/** How many risk references a threat shows before "and n more": a long register keeps the answer short. */
const SHOWN_REFS = 10;

/** The catalogue as the risk form's menu. */
export const threatChoices = async () => threats().map((t) => ({ value: t.id, label: `${t.id} ${t.name}` }));

const refsInWords = (refs: string[]) =>
  `${refs.length} (${refs.slice(0, SHOWN_REFS).join(', ')}${refs.length > SHOWN_REFS ? `, and ${refs.length - SHOWN_REFS} more` : ''})`;

export const threatsCommand = defineCommand({
  name: 'threats',
  readOnly: true,
  summary: 'The threat catalogue (T-IS-001 to T-IS-015) with how many risks name each, so threats no risk covers stand out',
  examples: ['threats'],
  schema: z.object({}),
  async run(ctx) {
    const all = seesAllRisks(ctx.actor);
    const named = await ctx.db.select({ ref: risks.ref, threatRef: risks.threatRef }).from(risks)
      .where(and(isNotNull(risks.threatRef), all ? undefined : eq(risks.ownerId, ctx.actor.id))).orderBy(asc(risks.id));
    const byThreat = new Map<string, string[]>();
    const uncatalogued: string[] = [];
    for (const r of named) {
      const id = threatId(r.threatRef!);
      if (id) byThreat.set(id, [...(byThreat.get(id) ?? []), r.ref]);
      else uncatalogued.push(`${r.ref} "${r.threatRef}"`);
    }
    const whose = all ? 'in the register' : 'you own';
    const items: ListItem[] = threats().map((t) => {
      const refs = byThreat.get(t.id) ?? [];
      return {
        title: `${t.id} ${t.name}`,
        ...(t.description !== t.name ? { detail: t.description } : {}),
        fields: [
          { label: all ? 'Risks' : 'Your risks', value: refs.length ? refsInWords(refs) : 'none' },
          ...(t.stewardedBy ? [{ label: 'Stewarded by', value: `${t.stewardedBy} (the ISMS requires the programme; its detail lives there)` }] : []),
        ],
      };
    });
    const covered = threats().filter((t) => byThreat.has(t.id)).length;
    return reply(
      text(coverage(whose, covered, items.length)),
      ...(uncatalogued.length
        ? [text(`${uncatalogued.length === 1 ? 'One risk names a threat' : `${uncatalogued.length} risks name threats`} not in the catalogue, `
          + `recorded as free text before threats were checked: ${uncatalogued.slice(0, SHOWN_REFS).join(', ')}`
          + `${uncatalogued.length > SHOWN_REFS ? `, and ${uncatalogued.length - SHOWN_REFS} more` : ''}. `
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
