import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { optionalString, secretString, stringWithDefault } from './env.js';

/**
 * A certificate or private key: the PEM text itself (it starts with `-----BEGIN`; `\n` escapes count as line breaks,
 * for platforms that keep variables on one line) or the path of a file holding it. Parses to the PEM text; a file
 * that cannot be read or a value that is no PEM of that kind is an error naming the variable (never its value).
 */
const pem = (label: 'CERTIFICATE' | 'PRIVATE KEY') =>
  optionalString().transform((value, ctx) => {
    if (value === undefined) return undefined;
    let text = value;
    if (value.startsWith('-----BEGIN')) {
      if (!value.includes('\n')) text = value.replaceAll('\\n', '\n');
    } else {
      try {
        text = readFileSync(value, 'utf8');
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          message: `cannot read the file ${value} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'}); give a PEM or the path of a readable PEM file`,
        });
        return z.NEVER;
      }
    }
    const block = new RegExp(`-----BEGIN ([A-Z0-9 ]*${label})-----[\\s\\S]+?-----END \\1-----`);
    if (!block.test(text)) {
      const where = text === value ? 'the value' : `the file ${value}`;
      ctx.addIssue({ code: 'custom', message: `${where} holds no PEM ${label.toLowerCase()} (-----BEGIN ...${label}-----)` });
      return z.NEVER;
    }
    return text;
  });

/** Temporal connection variables shared by the gateway and both workers (no Temporal code here). */
export const temporalEnvShape = {
  /** Temporal frontend host:port; TEMPORAL_HOST is the Python system's name for the same thing. */
  TEMPORAL_ADDRESS: optionalString(),
  TEMPORAL_HOST: stringWithDefault('localhost:7233'),
  TEMPORAL_NAMESPACE: stringWithDefault('default'),
  /** mTLS client certificate and its key (both or neither), each a PEM or a file path. */
  TEMPORAL_TLS_CERT: pem('CERTIFICATE'),
  TEMPORAL_TLS_KEY: pem('PRIVATE KEY'),
  /** CA that signed the server's certificate, when the system's CAs do not (a PEM or a file path). */
  TEMPORAL_TLS_CA: pem('CERTIFICATE'),
  /** Name checked against the server's certificate, when it differs from the address's host. */
  TEMPORAL_TLS_SERVER_NAME: optionalString(),
  /** Temporal Cloud API key (sent as a bearer token; implies TLS). */
  TEMPORAL_API_KEY: secretString(),
};

export type TemporalEnv = {
  [K in keyof typeof temporalEnvShape]: z.output<(typeof temporalEnvShape)[K]>;
};

/**
 * The rule across the variables, for each process's env loader (`schema.superRefine(temporalEnvRule)`): a client
 * certificate comes with its key.
 */
export function temporalEnvRule(env: Partial<TemporalEnv>, ctx: z.RefinementCtx): void {
  if (Boolean(env.TEMPORAL_TLS_CERT) !== Boolean(env.TEMPORAL_TLS_KEY)) {
    const missing = env.TEMPORAL_TLS_CERT ? 'TEMPORAL_TLS_KEY' : 'TEMPORAL_TLS_CERT';
    ctx.addIssue({
      code: 'custom',
      path: [missing],
      message: 'set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY together (the client certificate and its private key), or neither',
    });
  }
}

export const temporalAddress = (env: { TEMPORAL_ADDRESS?: string | undefined; TEMPORAL_HOST: string }): string =>
  env.TEMPORAL_ADDRESS ?? env.TEMPORAL_HOST;

/**
 * What `Connection.connect` (client) and `NativeConnection.connect` (worker) take: the address, TLS when any TLS
 * variable or an API key is set (the CA, the name checked, the client certificate pair), and the API key.
 */
export interface TemporalConnectionOptions {
  address: string;
  tls?: {
    serverNameOverride?: string;
    serverRootCACertificate?: Buffer;
    clientCertPair?: { crt: Buffer; key: Buffer };
  };
  apiKey?: string;
}

/** Turns a process's parsed env into the options every connection to Temporal uses. */
export function temporalConnectionOptions(env: TemporalEnv): TemporalConnectionOptions {
  const options: TemporalConnectionOptions = { address: temporalAddress(env) };
  const { TEMPORAL_TLS_CERT: crt, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_CA: ca, TEMPORAL_TLS_SERVER_NAME: name } = env;
  if (crt || key || ca || name || env.TEMPORAL_API_KEY) {
    options.tls = {};
    if (name) options.tls.serverNameOverride = name;
    if (ca) options.tls.serverRootCACertificate = Buffer.from(ca);
    if (crt && key) options.tls.clientCertPair = { crt: Buffer.from(crt), key: Buffer.from(key) };
  }
  if (env.TEMPORAL_API_KEY) options.apiKey = env.TEMPORAL_API_KEY;
  return options;
}

/**
 * A failed connection to Temporal, explained for the operator: what was refused and which variable to set. The
 * SDKs' own messages (gRPC and TLS library internals) follow in parentheses; they never hold key material.
 */
export function explainTemporalConnectError(err: unknown, options: TemporalConnectionOptions): string {
  const e = err as { message?: string; cause?: unknown } | undefined;
  const detail = [e?.message ?? String(err), e?.cause ? String((e.cause as Error).message ?? e.cause) : ''].filter(Boolean).join(': ');
  const where = `Temporal at ${options.address}`;
  const how = options.tls
    ? `over TLS${options.tls.clientCertPair ? ' with a client certificate' : ' without a client certificate'}${options.apiKey ? ' and an API key' : ''}`
    : 'without TLS';
  let plain: string;
  if (/UNAUTHENTICATED|authentication credentials|certificate.?required|status(?: code)?:? 40[01]\b/i.test(detail)) {
    plain = options.tls?.clientCertPair
      ? `${where} refused the client certificate: check that TEMPORAL_TLS_CERT is signed by the CA the server trusts and still valid${options.apiKey ? ', and that TEMPORAL_API_KEY is current' : ''}`
      : options.apiKey
        ? `${where} refused the API key (TEMPORAL_API_KEY), or requires a client certificate (TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY)`
        : `${where} refused the connection: it requires a client certificate; set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY`;
  } else if (/UnknownIssuer|unable to get (local )?issuer|self.signed|unknown ca/i.test(detail)) {
    plain = `${where} presented a certificate no trusted CA signed: set TEMPORAL_TLS_CA to the CA that signed it`;
  } else if (/NotValidForName|altnames|does not match|hostname/i.test(detail)) {
    plain = `${where} presented a certificate for another name: set TEMPORAL_TLS_SERVER_NAME to a name the certificate holds`;
  } else if (!options.tls) {
    plain = `could not connect to ${where} without TLS; if it requires TLS (a TLS proxy, mTLS or Temporal Cloud), set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY or TEMPORAL_API_KEY`;
  } else {
    plain = `could not connect to ${where} ${how}`;
  }
  return `${plain} (${detail})`;
}
