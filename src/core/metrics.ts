/**
 * Process metrics in the Prometheus text format, served on GET /metrics when the bot serves HTTP.
 * Counters only hold numbers and labels from a fixed set: never a message, a name or an id.
 */
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

export const metrics = new Registry();
collectDefaultMetrics({ register: metrics, prefix: 'isms_' });

/** Calls to the configured model, by prompt and outcome (answered, unavailable, discarded). */
export const assistantCalls = new Counter({
  name: 'isms_assistant_calls_total',
  help: 'Calls to the OpenAI-compatible endpoint, by prompt and outcome',
  labelNames: ['prompt', 'outcome'] as const,
  registers: [metrics],
});

/** Tokens the endpoint reported, by prompt and kind (prompt, completion). */
export const assistantTokens = new Counter({
  name: 'isms_assistant_tokens_total',
  help: 'Tokens used by calls to the OpenAI-compatible endpoint, by prompt and kind',
  labelNames: ['prompt', 'kind'] as const,
  registers: [metrics],
});
