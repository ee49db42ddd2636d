import { createHmac, hash, timingSafeEqual } from 'node:crypto';

/**
 * Per-workflow tokens: the gateway never puts the raw secret into a workflow input. It sends
 * `v1.` + hex HMAC-SHA256(secret, workflowId); workers accept that token for that workflow id, or the raw
 * secret (direct Temporal clients, as in the Python system's Next.js guide).
 */
export const WORKFLOW_TOKEN_PREFIX = 'v1.';

export function workflowToken(secret: string, workflowId: string): string {
  return WORKFLOW_TOKEN_PREFIX + createHmac('sha256', secret).update(workflowId, 'utf8').digest('hex');
}

/** Constant-time equality of two strings of any length (compares their SHA-256 digests). */
export function safeEqual(a: string, b: string): boolean {
  const da = hash('sha256', a, 'buffer');
  const db = hash('sha256', b, 'buffer');
  return timingSafeEqual(da, db);
}

export type SecretCheck = 'ok' | 'missing' | 'invalid' | 'not_configured' | 'disabled';

export interface SecretConfig {
  enabled: boolean;
  /** Accepted secrets: the current one first, then any older one still accepted during a rotation. */
  secrets: readonly string[];
}

/** Checks a workflow's `secret_key` against the configuration read once at worker start. */
export function checkWorkflowSecret(config: SecretConfig, provided: string | null | undefined, workflowId: string): SecretCheck {
  if (!config.enabled) return 'disabled';
  if (config.secrets.length === 0) return 'not_configured';
  if (provided === null || provided === undefined || provided === '') return 'missing';
  let ok = false;
  // Every candidate is compared, so the time taken does not depend on which one (if any) matched.
  for (const secret of config.secrets) {
    const raw = safeEqual(provided, secret);
    const token = safeEqual(provided, workflowToken(secret, workflowId));
    ok = raw || token || ok;
  }
  return ok ? 'ok' : 'invalid';
}
