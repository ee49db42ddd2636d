/**
 * Outbound request safety (packages/runtime/src/net).
 *
 * All servers here are local (127.0.0.1, port 0). Because loopback is itself a blocked range,
 * successful fetches name the server in `policy.allowHosts` as `127.0.0.1:<port>`; a host:port
 * entry opens that port only, a bare host entry opens every port of that host.
 *
 * "No connection was made" is checked two ways:
 *  - trap servers on loopback count every TCP connection; refused URLs aim at them where the form
 *    allows a port, so a missing check makes the test fail instead of silently hitting nothing;
 *  - the `net.client.socket` diagnostics channel reports every client socket this process
 *    creates; refused IP-literal URLs must not even create one, and no socket may reach
 *    'connect' while the SSRF corpus runs.
 */
import { createHash, randomBytes } from 'node:crypto';
import dc from 'node:diagnostics_channel';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  downloadToFile,
  fetchJson,
  isPublicAddress,
  OutboundRequestError,
  parseHostLiteral,
  safeRequest,
  type LookupImpl,
  type OutboundErrorCode,
} from '../src/net/index.js';

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

type TestServer = {
  port: number;
  base: string;
  /** TCP connections accepted so far. */
  connections: number;
  /** Requests seen, most recent last. */
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
};

async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
  host = '127.0.0.1',
): Promise<TestServer> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      state.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  const state: TestServer = {
    port: 0,
    base: '',
    connections: 0,
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('connection', () => {
    state.connections++;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  state.port = (server.address() as AddressInfo).port;
  state.base = host.includes(':') ? `http://[${host}]:${state.port}` : `http://${host}:${state.port}`;
  return state;
}

async function expectOutbound(promise: Promise<unknown>, code: OutboundErrorCode): Promise<OutboundRequestError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected an OutboundRequestError(${code})`).toBeInstanceOf(OutboundRequestError);
  const err = caught as OutboundRequestError;
  expect(err.code, err.message).toBe(code);
  return err;
}

/** Read a response body to the end (so a pooled socket, if any, would be back in its pool). */
async function readText(body: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

/** Every client socket this process creates, and how many of them reached 'connect'. */
const sockets = { created: 0, connected: 0 };
/** When set, sockets are destroyed right after lookup (before connecting) and the address recorded. */
let interceptLookup: { host: string; seen: string[] } | undefined;
const onClientSocket = (message: unknown): void => {
  const socket = (message as { socket: Socket }).socket;
  sockets.created++;
  socket.on('connect', () => {
    sockets.connected++;
  });
  socket.on('lookup', (err: Error | null, address: string, _family: unknown, host: string) => {
    if (interceptLookup && host === interceptLookup.host && !err) {
      interceptLookup.seen.push(address);
      socket.destroy();
    }
  });
};

let trap: TestServer; // must never be reached
let trap6: TestServer | undefined; // same on ::1, when the sandbox has IPv6 loopback
let app: TestServer; // the "allowed" server
let workDir: string;
const fiveMb = randomBytes(5 * 1024 * 1024);
const BIG_STREAM_BYTES = 200 * 1024 * 1024;

function appPolicy() {
  return { allowHosts: [`127.0.0.1:${app.port}`] };
}

function writeStream(res: ServerResponse, total: number, chunkSize = 64 * 1024): void {
  const chunk = Buffer.alloc(chunkSize, 0x61);
  let sent = 0;
  const pump = (): void => {
    while (sent < total) {
      const n = Math.min(chunkSize, total - sent);
      sent += n;
      if (!res.write(n === chunkSize ? chunk : chunk.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  res.on('close', () => {
    sent = total; // client went away: stop pumping
  });
  pump();
}

beforeAll(async () => {
  dc.subscribe('net.client.socket', onClientSocket);
  workDir = mkdtempSync(join(tmpdir(), 'safe-fetch-test-'));
  trap = await startServer((_req, res) => res.end('you should not be here'));
  try {
    trap6 = await startServer((_req, res) => res.end('you should not be here'), '::1');
  } catch {
    trap6 = undefined;
  }
  app = await startServer((req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const q = url.searchParams;
    switch (url.pathname) {
      case '/ok':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
        return;
      case '/echo':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, body, authorization: req.headers.authorization ?? null }));
        return;
      case '/redirect':
        res.writeHead(Number(q.get('status') ?? 302), { location: q.get('to') ?? '/ok' }).end();
        return;
      case '/loop':
        res.writeHead(302, { location: '/loop' }).end();
        return;
      case '/five-mb':
        res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(fiveMb.length) }).end(fiveMb);
        return;
      case '/sized': {
        const bytes = Number(q.get('bytes'));
        const headers: Record<string, string> = { 'content-type': q.get('type') ?? 'video/mp4' };
        if (q.get('length') === '1') headers['content-length'] = String(bytes);
        res.writeHead(200, headers);
        writeStream(res, bytes);
        return;
      }
      case '/stall':
        res.writeHead(200, { 'content-type': 'video/mp4' });
        res.write(Buffer.alloc(1024)); // ...and never finish
        return;
      case '/no-headers':
        return; // never answers
      case '/status':
        res.writeHead(Number(q.get('code')), { 'content-type': 'text/plain' }).end('secret-body-text');
        return;
      case '/json':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, n: 3 }));
        return;
      case '/not-json':
        res.writeHead(200, { 'content-type': 'application/json' }).end('<html>');
        return;
      default:
        res.writeHead(404).end();
    }
  });
});

afterAll(async () => {
  dc.unsubscribe('net.client.socket', onClientSocket);
  await Promise.all([trap.close(), trap6?.close(), app.close()]);
  rmSync(workDir, { recursive: true, force: true });
});

afterEach(() => {
  interceptLookup = undefined;
  // Nothing in this file may ever reach the trap servers.
  expect(trap.connections).toBe(0);
  expect(trap6?.connections ?? 0).toBe(0);
});

function noLeftovers(): void {
  expect(readdirSync(workDir).filter((f) => f.endsWith('.part'))).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// Address policy tables
// ---------------------------------------------------------------------------------------------

describe('isPublicAddress', () => {
  const publicAddresses = [
    '8.8.8.8',
    '1.1.1.1',
    '93.184.215.14',
    '11.0.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.169.0.1',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808', // NAT64 of 8.8.8.8
    '2002:808:808::1', // 6to4 of 8.8.8.8
  ];
  const nonPublic = [
    '0.0.0.0',
    '0.255.255.255',
    '10.0.0.1',
    '10.255.255.255',
    '100.64.0.1',
    '100.127.255.255',
    '127.0.0.1',
    '127.255.255.254',
    '169.254.169.254',
    '169.254.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.0.0.8',
    '192.0.2.1',
    '192.168.1.1',
    '198.18.0.1',
    '198.19.255.255',
    '198.51.100.7',
    '203.0.113.9',
    '224.0.0.1',
    '239.255.255.250',
    '240.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    'fc00::1',
    'fd00::1',
    'fe80::1',
    'febf:ffff::1',
    'ff02::1',
    '2001:db8::1',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2', // Teredo
    '64:ff9b::7f00:1', // NAT64 of 127.0.0.1
    '64:ff9b::a9fe:a9fe', // NAT64 of 169.254.169.254
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '::ffff:10.0.0.1',
    '::127.0.0.1', // IPv4-compatible
    '::8.8.8.8', // IPv4-compatible (deprecated): never public
    '2002:7f00:1::1', // 6to4 of 127.0.0.1
    '2002:a9fe:a9fe::1', // 6to4 of 169.254.169.254
    // other spellings are normalised first
    '2130706433',
    '0x7f000001',
    '0177.0.0.1',
    '127.1',
    '[::1]',
    // not addresses at all
    'localhost',
    'example.com',
    '',
  ];
  it.each(publicAddresses)('%s is public', (ip) => {
    expect(isPublicAddress(ip)).toBe(true);
  });
  it.each(nonPublic)('%s is not public', (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });
});

describe('parseHostLiteral', () => {
  const cases: Array<[string, string | null]> = [
    ['127.0.0.1', '127.0.0.1'],
    ['127.0.0.1.', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['0X7F000001', '127.0.0.1'],
    ['0x7f.0.0.1', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['0177.0.0.01', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.1', '127.0.0.1'],
    ['10.1', '10.0.0.1'],
    ['0', '0.0.0.0'],
    ['4294967295', '255.255.255.255'],
    ['0xa9.0xfe.0xa9.0xfe', '169.254.169.254'],
    ['[::1]', '::1'],
    ['::1', '::1'],
    ['[::ffff:127.0.0.1]', '::ffff:7f00:1'],
    ['[0:0:0:0:0:ffff:7f00:0001]', '::ffff:7f00:1'],
    ['[FE80::1%25eth0]', 'fe80::1'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['[::]', '::'],
    ['localhost', null],
    ['example.com', null],
    ['127.0.0.1.nip.io', null],
    ['256.0.0.1', null],
    ['1.2.3.4.5', null],
    ['08.0.0.1', null],
    ['0x1g.0.0.1', null],
    ['4294967296', null],
    ['123abc', null],
    ['[::1', null],
    ['1::2::3', null],
    ['1:2:3:4:5:6:7:8:9', null],
    ['::ffff:1.2.3.256', null],
    ['', null],
  ];
  it.each(cases)('%s -> %s', (input, expected) => {
    expect(parseHostLiteral(input)).toBe(expected);
  });
});

// ---------------------------------------------------------------------------------------------
// SSRF corpus
// ---------------------------------------------------------------------------------------------

describe('SSRF corpus is refused before connecting', () => {
  const literalCorpus = [
    'http://127.0.0.1/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://2130706433/',
    'http://0x7f000001/',
    'http://0177.0.0.1/',
    'http://127.1/',
    'http://0.0.0.0/',
    'http://10.0.0.1/',
    'http://172.16.0.1/',
    'http://192.168.1.1/',
    'http://100.64.0.1/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fe80::1]/',
    'http://[fd00::1]/',
    'https://169.254.169.254/latest/meta-data/iam/security-credentials/?X-Amz-Signature=SECRET',
    'http://[64:ff9b::a9fe:a9fe]/',
  ];

  it.each(literalCorpus)('%s -> blocked_address, no socket created', async (url) => {
    const before = { ...sockets };
    const started = performance.now();
    const err = await expectOutbound(safeRequest(url, { policy: {}, timeoutMs: 5_000 }), 'blocked_address');
    expect(performance.now() - started).toBeLessThan(100);
    expect(sockets.created).toBe(before.created);
    expect(sockets.connected).toBe(before.connected);
    expect(err.retryable).toBe(false);
    expect(err.message).not.toMatch(/SECRET|meta-data|\?/);
  });

  it('http://localhost/ (a name resolving to loopback) -> blocked_address, never connected', async () => {
    const before = { ...sockets };
    await expectOutbound(safeRequest('http://localhost/', { policy: {}, timeoutMs: 5_000 }), 'blocked_address');
    expect(sockets.connected).toBe(before.connected);
  });

  it('loopback forms aimed at a live trap server never reach it', async () => {
    const p = trap.port;
    const urls = [
      `http://127.0.0.1:${p}/`,
      `http://127.0.0.1.:${p}/`,
      `http://localhost:${p}/`,
      `http://LOCALHOST:${p}/`,
      `http://2130706433:${p}/`,
      `http://0x7f000001:${p}/`,
      `http://0x7f.0.0.1:${p}/`,
      `http://0177.0.0.1:${p}/`,
      `http://127.1:${p}/`,
      `http://0.0.0.0:${p}/`,
      `http://[::ffff:127.0.0.1]:${p}/`,
      `http://[::ffff:7f00:1]:${p}/`,
    ];
    if (trap6) urls.push(`http://[::1]:${trap6.port}/`, `http://localhost:${trap6.port}/`);
    const before = { ...sockets };
    for (const url of urls) {
      await expectOutbound(safeRequest(url, { policy: {}, timeoutMs: 5_000 }), 'blocked_address');
    }
    expect(sockets.connected).toBe(before.connected);
    expect(trap.connections).toBe(0);
  });

  it('control: the trap is reachable when the policy allows private addresses (so the checks above can fail)', async () => {
    const res = await safeRequest(`http://127.0.0.1:${trap.port}/`, { policy: { allowPrivate: true }, timeoutMs: 5_000 });
    expect(res.status).toBe(200);
    await readText(res.body);
    expect(trap.connections).toBe(1);
    trap.connections = 0; // keep the afterEach invariant for the rest of the file
    trap.requests.length = 0;
  });

  it('allowPrivate still refuses link-local / metadata', async () => {
    await expectOutbound(safeRequest('http://169.254.169.254/latest/meta-data/', { policy: { allowPrivate: true } }), 'blocked_address');
    await expectOutbound(safeRequest('http://[fe80::1]/', { policy: { allowPrivate: true } }), 'blocked_address');
  });

  it.each([
    'file:///etc/passwd',
    'ftp://example.com/file',
    'gopher://example.com:70/_GET',
    'data:text/plain,hello',
    'http://user:pw@example.com/',
    'https://token@example.com/',
    'javascript:alert(1)',
    'not a url',
    'http://999.1.1.1/',
  ])('%s -> bad_url', async (url) => {
    const before = { ...sockets };
    const err = await expectOutbound(safeRequest(url, { policy: {} }), 'bad_url');
    expect(err.retryable).toBe(false);
    expect(err.message).not.toContain('pw');
    expect(sockets.created).toBe(before.created);
  });
});

