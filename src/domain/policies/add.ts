import { z } from 'zod';
import { policies } from '../../db/schema/index.js';
import { defineCommand, type CommandContext } from '../../core/router.js';
import { personNamed, type Person } from '../../core/actor.js';
import { conflict, invalid } from '../../core/errors.js';
import { nextRef } from '../../core/refs.js';
import { fields, reply, text, type Block } from '../../core/reply.js';
import { sameName, serializeAdds, tidyName } from '../registers/entries.js';
import { httpLink, publishedBlocks, publishPolicy } from './publish.js';

export const addPolicyInput = z.object({
  title: z.string({ required_error: 'give the title of the policy, e.g. "Acceptable use"' }).trim()
    .min(1, 'give the title of the policy, e.g. "Acceptable use"').max(200, 'must be at most 200 characters')
    .describe('The title of the policy, e.g. "Acceptable use"'),
  owner: z.string().trim().min(1).max(200, 'must be at most 200 characters').optional()
    .describe('Who owns the policy: the email or @name of someone in the register'),
  text: z.string().trim().min(1, 'give the text of the first version').max(500_000, 'is too long: put the full text behind --url and give a summary here').optional()
    .describe('The text of its first version, published as 1.0 and sent to the management body for approval'),
  url: httpLink.optional().describe('A link to the full text of its first version'),
});

const ownerNamed = (ctx: CommandContext, named: string): Promise<Person> => personNamed(ctx.db, 'owner', named);

/** Adds a policy with its own POL reference and, when its text or link is given, publishes version 1.0. */
export async function addPolicy(ctx: CommandContext, input: z.infer<typeof addPolicyInput>) {
  const title = tidyName(input.title);
  if (input.text && !/\s/.test(input.text) && input.text.length < 40) {
    // "--text Clear your desk" gives --text one word and the rest to the title.
    throw invalid(`The text of the first version is "${input.text}", a single word, and the title "${title}".`,
      'Put the text in double quotes after --text: policy add "Clean desk" --text "Clear your desk every evening."').on('text');
  }
  const owner = input.owner ? await ownerNamed(ctx, input.owner) : undefined;
  await serializeAdds(ctx.db, 'policies');
  const [existing] = await ctx.db.select().from(policies).where(sameName(policies.title, title));
  if (existing) {
    throw conflict(`There is already a policy called ${existing.title}: ${existing.ref}. Nothing new was recorded.`,
      `Publish a new version of it with "/isms policy publish ${existing.ref} <text>".`).on('title');
  }
  const ref = await nextRef(ctx.db, 'POL');
  const [policy] = await ctx.db.insert(policies).values({ ref, title, ownerId: owner?.id, createdAt: ctx.now }).returning();
  await ctx.audit({ action: 'create', entity: 'policy', entityRef: ref, after: policy });
  const content = input.text ?? (input.url ? `The full text is at ${input.url}` : undefined);
  const published = content ? await publishPolicy(ctx, { policy: ref, content, url: input.url }) : undefined;
  return { policy, owner, published };
}

export const addPolicyCommand = defineCommand({
  name: 'policy add',
  aliases: ['add policy'],
  summary: 'Add a policy to the register, with its first version (1.0) when you give its text or link; 1.0 then goes to the management body for approval',
  examples: [
    'policy add Access control --owner lena.fischer@northwind.example',
    'policy add "Clean desk" --owner @Lena --text "Clear your desk and lock your screen when you leave."',
    'policy add Business continuity policy --url https://intranet.example.com/policies/continuity',
  ],
  roles: ['isms_lead'],
  schema: addPolicyInput,
  args: {
    title: { positional: 'rest', label: 'Title', field: 'text', placeholder: 'e.g. Acceptable use' },
    owner: { label: 'Policy owner (email or name)', value: 'email|@name' },
    text: { label: 'Text of version 1.0 (optional)', value: 'text in quotes', field: 'textarea' },
    url: { label: 'Link to the full text (optional)', value: 'link', placeholder: 'https://…' },
  },
  form: { title: 'Add a policy', submitLabel: 'Add policy' },
  async run(ctx, input) {
    const { policy, owner, published } = await addPolicy(ctx, input);
    const blocks: Block[] = [
      text(`Added ${policy.ref} ${policy.title} to the policy register.`, 'success'),
      fields([
        { label: 'Reference', value: policy.ref },
        { label: 'Title', value: policy.title },
        { label: 'Owner', value: owner ? `${owner.name} <${owner.email}>` : 'none yet' },
      ]),
    ];
    if (published) blocks.push(...await publishedBlocks(ctx, published));
    else blocks.push(text(`Publish its first version with "/isms policy publish ${policy.ref} <text>": version 1.0 then goes to the management body for approval.`));
    return { ...reply(...blocks), about: policy.ref };
  },
});
