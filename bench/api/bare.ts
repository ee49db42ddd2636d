/**
 * The yardsticks of `bench/api`, bare Fastify routes in their own process: no auth, no database, no schema.
 *   - GET /one, GET /list: the JSON the gateway serves (read from the files named by BARE_ONE and BARE_LIST),
 *     serialized by Fastify on every request;
 *   - POST /start (with BARE_TEMPORAL_ADDRESS): a HelloWorld start and nothing else, answered 202 with its id: what
 *     any HTTP hop in front of Temporal costs, before the gateway records, checks or follows anything.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const req = createRequire(join(import.meta.dirname, '../../apps/gateway/package.json'));
const { default: Fastify } = (await import(req.resolve('fastify'))) as typeof import('fastify');
const app = Fastify({ logger: false });
if (process.env.BARE_ONE && process.env.BARE_LIST) {
  const one = JSON.parse(readFileSync(process.env.BARE_ONE, 'utf8'));
  const list = JSON.parse(readFileSync(process.env.BARE_LIST, 'utf8'));
  app.get('/one', async () => one);
  app.get('/list', async () => list);
}
if (process.env.BARE_TEMPORAL_ADDRESS) {
  const { Client, Connection } = (await import(req.resolve('@temporalio/client'))) as typeof import('@temporalio/client');
  // Only the token (the runtime's index would start its metrics collection in this process too).
  const { workflowToken } = await import('../../packages/runtime/src/workflow-token.js');
  const client = new Client({ connection: await Connection.connect({ address: process.env.BARE_TEMPORAL_ADDRESS }) });
  const secret = process.env.BARE_SECRET!;
  let seq = 0;
  app.post<{ Body: { input: { name: string } } }>('/start', async (request, reply) => {
    const workflowId = `bench-bare-${process.pid}-${seq++}`;
    await client.workflow.start('HelloWorldWorkflow', {
      taskQueue: 'generation-queue',
      workflowId,
      args: [{ ...request.body.input, secret_key: workflowToken(secret, workflowId) }],
    });
    return reply.code(202).send({ id: workflowId });
  });
}
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
console.log('bare ready');
// A normal exit on SIGTERM, so `--cpu-prof` writes its profile.
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
