import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitFor } from './ports.js';
import { spawnService, type ServiceProcess } from './process.js';

const repo = resolve(import.meta.dirname, '../../..');
const run = promisify(execFile);

/** Debian's nginx (scripts/setup.sh installs it). */
function nginxPath(): string {
  for (const dir of ['/usr/sbin', ...(process.env.PATH ?? '').split(':')]) {
    if (dir && existsSync(join(dir, 'nginx'))) return join(dir, 'nginx');
  }
  throw new Error('nginx not found: run scripts/setup.sh first');
}

/** A CA, a server certificate for 127.0.0.1 and localhost, and a client certificate, all files in `dir`. */
export interface TestCertificates {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** Makes the certificates with the script operators use (infra/scripts/temporal-certs.sh). */
export async function makeTestCertificates(dir: string): Promise<TestCertificates> {
  const script = join(repo, 'infra/scripts/temporal-certs.sh');
  await run('bash', [script, 'server', dir, 'localhost', '127.0.0.1'], { timeout: 30_000 });
  await run('bash', [script, 'client', dir, 'client'], { timeout: 30_000 });
  const f = (name: string) => join(dir, name);
  return {
    dir,
    ca: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
  };
}

export interface TlsProxy {
  /** host:port clients connect to (TLS; a client certificate signed by `certs.ca` required). */
  address: string;
  certs: TestCertificates;
  process: ServiceProcess;
  stop(): Promise<void>;
}

/**
 * Runs nginx as the current user (one process, files in a temp directory, a free loopback port) as the
 * TLS-terminating gRPC proxy of the public-Temporal overlay, with the overlay's own server block
 * (infra/temporal-tls/temporal-grpc.conf.template), in front of `upstream` (host:port of a plaintext gRPC server).
 */
export async function startTlsProxy(upstream: string): Promise<TlsProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'gptmarket-tls-proxy-'));
  const certs = await makeTestCertificates(join(dir, 'certs'));
  const port = await freePort();
  const values: Record<string, string> = {
    TEMPORAL_PROXY_LISTEN: `127.0.0.1:${port}`,
    TEMPORAL_PROXY_TLS_DIR: certs.dir,
    TEMPORAL_UPSTREAM: upstream,
  };
  const server = readFileSync(join(repo, 'infra/temporal-tls/temporal-grpc.conf.template'), 'utf8').replace(
    /\$\{([A-Z_]+)\}/g,
    (whole, name: string) => values[name] ?? whole,
  );
  const temp = join(dir, 'temp');
  mkdirSync(temp);
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
master_process off;
pid ${join(dir, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
${server}
}
`,
  );
  const proc = spawnService('nginx', nginxPath(), ['-p', dir, '-c', conf, '-e', 'stderr'], { PATH: process.env.PATH }, dir);
  const stop = async () => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      'nginx to listen',
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`nginx exited: ${proc.output()}`);
        return existsSync(join(dir, 'nginx.pid'));
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { address: `127.0.0.1:${port}`, certs, process: proc, stop };
}
