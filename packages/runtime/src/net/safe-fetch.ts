/**
 * Outbound HTTP(S) for URLs we did not choose (user-supplied reference media, provider callbacks,
 * result downloads) that cannot be pointed at our own network.
 *
 * - The address check runs on the address the socket actually connects to: `http.request` gets a
 *   `lookup` hook that resolves the name once, refuses the whole answer if any address is not
 *   permitted, and hands exactly the vetted addresses to the socket. There is no second lookup
 *   for DNS rebinding to exploit. IP-literal hosts are checked before any socket exists.
 * - No connection pooling (`agent: false`): a socket vetted under one policy is never reused
 *   under another.
 * - Redirects are followed by hand and every hop is checked again.
 * - Errors are `OutboundRequestError`s whose messages name the host only (never path, query
 *   string or response body). A name that resolves to a private address and a name that does not
 *   exist get the same message and the same (non-retryable) error, so a refusal cannot be used to
 *   learn which internal names exist; the code and the refused address are for logs only.
 */
import { randomBytes } from 'node:crypto';
import { promises as dnsPromises, type LookupAddress, type LookupOptions } from 'node:dns';
import { createWriteStream, promises as fsp } from 'node:fs';
import http, { type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isAddressPermitted, isHostAllowed, looksNumericHost, parseHostLiteral, type OutboundPolicy } from './address-policy.js';

export type OutboundErrorCode =
  | 'blocked_address'
  | 'unresolvable'
  | 'bad_url'
  | 'too_many_redirects'
  | 'timeout'
  | 'too_large'
  | 'http_error'
  | 'network'
  | 'bad_content_type';

export class OutboundRequestError extends Error {
  override readonly name = 'OutboundRequestError';
  readonly code: OutboundErrorCode;
  /** Worth retrying later: network, timeout, HTTP 5xx and 429. */
  readonly retryable: boolean;
  /** HTTP status for `http_error`. */
  readonly status: number | undefined;
  /** `host[:port]` of the URL concerned, when known. */
  readonly host: string | undefined;
  /** For `blocked_address`: the refused address (kept out of the message on purpose). */
  readonly address: string | undefined;

