import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CreateGenerationBody,
  ErrorBody,
  Generation,
  GenerationIdParams,
  GenerationPage,
  ListGenerationsQuery,
} from '@gptmarket/contracts';
import type { OutboundPolicy } from '@gptmarket/runtime';
import { ApiError, errorResponses } from '../errors.js';
import { etagMatches } from '../etag.js';
import { callerOf } from '../plugins/auth.js';
import type { GenerationCommands } from '../services/generation-commands.js';
import type { GenerationObserver } from '../services/generation-observer.js';
import type { GenerationRecords, RenderedGeneration } from '../services/generation-records.js';
import { assertDeliverableUrl } from '../services/webhooks.js';

export interface GenerationRoutesOptions {
  commands: GenerationCommands;
  records: GenerationRecords;
  observer: GenerationObserver;
  /** Where webhooks may be delivered; null when webhooks are disabled (no WEBHOOK_SIGNING_SECRET). */
  webhookPolicy: OutboundPolicy | null;
}

/** 402: the estimate is more than what is left of one of the key's budgets (details: window, remaining, resets_at). */
const BudgetExceeded = ErrorBody.describe(
  "budget_exceeded: the request's estimated cost is more than what is left of the API key's daily or monthly budget; nothing was started",
);

const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1–255 visible ASCII characters')
    .optional(),
});

/**
 * Sends JSON the records service already rendered with the contract: Fastify sends a string with a JSON content
 * type as it is, without serializing it again (the route's response schema still describes it in OpenAPI).
 */
const sendJson = (reply: FastifyReply, json: string) => reply.type('application/json; charset=utf-8').send(json as never);

/** Create, list, read, cancel and retry generations. */
export const generationRoutes: FastifyPluginAsyncZod<GenerationRoutesOptions> = async (
  app,
  { commands, records, observer, webhookPolicy },
) => {
  app.post(
    '/v1/generations',
    {
      schema: {
        summary: 'Start a generation',
        body: CreateGenerationBody,
        headers: IdempotencyHeaders,
        response: { 202: Generation, ...errorResponses, 402: BudgetExceeded, 409: ErrorBody },
      },
    },
    async (req, reply) => {
      const body = req.body;
      if (body.webhook_url) {
        if (!webhookPolicy)
          throw new ApiError(400, 'validation_failed', 'webhooks are not enabled on this gateway (WEBHOOK_SIGNING_SECRET is unset)', [
            { path: 'webhook_url', message: 'webhooks are disabled' },
          ]);
        await assertDeliverableUrl(body.webhook_url, webhookPolicy);
      }
      const key = req.headers['idempotency-key'];
      const { row } = await commands.create(body, callerOf(req), key ? { idempotencyKey: key } : {});
      return sendJson(reply.code(202), (await records.render(row)).json);
    },
  );

  app.get(
    '/v1/generations',
    {
      schema: {
        summary: 'List generations, newest first',
        querystring: ListGenerationsQuery,
        response: { 200: GenerationPage, ...errorResponses },
      },
    },
    // Rendered by the records service with the Generation contract (finished ones come from its cache).
    async (req, reply) => sendJson(reply, await records.listJson(req.query, callerOf(req))),
  );

  app.get(
    '/v1/generations/:id',
    {
      schema: {
        summary: 'Get one generation',
        params: GenerationIdParams,
        headers: z.object({ 'if-none-match': z.string().optional() }),
        response: {
          200: Generation,
          304: z.null().describe('Not Modified: the ETag in If-None-Match is current'),
          ...errorResponses,
          404: ErrorBody,
        },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      // A finished generation comes from the cache (its owner only); any other is read and brought up to date.
      const answer: RenderedGeneration =
        records.cached(req.params.id, caller) ?? (await records.render(await observer.refresh(await records.get(req.params.id, caller))));
      reply.header('etag', answer.etag);
      if (etagMatches(req.headers['if-none-match'], answer.etag)) return reply.code(304).send(null);
      return sendJson(reply, answer.json);
    },
  );

  app.post(
    '/v1/generations/:id/cancel',
    {
      schema: {
        summary: 'Cancel a generation (it becomes cancelled once its provider jobs and FFmpeg have stopped)',
        params: GenerationIdParams,
        response: { 202: Generation, ...errorResponses, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req, reply) => reply.code(202).send(await records.toApi(await commands.cancel(await records.get(req.params.id, callerOf(req))))),
  );

  app.post(
    '/v1/generations/:id/retry',
    {
      schema: {
        summary: 'Start a new generation with the same request (failed or cancelled only)',
        params: GenerationIdParams,
        response: { 201: Generation, ...errorResponses, 402: BudgetExceeded, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (req, reply) =>
      reply.code(201).send(await records.toApi(await commands.retry(await records.get(req.params.id, callerOf(req)), callerOf(req)))),
  );
};
