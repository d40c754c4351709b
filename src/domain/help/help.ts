import { z } from 'zod';
import { defineCommand, commandLine, commandWords, examplesOf, type Channel, type CommandRouter, type CommandSpec } from '../../core/router.js';
import { inUsageOrder, usageOf, type ArgInfo } from '../../core/args.js';
import { reply, text, fields, type Block } from '../../core/reply.js';
import { ROLE_LABELS } from '../../core/actor.js';
import { plainLanguageOff } from '../../core/assist.js';

/** One argument in "help <command>": how it is typed, and what it means. */
function argumentLine(a: ArgInfo): { label: string; value: string } {
  const label = a.kind === 'file' ? `${a.label} (attached)` : usageOf(a).replace(/^\[(.*)\]$/, '$1');
  const meaning = a.description ?? a.label;
  return { label, value: a.required ? meaning : `${meaning} (optional)` };
}

/** Help is generated from the command declarations, so it never drifts from what the router accepts. */
export function helpCommand(router: () => CommandRouter, options: { plainLanguage: boolean } = { plainLanguage: false }) {
  return defineCommand({
    name: 'help',
    readOnly: true,
    aliases: ['?'],
    summary: 'List what you can do, or explain a command (or the commands that start with a word)',
    examples: ['help', 'help declare ai', 'help declare'],
    schema: z.object({
      command: z.string().optional().describe('A command, or its first word to list the commands that start with it'),
    }),
    args: { command: { positional: 'rest' } },
    async run(ctx, { command }) {
      const r = router();
      const say = (line: string) => commandLine(ctx.channel, line);
      const listed = (specs: CommandSpec[]) => fields(specs.map((s) => ({ label: say(r.usage(s)), value: s.summary })));
      if (!command) {
        return reply(
          text(`Hello ${ctx.actor.name}. Here is what you can do (type "${say('help <command>')}" for details):`),
          listed(r.visibleTo(ctx.actor)),
          text(options.plainLanguage
            ? 'You can also write in plain language (e.g. "I started using Otter for meeting notes"): I propose the matching command as its form, and nothing is recorded until you submit it.'
            : `Plain-language messages (e.g. "I started using Otter for meeting notes") ${plainLanguageOff(ctx.actor)}`),
        );
      }
      const words = commandWords(command);
      const spec = r.find(words.join(' '));
      if (spec) return explain(r, spec, ctx, r.startingWith(words, ctx.actor).filter((s) => s !== spec));
      const starting = r.startingWith(words, ctx.actor);
      if (starting.length) return reply(text(`Commands that start with "${words.join(' ')}":`), listed(starting));
      const near = r.suggest(words, ctx.actor);
      return {
        ...reply(text(`There is no command "${words.join(' ')}".${near ? ` Did you mean "${say(near)}"?` : ''} "${say('help')}" lists them all.`, 'error')),
        outcome: 'refused',
      };
    },
  });
}

function explain(r: CommandRouter, spec: CommandSpec, { channel, now }: { channel: Channel; now: Date }, related: CommandSpec[]) {
  const say = (line: string) => commandLine(channel, line);
  const typed = inUsageOrder(r.argsOf(spec)).filter((a) => a.kind !== 'hidden');
  const blocks: Block[] = [
    text(`${say(spec.name)} — ${spec.summary}`),
    fields([
      { label: 'Usage', value: say(r.usage(spec)) },
      ...examplesOf(spec, now).map((e) => ({ label: 'Example', value: say(e) })),
      ...(spec.aliases?.length ? [{ label: 'Also', value: spec.aliases.map(say).join(', ') }] : []),
      { label: 'Who', value: spec.roles ? spec.roles.map((x) => ROLE_LABELS[x]).join(', ') : 'everyone' },
    ]),
  ];
  if (typed.length) blocks.push(fields(typed.map(argumentLine), 'Arguments'));
  if (spec.form) blocks.push(text('Without arguments, it opens a form that asks for them.'));
  if (related.length) blocks.push(text(`Related: ${related.map((s) => `"${say(s.name)}"`).join(', ')}.`));
  return reply(...blocks);
}
