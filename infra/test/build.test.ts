import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnService, startTemporal, waitFor, type ServiceProcess } from '@gptmarket/testkit';
import { APPS, deployArgs, repo } from './repo.js';

/**
 * What the images run, built here the way the Dockerfiles build it: `turbo run build`, the workflow bundle
 * script, and `pnpm deploy --prod` of the generation worker started from its deployed folder with the
 * prebuilt bundle against a real Temporal server (the default export condition, i.e. built JS only).
 */
const work = mkdtempSync(join(tmpdir(), 'infra-build-'));
const bundle = join(work, 'workflow-bundle.js');
// pnpm finds its store (and cache) through HOME and the XDG directories: keep those, drop everything else.
const kept = ['PATH', 'HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'XDG_CONFIG_HOME', 'PNPM_HOME'].filter(
  (k) => process.env[k] !== undefined,
);
const cleanEnv = { ...Object.fromEntries(kept.map((k) => [k, process.env[k]])), TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' };

beforeAll(() => {
  execFileSync('turbo', ['run', 'build', ...APPS.map((a) => `--filter=${a.pkg}`), '--output-logs=errors-only'], {
    cwd: repo,
    env: cleanEnv,
    stdio: 'pipe',
    timeout: 240_000,
  });
}, 250_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('production build', () => {
  it.each(APPS)(
    'builds $dir/dist/main.js, which loads every module under the default condition',
    (app) => {
      expect(existsSync(join(repo, app.dir, 'dist/main.js'))).toBe(true);
      // An invalid variable makes the process exit 78 after all its imports resolved: resolution failures would
      // exit 1 with ERR_MODULE_NOT_FOUND (e.g. a workspace package whose dist is missing) before env is read.
      const r = spawnSync(process.execPath, ['dist/main.js'], {
        cwd: join(repo, app.dir),
        env: { ...cleanEnv, LOG_LEVEL: 'not-a-number-but-fine', PORT: 'abc', HEALTH_PORT: 'abc', MEDIA_MAX_INPUT_MB: 'abc' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
      expect(r.stderr).toMatch(/invalid environment/);
      expect(r.status).toBe(78);
    },
    70_000,
  );

  it('bundles the workflows with the script the image runs', () => {
    const out = execFileSync(process.execPath, [join(repo, 'infra/scripts/bundle-workflows.mjs'), '--out', bundle], {
      cwd: repo,
      env: cleanEnv,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(out).toMatch(/bundle-workflows: .*workflow-bundle\.js/);
    const code = readFileSync(bundle, 'utf8');
    expect(code).toContain('RubyWorkflow');
    expect(code).toContain('HelloWorldWorkflow');
    expect(code).toContain('SlideshowsPinterestWorkflow');
    // Two bundles: the OpenTelemetry workflow interceptors only in the traced one (run when tracing is on).
    const traced = readFileSync(bundle.replace(/\.js$/, '.traced.js'), 'utf8');
    expect(traced).toContain('HelloWorldWorkflow');
    const otel = /interceptors-opentelemetry\/lib\/workflow-interceptors/;
    expect(traced).toMatch(otel);
    expect(code).not.toMatch(otel);
    expect(code).toContain('workflow-interceptors'); // ours (generation ids) in both
  }, 200_000);
});

const gatewayDir = join(work, 'gateway');
const deploy = (pkg: string, dir: string) =>
  promisify(execFile)('pnpm', [...deployArgs(pkg), '--offline', dir], { cwd: repo, env: cleanEnv, timeout: 180_000 });

describe('the generation worker as the image runs it', () => {
  let temporal: Awaited<ReturnType<typeof startTemporal>> | undefined;
  let worker: ServiceProcess | undefined;
  afterAll(async () => {
    await worker?.stop(10_000);
    await temporal?.teardown();
  });

  it('runs from a `pnpm deploy --prod` folder with the prebuilt bundle and reports healthy', async () => {
    const deployed = join(work, 'app');
    await Promise.all([deploy('@gptmarket/generation-worker', deployed), deploy('@gptmarket/gateway', gatewayDir)]);
    expect(existsSync(join(deployed, 'dist/main.js'))).toBe(true);
    // No dev dependencies, and workspace packages come as built JS.
    expect(existsSync(join(deployed, 'node_modules/vitest'))).toBe(false);
    expect(existsSync(join(deployed, 'node_modules/@gptmarket/contracts/dist/index.js'))).toBe(true);
    if (!existsSync(bundle))
      execFileSync(process.execPath, [join(repo, 'infra/scripts/bundle-workflows.mjs'), '--out', bundle], {
        cwd: repo,
        env: cleanEnv,
        timeout: 120_000,
      });
    copyFileSync(bundle, join(deployed, 'dist/workflow-bundle.js'));

    temporal = await startTemporal();
    const port = await freePort();
    worker = spawnService(
      'generation-worker (deployed)',
      process.execPath,
      ['dist/main.js'],
      {
        ...cleanEnv,
        NODE_ENV: 'production',
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_TASK_QUEUE: `deployed-${process.pid}`,
        WORKFLOW_SECRET_KEY: 'deployed-test-secret-0123456789abcdef',
        WORKFLOW_BUNDLE_PATH: join(deployed, 'dist/workflow-bundle.js'),
        ALLOW_OFFLINE_PROVIDERS: 'true', // no provider keys here: the offline provider serves, on purpose
        LOCAL_STORAGE_DIR: join(work, 'media'),
        HEALTH_PORT: String(port),
        LOG_LEVEL: 'info',
      },
      deployed,
    );
    const health = await waitFor(
      'the deployed worker to report healthy',
      async () => {
        if (worker!.child.exitCode !== null) throw new Error(`worker exited:\n${worker!.output()}`);
        const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
        return res?.status === 200 ? ((await res.json()) as Record<string, unknown>) : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(health).toMatchObject({ status: 'ok', runState: 'RUNNING' });
    // The prebuilt bundle really runs workflows: HelloWorld end to end, authenticated with the raw secret.
    const result = await temporal.client.workflow.execute('HelloWorldWorkflow', {
      taskQueue: `deployed-${process.pid}`,
      workflowId: `deployed-hello-${Date.now()}`,
      args: [{ secret_key: 'deployed-test-secret-0123456789abcdef', name: 'Dokploy' }],
      workflowExecutionTimeout: '60s',
    });
    expect(result).toEqual({ message: 'Hello, Dokploy!' });
    // The prebuilt bundle was used: no webpack run at start.
    expect(worker.output()).not.toMatch(/webpack .*compiled/);
    expect(await worker.stop(20_000)).toBe(0);
  }, 300_000);
});

describe('the gateway as the image runs it', () => {
  let gateway: ServiceProcess | undefined;
  afterAll(async () => void (await gateway?.stop(10_000)));

  it('runs from its deployed folder, applies the shipped drizzle migrations and answers /health', async () => {
    // Deployed by the generation worker test above (both deploys run at once to save time).
    if (!existsSync(join(gatewayDir, 'dist/main.js'))) await deploy('@gptmarket/gateway', gatewayDir);
    expect(existsSync(join(gatewayDir, 'node_modules/@gptmarket/db/drizzle/meta/_journal.json'))).toBe(true);
    const port = await freePort();
    gateway = spawnService(
      'gateway (deployed)',
      process.execPath,
      ['dist/main.js'],
      {
        ...cleanEnv,
        NODE_ENV: 'production',
        PORT: String(port),
        PGLITE_DIR: join(work, 'pglite'),
        LOCAL_STORAGE_DIR: join(work, 'gateway-media'),
        TEMPORAL_ADDRESS: '127.0.0.1:1', // not needed for /health
        WORKFLOW_SECRET_KEY: 'deployed-test-secret-0123456789abcdef',
        BASIC_AUTH_USER: 'ops',
        BASIC_AUTH_PASSWORD: 'deployed-test-password-0123456789',
        GATEWAY_WEBHOOK_WORKER: 'false',
      },
      gatewayDir,
    );
    const body = await waitFor(
      'the deployed gateway to answer /health',
      async () => {
        if (gateway!.child.exitCode !== null) throw new Error(`gateway exited:\n${gateway!.output()}`);
        const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
        return res?.status === 200 ? ((await res.json()) as Record<string, unknown>) : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(body).toMatchObject({ status: 'ok' });
    expect(gateway.output()).toMatch(/gateway ready/);
  }, 120_000);
});
