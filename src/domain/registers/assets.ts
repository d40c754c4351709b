import { z } from 'zod';
import { asc, eq, inArray } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { assets, people, PROTECTION_LEVELS } from '../../db/schema/index.js';
import { defineCommand } from '../../core/router.js';
import { personNamed, personRef } from '../../core/actor.js';
import { conflict, notFound } from '../../core/errors.js';
import { nextRef } from '../../core/refs.js';
import { registerRef } from '../../core/validate.js';
import { allSwitch, seekArgs, seekFields } from '../../core/paging.js';
import { fields, reply, text, type Field } from '../../core/reply.js';
import { readersDay } from '../../core/time.js';
import { assetEntry } from '../../import/schema.js';
import {
  describeRetirement, listWindow, pagedTitle, REGISTER_READERS, retireReason, sameName, serializeAdds, tidyName,
} from './entries.js';

type Asset = typeof assets.$inferSelect;

const PROTECTION_LABELS: Record<(typeof PROTECTION_LEVELS)[number], string> = { normal: 'normal', high: 'high', very_high: 'very high' };

/** The fields are checked as the import checks them; "Very high" is typed as often as very_high. */
export const assetAddInput = z.object({
  name: assetEntry.shape.name.describe('The asset, e.g. "Customer portal"'),
  description: assetEntry.shape.description.describe('What it is, who uses it, where it runs'),
  owner: personRef.optional().describe('The asset owner, someone in the register: email, name or @handle'),
  classification: assetEntry.shape.classification.describe('Its information classification, e.g. internal or confidential (internal when left out)'),
  protection: z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase().replace(/[\s-]+/g, '_') : v),
    assetEntry.shape.protection_requirement).describe('Its protection requirement: normal, high or very_high (normal when left out)'),
});

export const assetRetireInput = z.object({
  asset: registerRef('AST').describe('The asset reference, e.g. AST-0003'),
  reason: retireReason.describe('Why it is retired, e.g. "decommissioned, data migrated to the new CRM"'),
});

function assetFields(asset: Asset, owner: string | undefined, timezone: string | null | undefined): Field[] {
  return [
    { label: 'Reference', value: asset.ref },
    { label: 'Name', value: asset.name },
    ...(asset.description ? [{ label: 'Description', value: asset.description }] : []),
    { label: 'Owner', value: owner ?? 'none yet' },
    { label: 'Classification', value: asset.classification },
    { label: 'Protection requirement', value: PROTECTION_LABELS[asset.protectionRequirement] },
    { label: 'In scope', value: asset.inScope ? 'yes' : 'no' },
    ...(asset.retiredAt ? [{ label: 'Retired', value: describeRetirement(asset, timezone) }] : []),
  ];
}

export const assetAddCommand = defineCommand({
  name: 'asset add',
  summary: 'Add an asset to the asset register (it is in scope from now on)',
  examples: ['asset add "Merchant portal" "web app where merchants see their payouts, hosted on Nimbus Cloud" --owner jonas.weber@northwind.example --classification confidential --protection high'],
  roles: ['isms_lead'],
  schema: assetAddInput,
  args: {
    name: { positional: true, placeholder: 'e.g. Customer portal' },
    description: { positional: 'rest', label: 'What is it?', field: 'textarea' },
    owner: { label: 'Asset owner', value: 'email or @name' },
    classification: { placeholder: 'e.g. confidential' },
    protection: { label: 'Protection requirement', options: PROTECTION_LEVELS.map((p) => ({ value: p, label: PROTECTION_LABELS[p] })) },
  },
  form: { title: 'Add an asset', submitLabel: 'Add asset' },
  async run(ctx, input) {
    const name = tidyName(input.name);
    const owner = input.owner ? await personNamed(ctx.db, 'owner', input.owner) : undefined;
    await serializeAdds(ctx.db, 'assets');
    const [existing] = await ctx.db.select().from(assets).where(sameName(assets.name, name));
    if (existing) {
      throw conflict(`${existing.name} is already in the asset register as ${existing.ref}${existing.retiredAt ? ` (${describeRetirement(existing, ctx.actor.timezone)})` : ''}.`,
        'Nothing new was recorded. "/isms assets --all" lists every asset.').on('name');
    }
    const ref = await nextRef(ctx.db, 'AST');
    const [asset] = await ctx.db.insert(assets).values({
      ref, name, description: input.description, ownerId: owner?.id, classification: input.classification,
      protectionRequirement: input.protection, createdAt: ctx.now,
    }).returning();
    await ctx.audit({ action: 'create', entity: 'asset', entityRef: ref, after: asset });
    return { ...reply(text(`Added ${asset.name} to the asset register as ${ref}.`, 'success'), fields(assetFields(asset, owner?.name, ctx.actor.timezone))), about: ref };
  },
});

