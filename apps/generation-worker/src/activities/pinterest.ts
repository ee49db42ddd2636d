/**
 * Pinterest activities: the template-driven JSON LLM call (query generation) and one scraper search.
 * Provider clients come from the worker (GPTMarket, Gemini → OpenAI); without them the offline LLM and the
 * offline scraper (`local://pin/<n>` images, drawn by the upload activity) run.
 */
import { Context } from '@temporalio/activity';
import {
  ERROR_TYPES,
  type GenerateJsonRequest,
  type GenerateJsonResult,
  type ScrapePinterestRequest,
  type ScrapePinterestResult,
} from '@gptmarket/contracts';
import { createLocalLlm, localPins } from '@gptmarket/offline';
import { renderTemplate } from '@gptmarket/providers';
import { nonRetryable } from '@gptmarket/worker-runtime';
import type { ContentActivityDeps } from './deps.js';
import { toActivityFailure } from './failures.js';

const TEMPLATE_NAME = /^[a-z0-9-]{1,64}$/;
const LLM_TIMEOUT_MS = 50_000;

export function createPinterestActivities({ providers: p = {} }: ContentActivityDeps) {
  const localLlm = createLocalLlm();
  return {
    async generateJson(req: GenerateJsonRequest): Promise<GenerateJsonResult> {
      if (!TEMPLATE_NAME.test(req.template)) throw nonRetryable(`generateJson: bad template name`, ERROR_TYPES.invalidInput);
      const llm = p.llm ?? localLlm;
      const ctx = Context.current();
      try {
        const prompt = await renderTemplate(req.template, req.vars, p.promptPath ? { promptPath: p.promptPath } : undefined);
        const answer = await llm.complete(
          {
            system: prompt.system,
            user: prompt.user,
            json: true,
            timeoutMs: LLM_TIMEOUT_MS,
            ...(req.model !== undefined ? { model: req.model } : {}),
            ...(req.temperature !== undefined ? { temperature: req.temperature } : {}),
            ...(req.maxTokens !== undefined ? { maxTokens: req.maxTokens } : {}),
          },
          ctx.cancellationSignal,
        );
        return {
          parsed: answer.parsed,
          model: answer.model,
          provider: answer.provider,
          fallback_used: answer.fallbackUsed,
          template_version: prompt.version,
        };
      } catch (err) {
        throw toActivityFailure(err, 'LLM call failed');
      }
    },

    async scrapePinterest(req: ScrapePinterestRequest): Promise<ScrapePinterestResult> {
      const query = typeof req.search_query === 'string' ? req.search_query.trim() : '';
      if (!query || query.length > 500)
        throw nonRetryable('scrapePinterest: search_query must be 1–500 characters', ERROR_TYPES.invalidInput);
      const pages = Math.min(10, Math.max(1, Math.trunc(req.pages) || 1));
      const scraper = p.gptmarket;
      if (!scraper) {
        const pins = localPins(query, pages);
        return { pins, total: pins.length, query, provider: 'local' };
      }
      try {
        const res = await scraper.scrapePins(
          { search_query: query, search_type: 'social_media', pages },
          Context.current().cancellationSignal,
        );
        return { pins: res.pins, total: res.total, query: res.query || query, provider: 'gptmarket' };
      } catch (err) {
        throw toActivityFailure(err, 'Pinterest search failed');
      }
    },
  };
}
