import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { people } from '../src/db/schema/index.js';
import { toActor, type Actor } from '../src/core/actor.js';
import { reply, text, fields, actions, formBlock, fileBlock, toPlainText, type Reply, type FormField } from '../src/core/reply.js';
import { replyCard, cardActivity, formValues, CARD_VERSION, INPUT_PREFIX } from '../adapters/teams/cards.js';
import { addControl, addEvidenceRequest, addPolicy, addPolicyVersion } from './helpers/fixtures.js';
import { createTeamsCore, cardOf, cardText, cardProblems, allActions, type TeamsTestCore } from './helpers/teams.js';
import { CAST, type CastKey } from './helpers/bot.js';

const EVERY_FIELD: FormField[] = [
  { name: 'title', label: 'Title', type: 'text', required: true, placeholder: 'e.g. Laptop', initial: 'Laptop' },
  { name: 'notes', label: 'Notes', type: 'textarea', hint: 'Anything the reviewer should know' },
  { name: 'due', label: 'Due date', type: 'date', initial: '2026-10-01' },
  { name: 'users', label: 'Users', type: 'number', initial: '12' },
  { name: 'tier', label: 'Tier', type: 'select', options: [{ value: 'critical', label: 'Critical' }, { value: 'standard', label: 'Standard' }], initial: 'standard' },
  { name: 'data', label: 'Data', type: 'multiselect', options: [{ value: 'internal', label: 'internal' }, { value: 'personal', label: 'personal data' }], initial: ['internal', 'personal'] },
  { name: 'file', label: 'File', type: 'file' },
];

