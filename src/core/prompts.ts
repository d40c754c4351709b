import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { projectPath } from '../paths.js';

/** What prompts/<name>/config.json may say; anything else is refused at start-up. */
const promptConfig = z.object({
  /** Stored with everything the prompt produces, so an auditor can see which prompt made it. */
  version: z.string().trim().min(1),
  parameters: z.object({
    temperature: z.number().min(0).max(2).optional(),
    max_tokens: z.number().int().min(1).max(16_000).optional(),
  }).strict().default({}),
  /**
   * The JSON schema an answer must match, as sent to the model; the zod schema in the code that parses
   * answers is its source, and tests/prompts.test.ts fails when the two differ. Absent for a prompt whose
   * answer is derived from the commands it may propose.
   */
  answer: z.record(z.unknown()).optional(),
  /** The commands the prompt may propose, by name. */
  commands: z.array(z.string().trim().min(1)).min(1).optional(),
}).strict();

export interface Prompt extends z.infer<typeof promptConfig> {
  name: string;
  text: string;
}

/** Reads prompts/<name>/prompt.md and config.json; a missing or malformed file stops the start with its path. */
export function loadPrompt(name: string, folder = projectPath('prompts')): Prompt {
  const dir = `${folder}/${name}`;
  const text = readFileSync(`${dir}/prompt.md`, 'utf8').trim();
  const parsed = promptConfig.safeParse(JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')));
  if (!parsed.success) {
    throw new Error(`${dir}/config.json: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'file'} ${i.message}`).join('; ')}`);
  }
  return { name, text, ...parsed.data };
}