  constructor(
    code: OutboundErrorCode,
    message: string,
    details: { status?: number; host?: string; address?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = details.status;
    this.host = details.host;
    this.address = details.address;
    this.retryable =
      code === 'network' ||
      code === 'timeout' ||
      (code === 'http_error' && details.status !== undefined && (details.status >= 500 || details.status === 429));
  }

  /**
   * The code to show outside this process (failure details end up in workflow histories that callers read): a
   * name that resolves to a private address and a name that does not resolve are both `refused_host`, so an
   * answer never reveals which internal names exist. Logs keep `code`.
   */
  get publicCode(): string {
    return this.code === 'blocked_address' || this.code === 'unresolvable' ? 'refused_host' : this.code;
  }
}

/** Resolve a host name to every address (like `dns.lookup(host, { all: true })`). */
export type LookupImpl = (hostname: string) => Promise<LookupAddress[]>;

export type HttpMethod = 'GET' | 'POST' | 'HEAD';

export type SafeRequestOptions = {
  policy: OutboundPolicy;
  method?: HttpMethod;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Deadline for the whole request: DNS, connect, redirects, headers AND reading the body. */
  timeoutMs?: number;
  /** Redirects to follow before failing with `too_many_redirects` (default 5). */
  maxRedirects?: number;
  /** Aborting rejects / destroys the body with `signal.reason`. */
  signal?: AbortSignal;
  /** Resolver override (tests, caching resolvers). Defaults to `dns.promises.lookup(h, { all: true })`. */
  lookupImpl?: LookupImpl;
};

export type SafeResponse = {
  status: number;
  headers: IncomingHttpHeaders;
  /** URL of the last hop (after redirects). */
  url: string;
  /** The response body. Consume or destroy it; the request deadline keeps running until it ends. */
  body: Readable;
};

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const CROSS_ORIGIN_STRIPPED = ['authorization', 'cookie', 'proxy-authorization'];
const DEFAULT_MAX_REDIRECTS = 5;
const DEFAULT_JSON_MAX_BYTES = 1024 * 1024;

const defaultLookup: LookupImpl = (hostname) => dnsPromises.lookup(hostname, { all: true });

/** Host and port for messages: `example.com`, `example.com:8080`. Never path or query. */
function hostLabel(url: URL): string {
  return url.host;
}

function defaultPort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** Parse and check scheme / credentials; `base` resolves relative redirect targets. */
function parseTargetUrl(raw: string, base?: URL): URL {
  let url: URL;
  try {
    url = base ? new URL(raw, base) : new URL(raw);
  } catch {
    throw new OutboundRequestError('bad_url', base ? `invalid redirect location from ${hostLabel(base)}` : 'invalid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OutboundRequestError('bad_url', `unsupported URL scheme ${url.protocol}`, { host: url.host || undefined });
  }
  if (url.username !== '' || url.password !== '') {
    throw new OutboundRequestError('bad_url', `credentials in URL are not allowed (${hostLabel(url)})`, {
      host: hostLabel(url),
    });
  }
  if (url.hostname === '') throw new OutboundRequestError('bad_url', 'URL has no host');
  return url;
}

function blocked(host: string, address: string): OutboundRequestError {
  return new OutboundRequestError('blocked_address', `refusing to connect to ${host}: address is not public`, {
    host,
    address,
  });
}

/** What a user hears about a host name that resolves privately or not at all: the same words for both. */
const nameRefused = (label: string) => `refusing to connect to ${label}: its address is not public, or it does not resolve`;

/** DNS answers that mean "no such name" (as opposed to a resolver that is down or slow). */
const NO_SUCH_NAME = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME', 'EAI_NODATA']);

/**
 * The `lookup` hook handed to `http.request`: resolve once, vet every answer, return only what
 * was vetted. `allowed` is true when `allowHosts` opens this host, which skips the vetting.
 */
export function createGuardedLookup(
  policy: OutboundPolicy,
  label: string,
  allowed: boolean,
  lookupImpl: LookupImpl = defaultLookup,
): LookupFunction {
  return (hostname: string, options: LookupOptions, callback) => {
    lookupImpl(hostname).then(
      (answers) => {
        const family = options.family === 4 || options.family === 6 ? options.family : 0;
        const usable = answers.filter((a) => isIP(a.address) !== 0 && (family === 0 || isIP(a.address) === family));
        if (usable.length === 0) {
          callback(new OutboundRequestError('unresolvable', nameRefused(label), { host: label }), []);
          return;
        }
        if (!allowed) {
          const bad = answers.find((a) => !isAddressPermitted(policy, a.address));
          if (bad) {
            callback(new OutboundRequestError('blocked_address', nameRefused(label), { host: label, address: bad.address }), []);
            return;
          }
        }
        const vetted = usable.map((a) => ({ address: a.address, family: isIP(a.address) }));
        const first = vetted[0];
        if (options.all) callback(null, vetted);
        else if (first) callback(null, first.address, first.family);
      },
      (err: unknown) => {
        const code = (err as { code?: unknown } | null)?.code;
        if (typeof code === 'string' && NO_SUCH_NAME.has(code)) {
          callback(new OutboundRequestError('unresolvable', nameRefused(label), { host: label, cause: err }), []);
          return;
        }
        callback(
          new OutboundRequestError('network', `could not resolve ${label}${typeof code === 'string' ? ` (${code})` : ''}`, {
            host: label,
            cause: err,
          }),
          [],
        );
      },
    );
  };
}

/** Map anything thrown by the transport to an `OutboundRequestError` (abort reasons pass through). */
function toOutboundError(err: unknown, label: string, signal?: AbortSignal): unknown {
  if (err instanceof OutboundRequestError) return err;
  if (signal?.aborted && err === signal.reason) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const suffix = typeof code === 'string' ? ` (${code})` : '';
  return new OutboundRequestError('network', `network error talking to ${label}${suffix}`, { host: label, cause: err });
}

function lowerCaseHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) out[k.toLowerCase()] = v;
  return out;
}

type Hop = {
  url: URL;
  method: HttpMethod;
  headers: Record<string, string>;
  body: Buffer | undefined;
};

/**
 * Make a request, following redirects by hand, with every hop checked against `opts.policy`.
 * Non-2xx responses are returned, not thrown; see `downloadToFile` / `fetchJson` for helpers that
 * judge the status.
 */
