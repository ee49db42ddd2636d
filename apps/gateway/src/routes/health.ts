import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { HealthBody, ReadyBody } from '@gptmarket/contracts';
import type { DatabaseHandle } from '@gptmarket/db';
import type { Storage } from '@gptmarket/storage';
import type { TemporalGateway } from '../services/temporal.js';
import type { WorkerDirectory } from '../services/workers.js';

export interface HealthRoutesOptions {
  temporal: TemporalGateway;
  database: DatabaseHandle;
  storage: Storage;
  workers: WorkerDirectory;
}

const within3s = <T>(p: Promise<T>, late: T) => Promise.race([p, new Promise<T>((r) => setTimeout(() => r(late), 3_000).unref())]);
const probe = (fn: () => Promise<void>) =>
  within3s(
    fn().then(() => 'ok' as const),
    'down' as const,
  ).catch(() => 'down' as const);

/** `/health` (the process serves) and `/ready` (Temporal, the database and storage answer; what the workers report). */
export const healthRoutes: FastifyPluginAsyncZod<HealthRoutesOptions> = async (app, { temporal, database, storage, workers }) => {
  app.get('/health', { schema: { hide: true, response: { 200: HealthBody } } }, async () => ({ status: 'ok' as const }));

  app.get('/ready', { schema: { hide: true, response: { 200: ReadyBody, 503: ReadyBody } } }, async (_req, reply) => {
    const [temporalCheck, databaseCheck, storageCheck, report] = await Promise.all([
      probe(() => temporal.check()),
      probe(() => database.ping()),
      probe(() => storage.check()),
      // What the workers report through Temporal (null when it cannot be read); not part of readiness.
      within3s(workers.report(), null).catch(() => null),
    ]);
    const checks = { temporal: temporalCheck, database: databaseCheck, storage: storageCheck };
    const ok = Object.values(checks).every((c) => c === 'ok');
    return reply
      .code(ok ? 200 : 503)
      .send({ status: ok ? 'ok' : 'unavailable', checks, workers: report?.workers ?? null, providers: report?.providers ?? null });
  });
};
