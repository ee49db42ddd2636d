/**
 * Ruby's two prompt calls: the person (face image) prompt and the reaction (video) prompt, from the `ugc-person`
 * and `ugc-video-reaction` templates through the prompt LLM; without one, the offline local prompt functions.
 */
import { Context } from '@temporalio/activity';
import {
  ERROR_TYPES,
  PROMPT_MAX_OUTPUT_TOKENS,
  type CallUsage,
  type GenerationActivities,
  type PersonPromptRequest,
  type ReactionPromptRequest,
} from '@gptmarket/contracts';
import { localPersonPrompt, localReactionPrompt } from '@gptmarket/offline';
import { ProviderError, renderTemplate, TemplateError, type ChatResult, type LlmClient } from '@gptmarket/providers';
import { HEARTBEAT_EVERY_MS, keepAlive, nonRetryable } from '@gptmarket/worker-runtime';
import type { PaidProviders } from './deps.js';
import { providerFailure } from './failures.js';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function createPromptActivities(deps: {
  providers?: Pick<PaidProviders, 'promptLlm' | 'promptPath'> | undefined;
}): Pick<GenerationActivities, 'generatePersonPrompt' | 'generateReactionPrompt'> {
  return {
    async generatePersonPrompt(req: PersonPromptRequest) {
      const llm = deps.providers?.promptLlm;
      if (!llm) return localPersonPrompt(req);
      const answer = await promptCall(llm, deps.providers?.promptPath, 'ugc-person', {
        gender: req.gender,
        age_range: req.age_range,
        emotion: req.emotion,
        style: req.style,
        background: req.background,
        hair_color: req.hair_color,
        ethnicity: req.ethnicity,
        clothing: req.clothing,
        context: req.context,
      });
      const json = answer.parsed;
      if (!isRecord(json) || !isRecord(json.subject)) {
        throw providerFailure(
          new ProviderError(answer.provider, 'invalid_output', 'the person prompt answer has no "subject" block', { retryable: true }),
        );
      }
      return { json_prompt: json, text_prompt: JSON.stringify(json), provider: answer.provider, ...callUsage(answer) };
    },

    async generateReactionPrompt(req: ReactionPromptRequest) {
      const llm = deps.providers?.promptLlm;
      if (!llm) return localReactionPrompt(req);
      const answer = await promptCall(llm, deps.providers?.promptPath, 'ugc-video-reaction', {
        emotion: req.emotion,
        context: req.context,
        duration: req.duration,
      });
      const json = answer.parsed;
      const movements =
        isRecord(json) && Array.isArray(json.movements)
          ? json.movements.filter((m): m is string => typeof m === 'string' && m.trim() !== '')
          : [];
      const finalPrompt = isRecord(json) && typeof json.final_prompt === 'string' ? json.final_prompt.trim() : '';
      if (movements.length === 0 || !finalPrompt) {
        throw providerFailure(
          new ProviderError(answer.provider, 'invalid_output', 'the reaction answer lacks "movements" or "final_prompt"', {
            retryable: true,
          }),
        );
      }
      return { movements: movements.slice(0, 7), video_prompt: finalPrompt, provider: answer.provider, ...callUsage(answer) };
    },
  };
}

/** The model that answered and the tokens its provider reported, for the generation's cost. */
const callUsage = (answer: ChatResult): { usage: CallUsage } => ({
  usage: {
    provider: answer.provider,
    model: answer.model,
    ...(answer.usage ? { input_tokens: answer.usage.input_tokens, output_tokens: answer.usage.output_tokens } : {}),
  },
});

/** One templated JSON call of the prompt LLM; template and provider errors become typed failures. */
async function promptCall(llm: LlmClient, promptPath: string | undefined, template: string, vars: Record<string, string | number | null>) {
  const ctx = Context.current();
  let prompt;
  try {
    prompt = await renderTemplate(template, vars, { promptPath });
  } catch (err) {
    if (err instanceof TemplateError) throw nonRetryable(err.message, ERROR_TYPES.provider);
    throw err;
  }
  // Heartbeats while the LLM answers: the activity's heartbeat timeout, not its 2 minutes, notices a dead worker.
  const stopBeating = keepAlive(HEARTBEAT_EVERY_MS);
  try {
    const answer = await llm.complete(
      // Inside the workflow's 2-minute activity timeout.
      { system: prompt.system, user: prompt.user, json: true, temperature: 0.7, maxTokens: PROMPT_MAX_OUTPUT_TOKENS, timeoutMs: 90_000 },
      ctx.cancellationSignal,
    );
    ctx.log.info('prompt generated', { template: prompt.version, model: answer.model, fallback: answer.fallbackUsed });
    return answer;
  } catch (err) {
    if (err instanceof ProviderError) throw providerFailure(err);
    throw err;
  } finally {
    stopBeating();
  }
}
