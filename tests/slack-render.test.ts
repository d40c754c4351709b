import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { reply, text, fields, actions, formBlock, notificationText, type Block, type Form, type ListItem } from '../src/core/reply.js';
import { fromSlackText } from '../adapters/slack/text.js';
import { formModal, homeView, readFormValues, renderMessage, escapeMrkdwn } from '../adapters/slack/render.js';
import { cut, splitText, LIMITS } from '../adapters/slack/limits.js';
import {
  BOT_EVENTS, BOT_SCOPES, EVENTS_PATH, FIELD_ACTION, FORM_VIEW, OPEN_FORM_ACTION_PATTERN, RUN_ACTION_PATTERN, SLASH_COMMAND, fieldBlockId,
} from '../adapters/slack/ids.js';

/** Everything Slack would reject a surface for, as a list of problems (empty when it is fine). */
function limitProblems(blocks: any[], maxBlocks: number): string[] {
  const problems: string[] = [];
  if (blocks.length > maxBlocks) problems.push(`${blocks.length} blocks (max ${maxBlocks})`);
  for (const [i, b] of blocks.entries()) {
    if (b.text?.text?.length > LIMITS.sectionText) problems.push(`block ${i}: text of ${b.text.text.length}`);
    if (b.text?.text === '') problems.push(`block ${i}: empty text`);
    if (b.fields?.length > LIMITS.sectionFields) problems.push(`block ${i}: ${b.fields.length} fields`);
    for (const f of b.fields ?? []) if (f.text.length > LIMITS.fieldText) problems.push(`block ${i}: field of ${f.text.length}`);
    if (b.type === 'actions' && b.elements.length > LIMITS.actionsElements) problems.push(`block ${i}: ${b.elements.length} buttons`);
    const actionIds = new Set<string>();
    for (const e of [...(b.type === 'actions' ? b.elements : []), ...(b.accessory ? [b.accessory] : [])]) {
      if (e.text.text.length > LIMITS.buttonText) problems.push(`block ${i}: button text of ${e.text.text.length}`);
      if ((e.value ?? '').length > LIMITS.buttonValue) problems.push(`block ${i}: button value of ${e.value.length}`);
      if (actionIds.has(e.action_id)) problems.push(`block ${i}: action_id ${e.action_id} twice`);
      actionIds.add(e.action_id);
    }
  }
  return problems;
}

const sectionTexts = (blocks: any[]) => blocks.filter((b) => b.type === 'section' && b.text).map((b) => b.text.text as string);
const buttons = (blocks: any[]) => blocks.flatMap((b) => [...(b.type === 'actions' ? b.elements : []), ...(b.accessory ? [b.accessory] : [])]);

