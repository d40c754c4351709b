/**
 * Text as Slack sends it (slash-command text, message events) back into what the person typed.
 * Slack escapes &, < and > as HTML entities and wraps links, mentions and channels in angle
 * brackets: "<https://…>", "<https://…|label>", "<@U…>", "<@U…|name>", "<#C…|name>", "<!here>".
 * A literal "<" always arrives as "&lt;", so every real "<…>" is markup.
 */
import { withinQuotedPhrase } from '../../src/core/router.js';
import { escapeMrkdwn } from './render.js';

/** Markup in angle brackets, or one entity: each is decoded once, so "&amp;lt;" stays "&lt;". */
const MARKUP = /<([^<>]*)>|&(lt|gt|amp);/g;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&' };

/** The ids of users mentioned without a name ("<@U123>", as Slack sends most mentions now, or "<@U123|>"). */
export function unnamedMentions(text: string): string[] {
  return [...new Set([...text.matchAll(/<@([UW][A-Z0-9]+)\|?>/g)].map((m) => m[1]))];
}

/** One emoji of a message's rich_text blocks: its name, and for a standard emoji its code points ("1f44d-1f3fd"). */
interface RichTextEmoji { type: 'emoji'; name?: unknown; unicode?: unknown; skin_tone?: unknown }

/**
 * A message's text with its standard emoji as the characters the person typed. Slack writes every
 * emoji in a message's text as its code (":white_check_mark:", ":+1::skin-tone-3:"); only the
 * message's rich_text blocks give the character. A custom emoji, or one the blocks do not give, keeps its code.
 */
export function withEmoji(text: string, blocks: unknown): string {
  const characters = emojiIn(blocks);
  if (characters.size === 0) return text;
  // Markup ("<https://x/:y:>") is left as it is.
  return text.replace(/<[^<>]*>|:([^:\s<>]+(?:::skin-tone-\d)?):/g, (whole, code: string | undefined) => (code && characters.get(code)) || whole);
}

/** The standard emoji in rich_text blocks, by the code Slack writes for each in the text. */
function emojiIn(blocks: unknown): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const element = node as RichTextEmoji & { elements?: unknown };
    if (element.type !== 'emoji') {
      walk(element.elements);
      return;
    }
    const character = typeof element.unicode === 'string' ? fromCodePoints(element.unicode) : undefined;
    if (typeof element.name !== 'string' || !character) return;
    const tone = typeof element.skin_tone === 'number' && !element.name.includes('::') ? `::skin-tone-${element.skin_tone}` : '';
    found.set(`${element.name}${tone}`, character);
  };
  walk(blocks);
  return found;
}

/** "1f44d-1f3fd" as the characters, or undefined when it is not a sequence of code points. */
function fromCodePoints(unicode: string): string | undefined {
  if (!/^[0-9a-f]{1,6}(-[0-9a-f]{1,6})*$/i.test(unicode)) return undefined;
  const points = unicode.split('-').map((hex) => parseInt(hex, 16));
  return points.every((p) => p <= 0x10ffff) ? String.fromCodePoint(...points) : undefined;
}

/**
 * No-break spaces (U+00A0, as Option+Space on a Mac types it; the narrow one French puts inside « »;
 * the figure space) that a person typed or pasted as spaces: recorded, "Chat Pal" would not be found as typed.
 */
const NO_BREAK_SPACES = /[\u00a0\u202f\u2007]/g;

/**
 * The text the person meant: links as their address, mentions as @name (`names`: user ids to the
 * names of people mentioned without one, else @id), entities decoded, no-break spaces as spaces.
 */
export function fromSlackText(text: string, names: ReadonlyMap<string, string> = new Map()): string {
  return text.replace(NO_BREAK_SPACES, ' ').replace(MARKUP, (_whole, inner: string | undefined, entity: string | undefined) => {
    if (inner === undefined) return ENTITIES[entity!];
    const bar = inner.indexOf('|');
    const target = unescapeEntities(bar < 0 ? inner : inner.slice(0, bar));
    // Slack may leave a label empty ("<#C123|>"): that is no label.
    const label = bar < 0 || bar === inner.length - 1 ? undefined : unescapeEntities(inner.slice(bar + 1));
    switch (target[0]) {
      case '@': // a user, <@U123> or <@U123|ana>
        return `@${label ?? names.get(target.slice(1)) ?? target.slice(1)}`;
      case '#': // a channel, <#C123|general>
        return `#${label ?? target.slice(1)}`;
      case '!': { // <!here>, <!subteam^S1|@team>, <!date^…|fallback>
        if (label !== undefined) return label;
        // A user group without its handle is named by its id: "@subteam" would lose which group it was.
        const [kind, id] = target.slice(1).split('^');
        return `@${kind === 'subteam' && id ? id : kind}`;
      }
      default:
        return link(target, label);
    }
  });
}

/** A message someone forwarded with "Share message", as Slack attaches it to theirs. */
export interface SharedMessage { is_share?: boolean; from_url?: string; original_url?: string; author_name?: string; author_subname?: string; text?: string; fallback?: string }

/**
 * A message's text with the messages it forwards ("Share message"): Slack leaves those out of the
 * text (empty when nothing was added) and attaches them. Each becomes a line naming its author, its
 * text (in Slack's markup, like the rest) and its link.
 */
export function withSharedMessages(text: string, attachments: readonly SharedMessage[] | undefined): string {
  const shared = (attachments ?? []).filter((a) => a.is_share).map((a) => {
    const author = a.author_subname || a.author_name;
    const link = a.from_url || a.original_url;
    return [`Shared message${author ? ` from ${escapeMrkdwn(author)}` : ''}:`, a.text || a.fallback, link && `<${link}>`]
      .filter(Boolean).join(' ');
  });
  return [text, ...shared].filter((line) => line.trim()).join('\n');
}

/**
 * A slash command's text as typed: like fromSlackText, with each person mentioned whom `names` knows
 * (by Slack id, labelled or not) as their name rather than Slack's label, which may be a handle; a name
 * of several words stays one argument, in quotes, unless the mention is within quoted text already.
 */
export function fromSlackCommand(text: string, names: ReadonlyMap<string, string>): string {
  const named = text.replace(/<@([UW][A-Z0-9]+)(\|[^>]*)?>/g, (whole, id: string, _label: string | undefined, offset: number) => {
    const name = names.get(id);
    if (!name) return whole;
    return withinQuotedPhrase(text, offset) || !/\s/.test(name) ? `@${name}` : `"${name}"`;
  });
  return fromSlackText(named, names);
}

/** Every user mentioned, as "<@U…>" without the label: whom mentionedNames should name. */
export function withoutMentionLabels(text: string): string {
  return text.replace(/<@([UW][A-Z0-9]+)\|[^>]*>/g, '<@$1>');
}

/**
 * A link: its address, unless the person gave it a label of its own. What someone typed without
 * a scheme ("wiki.example/q4") arrives as "<http://wiki.example/q4|wiki.example/q4>": that is
 * kept as typed, as is a phone number.
 */
function link(url: string, label: string | undefined): string {
  // A phone number Slack linked ("<tel:+4930123456|+49 30 123456>") reads as it was typed.
  if (/^tel:/i.test(url)) return label ?? url.slice('tel:'.length);
  if (label === undefined || label === url) return url;
  const typed = url.replace(/^(https?:\/\/|mailto:)/i, '');
  if (label === typed) return label;
  return `${label} (${url})`;
}

function unescapeEntities(text: string): string {
  return text.replace(/&(lt|gt|amp);/g, (_whole, entity: string) => ENTITIES[entity]);
}