describe('Teams Adaptive Cards', () => {
  it('renders every block type into a card Teams parses without complaint', () => {
    const everything: Reply = reply(
      text('Plain information.'),
      text('Recorded AI-0001.', 'success'),
      text('Due in two days.', 'warning'),
      text('That did not work. Nothing was recorded.', 'error'),
      fields([{ label: 'Reference', value: 'AI-0001' }, { label: 'Status', value: 'declared' }], 'Details'),
      { type: 'divider' },
      {
        type: 'list', title: 'Waiting for you',
        items: [
          { title: 'POAM-0001 Patch VPN', detail: 'due 2026-10-01', fields: [{ label: 'Owner', value: 'Olga Owner' }], buttons: [{ label: 'Done', command: 'poam done POAM-0001', style: 'primary' }, { label: 'Extend', command: 'poam extend POAM-0001' }] },
          { title: 'POAM-0002 Rotate keys' },
        ],
        page: { number: 2, total: 3, previous: 'poam --page 1', next: 'poam --page 3' },
      },
      { type: 'list', title: 'Nothing here', items: [], empty: 'No items.' },
      actions(...Array.from({ length: 8 }, (_, i) => ({ label: `Button ${i + 1}`, command: `help ${i}`, style: i === 0 ? 'danger' as const : undefined }))),
      formBlock({ title: 'Every field', command: 'test form', fields: EVERY_FIELD, submitLabel: 'Save', hidden: { ref: 'AI-0001' } }),
      fileBlock({ name: 'risks-2026-10-01.csv', mimeType: 'text/csv', path: '/tmp/isms-exports/x/risks-2026-10-01.csv', title: 'Risk register (CSV, 12 rows)' }),
    );
    const card = replyCard(everything, 'Recorded by Sam Staff, 1 Oct 2026, 10:00 (Europe/Berlin)');
    expect(card.version).toBe(CARD_VERSION);
    expect(cardProblems(card)).toEqual([]);
    const seen = cardText(card);
    for (const line of ['Plain information.', 'Reference: AI-0001', 'POAM-0001 Patch VPN', 'Owner: Olga Owner', 'No items.', 'Page 2 of 3',
      '(Next page)', '(Previous page)', '(Button 8)', '[Due date]', '[Data]', '(Save)', 'Recorded by Sam Staff']) {
      expect(seen).toContain(line);
    }
  });

  it('carries a button\'s command line and a form\'s command, hidden values and multi-select fields in the submit data', () => {
    const card = replyCard(reply(
      actions({ label: 'Acknowledge', command: 'ack POL-0001 --version 1.0' }),
      formBlock({ title: 'Every field', command: 'test form', fields: EVERY_FIELD, hidden: { ref: 'AI-0001' } }),
    ));
    const [button, submit] = allActions(card);
    expect(button.data).toEqual({ verb: 'isms', command: 'ack POL-0001 --version 1.0' });
    expect(submit.data).toEqual({
      verb: 'isms', form: 'test form', hidden: { ref: 'AI-0001' }, multi: ['data'],
      // The form travels with the click, so a refusal can show it again with each reason under its field.
      layout: { title: 'Every field', fields: EVERY_FIELD },
    });
    // What Teams sends back: the action's data plus each input's value by id.
    const values = formValues({ ...submit.data, [`${INPUT_PREFIX}title`]: 'Laptop', [`${INPUT_PREFIX}data`]: 'internal,personal', [`${INPUT_PREFIX}users`]: '12' });
    expect(values).toEqual({ title: 'Laptop', data: ['internal', 'personal'], users: '12', ref: 'AI-0001' });
  });

  it('gives notifications a plain sentence without buttons or command syntax, and no card text says "/isms"', () => {
    const triage = reply(
      text('New for triage: Sam Staff declared the AI tool ChatGPT (AI-0001)'),
      fields([{ label: 'Purpose', value: 'drafting' }]),
      actions({ label: 'Accept', command: 'triage accept SC-0001', style: 'primary' }, { label: 'Reject', command: 'triage reject SC-0001' }),
      text('"/isms triage" lists what waits for you.'),
    );
    const activity = cardActivity(triage);
    const sentence = 'New for triage: Sam Staff declared the AI tool ChatGPT (AI-0001)\n"triage" lists what waits for you.';
    expect(activity.summary).toBe(sentence);
    const card = cardOf(activity);
    expect(card.fallbackText).toBe(sentence);
    expect(cardText(card)).not.toContain('/isms');
    expect(cardText(card)).toContain('(Accept)');
    expect(allActions(card)[0].data.command).toBe('triage accept SC-0001');
  });

  describe('the replies of the real commands', () => {
    let h: TeamsTestCore;
    const actors = {} as Record<CastKey, Actor>;

    beforeAll(async () => {
      h = await createTeamsCore();
      for (const key of Object.keys(CAST) as CastKey[]) {
        actors[key] = toActor((await h.t.db.select().from(people).where(eq(people.id, h.ids[key])))[0]);
      }
      // Enough register content that lists have items and buttons.
      const control = await addControl(h.t.db, { code: 'CTL-AC-01', title: 'Access reviews', ownerId: h.ids.owner });
      await addEvidenceRequest(h.t.db, { controlId: control.id, ownerId: h.ids.owner, dueOn: '2099-01-01' });
      const policy = await addPolicy(h.t.db, { title: 'Acceptable Use', ownerId: h.ids.lead });
      await addPolicyVersion(h.t.db, { policyId: policy.id, version: '1.0', content: 'Be careful.' });
      for (const line of ['declare ai ChatGPT', 'declare supplier Acme --service hosting']) {
        await h.core.router.handle(line, { actor: actors.staff, channel: 'teams' });
      }
    });
    afterAll(async () => { await h.destroy(); });

    it('every command, typed without arguments and asked about with "help", by every role, gives a card Teams parses', async () => {
      const checked: string[] = [];
      for (const who of Object.keys(CAST) as CastKey[]) {
        const lines = ['help', 'no such command', ...h.core.router.specs.flatMap((s) => [s.name, `help ${s.name}`])];
        for (const line of lines) {
          const answer = await h.core.router.handle(line, { actor: actors[who], channel: 'teams' });
          const problems = cardProblems(replyCard(answer));
          expect(problems, `"${line}" as ${who}: ${toPlainText(answer).slice(0, 200)}`).toEqual([]);
          checked.push(line);
        }
      }
      expect(checked.length).toBeGreaterThan(5 * 10);
    });

    it('the replies that record something, refuse bad input, and the not-in-register message parse too', async () => {
      const answers = [
        await h.core.router.handle('declare ai Claude --vendor Anthropic', { actor: actors.owner, channel: 'teams' }),
        await h.core.router.handle('declare ai Gemini --data secret', { actor: actors.owner, channel: 'teams' }),
        await h.core.router.handle('ack POL-0001', { actor: actors.staff, channel: 'teams' }),
        await h.core.router.handle('evidence submit EVR-0001', { actor: actors.owner, channel: 'teams' }),
        await h.core.router.handle('triage accept SC-0001', { actor: actors.staff, channel: 'teams' }),
        await h.core.inbound.notInRegister('stan@elsewhere.example'),
      ];
      for (const answer of answers) {
        expect(cardProblems(replyCard(answer, 'Recorded by Olga Owner, 1 Oct 2026, 10:00 (Europe/Berlin)')), toPlainText(answer)).toEqual([]);
      }
      expect(cardText(replyCard(answers[4]))).toContain('Only the ISMS lead');
    });
  });
});
