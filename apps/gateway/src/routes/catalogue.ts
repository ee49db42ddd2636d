import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { GENERATION_TYPES, GenerationTypeInfo, generationTypeInfo } from '@gptmarket/contracts';

/** `GET /v1/generation-types`: every type with the JSON Schemas of what a caller sends and what it returns. */
export const catalogueRoutes: FastifyPluginAsyncZod = async (app) => {
  const catalogue = Object.values(GENERATION_TYPES).map(generationTypeInfo);
  app.get(
    '/v1/generation-types',
    {
      schema: { summary: 'List generation types with their input and output JSON Schemas', response: { 200: z.array(GenerationTypeInfo) } },
    },
    async () => catalogue,
  );
};
