/**
 * Benchmark (not a test): does an unknown API key cost the same as a known one?
 * Interleaves authentications of a valid key, an unknown key of the same shape, and a key that differs from the
 * valid one only in its last character, through the gateway's real key service (embedded PGlite), and prints
 * the median and p90 of each and their ratios. A second table times whole requests through the app: there a
 * valid key also runs the route, so only unknown vs near-miss should match. Run: bench/auth-timing.sh
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../packages/db/src/index.js';
import { createLogger } from '../packages/runtime/src/index.js';
import { LocalStorage } from '../packages/storage/src/index.js';
import { buildApp, gatewayEnv, TemporalGateway } from '../apps/gateway/src/index.js';

const ROUNDS = Number(process.env.ROUNDS ?? 3000);
const dir = mkdtempSync(join(tmpdir(), 'gptmarket-bench-auth-'));
const database = await openDatabase({ pgliteDir: join(dir, 'db') });
const env = gatewayEnv.parse({ LOCAL_STORAGE_DIR: join(dir, 'media'), RATE_LIMIT_ENABLED: 'false', RATE_LIMIT_AUTH_FAILURES_MAX: '10000' });
const { app, keys } = await buildApp({
  env,
  database,
  temporal: new TemporalGateway({ address: '127.0.0.1:1', namespace: 'default' }),
  storage: new LocalStorage({ dir: join(dir, 'media'), publicBaseUrl: 'http://127.0.0.1/media' }),
  log: createLogger('bench', 'error'),
  track: false,
});
const { key } = await keys.create('bench');
const unknown = `gmk_${'A'.repeat(40)}`;
const nearMiss = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
const cases = { known: key, unknown, near_miss: nearMiss } as const;
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * p)]!;
async function measure(title: string, once: (k: string) => Promise<unknown>) {
  const samples: Record<keyof typeof cases, number[]> = { known: [], unknown: [], near_miss: [] };
  for (let i = 0; i < 200; i++) for (const k of Object.values(cases)) await once(k); // warm up
  for (let i = 0; i < ROUNDS; i++) {
    for (const name of Object.keys(cases) as (keyof typeof cases)[]) {
      const t = process.hrtime.bigint();
      await once(cases[name]);
      samples[name].push(Number(process.hrtime.bigint() - t) / 1e3);
    }
  }
  console.log(`${title} over ${ROUNDS} interleaved rounds (µs)`);
  for (const [name, xs] of Object.entries(samples))
    console.log(`  ${name.padEnd(10)} median ${q(xs, 0.5).toFixed(1)}  p90 ${q(xs, 0.9).toFixed(1)}`);
  console.log(
    `  ratios of medians: unknown/known ${(q(samples.unknown, 0.5) / q(samples.known, 0.5)).toFixed(3)}, near_miss/unknown ${(q(samples.near_miss, 0.5) / q(samples.unknown, 0.5)).toFixed(3)}`,
  );
}
await measure('key authentication (ApiKeyService.authenticate)', (k) => keys.authenticate(k));
await measure('whole request GET /v1/generation-types', (k) =>
  app.inject({ method: 'GET', url: '/v1/generation-types', headers: { authorization: `Bearer ${k}` }, remoteAddress: '203.0.113.1' }),
);
await app.close();
await database.close();
rmSync(dir, { recursive: true, force: true });
