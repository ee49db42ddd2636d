/**
 * Which network addresses outbound requests may reach.
 *
 * Everything here is pure and synchronous so it can be unit-tested on tables and reused by any
 * transport. The rule of thumb: an address is "public" only when it is ordinary globally routed
 * unicast. Anything loopback, private, link-local (cloud metadata lives there), shared/CGNAT,
 * reserved, documentation, benchmarking, multicast or broadcast is not. IPv6 forms that carry an
 * IPv4 address (IPv4-mapped, NAT64, 6to4) are judged by the IPv4 address they carry.
 */
import { BlockList, isIP } from 'node:net';

/**
 * Operator overrides for the address check.
 *
 * `allowHosts` entries are matched against the URL's host, case-insensitively, with a trailing dot
 * ignored and IP literals compared in canonical form:
 *  - `"storage.internal"` or `"127.0.0.1"` or `"[::1]"` / `"::1"`: that host on ANY port;
 *  - `"storage.internal:9000"`, `"127.0.0.1:9000"`, `"[::1]:9000"`: that host on that port only
 *    (a URL without an explicit port has port 80 for http and 443 for https).
 * A matching host skips the address check for that hop only; redirects are checked again.
 *
 * `allowPrivate: true` (development only) skips the address check for every host except
 * link-local ranges (169.254.0.0/16, fe80::/10), where cloud metadata endpoints live; those can
 * only be opened by naming the host in `allowHosts`.
 */
export type OutboundPolicy = {
  allowHosts?: string[];
  allowPrivate?: boolean;
};

// ---------------------------------------------------------------------------------------------
// Host literal parsing
// ---------------------------------------------------------------------------------------------

const DECIMAL_PART = /^(?:0|[1-9][0-9]*)$/;
const OCTAL_PART = /^0[0-7]+$/;
const HEX_PART = /^0x[0-9a-f]*$/i;
const NUMERIC_ISH = /^(?:0x[0-9a-f]*|[0-9]+)$/i;

/** One IPv4 component in decimal, octal (leading 0) or hex (0x) notation, or null. */
function parseV4Part(part: string): number | null {
  if (HEX_PART.test(part)) return part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
  if (OCTAL_PART.test(part)) return Number.parseInt(part.slice(1), 8);
  if (DECIMAL_PART.test(part)) return Number.parseInt(part, 10);
  return null;
}

/**
 * The IPv4 forms accepted by inet_aton and by the WHATWG URL parser: one to four dot-separated
 * numbers, each decimal / octal / hex; the last number fills all remaining bytes (`127.1`,
 * `2130706433`). Returns the address as an unsigned 32-bit integer, or null.
 */
function parseLooseIPv4(host: string): number | null {
  const parts = host.split('.');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop(); // "127.0.0.1."
  if (parts.length === 0 || parts.length > 4) return null;
  const values: number[] = [];
  for (const part of parts) {
    const value = parseV4Part(part);
    if (value === null || !Number.isFinite(value)) return null;
    values.push(value);
  }
  const last = values.pop();
  if (last === undefined) return null;
  if (values.some((v) => v > 255)) return null;
  if (last >= 256 ** (4 - values.length)) return null;
  let result = last;
  values.forEach((v, i) => {
    result += v * 256 ** (3 - i);
  });
  return result;
}

function v4ToString(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

/** Strict dotted-quad IPv4 (as allowed inside IPv6 text) to an integer, or null. */
function parseStrictIPv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let result = 0;
  for (const part of parts) {
    if (!DECIMAL_PART.test(part)) return null;
    const value = Number.parseInt(part, 10);
    if (value > 255) return null;
    result = result * 256 + value;
  }
  return result;
}

