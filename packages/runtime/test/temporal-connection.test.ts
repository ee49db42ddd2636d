import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { explainTemporalConnectError, temporalConnectionOptions, temporalEnvRule, temporalEnvShape } from '../src/index.js';

// The same rule as every process's env schema.
const schema = z.object(temporalEnvShape).superRefine(temporalEnvRule);
const dir = mkdtempSync(join(tmpdir(), 'temporal-connection-'));
execFileSync('bash', [resolve(import.meta.dirname, '../../../infra/scripts/temporal-certs.sh'), 'server', dir, 'localhost'], {
  stdio: 'ignore',
});
execFileSync('bash', [resolve(import.meta.dirname, '../../../infra/scripts/temporal-certs.sh'), 'client', dir, 'worker'], {
  stdio: 'ignore',
});
const file = (name: string) => join(dir, name);
const text = (name: string) => readFileSync(file(name), 'utf8');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every message of a failed parse, as `VARIABLE: message`. */
const issues = (env: Record<string, string>) => {
  const parsed = schema.safeParse(env);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('temporalConnectionOptions', () => {
  it('without TLS variables: the address only (TEMPORAL_ADDRESS, else TEMPORAL_HOST), plaintext as before', () => {
    expect(temporalConnectionOptions(schema.parse({}))).toEqual({ address: 'localhost:7233' });
    expect(temporalConnectionOptions(schema.parse({ TEMPORAL_HOST: 'temporal:7233' }))).toEqual({ address: 'temporal:7233' });
    expect(temporalConnectionOptions(schema.parse({ TEMPORAL_ADDRESS: 'a:1', TEMPORAL_HOST: 'b:2', TEMPORAL_TLS_CERT: ' ' }))).toEqual({
      address: 'a:1',
    });
  });

  it('mTLS from file paths: the client certificate pair, the CA and the name checked, read from the files', () => {
    const options = temporalConnectionOptions(
      schema.parse({
        TEMPORAL_ADDRESS: 'temporal.example:7233',
        TEMPORAL_TLS_CERT: file('worker.crt'),
        TEMPORAL_TLS_KEY: file('worker.key'),
        TEMPORAL_TLS_CA: file('ca.crt'),
        TEMPORAL_TLS_SERVER_NAME: 'localhost',
      }),
    );
    expect(options).toEqual({
      address: 'temporal.example:7233',
      tls: {
        serverNameOverride: 'localhost',
        serverRootCACertificate: Buffer.from(text('ca.crt')),
        clientCertPair: { crt: Buffer.from(text('worker.crt')), key: Buffer.from(text('worker.key')) },
      },
    });
  });

  it('mTLS from the PEM text itself, with real line breaks or with \\n escapes (one-line variables)', () => {
    const oneLine = (pem: string) => pem.trim().replaceAll('\n', '\\n');
    for (const form of [(pem: string) => pem, oneLine]) {
      const options = temporalConnectionOptions(
        schema.parse({ TEMPORAL_TLS_CERT: form(text('worker.crt')), TEMPORAL_TLS_KEY: form(text('worker.key')) }),
      );
      expect(options.tls?.clientCertPair?.crt.toString()).toBe(text('worker.crt').trim());
      expect(options.tls?.clientCertPair?.key.toString()).toBe(text('worker.key').trim());
      expect(options.tls?.serverRootCACertificate).toBeUndefined(); // the system's CAs
    }
  });

  it('a CA alone is TLS without a client certificate', () => {
    expect(temporalConnectionOptions(schema.parse({ TEMPORAL_TLS_CA: file('ca.crt') }))).toEqual({
      address: 'localhost:7233',
      tls: { serverRootCACertificate: Buffer.from(text('ca.crt')) },
    });
  });

  it('a Temporal Cloud API key implies TLS (system CAs) and goes to the SDK as apiKey (its bearer Authorization header)', () => {
    const options = temporalConnectionOptions(
      schema.parse({ TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233', TEMPORAL_NAMESPACE: 'ns.acct', TEMPORAL_API_KEY: 'k-123' }),
    );
    expect(options).toEqual({ address: 'us-east-1.aws.api.temporal.io:7233', tls: {}, apiKey: 'k-123' });
    expect(issues({ TEMPORAL_API_KEY: 'changethis' })).toEqual(['TEMPORAL_API_KEY: still has the placeholder value "changethis"']);
  });
});

describe('bad TLS variables are start-up errors naming the variable, never showing key material', () => {
  it('a certificate without its key, or a key without its certificate', () => {
    expect(issues({ TEMPORAL_TLS_CERT: file('worker.crt') })).toEqual([
      'TEMPORAL_TLS_KEY: set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY together (the client certificate and its private key), or neither',
    ]);
    expect(issues({ TEMPORAL_TLS_KEY: text('worker.key') })).toEqual([
      'TEMPORAL_TLS_CERT: set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY together (the client certificate and its private key), or neither',
    ]);
  });

  it('an unreadable file', () => {
    const missing = join(dir, 'nope.pem');
    expect(issues({ TEMPORAL_TLS_CA: missing })).toEqual([
      `TEMPORAL_TLS_CA: cannot read the file ${missing} (ENOENT); give a PEM or the path of a readable PEM file`,
    ]);
    expect(issues({ TEMPORAL_TLS_CA: dir })[0]).toMatch(/^TEMPORAL_TLS_CA: cannot read the file .* \(EISDIR\)/);
  });

  it('a value or a file that holds no PEM of the right kind (a key where the certificate goes, garbage, a truncated PEM)', () => {
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    const key = text('worker.key');
    const out = [
      ...issues({ TEMPORAL_TLS_CERT: key, TEMPORAL_TLS_KEY: key }),
      ...issues({ TEMPORAL_TLS_CA: notPem }),
      ...issues({ TEMPORAL_TLS_CERT: text('worker.crt'), TEMPORAL_TLS_KEY: key.slice(0, 60) }),
      ...issues({ TEMPORAL_TLS_CERT: file('worker.crt'), TEMPORAL_TLS_KEY: file('worker.crt') }),
    ];
    expect(out).toEqual([
      'TEMPORAL_TLS_CERT: the value holds no PEM certificate (-----BEGIN ...CERTIFICATE-----)',
      `TEMPORAL_TLS_CA: the file ${notPem} holds no PEM certificate (-----BEGIN ...CERTIFICATE-----)`,
      'TEMPORAL_TLS_KEY: the value holds no PEM private key (-----BEGIN ...PRIVATE KEY-----)',
      `TEMPORAL_TLS_KEY: the file ${file('worker.crt')} holds no PEM private key (-----BEGIN ...PRIVATE KEY-----)`,
    ]);
    const body = key.split('\n')[1]!;
    expect(out.join('\n')).not.toContain(body);
  });
});

describe('explainTemporalConnectError', () => {
  // Messages as the SDKs raised them against nginx with ssl_verify_client on (apps/gateway/test/temporal-tls.test.ts
  // runs the refusals for real); the certificate-check ones are the worker's (Rust core) own.
  const mtls = temporalConnectionOptions(
    schema.parse({ TEMPORAL_ADDRESS: 't:7233', TEMPORAL_TLS_CERT: file('worker.crt'), TEMPORAL_TLS_KEY: file('worker.key') }),
  );
  const caOnly = temporalConnectionOptions(schema.parse({ TEMPORAL_ADDRESS: 't:7233', TEMPORAL_TLS_CA: file('ca.crt') }));
  const plain = temporalConnectionOptions(schema.parse({ TEMPORAL_ADDRESS: 't:7233' }));

  it('names the variable to set for each refusal', () => {
    const unauthenticated = new Error('Failed to connect to Temporal server', {
      cause: new Error("16 UNAUTHENTICATED: a client certificate signed by this server's CA is required"),
    });
    expect(explainTemporalConnectError(unauthenticated, caOnly)).toMatch(
      /^Temporal at t:7233 refused the connection: it requires a client certificate; set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY \(Failed to connect to Temporal server: 16 UNAUTHENTICATED/,
    );
    expect(explainTemporalConnectError(unauthenticated, mtls)).toMatch(
      /^Temporal at t:7233 refused the client certificate: check that TEMPORAL_TLS_CERT/,
    );
    const unknownIssuer = new Error(
      'tonic::transport::Error(Transport, ConnectError(Custom { kind: InvalidData, error: InvalidCertificate(UnknownIssuer) }))',
    );
    expect(explainTemporalConnectError(unknownIssuer, mtls)).toMatch(
      /^Temporal at t:7233 presented a certificate no trusted CA signed: set TEMPORAL_TLS_CA/,
    );
    const wrongName = new Error('InvalidCertificate(NotValidForNameContext { expected: DnsName("other.example") })');
    expect(explainTemporalConnectError(wrongName, mtls)).toMatch(/set TEMPORAL_TLS_SERVER_NAME to a name the certificate holds/);
    const h2 = new Error('Failed to call GetSystemInfo: h2 protocol error: http2 error');
    expect(explainTemporalConnectError(h2, plain)).toMatch(
      /^could not connect to Temporal at t:7233 without TLS; if it requires TLS \(a TLS proxy, mTLS or Temporal Cloud\), set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY or TEMPORAL_API_KEY \(Failed to call GetSystemInfo/,
    );
    expect(explainTemporalConnectError(new Error('Failed to connect before the deadline'), mtls)).toBe(
      'could not connect to Temporal at t:7233 over TLS with a client certificate (Failed to connect before the deadline)',
    );
  });
});
