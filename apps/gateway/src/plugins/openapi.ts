import type { FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { GENERATION_TYPES, inputJsonSchema } from '@gptmarket/contracts';

/** The OpenAPI document of every route registered after this (generated from their zod schemas): `/openapi.json`, read at `/docs`. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'GPTMarket Generator API',
        version: '1.0.0',
        description: 'Start AI media generations and follow them to the finished files.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, basic: { type: 'http', scheme: 'basic' } },
        // What `input` of POST /v1/generations holds for each type (e.g. RubyInput), model params per model included.
        schemas: Object.fromEntries(
          Object.values(GENERATION_TYPES).map((t) => [
            `${t.workflowType.replace(/Workflow$/, '')}Input`,
            inputJsonSchema(t.request, 'openapi-3.0'),
          ]),
        ),
      },
      security: [{ bearer: [] }, { basic: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