/** IPv6 text (no brackets, no zone) to its eight 16-bit groups, or null. */
function parseIPv6Groups(text: string): number[] | null {
  let body = text.toLowerCase();
  const tail: number[] = [];
  const lastColon = body.lastIndexOf(':');
  if (lastColon === -1) return null;
  const lastPiece = body.slice(lastColon + 1);
  if (lastPiece.includes('.')) {
    const v4 = parseStrictIPv4(lastPiece);
    if (v4 === null) return null;
    tail.push(v4 >>> 16, v4 & 0xffff);
    // Keep the colon(s) in place of the IPv4 part so "::1.2.3.4" stays "::" + tail.
    body = body.slice(0, lastColon + 1);
    if (body.endsWith('::')) {
      // fine: "::" remains
    } else {
      body = body.slice(0, -1); // "a:b:c:d:e:f:" -> "a:b:c:d:e:f"
    }
  }
  const halves = body.split('::');
  if (halves.length > 2) return null;
  const parseGroups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = parseGroups(halves[0] ?? '');
  if (head === null) return null;
  if (halves.length === 1) {
    const groups = [...head, ...tail];
    return groups.length === 8 ? groups : null;
  }
  const rest = parseGroups(halves[1] ?? '');
  if (rest === null) return null;
  const known = head.length + rest.length + tail.length;
  if (known > 7) return null; // "::" must stand for at least one group
  return [...head, ...new Array<number>(8 - known).fill(0), ...rest, ...tail];
}

/** RFC 5952 text: lower-case hex, no leading zeros, the longest run (>= 2) of zero groups as "::". */
function groupsToString(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

/**
 * Recognise an IP literal the way browsers and curl do and return it in canonical form
 * (dotted-quad IPv4, RFC 5952 IPv6 without brackets or zone), or null when `host` is a name or is
 * not a valid address.
 *
 * Accepted: `127.0.0.1`, `127.0.0.1.`, `2130706433`, `0x7f000001`, `0x7f.0.0.1`, `0177.0.0.1`,
 * `127.1`, `[::1]`, `::1`, `[::ffff:127.0.0.1]` (-> `::ffff:7f00:1`), `fe80::1%eth0` (zone dropped).
 */
export function parseHostLiteral(host: string): string | null {
  let text = host.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  if (text.includes(':')) {
    const zone = text.indexOf('%');
    if (zone !== -1) text = text.slice(0, zone);
    const groups = parseIPv6Groups(text);
    return groups === null ? null : groupsToString(groups);
  }
  const v4 = parseLooseIPv4(text);
  return v4 === null ? null : v4ToString(v4);
}

/**
 * True when `host` looks like it was meant as a numeric address (its last dot-separated label is
 * a number) — such hosts must parse as an IP literal, never be handed to DNS.
 */
export function looksNumericHost(host: string): boolean {
  const labels = host.replace(/\.$/, '').split('.');
  const last = labels[labels.length - 1] ?? '';
  return NUMERIC_ISH.test(last);
}

// ---------------------------------------------------------------------------------------------
// Address classification
// ---------------------------------------------------------------------------------------------

/** IPv4 ranges that are never public (IANA special-purpose registry and friends). */
const V4_NON_PUBLIC: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // shared address space / CGNAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, incl. 169.254.169.254 metadata
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // deprecated 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, incl. 255.255.255.255 broadcast
];

/** Ranges inside 2000::/3 (global unicast) that are nevertheless not public. */
const V6_GLOBAL_EXCEPTIONS: ReadonlyArray<readonly [string, number]> = [
  ['2001::', 23], // IETF protocol assignments: Teredo 2001::/32, benchmarking, ORCHID, ...
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation (RFC 9637)
];

const v4Blocked = new BlockList();
for (const [net, prefix] of V4_NON_PUBLIC) v4Blocked.addSubnet(net, prefix, 'ipv4');
const v6Blocked = new BlockList();
for (const [net, prefix] of V6_GLOBAL_EXCEPTIONS) v6Blocked.addSubnet(net, prefix, 'ipv6');

const v4LinkLocal = new BlockList();
v4LinkLocal.addSubnet('169.254.0.0', 16, 'ipv4');

function isPublicV4(value: number): boolean {
  return !v4Blocked.check(v4ToString(value), 'ipv4');
}

function embeddedV4(high: number | undefined, low: number | undefined): number {
  return ((high ?? 0) * 0x10000 + (low ?? 0)) >>> 0;
}

