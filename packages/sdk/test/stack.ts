import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort, spawnService, startPostgres, startTemporal, type ServiceProcess } from '@gptmarket/testkit';

const repo = resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);

/** The real stack as separate processes, as apps/gateway/test/helpers.ts starts it: Temporal, PostgreSQL, both workers, the gateway. */
export interface Stack {
  baseUrl: string;
  env: NodeJS.ProcessEnv;
  services: ServiceProcess[];
  /** Runs the gateway's command (`keys create ...`) against the stack's database; resolves with its output. */
  gatewayCli(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

const tsxNode = (entry: string) => ['--import', 'tsx', '--conditions=@gptmarket/source', entry];

export async function startStack(name: string, extraEnv: Record<string, string> = {}): Promise<Stack> {
  const [temporal, pg] = await Promise.all([startTemporal(), startPostgres()]);
  const databaseUrl = await pg.createDatabase(name);
  const mediaDir = mkdtempSync(join(tmpdir(), 'gptmarket-sdk-media-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    TEMPORAL_ADDRESS: temporal.address,
    WORKFLOW_SECRET_KEY: randomBytes(24).toString('hex'),
    DATABASE_URL: databaseUrl,
    LOCAL_STORAGE_DIR: mediaDir,
    GATEWAY_PUBLIC_URL: baseUrl,
    HOST: '127.0.0.1',
    PORT: String(port),
    ...extraEnv,
  };
  const app = (name: string) => join(repo, 'apps', name, 'src', 'main.ts');
  const services = [
    spawnService('generation-worker', process.execPath, tsxNode(app('generation-worker')), env, repo),
    spawnService('media-worker', process.execPath, tsxNode(app('media-worker')), env, repo),
    spawnService('gateway', process.execPath, tsxNode(app('gateway')), env, repo),
  ];
  const stopAll = async () => {
    await Promise.all(services.map((s) => s.stop()));
    await temporal.teardown();
    await pg.stop();
    rmSync(mediaDir, { recursive: true, force: true });
  };
  try {
    await Promise.all([
      services[0]!.waitForOutput(/generation-worker ready/, 120_000),
      services[1]!.waitForOutput(/media-worker ready/, 60_000),
      services[2]!.waitForOutput(/gateway ready/, 60_000),
    ]);
  } catch (err) {
    await stopAll();
    throw err;
  }
  const cli = join(repo, 'apps', 'gateway', 'src', 'cli.ts');
  return {
    baseUrl,
    env,
    services,
    async gatewayCli(args) {
      if (!existsSync(cli)) throw new Error('the gateway has no command yet');
      const { stdout } = await run(process.execPath, [...tsxNode(cli), ...args], { cwd: repo, env, timeout: 60_000 });
      return stdout;
    },
    stop: stopAll,
  };
}

/** What the running gateway offers, probed over HTTP, so tests of features still to land skip instead of failing. */
export interface Capabilities {
  openapi: boolean;
  sse: boolean;
  cancel: boolean;
  retry: boolean;
  cursor: boolean;
  idempotency: boolean;
  /** Requests without credentials are refused (with the auth configured for the stack). */
  auth: boolean;
  /** API keys can be created with the gateway's command. */
  apiKeys: boolean;
  /** Responses carry x-ratelimit-* headers. */
  rateLimit: boolean;
  /** A CORS preflight from `origin` is allowed. */
  cors: boolean;
}

export async function probeCapabilities(baseUrl: string, authorization: string, origin: string): Promise<Capabilities> {
  const get = (path: string, headers: Record<string, string> = { authorization }) => fetch(baseUrl + path, { headers });
  type OpenApi = { paths?: Record<string, Record<string, unknown>> };
  let openapi: OpenApi | null = null;
  const res = await get('/openapi.json');
  if (res.ok && /json/.test(res.headers.get('content-type') ?? '')) openapi = (await res.json()) as OpenApi;
  else await res.body?.cancel();
  const paths = openapi?.paths ?? {};
  const route = (p: string, method: string) => Boolean(paths[p]?.[method]);
  const events = route('/v1/generations/{id}/events', 'get');
  const listSpec = JSON.stringify(paths['/v1/generations']?.get ?? {});
  const createSpec = JSON.stringify(paths['/v1/generations']?.post ?? {});

  const open = await get('/v1/generation-types', {});
  await open.body?.cancel();
  const types = await get('/v1/generation-types');
  await types.body?.cancel();
  const preflight = await fetch(`${baseUrl}/v1/generation-types`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
  });
  await preflight.body?.cancel();
  return {
    openapi: openapi !== null,
    sse: events,
    cancel: route('/v1/generations/{id}/cancel', 'post'),
    retry: route('/v1/generations/{id}/retry', 'post'),
    cursor: /cursor/.test(listSpec),
    idempotency: /idempotency-key/i.test(createSpec),
    auth: open.status === 401,
    apiKeys: open.status === 401 && existsSync(join(repo, 'apps', 'gateway', 'src', 'cli.ts')),
    rateLimit: types.headers.has('x-ratelimit-limit'),
    cors: preflight.headers.get('access-control-allow-origin') === origin && /authorization/i.test(preflight.headers.get('access-control-allow-headers') ?? ''),
  };
}
