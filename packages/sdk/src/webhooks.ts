import type { Generation } from '@gptmarket/contracts';

/**
 * Verifies a webhook the gateway POSTed (docs/api.md, "Webhooks"): `webhook-signature` holds
 * `v1,<base64 HMAC-SHA256(secret, "<webhook-id>.<webhook-timestamp>.<raw body>")>` (several may be given, separated by
 * spaces), and `webhook-timestamp` (Unix seconds, set at each delivery attempt) must lie within `toleranceSeconds`
 * of now. Uses Web Crypto only (`crypto.subtle`), so it runs in browsers, Node ≥ 20 and edge runtimes; the compare
 * is `crypto.subtle.verify`, which does not leak timing.
 *
 * Returns the generation the body carries. Deduplicate on `webhook-id`: a delivery is retried until it is answered
 * with a 2xx, so one event may arrive more than once.
 */

export const WEBHOOK_TOLERANCE_SECONDS = 300;

export type WebhookErrorCode = 'missing_headers' | 'invalid_timestamp' | 'timestamp_too_old' | 'timestamp_too_new' | 'invalid_signature';

export class WebhookVerificationError extends Error {
  override name = 'WebhookVerificationError';
  readonly code: WebhookErrorCode;
  constructor(code: WebhookErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Headers as a `Headers` object (fetch, edge runtimes) or a plain object (Node's `req.headers`, any case). */
export type WebhookHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

export interface VerifyWebhookOptions {
  /** How far `webhook-timestamp` may be from now, either way. Default 300 s. */
  toleranceSeconds?: number;
  /** The current time in milliseconds (for tests). */
  now?: number;
}

export interface VerifiedWebhook {
  /** `webhook-id`: the same on every retry of one event. */
  id: string;
  timestamp: number;
  generation: Generation;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() !== name) continue;
    return typeof value === 'string' ? value : value?.join(', ');
  }
  return undefined;
}

function base64Bytes(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  try {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}

const utf8 = new TextEncoder();

/** Checks the signature and timestamp of a webhook request; throws {@link WebhookVerificationError} when it is not ours. */
export async function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  body: string | Uint8Array | ArrayBuffer,
  options: VerifyWebhookOptions = {},
): Promise<VerifiedWebhook> {
  if (typeof secret !== 'string' || secret.length === 0) throw new TypeError('verifyWebhook needs the signing secret');
  const id = header(headers, 'webhook-id');
  const timestampText = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestampText || !signatures) {
    throw new WebhookVerificationError('missing_headers', 'webhook-id, webhook-timestamp and webhook-signature are required');
  }
  if (!/^\d{1,12}$/.test(timestampText)) throw new WebhookVerificationError('invalid_timestamp', 'webhook-timestamp is not Unix seconds');
  const timestamp = Number(timestampText);
  const tolerance = options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  if (timestamp < nowSeconds - tolerance) throw new WebhookVerificationError('timestamp_too_old', 'the webhook timestamp is too old');
  if (timestamp > nowSeconds + tolerance) throw new WebhookVerificationError('timestamp_too_new', 'the webhook timestamp is in the future');

  const bodyBytes = typeof body === 'string' ? utf8.encode(body) : body instanceof Uint8Array ? body : new Uint8Array(body);
  const prefix = utf8.encode(`${id}.${timestampText}.`);
  const signed = new Uint8Array(prefix.length + bodyBytes.length);
  signed.set(prefix, 0);
  signed.set(bodyBytes, prefix.length);
  const key = await crypto.subtle.importKey('raw', utf8.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  let valid = false;
  for (const candidate of signatures.trim().split(/\s+/)) {
    const comma = candidate.indexOf(',');
    if (comma === -1 || candidate.slice(0, comma) !== 'v1') continue;
    const mac = base64Bytes(candidate.slice(comma + 1));
    if (!mac || mac.length !== 32) continue;
    // Every candidate is checked (no early exit), each by the platform's constant-time verify.
    if (await crypto.subtle.verify('HMAC', key, mac, signed)) valid = true;
  }
  if (!valid) throw new WebhookVerificationError('invalid_signature', 'the webhook signature does not match');
  const text = typeof body === 'string' ? body : new TextDecoder().decode(bodyBytes);
  return { id, timestamp, generation: JSON.parse(text) as Generation };
}
