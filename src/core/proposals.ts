/**
 * Which prompt and model proposed a form: carried hidden in the form the assistant pre-filled, and
 * recorded in the audit trail when the person submits it, so an auditor sees that an entry came from a
 * confirmed proposal. The value comes back from the client, so it is taken only in its known shape and
 * only ever recorded: it changes nothing the command does.
 */

/** The hidden form value; a leading underscore keeps it apart from every command's own arguments. */
export const PROPOSED_BY_FIELD = '_proposedBy';

export interface ProposedBy {
  /** The prompt's name, e.g. "propose-command". */
  prompt: string;
  /** Its version as prompts/<name>/config.json says, e.g. "propose-command/1". */
  version: string;
  model: string;
}

/** Prompts that propose forms; their versions read "<name>/<number>". */
const PROPOSING_PROMPTS = ['propose-command'];
const SHAPE = /^([a-z][a-z0-9-]{0,39})\/(\d{1,6}) ([A-Za-z0-9][\w.:/@+-]{0,99})$/;

export function proposedByValue(version: string, model: string): string {
  return `${version} ${model}`;
}

/** The proposal a submitted value names, or undefined for anything not in the known shape. */
export function parseProposedBy(value: unknown): ProposedBy | undefined {
  if (typeof value !== 'string') return undefined;
  const m = SHAPE.exec(value);
  if (!m || !PROPOSING_PROMPTS.includes(m[1])) return undefined;
  return { prompt: m[1], version: `${m[1]}/${m[2]}`, model: m[3] };
}