export function safeRequest(url: string, opts: SafeRequestOptions): Promise<SafeResponse> {
  const signal = opts.signal;
  if (signal?.aborted) return Promise.reject(signal.reason);
  let first: URL;
  try {
    first = parseTargetUrl(url);
  } catch (err) {
    return Promise.reject(err);
  }
  const maxRedirects = opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const lookupImpl = opts.lookupImpl ?? defaultLookup;

  // Whatever is in flight right now; the deadline and the abort signal destroy it.
  let activeReq: ClientRequest | undefined;
  let activeRes: IncomingMessage | undefined;
  let failure: unknown;
  let currentLabel = hostLabel(first);
  let timer: NodeJS.Timeout | undefined;

  const fail = (err: unknown): void => {
    if (failure !== undefined) return;
    failure = err;
    activeRes?.destroy(err as Error);
    activeReq?.destroy(err as Error);
  };
  const onAbort = (): void => fail(signal?.reason);
  const cleanup = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  };
  if (opts.timeoutMs !== undefined) {
    timer = setTimeout(
      () =>
        fail(
          new OutboundRequestError('timeout', `request to ${currentLabel} timed out after ${opts.timeoutMs} ms`, { host: currentLabel }),
        ),
      opts.timeoutMs,
    );
  }
  signal?.addEventListener('abort', onAbort, { once: true });

  const sendHop = (hop: Hop): Promise<IncomingMessage> =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const label = hostLabel(hop.url);
      const port = defaultPort(hop.url);
      const allowed = isHostAllowed(opts.policy, hop.url.hostname, port);
      const bare = hop.url.hostname.startsWith('[') ? hop.url.hostname.slice(1, -1) : hop.url.hostname;
      const literal = parseHostLiteral(bare);
      if (literal === null && looksNumericHost(bare)) {
        reject(new OutboundRequestError('bad_url', `malformed numeric host ${label}`, { host: label }));
        return;
      }
      if (literal !== null && !allowed && !isAddressPermitted(opts.policy, literal)) {
        reject(blocked(label, literal));
        return;
      }
      const transport = hop.url.protocol === 'https:' ? https : http;
      const headers: Record<string, string> = { ...hop.headers };
      if (hop.body !== undefined) headers['content-length'] = String(hop.body.length);
      const req = transport.request({
        protocol: hop.url.protocol,
        host: literal ?? bare,
        port,
        method: hop.method,
        path: `${hop.url.pathname}${hop.url.search}`,
        headers,
        agent: false,
        // Only consulted for names: net connects to IP literals without a lookup.
        lookup: createGuardedLookup(opts.policy, label, allowed, lookupImpl),
        ...(hop.url.protocol === 'https:' && literal === null ? { servername: bare } : {}),
      });
      activeReq = req;
      // Stays attached for the life of the request so late socket errors are never unhandled.
      req.on('error', (err) => reject(failure !== undefined ? toOutboundError(failure, label, signal) : toOutboundError(err, label)));
      req.on('response', resolve);
      if (failure !== undefined) {
        req.destroy(failure as Error);
        return;
      }
      req.end(hop.body);
    });

  const run = async (): Promise<SafeResponse> => {
    let hop: Hop = {
      url: first,
      method: opts.method ?? 'GET',
      headers: lowerCaseHeaders(opts.headers),
      body: opts.body === undefined ? undefined : Buffer.from(opts.body),
    };
    for (let redirects = 0; ; redirects++) {
      if (failure !== undefined) throw failure;
      currentLabel = hostLabel(hop.url);
      const res = await sendHop(hop);
      activeRes = res;
      res.on('error', () => {}); // consumers attach their own; this only prevents a crash
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (!REDIRECT_STATUSES.has(status) || location === undefined) {
        res.once('close', cleanup);
        if (failure !== undefined) {
          res.destroy(failure as Error);
          throw failure;
        }
        return { status, headers: res.headers, url: hop.url.toString(), body: res };
      }
      res.destroy(); // do not download redirect bodies
      activeRes = undefined;
      if (redirects >= maxRedirects) {
        throw new OutboundRequestError('too_many_redirects', `more than ${maxRedirects} redirects starting at ${hostLabel(first)}`, {
          host: hostLabel(first),
        });
      }
      const next = parseTargetUrl(location, hop.url);
      const headers = { ...hop.headers };
      if (next.origin !== hop.url.origin) for (const h of CROSS_ORIGIN_STRIPPED) delete headers[h];
      let method = hop.method;
      let body = hop.body;
      if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        delete headers['content-type'];
        delete headers['content-length'];
      }
      hop = { url: next, method, headers, body };
    }
  };

  return run().catch((err: unknown) => {
    cleanup();
    activeReq?.destroy();
    throw err;
  });
}

function mediaType(contentType: string | undefined): string | null {
  if (contentType === undefined) return null;
  const type = contentType.split(';')[0]?.trim().toLowerCase();
  return type === undefined || type === '' ? null : type;
}