describe('Block Kit rendering keeps within Slack\'s limits', () => {
  it('splits a long text over several sections instead of losing it', () => {
    const paragraph = 'The access review covered every production account. '.repeat(150); // ~7,800 characters
    const { blocks, text: fallback } = renderMessage(reply(text(paragraph)));
    expect(limitProblems(blocks, LIMITS.messageBlocks)).toEqual([]);
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    expect(sectionTexts(blocks).join(' ').replace(/\s+/g, ' ').trim()).toBe(paragraph.trim());
    expect(fallback.length).toBeLessThanOrEqual(LIMITS.fallbackText);
  });

  it('escapes Slack markup in register text and marks the tone', () => {
    const blocks: any[] = renderMessage(reply(text('Vendor <Acme & Co> rejected', 'error'))).blocks;
    expect(sectionTexts(blocks)).toEqual(['❌ Vendor &lt;Acme &amp; Co&gt; rejected']);
    expect(escapeMrkdwn('a<b>&c')).toBe('a&lt;b&gt;&amp;c');
  });

  it('puts at most 10 fields in a section and gives an over-long field its own sections', () => {
    const many = Array.from({ length: 23 }, (_, i) => ({ label: `Field ${i}`, value: `value ${i}` }));
    const long = { label: 'Policy text', value: 'x'.repeat(2500) };
    const blocks: any[] = renderMessage(reply(fields([...many, long]))).blocks;
    expect(limitProblems(blocks, LIMITS.messageBlocks)).toEqual([]);
    expect(blocks.filter((b: any) => b.fields).map((b: any) => b.fields.length)).toEqual([10, 10, 3]);
    expect(sectionTexts(blocks).join('')).toContain('x'.repeat(2500));
  });

  it('groups buttons 25 to an actions block, shortens long labels, and leaves out a command too long to carry', () => {
    const many = Array.from({ length: 30 }, (_, i) => ({ label: `Acknowledge ${i}`, command: `ack POL-${String(i).padStart(4, '0')}` }));
    const longLabel = { label: 'A'.repeat(100), command: 'help' };
    const tooLong = { label: 'Run', command: `declare ai ${'x'.repeat(2100)}` };
    const blocks: any[] = renderMessage(reply(actions(...many, longLabel, tooLong))).blocks;
    expect(limitProblems(blocks, LIMITS.messageBlocks)).toEqual([]);
    expect(blocks.map((b: any) => b.elements.length)).toEqual([25, 6]);
    const shown = buttons(blocks);
    expect(shown.map((b: any) => b.value)).not.toContain(tooLong.command);
    expect(shown.find((b: any) => b.value === 'help').text.text).toBe(cut('A'.repeat(100), LIMITS.buttonText));
    expect(shown.every((b: any) => RUN_ACTION_PATTERN.test(b.action_id))).toBe(true);
  });

  it('cuts a message that would need more than 50 blocks, says so, and offers the next page', () => {
    const items: ListItem[] = Array.from({ length: 40 }, (_, i) => ({
      title: `POAM-${String(i).padStart(4, '0')}`, detail: 'open', buttons: [{ label: 'Done', command: `poam done POAM-${i}` }, { label: 'Extend', command: `poam extend POAM-${i}` }],
    }));
    const list: Block = { type: 'list', title: 'Your POA&M items', items, page: { number: 1, total: 4, next: 'poam --page 2' } };
    const blocks: any[] = renderMessage(reply(list)).blocks;
    expect(limitProblems(blocks, LIMITS.messageBlocks)).toEqual([]);
    expect(blocks).toHaveLength(LIMITS.messageBlocks);
    const tail = blocks.slice(-2);
    expect(tail[0].elements[0].text).toMatch(/more parts not shown here/);
    expect(tail[1].elements[0]).toMatchObject({ text: { text: 'Show more' }, value: 'poam --page 2' });
  });

  it('puts a list item\'s only button beside it, and several under it', () => {
    const blocks: any[] = renderMessage(reply({
      type: 'list', items: [
        { title: 'POL-0001 Acceptable use', buttons: [{ label: 'Acknowledge', command: 'ack POL-0001' }] },
        { title: 'EVR-0002', buttons: [{ label: 'Submit', command: 'evidence submit EVR-0002' }, { label: 'Later', command: 'help' }] },
      ],
    })).blocks;
    expect(blocks[0].accessory).toMatchObject({ value: 'ack POL-0001' });
    expect(blocks[2]).toMatchObject({ type: 'actions' });
    expect(blocks[2].elements.map((e: any) => e.value)).toEqual(['evidence submit EVR-0002', 'help']);
  });

  it('turns a form inside a message into a button that opens it, carrying the hidden values', () => {
    const form: Form = { title: 'Submit evidence for EVR-0001', command: 'evidence submit', hidden: { target: 'EVR-0001' }, fields: [] };
    const blocks: any[] = renderMessage(reply(formBlock(form))).blocks;
    const [open] = buttons(blocks);
    expect(OPEN_FORM_ACTION_PATTERN.test(open.action_id)).toBe(true);
    expect(JSON.parse(open.value)).toEqual({ command: 'evidence submit', hidden: { target: 'EVR-0001' } });
  });

  it('keeps the App Home within 100 blocks', () => {
    const many = Array.from({ length: 150 }, (_, i) => text(`Item ${i}`));
    const view = homeView(reply(...many), 'Your ISMS to-do');
    expect(limitProblems(view.blocks, LIMITS.viewBlocks)).toEqual([]);
    expect(view.blocks).toHaveLength(LIMITS.viewBlocks);
  });
});

