import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { zodResponseFormat } from 'openai-v6/helpers/zod';
import { loadPrompt } from '../src/core/prompts.js';
import { projectPath } from '../src/paths.js';
import { summaryAnswer } from '../src/domain/evidence/summary.js';
import { narrativeAnswer } from '../src/domain/reviews/narrative.js';

describe('prompts/', () => {
  it('every prompt loads with a version "<name>/<n>", and a prompt that is not a proposal states the schema of its answer as the code parses it', () => {
    const names = readdirSync(projectPath('prompts'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    expect(names).toEqual(['draft-review-narrative', 'propose-command', 'summarise-evidence']);
    for (const name of names) expect(loadPrompt(name).version).toMatch(new RegExp(`^${name}/\\d+$`));
    expect(loadPrompt('summarise-evidence').answer).toEqual(zodResponseFormat(summaryAnswer, 'evidence_summary').json_schema.schema);
    expect(loadPrompt('draft-review-narrative').answer).toEqual(zodResponseFormat(narrativeAnswer, 'review_narrative').json_schema.schema);
    // The proposal's answer is derived from the commands it may propose, so it is never written down.
    expect(loadPrompt('propose-command').answer).toBeUndefined();
  });
});