export const assetRetireCommand = defineCommand({
  name: 'asset retire',
  summary: 'Retire an asset: it leaves the scope and the list, and stays in the register with the reason',
  examples: ['asset retire AST-0003 "decommissioned, data migrated to the new CRM"'],
  roles: ['isms_lead'],
  schema: assetRetireInput,
  args: {
    asset: { positional: true, value: 'AST-ref' },
    reason: { positional: 'rest', label: 'Why is it retired?' },
  },
  form: { title: 'Retire an asset', submitLabel: 'Retire' },
  async run(ctx, input) {
    const [before] = await ctx.db.select().from(assets).where(eq(assets.ref, input.asset)).for('update');
    if (!before) throw notFound(`${input.asset} is not in the asset register.`, '"/isms assets" lists the assets with their references.').on('asset');
    if (before.retiredAt) {
      throw conflict(`${before.ref} ${before.name} was already ${describeRetirement(before, ctx.actor.timezone)}.`, 'Nothing was changed.');
    }
    const [after] = await ctx.db.update(assets).set({ retiredAt: ctx.now, retiredReason: input.reason, inScope: false })
      .where(eq(assets.id, before.id)).returning();
    await ctx.audit({ action: 'retire', entity: 'asset', entityRef: after.ref, before, after });
    const [owner] = after.ownerId ? await ctx.db.select({ name: people.name }).from(people).where(eq(people.id, after.ownerId)) : [];
    return {
      ...reply(text(`Retired ${after.ref} ${after.name}. It is out of scope and stays in the register with the reason.`, 'success'),
        fields(assetFields(after, owner?.name, ctx.actor.timezone))),
      about: after.ref,
    };
  },
});

export const assetsCommand = defineCommand({
  name: 'assets',
  readOnly: true,
  summary: 'The asset register: owner, classification, protection requirement, scope (retired assets with --all)',
  examples: ['assets', 'assets --all --page 2'],
  roles: [...REGISTER_READERS, 'asset_owner'],
  schema: z.object({ all: allSwitch.describe('Retired assets too'), ...seekFields }),
  args: { all: { switch: true }, ...seekArgs },
  async run(ctx, input) {
    const { all, window: w } = await listWindow(ctx.db, assets, assets.id, assets.retiredAt, input, 'assets', 'The asset register');
    const owner = alias(people, 'owner');
    const rows = await ctx.db.select({ asset: assets, owner: owner.name }).from(assets)
      .leftJoin(owner, eq(owner.id, assets.ownerId)).where(inArray(assets.id, w.ids)).orderBy(asc(assets.id));
    const items = rows.map(({ asset: a, owner: ownerName }) => ({
      title: `${a.ref} ${a.name}`,
      detail: a.retiredAt ? 'retired' : `${PROTECTION_LABELS[a.protectionRequirement]} protection · ${a.inScope ? 'in scope' : 'out of scope'}`,
      fields: [
        ...(a.description ? [{ label: 'Description', value: a.description }] : []),
        { label: 'Owner', value: ownerName ?? 'none yet' },
        { label: 'Classification', value: a.classification },
        { label: 'Recorded', value: readersDay(a.createdAt, ctx.actor.timezone) },
        ...(a.retiredAt ? [{ label: 'Retired', value: describeRetirement(a, ctx.actor.timezone) }] : []),
      ],
    }));
    const title = pagedTitle(all ? 'Asset register, retired assets included' : 'Asset register', w.page);
    return reply({ type: 'list', title, items, empty: all ? 'No assets recorded yet.' : 'No assets in use. "/isms assets --all" shows retired ones too.', page: w.page });
  },
});