// ---------------------------------------------------------------------------------------------
// allowHosts
// ---------------------------------------------------------------------------------------------

describe('allowHosts', () => {
  it('host:port opens that port only', async () => {
    const res = await safeRequest(`${app.base}/ok`, { policy: appPolicy() });
    expect(res.status).toBe(200);
    await readText(res.body);
    await expectOutbound(safeRequest(`http://127.0.0.1:${trap.port}/`, { policy: appPolicy() }), 'blocked_address');
  });

  it('a bare host opens every port; [v6]:port, v6 and names are understood', async () => {
    const res = await safeRequest(`${app.base}/ok`, { policy: { allowHosts: ['127.0.0.1'] } });
    expect(res.status).toBe(200);
    await readText(res.body);
    const viaName = await safeRequest(`http://LocalHost:${app.port}/ok`, { policy: { allowHosts: [`localhost:${app.port}`] } });
    expect(viaName.status).toBe(200);
    await readText(viaName.body);
    const viaDecimal = await safeRequest(`http://2130706433:${app.port}/ok`, { policy: { allowHosts: [`127.0.0.1:${app.port}`] } });
    expect(viaDecimal.status).toBe(200);
    await readText(viaDecimal.body);
  });

  it('a socket opened under a permissive policy is never reused under a strict one (no pooling)', async () => {
    const ok = await safeRequest(`http://localhost:${app.port}/ok`, { policy: { allowHosts: ['localhost'] } });
    expect(ok.status).toBe(200);
    expect(await readText(ok.body)).toBe('hello');
    await new Promise((resolve) => setImmediate(resolve)); // let a pooled socket go back to its pool
    await expectOutbound(safeRequest(`http://localhost:${app.port}/ok`, { policy: {} }), 'blocked_address');
  });
});

