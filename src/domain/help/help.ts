import { z } from 'zod';
import { defineCommand, type CommandRouter } from '../../core/router.js';
import { reply, text, fields } from '../../core/reply.js';
import { ROLE_LABELS } from '../../core/actor.js';

/** Help is generated from the command specs, so it never drifts from what the router accepts. */
export function helpCommand(router: () => CommandRouter) {
  return defineCommand({
    name: 'help',
    aliases: ['?'],
    summary: 'List what you can do, or explain one command',
    usage: 'help [command]',
    examples: ['help', 'help declare ai'],
    positional: ['command...'],
    schema: z.object({ command: z.string().optional() }),
    async run(ctx, { command }) {
      const r = router();
      if (command) {
        const spec = r.find(command.replace(/^\/?isms\s+/i, ''));
        if (!spec) return { ...reply(text(`There is no command "${command}". "/isms help" lists them all.`, 'error')), outcome: 'refused' };
        return reply(
          text(`/isms ${spec.name} — ${spec.summary}`),
          fields([
            { label: 'Usage', value: `/isms ${spec.usage}` },
            ...spec.examples.map((e) => ({ label: 'Example', value: `/isms ${e}` })),
            ...(spec.aliases?.length ? [{ label: 'Also', value: spec.aliases.map((a) => `/isms ${a}`).join(', ') }] : []),
            { label: 'Who', value: spec.roles ? spec.roles.map((x) => ROLE_LABELS[x]).join(', ') : 'everyone' },
          ]),
          text('Without arguments, a command opens a form that asks for them.'),
        );
      }
      const visible = r.visibleTo(ctx.actor);
      return reply(
        text(`Hello ${ctx.actor.name}. Here is what you can do (type "/isms help <command>" for details):`),
        fields(visible.map((s) => ({ label: `/isms ${s.usage}`, value: s.summary }))),
      );
    },
  });
}