describe('forms as modals', () => {
  const form: Form = {
    title: 'Declare a supplier that handles personal data',
    command: 'declare supplier',
    submitLabel: 'Declare',
    hidden: { source: 'button' },
    fields: [
      { name: 'name', label: 'Supplier', type: 'text', required: true, placeholder: 'e.g. Acme Cloud GmbH' },
      { name: 'notes', label: 'Notes', type: 'textarea' },
      { name: 'review', label: 'Next review', type: 'date', initial: '2026-12-01' },
      { name: 'users', label: 'Users', type: 'number', initial: '12' },
      { name: 'tier', label: 'Tier', type: 'select', options: Array.from({ length: 120 }, (_, i) => ({ value: `t${i}`, label: `Tier ${i} ${'long '.repeat(20)}` })), initial: 't2' },
      { name: 'data', label: 'Data', type: 'multiselect', options: [{ value: 'personal', label: 'personal data' }, { value: 'customer', label: 'customer data' }], initial: ['customer'] },
      { name: 'contract', label: 'Contract', type: 'file', hint: 'PDF of the signed contract' },
    ],
  };

  it('renders each field type with its Block Kit input, within the limits', () => {
    const modal = formModal(form);
    expect(modal.callback_id).toBe(FORM_VIEW);
    // The title does not fit a modal's 24 characters: the modal says "ISMS" and shows the whole title inside.
    expect(modal.title.text).toBe('ISMS');
    expect((modal.blocks[0] as any).text.text).toBe('*Declare a supplier that handles personal data*');
    expect(JSON.parse(modal.private_metadata!)).toEqual({ command: 'declare supplier', hidden: { source: 'button' } });
    const inputs = Object.fromEntries(modal.blocks.filter((b: any) => b.type === 'input').map((b: any) => [b.block_id, b]));
    expect(inputs[fieldBlockId('name')]).toMatchObject({ optional: false, element: { type: 'plain_text_input', multiline: false, action_id: FIELD_ACTION } });
    expect(inputs[fieldBlockId('notes')]).toMatchObject({ optional: true, element: { type: 'plain_text_input', multiline: true } });
    expect(inputs[fieldBlockId('review')].element).toMatchObject({ type: 'datepicker', initial_date: '2026-12-01' });
    expect(inputs[fieldBlockId('users')].element).toMatchObject({ type: 'number_input', initial_value: '12' });
    const tier = inputs[fieldBlockId('tier')].element;
    expect(tier.type).toBe('static_select');
    expect(tier.options).toHaveLength(LIMITS.selectOptions);
    expect(tier.options.every((o: any) => o.text.text.length <= LIMITS.optionText)).toBe(true);
    expect(tier.initial_option.value).toBe('t2');
    expect(inputs[fieldBlockId('data')].element).toMatchObject({ type: 'multi_static_select', initial_options: [{ value: 'customer' }] });
    expect(inputs[fieldBlockId('contract')]).toMatchObject({ element: { type: 'file_input' }, hint: { text: 'PDF of the signed contract' } });
  });

  it('reads a submitted modal back into the form\'s values and files', () => {
    const values = readFormValues({
      [fieldBlockId('name')]: { [FIELD_ACTION]: { type: 'plain_text_input', value: 'Acme Cloud' } },
      [fieldBlockId('notes')]: { [FIELD_ACTION]: { type: 'plain_text_input', value: null } },
      [fieldBlockId('review')]: { [FIELD_ACTION]: { type: 'datepicker', selected_date: '2026-12-01' } },
      [fieldBlockId('users')]: { [FIELD_ACTION]: { type: 'number_input', value: '12' } },
      [fieldBlockId('tier')]: { [FIELD_ACTION]: { type: 'static_select', selected_option: { value: 't2' } } },
      [fieldBlockId('data')]: { [FIELD_ACTION]: { type: 'multi_static_select', selected_options: [{ value: 'personal' }, { value: 'customer' }] } },
      [fieldBlockId('contract')]: { [FIELD_ACTION]: { type: 'file_input', files: [{ id: 'F1', name: 'contract.pdf' }] } },
      other_block: { other: { type: 'plain_text_input', value: 'ignored' } },
    });
    expect(values.values).toEqual({ name: 'Acme Cloud', notes: undefined, review: '2026-12-01', users: '12', tier: 't2', data: ['personal', 'customer'], contract: 'contract.pdf' });
    expect(values.files).toEqual([{ field: 'contract', id: 'F1', name: 'contract.pdf' }]);
  });
});