// ---------------------------------------------------------------------------------------------
// Redirects
// ---------------------------------------------------------------------------------------------

function redirectUrl(to: string, status = 302): string {
  return `${app.base}/redirect?status=${status}&to=${encodeURIComponent(to)}`;
}

describe('redirects', () => {
  it('to the metadata address is refused without creating a socket for it', async () => {
    const before = { ...sockets };
    const err = await expectOutbound(
      safeRequest(redirectUrl('http://169.254.169.254/latest/meta-data/?sig=SECRET'), { policy: appPolicy() }),
      'blocked_address',
    );
    expect(sockets.created - before.created).toBe(1); // the allowed hop only
    expect(err.message).not.toContain('SECRET');
    expect(err.host).toBe('169.254.169.254');
  });

  it.each([301, 302, 303, 307, 308])('%i to a non-allowed loopback port is refused', async (status) => {
    await expectOutbound(safeRequest(redirectUrl(`http://127.0.0.1:${trap.port}/`, status), { policy: appPolicy() }), 'blocked_address');
    await expectOutbound(safeRequest(redirectUrl(`http://localhost:${trap.port}/`, status), { policy: appPolicy() }), 'blocked_address');
    expect(trap.connections).toBe(0);
  });

  it('to a non-http scheme is bad_url', async () => {
    await expectOutbound(safeRequest(redirectUrl('file:///etc/passwd'), { policy: appPolicy() }), 'bad_url');
  });

  it('relative redirects are followed and the final URL reported', async () => {
    const res = await safeRequest(redirectUrl('/ok'), { policy: appPolicy() });
    expect(res.status).toBe(200);
    expect(res.url).toBe(`${app.base}/ok`);
    expect(await readText(res.body)).toBe('hello');
  });

  it('too many redirects', async () => {
    app.requests.length = 0;
    const err = await expectOutbound(safeRequest(`${app.base}/loop`, { policy: appPolicy(), maxRedirects: 3 }), 'too_many_redirects');
    expect(err.retryable).toBe(false);
    expect(app.requests.length).toBe(4);
    await expectOutbound(safeRequest(`${app.base}/loop`, { policy: appPolicy() }), 'too_many_redirects');
  });

  it('303 (and 302 for POST) switch to GET without a body; 307 keeps POST and body', async () => {
    for (const status of [303, 302, 301]) {
      const json = await fetchJson<{ method: string; body: string }>(redirectUrl('/echo', status), {
        policy: appPolicy(),
        method: 'POST',
        body: 'payload',
        headers: { 'content-type': 'text/plain' },
      });
      expect(json).toMatchObject({ method: 'GET', body: '' });
    }
    for (const status of [307, 308]) {
      const json = await fetchJson<{ method: string; body: string }>(redirectUrl('/echo', status), {
        policy: appPolicy(),
        method: 'POST',
        body: 'payload',
      });
      expect(json).toMatchObject({ method: 'POST', body: 'payload' });
    }
  });

  it('Authorization survives same-origin redirects and is dropped cross-origin', async () => {
    const policy = { allowHosts: [`127.0.0.1:${app.port}`, `localhost:${app.port}`] };
    const headers = { Authorization: 'Bearer t0ken' };
    const same = await fetchJson<{ authorization: string | null }>(redirectUrl('/echo'), { policy, headers });
    expect(same.authorization).toBe('Bearer t0ken');
    const cross = await fetchJson<{ authorization: string | null }>(redirectUrl(`http://localhost:${app.port}/echo`), {
      policy,
      headers,
    });
    expect(cross.authorization).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// DNS answers and rebinding
// ---------------------------------------------------------------------------------------------

describe('resolution is checked on the address actually used', () => {
  it('refuses a name when ANY resolved address is private', async () => {
    const lookupImpl: LookupImpl = async () => [
      { address: '8.8.8.8', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    const before = { ...sockets };
    await expectOutbound(safeRequest(`http://mixed.test:${trap.port}/`, { policy: {}, lookupImpl, timeoutMs: 5_000 }), 'blocked_address');
    expect(sockets.connected).toBe(before.connected);
  });

  it('DNS rebinding: one resolution per connection, the socket gets the vetted public address, never loopback', async () => {
    let calls = 0;
    const lookupImpl: LookupImpl = async () => {
      calls++;
      return calls === 1 ? [{ address: '93.184.215.14', family: 4 }] : [{ address: '127.0.0.1', family: 4 }];
    };
    // The socket is destroyed right after lookup so no packet leaves for the public address;
    // what we record is the address net was about to connect to.
    interceptLookup = { host: 'rebind.test', seen: [] };
    const before = { ...sockets };
    await expectOutbound(safeRequest(`http://rebind.test:${trap.port}/`, { policy: {}, lookupImpl, timeoutMs: 5_000 }), 'network');
    expect(calls).toBe(1);
    expect(interceptLookup.seen).toEqual(['93.184.215.14']);
    expect(sockets.connected).toBe(before.connected);

    // The next resolution (now loopback) is refused outright.
    await expectOutbound(safeRequest(`http://rebind.test:${trap.port}/`, { policy: {}, lookupImpl, timeoutMs: 5_000 }), 'blocked_address');
    expect(calls).toBe(2);
    expect(interceptLookup.seen).toEqual(['93.184.215.14']);
    expect(trap.connections).toBe(0);
  });

  it('a resolver failure is a retryable network error', async () => {
    const lookupImpl: LookupImpl = async () => {
      throw Object.assign(new Error('getaddrinfo EAI_AGAIN'), { code: 'EAI_AGAIN' });
    };
    const err = await expectOutbound(safeRequest('http://flaky.test/', { policy: {}, lookupImpl }), 'network');
    expect(err.retryable).toBe(true);
  });

  it('a name that resolves privately and a name that does not exist are refused alike: internal names stay unknown', async () => {
    const privately: LookupImpl = async () => [{ address: '10.1.2.3', family: 4 }];
    const nowhere: LookupImpl = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND db.internal'), { code: 'ENOTFOUND' });
    };
    const empty: LookupImpl = async () => [];
    const refused = await expectOutbound(safeRequest('http://db.internal/', { policy: {}, lookupImpl: privately }), 'blocked_address');
    const missing = await expectOutbound(safeRequest('http://db.internal/', { policy: {}, lookupImpl: nowhere }), 'unresolvable');
    const blank = await expectOutbound(safeRequest('http://db.internal/', { policy: {}, lookupImpl: empty }), 'unresolvable');
    expect(missing.message).toBe(refused.message);
    expect(blank.message).toBe(refused.message);
    expect([refused.retryable, missing.retryable, blank.retryable]).toEqual([false, false, false]);
    expect(refused.message).not.toContain('10.1.2.3');
    expect(refused.address).toBe('10.1.2.3'); // for the operator's logs
    // The code shown outside the process (failure details in workflow histories) is the same too.
    expect([refused.publicCode, missing.publicCode, blank.publicCode]).toEqual(['refused_host', 'refused_host', 'refused_host']);
  });
});

// ---------------------------------------------------------------------------------------------
// Timeouts, abort, fetchJson
// ---------------------------------------------------------------------------------------------

describe('safeRequest deadline and abort', () => {
  it('times out when the server never answers', async () => {
    const started = performance.now();
    const err = await expectOutbound(safeRequest(`${app.base}/no-headers`, { policy: appPolicy(), timeoutMs: 300 }), 'timeout');
    expect(err.retryable).toBe(true);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('the deadline also covers reading the body', async () => {
    const res = await safeRequest(`${app.base}/stall`, { policy: appPolicy(), timeoutMs: 300 });
    const drain = async (): Promise<void> => {
      for await (const _ of res.body) void _;
    };
    await expectOutbound(drain(), 'timeout');
  });

  it('abort rejects with the signal reason', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled by workflow');
    setTimeout(() => controller.abort(reason), 50);
    await expect(safeRequest(`${app.base}/no-headers`, { policy: appPolicy(), signal: controller.signal })).rejects.toBe(reason);
  });
});

describe('fetchJson', () => {
  it('parses JSON', async () => {
    await expect(fetchJson(`${app.base}/json`, { policy: appPolicy() })).resolves.toEqual({ ok: true, n: 3 });
  });
  it('caps the body size', async () => {
    await expectOutbound(fetchJson(`${app.base}/sized?bytes=4096`, { policy: appPolicy(), maxBytes: 1000 }), 'too_large');
    await expectOutbound(fetchJson(`${app.base}/sized?bytes=4096&length=1`, { policy: appPolicy(), maxBytes: 1000 }), 'too_large');
  });
  it('non-2xx is http_error without the body in the message; invalid JSON is bad_content_type', async () => {
    const err = await expectOutbound(fetchJson(`${app.base}/status?code=500&sig=SECRET`, { policy: appPolicy() }), 'http_error');
    expect(err.status).toBe(500);
    expect(err.retryable).toBe(true);
    expect(err.message).not.toMatch(/secret-body-text|SECRET/);
    await expectOutbound(fetchJson(`${app.base}/not-json`, { policy: appPolicy() }), 'bad_content_type');
  });
});

// ---------------------------------------------------------------------------------------------
// downloadToFile
// ---------------------------------------------------------------------------------------------

describe('downloadToFile', () => {
  const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

  it('streams a 5 MB body intact', async () => {
    const dest = join(workDir, 'five.mp4');
    const result = await downloadToFile(`${app.base}/five-mb`, dest, {
      policy: appPolicy(),
      maxBytes: 10 * 1024 * 1024,
      timeoutMs: 10_000,
      expectedContentTypes: ['video/'],
    });
    expect(result).toEqual({ path: dest, bytes: fiveMb.length, contentType: 'video/mp4', finalUrl: `${app.base}/five-mb` });
    expect(sha256(readFileSync(dest))).toBe(sha256(fiveMb));
    noLeftovers();
  });

  it('follows a redirect and reports the final URL', async () => {
    const dest = join(workDir, 'redirected.mp4');
    const result = await downloadToFile(redirectUrl('/five-mb', 307), dest, {
      policy: appPolicy(),
      maxBytes: 10 * 1024 * 1024,
      timeoutMs: 10_000,
    });
    expect(result.finalUrl).toBe(`${app.base}/five-mb`);
    expect(result.bytes).toBe(fiveMb.length);
  });

  it.each([
    ['with Content-Length (refused up front)', '1'],
    ['without Content-Length (counted while streaming)', '0'],
  ])('refuses a body over maxBytes %s and removes the partial file', async (_label, length) => {
    const dest = join(workDir, `too-large-${length}.mp4`);
    const err = await expectOutbound(
      downloadToFile(`${app.base}/sized?bytes=${3 * 1024 * 1024}&length=${length}`, dest, {
        policy: appPolicy(),
        maxBytes: 1024 * 1024,
        timeoutMs: 10_000,
      }),
      'too_large',
    );
    expect(err.retryable).toBe(false);
    expect(existsSync(dest)).toBe(false);
    noLeftovers();
  });

  it('times out a stalled body and removes the partial file', async () => {
    const dest = join(workDir, 'stalled.mp4');
    const started = performance.now();
    const err = await expectOutbound(
      downloadToFile(`${app.base}/stall`, dest, { policy: appPolicy(), maxBytes: 1024 * 1024, timeoutMs: 400 }),
      'timeout',
    );
    expect(err.retryable).toBe(true);
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(existsSync(dest)).toBe(false);
    noLeftovers();
  });

  it('rejects an unexpected content type', async () => {
    const dest = join(workDir, 'page.mp4');
    await expectOutbound(
      downloadToFile(`${app.base}/sized?bytes=100&type=${encodeURIComponent('text/html; charset=utf-8')}`, dest, {
        policy: appPolicy(),
        maxBytes: 1024,
        timeoutMs: 5_000,
        expectedContentTypes: ['video/', 'image/'],
      }),
      'bad_content_type',
    );
    expect(existsSync(dest)).toBe(false);
  });

  it.each([
    [404, false],
    [403, false],
    [429, true],
    [500, true],
    [503, true],
  ])('HTTP %i -> http_error, retryable=%s', async (code, retryable) => {
    const dest = join(workDir, `status-${code}.bin`);
    const err = await expectOutbound(
      downloadToFile(`${app.base}/status?code=${code}&X-Amz-Signature=SECRET`, dest, {
        policy: appPolicy(),
        maxBytes: 1024,
        timeoutMs: 5_000,
      }),
      'http_error',
    );
    expect(err.status).toBe(code);
    expect(err.retryable).toBe(retryable);
    expect(err.message).not.toMatch(/SECRET|secret-body-text/);
    expect(existsSync(dest)).toBe(false);
  });

  it('refuses a blocked target without creating a file', async () => {
    const dest = join(workDir, 'blocked.bin');
    await expectOutbound(
      downloadToFile('http://169.254.169.254/latest/meta-data/', dest, { policy: {}, maxBytes: 1024, timeoutMs: 5_000 }),
      'blocked_address',
    );
    expect(existsSync(dest)).toBe(false);
  });

  it('streams 200 MB with bounded memory', async () => {
    const dest = join(workDir, 'big.bin');
    const before = process.memoryUsage().rss;
    const result = await downloadToFile(`${app.base}/sized?bytes=${BIG_STREAM_BYTES}&type=video/mp4`, dest, {
      policy: appPolicy(),
      maxBytes: 300 * 1024 * 1024,
      timeoutMs: 20_000,
    });
    const growth = process.memoryUsage().rss - before;
    expect(result.bytes).toBe(BIG_STREAM_BYTES);
    expect(growth).toBeLessThan(64 * 1024 * 1024);
    rmSync(dest, { force: true });
  }, 25_000);
});
