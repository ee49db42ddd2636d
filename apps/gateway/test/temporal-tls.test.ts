import { readFileSync } from 'node:fs';
import { createSecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '@temporalio/client';
import type { Generation } from '@gptmarket/contracts';
import { temporalConnectionOptions, temporalEnvShape } from '@gptmarket/runtime';
import { spawnService } from '@gptmarket/testkit';
import { createWorker } from '@gptmarket/worker-runtime';
import { z } from 'zod';
import { TemporalGateway } from '../src/index.js';
import { isUnavailable } from '../src/services/temporal.js';
import { api, startStack, waitForStatus, type Stack } from './helpers.js';

/**
 * Temporal beyond one machine: the apps reach Temporal only through the public-Temporal overlay's nginx
 * (infra/temporal-tls/temporal-grpc.conf.template), which terminates TLS and demands a client certificate.
 */
let stack: Stack;
const repo = resolve(import.meta.dirname, '../../..');
const temporalEnv = z.object(temporalEnvShape);

beforeAll(async () => {
  stack = await startStack('gateway_tls', { RATE_LIMIT_ANON_MAX: '100000' }, {}, { tlsProxy: true });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

/** Starts the media worker (the quickest app to start) with `env` and resolves with its exit code and output. */
async function mediaWorkerRun(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const proc = spawnService(
    'media-worker',
    process.execPath,
    ['--import', 'tsx', '--conditions=@gptmarket/source', join(repo, 'apps/media-worker/src/main.ts')],
    { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', LOCAL_STORAGE_DIR: stack.mediaDir, ...env },
    repo,
  );
  const code = await new Promise<number | null>((done) => {
    const timer = setTimeout(() => void proc.stop().then(done), 60_000);
    proc.child.on('exit', (c) => {
      clearTimeout(timer);
      done(c);
    });
  });
  return { code, output: proc.output() };
}

describe('Temporal behind a TLS proxy that demands a client certificate', () => {
  it('the apps, given only the proxy address and certificates, run a Ruby generation to completion', async () => {
    const proxy = stack.tlsProxy!;
    // Every app's environment: the proxy's address, the client certificate pair and the CA; never the dev server's.
    expect(stack.env).toMatchObject({
      TEMPORAL_ADDRESS: proxy.address,
      TEMPORAL_TLS_CERT: proxy.certs.clientCert,
      TEMPORAL_TLS_KEY: proxy.certs.clientKey,
      TEMPORAL_TLS_CA: proxy.certs.ca,
    });
    expect(JSON.stringify(stack.env)).not.toContain(stack.temporal.address);
    const created = await api(stack, 'POST', '/v1/generations', { type: 'ruby', input: { emotion: 'happy' } });
    expect(created.status, created.text).toBe(202);
    const done: Generation = await waitForStatus(stack, created.json.id, ['completed', 'failed', 'cancelled'], 150_000);
    expect(done.status, JSON.stringify(done.error)).toBe('completed');
    expect((done.output as Record<string, string>).final_video_url).toMatch(/\/media\/ruby\/videos\//);

    // The gateway's readiness reads Temporal and the workers' pollers through the proxy too.
    const ready = await api(stack, 'GET', '/ready');
    expect(ready.json.checks.temporal).toBe('ok');
    expect(ready.json.workers.generation).toBeGreaterThan(0);
    expect(ready.json.workers.media).toBeGreaterThan(0);
    // Key material never reaches the logs.
    const key = readFileSync(proxy.certs.clientKey, 'utf8').split('\n')[1]!;
    for (const s of stack.services) expect(s.output()).not.toContain(key);
  }, 200_000);

  it('refuses a client without a certificate, and the SDK says why', async () => {
    const { address, certs } = stack.tlsProxy!;
    const attempt = Connection.connect({ address, connectTimeout: '5s', tls: { serverRootCACertificate: readFileSync(certs.ca) } });
    await expect(attempt).rejects.toMatchObject({ cause: expect.objectContaining({ code: 16 }) }); // UNAUTHENTICATED
    await expect(Connection.connect({ address, connectTimeout: '3s' })).rejects.toThrow();
  });

  it('a worker without a certificate stops with a plain reason: the server requires one (and which variables to set)', async () => {
    const { address, certs } = stack.tlsProxy!;
    const noCert = await mediaWorkerRun({ TEMPORAL_ADDRESS: address, TEMPORAL_TLS_CA: certs.ca });
    expect(noCert.code).toBe(1);
    expect(noCert.output).toContain(
      `Temporal at ${address} refused the connection: it requires a client certificate; set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY`,
    );

    const plaintext = await mediaWorkerRun({ TEMPORAL_ADDRESS: address });
    expect(plaintext.code).toBe(1);
    expect(plaintext.output).toContain(`could not connect to Temporal at ${address} without TLS; if it requires TLS`);
  }, 130_000);

  it("the gateway's client without a certificate fails with the reason, counted as unavailable (requests answer 503)", async () => {
    const { address, certs } = stack.tlsProxy!;
    const options = temporalConnectionOptions(temporalEnv.parse({ TEMPORAL_ADDRESS: address, TEMPORAL_TLS_CA: certs.ca }));
    const gateway = new TemporalGateway({ ...options, namespace: 'default' });
    const err = await gateway.get().then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/refused the connection: it requires a client certificate; set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY/);
    expect(isUnavailable(err)).toBe(true); // requests answer 503 "the workflow service is unreachable"
    await gateway.close();
  });

  it('a certificate without its key is a start-up configuration error naming the variable', async () => {
    const { certs } = stack.tlsProxy!;
    const run = await mediaWorkerRun({ TEMPORAL_ADDRESS: stack.tlsProxy!.address, TEMPORAL_TLS_CERT: certs.clientCert });
    expect(run.code).toBe(78);
    expect(run.output).toMatch(
      /media-worker: invalid environment:\n\s+- TEMPORAL_TLS_KEY: set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY together/,
    );
  }, 70_000);

  it('an API key goes over TLS as a bearer Authorization header, from the gateway and from a worker', async () => {
    const { certs } = stack.tlsProxy!;
    // A TLS gRPC endpoint that records what arrives and refuses it, as Temporal Cloud refuses an unknown key.
    const seen: { authorization?: string | string[]; tls: boolean }[] = [];
    const server = createSecureServer({ cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey) });
    server.on('stream', (stream, headers) => {
      seen.push({ authorization: headers.authorization, tls: Boolean((stream.session?.socket as { encrypted?: boolean }).encrypted) });
      // A trailers-only gRPC answer, as a gRPC server sends a refusal.
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'invalid API key' },
        { endStream: true },
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      const env = temporalEnv.parse({ TEMPORAL_ADDRESS: address, TEMPORAL_API_KEY: 'tk-test-key', TEMPORAL_TLS_CA: certs.ca });
      const options = temporalConnectionOptions(env);
      expect(options).toMatchObject({ address, apiKey: 'tk-test-key', tls: { serverRootCACertificate: expect.any(Buffer) } });

      const gateway = new TemporalGateway({ ...options, namespace: 'default' });
      await expect(gateway.get()).rejects.toThrow(/refused the API key \(TEMPORAL_API_KEY\)/);
      await gateway.close();
      await expect(createWorker(env, { taskQueue: 'tls-test-queue', activities: {} })).rejects.toThrow(
        /refused the API key \(TEMPORAL_API_KEY\)/,
      );
      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(seen.every((r) => r.tls && r.authorization === 'Bearer tk-test-key')).toBe(true);
    } finally {
      server.close();
    }
  }, 60_000);
});