function isPublicV6(groups: readonly number[]): boolean {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const first80Zero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  // ::ffff:a.b.c.d (IPv4-mapped): judge the IPv4 address.
  if (first80Zero && g5 === 0xffff) return isPublicV4(embeddedV4(g6, g7));
  // 64:ff9b::/96 (well-known NAT64 prefix): judge the IPv4 address.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return isPublicV4(embeddedV4(g6, g7));
  }
  // 2002::/16 (6to4): the IPv4 address sits in bits 16..47.
  if (g0 === 0x2002) return isPublicV4(embeddedV4(g1, g2));
  // Everything else outside 2000::/3 — ::, ::1, IPv4-compatible ::a.b.c.d, ::ffff:0:0:0/96,
  // 64:ff9b:1::/48, 100::/64 discard, fc00::/7 ULA, fe80::/10 link-local, fec0::/10,
  // ff00::/8 multicast — is not public.
  if ((g0 & 0xe000) !== 0x2000) return false;
  return !v6Blocked.check(groupsToString(groups), 'ipv6');
}

/**
 * True only for globally routable unicast addresses. Accepts any form `parseHostLiteral` accepts;
 * anything that is not an IP address is reported as not public.
 */
export function isPublicAddress(ip: string): boolean {
  const canonical = parseHostLiteral(ip);
  if (canonical === null) return false;
  if (isIP(canonical) === 4) {
    const value = parseStrictIPv4(canonical);
    return value !== null && isPublicV4(value);
  }
  const groups = parseIPv6Groups(canonical);
  return groups !== null && isPublicV6(groups);
}

/** Link-local (IPv4 169.254/16 or IPv6 fe80::/10, also when IPv4-mapped). */
export function isLinkLocalAddress(ip: string): boolean {
  const canonical = parseHostLiteral(ip);
  if (canonical === null) return false;
  if (isIP(canonical) === 4) return v4LinkLocal.check(canonical, 'ipv4');
  const groups = parseIPv6Groups(canonical);
  if (groups === null) return false;
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6, g7] = groups;
  if ((g0 & 0xffc0) === 0xfe80) return true;
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0xffff) {
    return v4LinkLocal.check(v4ToString(embeddedV4(g6, g7)), 'ipv4');
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Policy helpers
// ---------------------------------------------------------------------------------------------

/** Lower-case, no trailing dot, no brackets, IP literals canonical. */
export function normaliseHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.') && !h.includes(':')) h = h.slice(0, -1);
  return parseHostLiteral(h) ?? h;
}

function parseAllowEntry(entry: string): { host: string; port: number | null } | null {
  const e = entry.trim();
  if (e === '') return null;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(e);
  if (bracketed) {
    return { host: normaliseHost(bracketed[1] ?? ''), port: bracketed[2] ? Number(bracketed[2]) : null };
  }
  const colons = e.split(':').length - 1;
  if (colons === 1) {
    const [host = '', port = ''] = e.split(':');
    if (!/^\d+$/.test(port)) return null;
    return { host: normaliseHost(host), port: Number(port) };
  }
  return { host: normaliseHost(e), port: null }; // bare name, IPv4, or bare IPv6
}

/** Does `policy.allowHosts` open `host` (URL hostname, brackets allowed) on `port`? */
export function isHostAllowed(policy: OutboundPolicy, host: string, port: number): boolean {
  const target = normaliseHost(host);
  for (const entry of policy.allowHosts ?? []) {
    const parsed = parseAllowEntry(entry);
    if (parsed && parsed.host === target && (parsed.port === null || parsed.port === port)) return true;
  }
  return false;
}

/**
 * Address check for a host that is not in `allowHosts`: public addresses pass; with
 * `allowPrivate` everything but link-local passes.
 */
export function isAddressPermitted(policy: OutboundPolicy, ip: string): boolean {
  if (isPublicAddress(ip)) return true;
  return policy.allowPrivate === true && !isLinkLocalAddress(ip);
}
