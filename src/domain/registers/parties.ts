import { z } from 'zod';
import { asc, eq, inArray, isNull } from 'drizzle-orm';
import { interestedParties } from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { conflict, notFound } from '../../core/errors.js';
import { allSwitch, seekArgs, seekFields } from '../../core/paging.js';
import { fields, reply, text, type Field } from '../../core/reply.js';
import { alikeIn, didYouMean } from '../../core/suggest.js';
import { addDays, readersDay } from '../../core/time.js';
import { interestedPartyEntry } from '../../import/schema.js';
import {
  describeRetirement, listWindow, pagedTitle, REGISTER_READERS, retireReason, sameName, serializeAdds, tidyName,
} from './entries.js';

/*
 * Interested parties (ISO/IEC 27001 clause 4.2) have no reference: they are named, as the import
 * names them, and their audit events are keyed by that name.
 */

type Party = typeof interestedParties.$inferSelect;

/** The fields are checked as the import checks them. */
export const partyAddInput = z.object({
  name: interestedPartyEntry.shape.name.describe('The interested party, e.g. "BaFin" or "Enterprise customers"'),
  needs: interestedPartyEntry.shape.needs.describe('What it requires of the ISMS'),
  kind: interestedPartyEntry.shape.kind.describe('What kind of party, e.g. regulator, customer, supplier, staff'),
  reviewed: interestedPartyEntry.shape.reviewed_on.describe('The day its needs were last reviewed'),
});

export const partyRetireInput = z.object({
  party: z.string({ required_error: 'name the interested party' }).trim().min(1, 'name the interested party').max(200, 'must be at most 200 characters')
    .describe('The interested party, as named in the register'),
  reason: retireReason.describe('Why it is no longer an interested party'),
});

function partyFields(party: Party, timezone: string | null | undefined): Field[] {
  return [
    { label: 'Name', value: party.name },
    ...(party.kind ? [{ label: 'Kind', value: party.kind }] : []),
    ...(party.needs ? [{ label: 'Needs and expectations', value: party.needs }] : []),
    ...(party.reviewedOn ? [{ label: 'Reviewed on', value: party.reviewedOn }] : []),
    ...(party.retiredAt ? [{ label: 'Retired', value: describeRetirement(party, timezone) }] : []),
  ];
}

async function partyNamed(ctx: CommandContext, name: string): Promise<Party | undefined> {
  const [party] = await ctx.db.select().from(interestedParties).where(sameName(interestedParties.name, name))
    .orderBy(asc(interestedParties.id)).limit(1).for('update');
  return party;
}

export const partyAddCommand = defineCommand({
  name: 'party add',
  summary: 'Add an interested party and its needs (ISO/IEC 27001 clause 4.2)',
  examples: (today) => [`party add "Berlin data protection authority" "GDPR breach notifications within 72 hours" --kind regulator --reviewed ${addDays(today, -7)}`],
  roles: ['isms_lead'],
  schema: partyAddInput,
  args: {
    name: { positional: true, placeholder: 'e.g. BaFin' },
    needs: { positional: 'rest', label: 'Needs and expectations', field: 'textarea' },
    kind: { placeholder: 'e.g. regulator' },
    reviewed: { label: 'Needs reviewed on' },
  },
  form: { title: 'Add an interested party', submitLabel: 'Add party' },
  async run(ctx, input) {
    const name = tidyName(input.name);
    await serializeAdds(ctx.db, 'interested parties');
    const existing = await partyNamed(ctx, name);
    if (existing) {
      throw conflict(`${existing.name} is already an interested party${existing.retiredAt ? ` (${describeRetirement(existing, ctx.actor.timezone)})` : ''}.`,
        'Nothing new was recorded. "/isms parties --all" lists every interested party.').on('name');
    }
    const [party] = await ctx.db.insert(interestedParties).values({
      name, kind: input.kind, needs: input.needs, reviewedOn: input.reviewed, createdAt: ctx.now,
    }).returning();
    await ctx.audit({ action: 'create', entity: 'interested_party', entityRef: party.name, after: party });
    return reply(text(`Added ${party.name} to the interested parties.`, 'success'), fields(partyFields(party, ctx.actor.timezone)));
  },
});

export const partyRetireCommand = defineCommand({
  name: 'party retire',
  summary: 'Retire an interested party: it leaves the list and stays in the register with the reason',
  examples: ['party retire "Card schemes" "merchants now contract the schemes directly"'],
  roles: ['isms_lead'],
  schema: partyRetireInput,
  args: {
    party: { positional: true },
    reason: { positional: 'rest', label: 'Why is it retired?' },
  },
  form: { title: 'Retire an interested party', submitLabel: 'Retire' },
  async run(ctx, input) {
    const before = await partyNamed(ctx, input.party);
    if (!before) {
      // Among the names most alike of those in the list: never every party to suggest one.
      const alike = await alikeIn(ctx.db, interestedParties, interestedParties.id, interestedParties.name, input.party, isNull(interestedParties.retiredAt));
      const meant = didYouMean(input.party, alike.map((p) => p.value));
      throw notFound(`There is no interested party named "${input.party}".${meant ? ` Did you mean "${meant}"?` : ''}`,
        '"/isms parties" lists them.').on('party');
    }
    if (before.retiredAt) throw conflict(`${before.name} was already ${describeRetirement(before, ctx.actor.timezone)}.`, 'Nothing was changed.');
    const [after] = await ctx.db.update(interestedParties).set({ retiredAt: ctx.now, retiredReason: input.reason })
      .where(eq(interestedParties.id, before.id)).returning();
    await ctx.audit({ action: 'retire', entity: 'interested_party', entityRef: after.name, before, after });
    return reply(text(`Retired ${after.name}. It stays in the register with the reason.`, 'success'), fields(partyFields(after, ctx.actor.timezone)));
  },
});

export const partiesCommand = defineCommand({
  name: 'parties',
  readOnly: true,
  summary: 'The interested parties and their needs (retired ones with --all)',
  examples: ['parties', 'parties --all'],
  roles: REGISTER_READERS,
  schema: z.object({ all: allSwitch.describe('Retired parties too'), ...seekFields }),
  args: { all: { switch: true }, ...seekArgs },
  async run(ctx, input) {
    const { all, window: w } = await listWindow(ctx.db, interestedParties, interestedParties.id, interestedParties.retiredAt, input, 'parties', 'The list of interested parties');
    const rows = await ctx.db.select().from(interestedParties).where(inArray(interestedParties.id, w.ids)).orderBy(asc(interestedParties.id));
    const items = rows.map((p) => ({
      title: p.name,
      detail: p.retiredAt ? 'retired' : p.kind ?? undefined,
      fields: [
        ...partyFields(p, ctx.actor.timezone).filter((f) => f.label !== 'Name'),
        { label: 'Recorded', value: readersDay(p.createdAt, ctx.actor.timezone) },
      ],
    }));
    const title = pagedTitle(all ? 'Interested parties, retired ones included' : 'Interested parties', w.page);
    return reply({ type: 'list', title, items, empty: all ? 'No interested parties recorded yet.' : 'No interested parties in the list. "/isms parties --all" shows retired ones too.', page: w.page });
  },
});
