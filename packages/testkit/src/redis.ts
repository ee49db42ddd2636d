import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.js';
import { spawnService } from './process.js';

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * Starts a throwaway `redis-server` (the Debian package scripts/setup.sh installs) on a free loopback port,
 * without persistence; stopping it removes its directory.
 */
export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'gptmarket-redis-'));
  const port = await freePort();
  const server = spawnService(
    'redis-server',
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { PATH: process.env.PATH },
  );
  server.child.on('error', () => {});
  try {
    await waitFor(
      'redis-server',
      async () => (server.child.exitCode === null ? /Ready to accept connections/.test(server.output()) : false),
      {
        timeoutMs: 15_000,
        intervalMs: 20,
      },
    );
  } catch (err) {
    await server.stop(1_000);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`redis-server did not start (run scripts/setup.sh, which installs it): ${(err as Error).message}\n${server.output()}`);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      await server.stop(5_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
