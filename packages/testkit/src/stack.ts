import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startPostgres } from './postgres.js';
import { freePort } from './ports.js';
import { spawnService, type ServiceProcess } from './process.js';
import { startTemporal } from './temporal.js';
import { startTlsProxy, type TlsProxy } from './tls-proxy.js';

const repo = resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);
const tsxNode = (entry: string) => ['--import', 'tsx', '--conditions=@gptmarket/source', entry];
const appEntry = (app: string, file = 'main.ts') => join(repo, 'apps', app, 'src', file);

/** Starts one of the apps (`gateway`, `generation-worker`, `media-worker`) from source as its own process. */
export function spawnApp(
  app: 'gateway' | 'generation-worker' | 'media-worker',
  env: NodeJS.ProcessEnv,
  name: string = app,
): ServiceProcess {
  return spawnService(name, process.execPath, tsxNode(appEntry(app)), env, repo);
}

/** The whole stack as separate processes, as deployed: Temporal dev server, PostgreSQL, both workers, the gateway. */
export interface Stack {
  baseUrl: string;
  temporal: Awaited<ReturnType<typeof startTemporal>>;
  /** With `tlsProxy`: the mTLS proxy the apps reach Temporal through (`temporal` stays the direct dev server). */
  tlsProxy?: TlsProxy;
  /** The workflow secret the workers check (the gateway sends tokens derived from it). */
  secret: string;
  mediaDir: string;
  databaseUrl: string;
  env: NodeJS.ProcessEnv;
  services: ServiceProcess[];
  /** Runs the gateway's command (`keys create ...`) against the stack's database; resolves with its output. */
  gatewayCli(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/**
 * `extraEnv` goes to every process; `serviceEnv` to one only, e.g. provider keys to the generation worker, as
 * docker-compose.prod.yml hands them out. `options.tlsProxy`: the apps reach Temporal only through an nginx proxy that
 * demands a client certificate (the public-Temporal overlay's), configured with its address and certificates.
 */
export async function startStack(
  name: string,
  extraEnv: Record<string, string> = {},
  serviceEnv: Partial<Record<'generation-worker' | 'media-worker' | 'gateway', Record<string, string>>> = {},
  options: { tlsProxy?: boolean } = {},
): Promise<Stack> {
  const [temporal, pg] = await Promise.all([startTemporal(), startPostgres()]);
  const tlsProxy = options.tlsProxy ? await startTlsProxy(temporal.address) : undefined;
  const temporalEnv = tlsProxy
    ? {
        TEMPORAL_ADDRESS: tlsProxy.address,
        TEMPORAL_TLS_CERT: tlsProxy.certs.clientCert,
        TEMPORAL_TLS_KEY: tlsProxy.certs.clientKey,
        TEMPORAL_TLS_CA: tlsProxy.certs.ca,
      }
    : { TEMPORAL_ADDRESS: temporal.address };
  const databaseUrl = await pg.createDatabase(name);
  const mediaDir = mkdtempSync(join(tmpdir(), 'gptmarket-media-'));
  const port = await freePort();
  const secret = randomBytes(24).toString('hex');
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    ...temporalEnv,
    WORKFLOW_SECRET_KEY: secret,
    DATABASE_URL: databaseUrl,
    LOCAL_STORAGE_DIR: mediaDir,
    GATEWAY_PUBLIC_URL: baseUrl,
    HOST: '127.0.0.1',
    PORT: String(port),
    ...extraEnv,
  };
  const services = (['generation-worker', 'media-worker', 'gateway'] as const).map((app) => spawnApp(app, { ...env, ...serviceEnv[app] }));
  const stop = async () => {
    await Promise.all(services.map((s) => s.stop()));
    await tlsProxy?.stop();
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
    await stop();
    throw err;
  }
  return {
    baseUrl,
    temporal,
    tlsProxy,
    secret,
    mediaDir,
    databaseUrl,
    env,
    services,
    async gatewayCli(args) {
      const { stdout } = await run(process.execPath, [...tsxNode(appEntry('gateway', 'cli.ts')), ...args], {
        cwd: repo,
        env,
        timeout: 60_000,
      });
      return stdout;
    },
    stop,
  };
}
