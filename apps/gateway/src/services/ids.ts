import { randomBytes, randomUUID } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `gen_` + 24 random base-62 characters. */
export function newGenerationId(): string {
  const bytes = randomBytes(48);
  let out = '';
  for (const b of bytes) {
    if (b >= 248) continue; // 248 = 62 * 4: keep the distribution uniform
    out += ALPHABET[b % 62];
    if (out.length === 24) break;
  }
  return out.length === 24 ? `gen_${out}` : newGenerationId();
}

/** Workflow ids as the Python docs start them: `<prefix>-<uuid>`. */
export const newWorkflowId = (prefix: string): string => `${prefix}-${randomUUID()}`;
