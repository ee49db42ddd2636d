import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type PostgresCluster } from '@gptmarket/testkit';

/** A throwaway PostgreSQL cluster for the calling file's tests: started before them, stopped after them. */
export function throwawayPostgres(): { createDatabase(name: string): Promise<string> } {
  let cluster: PostgresCluster | undefined;
  beforeAll(async () => {
    cluster = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  return { createDatabase: (name) => cluster!.createDatabase(name) };
}
