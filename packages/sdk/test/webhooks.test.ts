import { describe, expect, it } from 'vitest';
import { signWebhook } from '@gptmarket/gateway';
import { WEBHOOK_TOLERANCE_SECONDS, WebhookVerificationError, verifyWebhook } from '../src/index.js';

const SECRET = 'whsec-test-7f3a';
const body = JSON.stringify({ id: 'gen_abcdefghij', status: 'completed', output: { final_video_url: 'https://x/ü.mp4' } });
const now = Date.now();
const ts = Math.floor(now / 1000);
/** Headers exactly as the gateway's delivery activity sends them (apps/gateway/src/services/webhooks.ts). */
const signed = (timestamp = ts, payload = body, id = 'whd_1') => ({
  'webhook-id': id,
  'webhook-timestamp': String(timestamp),
  'webhook-signature': signWebhook(SECRET, id, timestamp, payload),
});
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'verified',
    (e: unknown) => (e instanceof WebhookVerificationError ? e.code : e),
  );

describe('verifyWebhook', () => {
  it('accepts what the gateway signs, from a Headers object or Node-style headers, with the body as text or bytes', async () => {
    const verified = await verifyWebhook(SECRET, signed(), body, { now });
    expect(verified).toEqual({ id: 'whd_1', timestamp: ts, generation: JSON.parse(body) });
    expect((await verifyWebhook(SECRET, new Headers(signed()), new TextEncoder().encode(body), { now })).id).toBe('whd_1');
    const upper = Object.fromEntries(Object.entries(signed()).map(([k, v]) => [k.toUpperCase(), v]));
    expect((await verifyWebhook(SECRET, upper, new TextEncoder().encode(body).buffer, { now })).generation.status).toBe('completed');
  });

  it('refuses another secret, a changed body, id or timestamp', async () => {
    expect(await code(verifyWebhook('other-secret', signed(), body, { now }))).toBe('invalid_signature');
    expect(await code(verifyWebhook(SECRET, signed(), body.replace('completed', 'failed'), { now }))).toBe('invalid_signature');
    expect(await code(verifyWebhook(SECRET, { ...signed(), 'webhook-id': 'whd_2' }, body, { now }))).toBe('invalid_signature');
    expect(await code(verifyWebhook(SECRET, { ...signed(), 'webhook-timestamp': String(ts - 1) }, body, { now }))).toBe(
      'invalid_signature',
    );
  });

  it('keeps a timestamp window of five minutes either way', async () => {
    expect(WEBHOOK_TOLERANCE_SECONDS).toBe(300);
    expect(await code(verifyWebhook(SECRET, signed(ts - 299), body, { now }))).toBe('verified');
    expect(await code(verifyWebhook(SECRET, signed(ts + 299), body, { now }))).toBe('verified');
    expect(await code(verifyWebhook(SECRET, signed(ts - 301), body, { now }))).toBe('timestamp_too_old');
    expect(await code(verifyWebhook(SECRET, signed(ts + 301), body, { now }))).toBe('timestamp_too_new');
    expect(await code(verifyWebhook(SECRET, signed(ts - 1000), body, { now, toleranceSeconds: 3600 }))).toBe('verified');
    expect(await code(verifyWebhook(SECRET, { ...signed(), 'webhook-timestamp': '1e9' }, body, { now }))).toBe('invalid_timestamp');
  });

  it('needs all three headers, and accepts any one valid v1 signature of several', async () => {
    const { 'webhook-signature': sig, ...rest } = signed();
    expect(await code(verifyWebhook(SECRET, rest, body, { now }))).toBe('missing_headers');
    const wrong = signWebhook('rotated-away', 'whd_1', ts, body);
    expect(await code(verifyWebhook(SECRET, { ...rest, 'webhook-signature': `${wrong} ${sig}` }, body, { now }))).toBe('verified');
    expect(await code(verifyWebhook(SECRET, { ...rest, 'webhook-signature': wrong }, body, { now }))).toBe('invalid_signature');
    expect(await code(verifyWebhook(SECRET, { ...rest, 'webhook-signature': sig.replace('v1,', 'v2,') }, body, { now }))).toBe(
      'invalid_signature',
    );
    expect(await code(verifyWebhook(SECRET, { ...rest, 'webhook-signature': 'v1,not base64!' }, body, { now }))).toBe('invalid_signature');
  });
});
