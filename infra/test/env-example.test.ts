import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { gatewayEnv } from '../../apps/gateway/src/env.js';
import { generationWorkerEnv } from '../../apps/generation-worker/src/env.js';
import { mediaWorkerEnv } from '../../apps/media-worker/src/env.js';
import { temporalConnectionOptions, temporalEnvShape } from '@gptmarket/runtime';
import { storageEnvShape } from '@gptmarket/storage';
import { DEFAULT_CONCURRENCY, providersEnvShape } from '@gptmarket/providers';
import { read, walk } from './repo.js';

/**
 * .env.example must list every variable any process reads, and nothing that nothing reads. Readers: the zod
 * env schemas of each process (their `.shape` keys), direct `process.env` reads in app/package sources and
 * scripts, and `${VAR}` interpolations in the compose files (variables of the deployment itself).
 */

/** Read, but deliberately not in .env.example: set by test runners or the toolchain, never by an operator. */
const NOT_FOR_OPERATORS = new Set([
  'VITEST', // set by vitest; loadEnv throws instead of exiting under it
  'XDG_CACHE_HOME', // XDG base directory (testkit's tool cache)
  'GPTMARKET_TOOLS_DIR', // scripts/lib/env.sh: where the pinned toolchain is cached
  'TEMPORAL_CLI_PATH', // testkit / dev script: the pinned Temporal CLI binary
  'PG_BIN_DIR', // testkit: PostgreSQL binaries for throwaway clusters
  'TEST_SERVICE_LOGS', // testkit: echo spawned services' output while debugging tests
  'FAILED_PACKAGES', // scripts/test.sh → test-summary.mjs: packages whose test run exited non-zero
  'FAILED_CHECKS', // scripts/test.sh → test-summary.mjs: lint and type-check tasks that failed
  'PATH', // the operating system's; passed on to spawned processes
  'HOME',
  'TMPDIR',
  'CI', // set by CI runners
  'INIT_CWD', // set by pnpm: where `pnpm gptmarket ...` was typed (the CLI's relative paths)
]);