describe('text helpers', () => {
  it('cuts with an ellipsis and never splits an emoji', () => {
    expect(cut('abcdef', 4)).toBe('abc…');
    expect(cut('abc', 4)).toBe('abc');
    expect(cut('ab😀cd', 4)).toBe('ab…');
  });

  it('splits at line breaks or spaces where it can', () => {
    expect(splitText('aaaa bbbb\ncccc dddd', 10)).toEqual(['aaaa bbbb', 'cccc dddd']);
    expect(splitText('x'.repeat(25), 10)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
    expect(splitText('', 10)).toEqual(['']);
  });
});

describe('text as Slack sends it', () => {
  it('decodes &amp;, &lt; and &gt; once', () => {
    expect(fromSlackText('declare ai "R&amp;D Copilot" --vendor &lt;Acme&gt;')).toBe('declare ai "R&D Copilot" --vendor <Acme>');
    expect(fromSlackText('AT&amp;amp;T')).toBe('AT&amp;T');
  });

  it('turns links into their address, or keeps what the person typed', () => {
    expect(fromSlackText('<https://wiki.example/q4-review>')).toBe('https://wiki.example/q4-review');
    expect(fromSlackText('see <https://wiki.example/q4?a=1&amp;b=2>')).toBe('see https://wiki.example/q4?a=1&b=2');
    expect(fromSlackText('<http://wiki.example/q4|wiki.example/q4>')).toBe('wiki.example/q4');
    expect(fromSlackText('<mailto:ana@example.com|ana@example.com>')).toBe('ana@example.com');
    expect(fromSlackText('<https://wiki.example/q4|Q4 review>')).toBe('Q4 review (https://wiki.example/q4)');
  });

  it('names mentions, channels and special mentions as people read them', () => {
    expect(fromSlackText('ask <@U024BE7LH|ana> or <@U0BOB>')).toBe('ask @ana or @U0BOB');
    expect(fromSlackText('in <#C024BE7LR|general>')).toBe('in #general');
    expect(fromSlackText('<!here> and <!subteam^S0614TZR7|@security>')).toBe('@here and @security');
    expect(fromSlackText('ask <!subteam^S0614TZR7> or <!channel>')).toBe('ask @S0614TZR7 or @channel');
    expect(fromSlackText('due <!date^1392734382^{date}|Feb 18, 2014>')).toBe('due Feb 18, 2014');
  });

  it('leaves plain text and phone quotes alone', () => {
    expect(fromSlackText('declare ai „Notion KI“ 2 > 1')).toBe('declare ai „Notion KI“ 2 > 1');
  });
});

describe('notification text', () => {
  it('says the sentences and list titles, without buttons, command lines or form fields', () => {
    const nudge = reply(
      text('New for triage: Sam declared the AI tool ChatGPT (AI-0001).'),
      actions({ label: 'Accept', command: 'triage accept SC-0001' }, { label: 'Reject', command: 'triage reject SC-0001' }),
      { type: 'list', title: 'Also waiting', items: [{ title: 'SC-0002 Notion AI', buttons: [{ label: 'Accept', command: 'triage accept SC-0002' }] }] },
      formBlock({ title: 'Reject with a rationale', command: 'triage reject', fields: [{ name: 'rationale', label: 'Why?', type: 'textarea' }] }),
    );
    expect(notificationText(nudge)).toBe('New for triage: Sam declared the AI tool ChatGPT (AI-0001).\nAlso waiting\n• SC-0002 Notion AI\nReject with a rationale');
    expect(renderMessage(nudge).text).toBe(notificationText(nudge));
  });

  it('says the fields of a reply that has nothing else, and stays short', () => {
    expect(notificationText(reply(fields([{ label: 'Reference', value: 'AI-0001' }])))).toBe('Reference: AI-0001');
    expect(notificationText(reply(text('x'.repeat(400))))).toBe(`${'x'.repeat(299)}…`);
    // Cut before an emoji rather than through it.
    expect(notificationText(reply(text(`${'x'.repeat(298)}😀 and more`)))).toBe(`${'x'.repeat(298)}…`);
  });
});

describe('the Slack app manifest', () => {
  const manifest = parse(readFileSync(new URL('../manifest/slack/manifest.yml', import.meta.url), 'utf8'));

  it('names the command, request URLs, events and scopes the code uses', () => {
    const [command] = manifest.features.slash_commands;
    expect(command.command).toBe(SLASH_COMMAND);
    for (const url of [command.url, manifest.settings.event_subscriptions.request_url, manifest.settings.interactivity.request_url]) {
      expect(new URL(url).pathname).toBe(EVENTS_PATH);
    }
    expect(manifest.settings.event_subscriptions.bot_events).toEqual([...BOT_EVENTS]);
    expect(manifest.oauth_config.scopes.bot).toEqual([...BOT_SCOPES]);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.socket_mode_enabled).toBe(false);
    expect(manifest.features.app_home).toMatchObject({ home_tab_enabled: true, messages_tab_enabled: true });
  });
});
