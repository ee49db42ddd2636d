import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  ApiKey,
  ApiKeyIdParams,
  ApiKeyList,
  CreateApiKeyBody,
  CreatedApiKey,
  ErrorBody,
  UpdateApiKeyBody,
  fromMicros,
} from '@gptmarket/contracts';
import type { ApiKeyRow } from '@gptmarket/db';
import { ApiError, errorResponses } from '../errors.js';
import type { ApiKeyService } from '../services/api-keys.js';

export interface KeyRoutesOptions {
  keys: ApiKeyService;
}

const Forbidden = ErrorBody.describe('forbidden: an API key cannot manage keys; use basic auth');
const adminErrors = { ...errorResponses, 403: Forbidden };

/**
 * The operators' admin API for API keys (docs/api.md "API keys"): the same service as the gateway command
 * (`scripts/keys.sh`). Only basic-auth callers, or anyone on an open non-production gateway, may use it: a key
 * cannot make, see or revoke keys. The plain key is in the creation answer only; nothing logs or stores it.
 */
export const keyRoutes: FastifyPluginAsyncZod<KeyRoutesOptions> = async (app, { keys }) => {
  app.addHook('preHandler', async (req) => {
    if (req.auth?.kind === 'basic' || req.auth?.kind === 'open') return;
    throw new ApiError(
      403,
      'forbidden',
      'API keys cannot manage API keys: sign in with basic auth (BASIC_AUTH_USER/BASIC_AUTH_PASSWORD), or use the gateway command (scripts/keys.sh)',
    );
  });

  const toApi = async (row: ApiKeyRow): Promise<ApiKey> => ({
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    rate_limit: row.rateLimit,
    daily_budget_usd: row.dailyBudgetMicros === null ? null : fromMicros(row.dailyBudgetMicros),
    monthly_budget_usd: row.monthlyBudgetMicros === null ? null : fromMicros(row.monthlyBudgetMicros),
    budgets: (await keys.budgets(row)).map((b) => ({
      window: b.window,
      limit_usd: fromMicros(b.limitMicros),
      spent_usd: fromMicros(b.spentMicros),
      resets_at: b.resetsAt.toISOString(),
    })),
    created_at: row.createdAt.toISOString(),
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
    revoked_at: row.revokedAt?.toISOString() ?? null,
  });
  const notFound = (id: string) => new ApiError(404, 'not_found', `no API key ${id}`);

  app.get(
    '/v1/keys',
    { schema: { summary: 'List API keys, newest first (operators only)', response: { 200: ApiKeyList, ...adminErrors } } },
    async () => ({ data: await Promise.all((await keys.list()).map(toApi)) }),
  );

  app.post(
    '/v1/keys',
    {
      schema: {
        summary: 'Create an API key; the answer carries the plain key, once (operators only)',
        body: CreateApiKeyBody,
        response: { 201: CreatedApiKey, ...adminErrors },
      },
    },
    async (req, reply) => {
      const { name, rate_limit, daily_budget_usd, monthly_budget_usd } = req.body;
      const { key, row } = await keys.create(name, rate_limit ?? null, { dailyUsd: daily_budget_usd, monthlyUsd: monthly_budget_usd });
      return reply.code(201).send({ ...(await toApi(row)), key });
    },
  );

  app.patch(
    '/v1/keys/:id',
    {
      schema: {
        summary: "Set or remove a key's daily and monthly budgets (operators only)",
        params: ApiKeyIdParams,
        body: UpdateApiKeyBody,
        response: { 200: ApiKey, ...adminErrors, 404: ErrorBody },
      },
    },
    async (req) => {
      const row = await keys.setBudgets(req.params.id, { dailyUsd: req.body.daily_budget_usd, monthlyUsd: req.body.monthly_budget_usd });
      if (!row) throw notFound(req.params.id);
      return toApi(row);
    },
  );

  app.delete(
    '/v1/keys/:id',
    {
      schema: {
        summary: 'Revoke a key: requests with it get 401 from then on (operators only)',
        params: ApiKeyIdParams,
        response: { 200: ApiKey, ...adminErrors, 404: ErrorBody },
      },
    },
    async (req) => {
      // Revoking a revoked key answers it as it is (DELETE is idempotent).
      const row = (await keys.revoke(req.params.id)) ?? (await keys.get(req.params.id));
      if (!row) throw notFound(req.params.id);
      return toApi(row);
    },
  );
};
