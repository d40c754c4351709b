/**
 * Text as Slack sends it (slash-command text, message events) back into what the person typed.
 * Slack escapes &, < and > as HTML entities and wraps links, mentions and channels in angle
 * brackets: "<https://…>", "<https://…|label>", "<@U…>", "<@U…|name>", "<#C…|name>", "<!here>".
 * A literal "<" always arrives as "&lt;", so every real "<…>" is markup.
 */

/** Markup in angle brackets, or one entity: each is decoded once, so "&amp;lt;" stays "&lt;". */
const MARKUP = /<([^<>]*)>|&(lt|gt|amp);/g;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&' };

/** The ids of users mentioned without a name ("<@U123>", as Slack sends most mentions now). */
export function unnamedMentions(text: string): string[] {
  return [...new Set([...text.matchAll(/<@([UW][A-Z0-9]+)>/g)].map((m) => m[1]))];
}

/**
 * The text the person meant: links as their address, mentions as @name (`names`: user ids to the
 * names of people mentioned without one, else @id), entities decoded.
 */
export function fromSlackText(text: string, names: ReadonlyMap<string, string> = new Map()): string {
  return text.replace(MARKUP, (_whole, inner: string | undefined, entity: string | undefined) => {
    if (inner === undefined) return ENTITIES[entity!];
    const bar = inner.indexOf('|');
    const target = unescapeEntities(bar < 0 ? inner : inner.slice(0, bar));
    const label = bar < 0 ? undefined : unescapeEntities(inner.slice(bar + 1));
    switch (target[0]) {
      case '@': // a user, <@U123> or <@U123|ana>
        return `@${label ?? names.get(target.slice(1)) ?? target.slice(1)}`;
      case '#': // a channel, <#C123|general>
        return `#${label ?? target.slice(1)}`;
      case '!': // <!here>, <!subteam^S1|@team>, <!date^…|fallback>
        return label ?? `@${target.slice(1).split('^')[0]}`;
      default:
        return link(target, label);
    }
  });
}

/** Quote marks that open or close a quoted phrase in a command line (straight, English, German, French). */
const QUOTE_MARKS = /["“”„«»]/g;

/**
 * A slash command's text as typed: like fromSlackText, with each person mentioned whom `names` knows
 * (by Slack id, labelled or not) as their name rather than Slack's label, which may be a handle; a name
 * of several words stays one argument, in quotes, unless the mention is within quoted text already.
 */
export function fromSlackCommand(text: string, names: ReadonlyMap<string, string>): string {
  const named = text.replace(/<@([UW][A-Z0-9]+)(\|[^>]*)?>/g, (whole, id: string, _label: string | undefined, offset: number) => {
    const name = names.get(id);
    if (!name) return whole;
    const withinQuotes = (text.slice(0, offset).match(QUOTE_MARKS)?.length ?? 0) % 2 === 1;
    return withinQuotes || !/\s/.test(name) ? `@${name}` : `"${name}"`;
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