function declaredLength(headers: IncomingHttpHeaders): number | null {
  const raw = headers['content-length'];
  if (raw === undefined || !/^\d+$/.test(raw)) return null;
  return Number(raw);
}

function httpError(res: SafeResponse, label: string): OutboundRequestError {
  return new OutboundRequestError('http_error', `HTTP ${res.status} from ${label}`, { status: res.status, host: label });
}

function tooLarge(label: string, maxBytes: number): OutboundRequestError {
  return new OutboundRequestError('too_large', `response from ${label} exceeds ${maxBytes} bytes`, { host: label });
}

export type DownloadOptions = {
  policy: OutboundPolicy;
  maxBytes: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Accepted media-type prefixes, e.g. `['video/', 'image/png']`; a missing Content-Type then fails. */
  expectedContentTypes?: string[];
  headers?: Record<string, string>;
  maxRedirects?: number;
  lookupImpl?: LookupImpl;
};

export type DownloadResult = {
  path: string;
  bytes: number;
  contentType: string | null;
  finalUrl: string;
};

/**
 * Stream a URL to `destPath` (via a temporary file in the same directory, renamed at the end, so
 * `destPath` never holds a partial download). Fails with `too_large` past `maxBytes`, with
 * `http_error` on non-2xx, with `bad_content_type` when `expectedContentTypes` does not match,
 * and with `timeout` when the whole download takes longer than `timeoutMs`.
 */
export async function downloadToFile(url: string, destPath: string, opts: DownloadOptions): Promise<DownloadResult> {
  const res = await safeRequest(url, {
    policy: opts.policy,
    method: 'GET',
    timeoutMs: opts.timeoutMs,
    ...(opts.headers ? { headers: opts.headers } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.maxRedirects !== undefined ? { maxRedirects: opts.maxRedirects } : {}),
    ...(opts.lookupImpl ? { lookupImpl: opts.lookupImpl } : {}),
  });
  const label = hostLabel(new URL(res.url));
  const contentType = res.headers['content-type'] ?? null;
  const tmpPath = join(dirname(destPath), `.${basename(destPath)}.${randomBytes(6).toString('hex')}.part`);
  let bytes = 0;
  try {
    if (res.status < 200 || res.status > 299) throw httpError(res, label);
    if (opts.expectedContentTypes !== undefined) {
      const type = mediaType(contentType ?? undefined);
      const ok = type !== null && opts.expectedContentTypes.some((p) => type.startsWith(p.toLowerCase()));
      if (!ok) {
        throw new OutboundRequestError('bad_content_type', `unexpected content type ${type ?? '(none)'} from ${label}`, {
          host: label,
        });
      }
    }
    const length = declaredLength(res.headers);
    if (length !== null && length > opts.maxBytes) throw tooLarge(label, opts.maxBytes);
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        if (bytes > opts.maxBytes) callback(tooLarge(label, opts.maxBytes));
        else callback(null, chunk);
      },
    });
    await pipeline(res.body, counter, createWriteStream(tmpPath, { flags: 'wx', mode: 0o600 }));
    await fsp.rename(tmpPath, destPath);
  } catch (err) {
    res.body.destroy();
    await fsp.rm(tmpPath, { force: true }).catch(() => {});
    throw toOutboundError(err, label, opts.signal);
  }
  return { path: destPath, bytes, contentType, finalUrl: res.url };
}

export type FetchJsonOptions = SafeRequestOptions & {
  /** Body size cap (default 1 MiB). */
  maxBytes?: number;
};

/** `safeRequest` + a size-capped body read + `JSON.parse`. Non-2xx fails with `http_error`. */
export async function fetchJson<T = unknown>(url: string, opts: FetchJsonOptions): Promise<T> {
  const maxBytes = opts.maxBytes ?? DEFAULT_JSON_MAX_BYTES;
  const headers = { accept: 'application/json', ...lowerCaseHeaders(opts.headers) };
  const res = await safeRequest(url, { ...opts, headers });
  const label = hostLabel(new URL(res.url));
  const chunks: Buffer[] = [];
  try {
    if (res.status < 200 || res.status > 299) throw httpError(res, label);
    const length = declaredLength(res.headers);
    if (length !== null && length > maxBytes) throw tooLarge(label, maxBytes);
    let total = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) throw tooLarge(label, maxBytes);
      chunks.push(chunk);
    }
  } catch (err) {
    res.body.destroy();
    throw toOutboundError(err, label, opts.signal);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
  } catch {
    throw new OutboundRequestError('bad_content_type', `response from ${label} is not valid JSON`, { host: label });
  }
}