const SOURCE_DIRS = [
  ...walk('apps', /\.(ts|mts|js|mjs)$/),
  ...walk('packages', /\.(ts|mts|js|mjs)$/),
  ...walk('scripts', /\.(ts|mts|js|mjs)$/),
  ...walk('infra/scripts', /\.(ts|mts|js|mjs)$/),
].filter((f) => /^(apps|packages)\/[^/]+\/src\//.test(f) || f.startsWith('scripts/') || f.startsWith('infra/scripts/'));

function directReads(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const patterns = [/process\.env\.([A-Z][A-Z0-9_]*)/g, /process\.env\[\s*['"`]([A-Z][A-Z0-9_]*)['"`]\s*\]/g];
  for (const file of SOURCE_DIRS) {
    const text = read(file);
    for (const re of patterns) for (const m of text.matchAll(re)) found.set(m[1]!, [...(found.get(m[1]!) ?? []), file]);
  }
  return found;
}

const schemaKeys = (schema: z.ZodObject) => Object.keys(schema.shape);

function composeVariables(): Set<string> {
  const vars = new Set<string>();
  for (const file of ['docker-compose.prod.yml', 'docker-compose.temporal-public.yml']) {
    // ${VAR}, ${VAR:-default}, ${VAR:?message}; $$ escapes are container-side shell variables, not compose's.
    for (const m of read(file).matchAll(/(?<!\$)\$\{([A-Z][A-Z0-9_]*)(?::?[-?][^}]*)?\}/g)) vars.add(m[1]!);
  }
  return vars;
}

function exampleEntries(): Map<string, { value: string; comment: string }> {
  const lines = read('.env.example').split('\n');
  const entries = new Map<string, { value: string; comment: string }>();
  lines.forEach((line, i) => {
    const m = line.match(/^([A-Z][A-Z0-9_]*)=(.*)$/);
    if (!m) return;
    expect(entries.has(m[1]!), `${m[1]} is listed twice in .env.example`).toBe(false);
    const prev = lines[i - 1] ?? '';
    entries.set(m[1]!, { value: m[2]!, comment: prev.startsWith('#') ? prev : '' });
  });
  return entries;
}

describe('.env.example', () => {
  const example = exampleEntries();
  const schemas = { gateway: gatewayEnv, 'generation-worker': generationWorkerEnv, 'media-worker': mediaWorkerEnv };
  const read_ = new Map<string, string>();
  for (const [name, schema] of Object.entries(schemas)) for (const k of schemaKeys(schema)) read_.set(k, `${name} env schema`);
  for (const shape of [temporalEnvShape, storageEnvShape, providersEnvShape])
    for (const k of Object.keys(shape)) read_.set(k, 'providers env shape');
  // Families read by name at run time: PROVIDER_CONCURRENCY_<NAME> and PROVIDER_RATE_<NAME> for every provider.
  for (const name of Object.keys(DEFAULT_CONCURRENCY)) {
    for (const family of ['PROVIDER_CONCURRENCY', 'PROVIDER_RATE'])
      read_.set(`${family}_${name.toUpperCase()}`, 'packages/providers/src/limits.ts');
  }
  for (const [k, files] of directReads()) if (!read_.has(k)) read_.set(k, files[0]!);
  const compose = composeVariables();

  it('finds the readers it scans (the scan itself works)', () => {
    expect(read_.get('WORKFLOW_SECRET_KEY')).toBeDefined();
    expect(read_.get('WORKFLOW_BUNDLE_PATH')).toBeDefined(); // a direct process.env read in worker.ts
    expect(read_.get('HEALTH_PORT')).toBeDefined();
    expect(compose.has('HOST_PORT') && compose.has('WORKER_REPLICAS')).toBe(true);
    expect(example.size).toBeGreaterThan(50);
  });

  it('lists every variable a process or the compose file reads', () => {
    const missing = [...new Set([...read_.keys(), ...compose])].filter((k) => !example.has(k) && !NOT_FOR_OPERATORS.has(k));
    expect(missing.map((k) => `${k} (read by ${read_.get(k) ?? 'docker-compose'})`)).toEqual([]);
  });

  it('lists nothing that nothing reads', () => {
    const unread = [...example.keys()].filter((k) => !read_.has(k) && !compose.has(k));
    expect(unread).toEqual([]);
  });

  it('gives every variable a one-line comment', () => {
    const bare = [...example].filter(([, e]) => e.comment.replace(/^#\s*/, '').length < 8).map(([k]) => k);
    expect(bare).toEqual([]);
  });

  it('shows the code defaults (a default in .env.example that differs from the code would mislead)', () => {
    const wrong: string[] = [];
    for (const [name, schema] of Object.entries(schemas)) {
      for (const [key, field] of Object.entries(schema.shape) as [string, z.ZodType][]) {
        const entry = example.get(key);
        if (!entry || entry.value === '') continue;
        const parsed = field.safeParse(undefined);
        if (!parsed.success || parsed.data === undefined) continue;
        // Per-process defaults may differ (e.g. the shutdown grace); the example shows one of them.
        const defaults = Object.values(schemas)
          .map((s) => (s.shape as Record<string, z.ZodType>)[key]?.safeParse(undefined))
          .filter((r) => r?.success)
          .map((r) => String(r!.data));
        if (!defaults.includes(entry.value))
          wrong.push(`${key}: .env.example says ${entry.value}, ${name} defaults to ${String(parsed.data)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("lists the Python system's names that still work: ENVIRONMENT (every process) and LITELLM_TIMEOUT (seconds)", () => {
    for (const schema of Object.values(schemas)) expect(Object.keys(schema.shape)).toContain('ENVIRONMENT');
    expect(Object.keys(generationWorkerEnv.shape)).toEqual(
      expect.arrayContaining(['LITELLM_TIMEOUT', 'LITELLM_TIMEOUT_MS', 'TEMPORAL_HOST']),
    );
    for (const key of ['ENVIRONMENT', 'LITELLM_TIMEOUT', 'LITELLM_TIMEOUT_MS']) {
      expect(example.get(key), key).toBeDefined();
      expect(example.get(key)!.value, `${key} is unset by default`).toBe('');
    }
    expect(example.get('ENVIRONMENT')!.comment).toMatch(/local, staging, production or testing/);
    expect(example.get('LITELLM_TIMEOUT')!.comment).toMatch(/seconds/);
  });

  it('is a valid configuration for every process as written', () => {
    const values = Object.fromEntries([...example].map(([k, e]) => [k, e.value]));
    for (const [name, schema] of Object.entries(schemas)) {
      const parsed = schema.safeParse(values);
      expect(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`), name).toEqual([]);
    }
  });

  it('allows no offline provider by default, so a production worker without a key stops instead of faking', () => {
    expect(example.get('ALLOW_OFFLINE_PROVIDERS')?.value).toBe('');
    expect(generationWorkerEnv.shape.ALLOW_OFFLINE_PROVIDERS.parse(undefined)).toEqual([]);
  });

  it('names each task queue once, with the same default in every process that reads it', () => {
    expect(example.get('TEMPORAL_TASK_QUEUE')?.value).toBe(gatewayEnv.shape.TEMPORAL_TASK_QUEUE.parse(undefined));
    expect(generationWorkerEnv.shape.TEMPORAL_TASK_QUEUE.parse(undefined)).toBe(example.get('TEMPORAL_TASK_QUEUE')?.value);
    for (const schema of [gatewayEnv, generationWorkerEnv, mediaWorkerEnv]) {
      expect(schema.shape.MEDIA_TASK_QUEUE.parse(undefined)).toBe(example.get('MEDIA_TASK_QUEUE')?.value);
    }
  });

  it('lists the Temporal TLS and API-key variables, empty: as written, every process connects without TLS', () => {
    const names = ['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CA', 'TEMPORAL_TLS_SERVER_NAME', 'TEMPORAL_API_KEY'];
    expect(names.filter((k) => !(k in temporalEnvShape))).toEqual([]);
    for (const key of names) expect(example.get(key)?.value, key).toBe('');
    const values = Object.fromEntries([...example].map(([k, e]) => [k, e.value]));
    for (const schema of [gatewayEnv, generationWorkerEnv, mediaWorkerEnv]) {
      expect(temporalConnectionOptions(schema.parse(values))).toEqual({ address: 'localhost:7233' });
    }
  });

  it('keeps WORKFLOW_SECRET_ENABLED on by default, as the deployment guide says', () => {
    expect(example.get('WORKFLOW_SECRET_ENABLED')?.value).toBe('true');
    expect(generationWorkerEnv.shape.WORKFLOW_SECRET_ENABLED.parse(undefined)).toBe(true);
  });
});
