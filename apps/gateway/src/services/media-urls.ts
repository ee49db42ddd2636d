import type { Storage } from '@gptmarket/storage';

/**
 * Records keep storage keys, not URLs: a private bucket's presigned URLs expire, so the URLs of a generation are
 * made afresh from its keys whenever it is read. Keys are found by JSON Pointer (RFC 6901) into the output.
 */

const escapeToken = (token: string) => token.replace(/~/g, '~0').replace(/\//g, '~1');
const unescapeToken = (token: string) => token.replace(/~1/g, '/').replace(/~0/g, '~');

/**
 * The storage key behind every string in `value` that is a URL of our own storage, by JSON Pointer. Only URLs the
 * storage recognises as its own count (its public base, its bucket, its local media route); any other URL is left
 * out and stays exactly as the workflow returned it.
 */
export function storageKeysIn(value: unknown, storage: Pick<Storage, 'keyFromUrl'>): Record<string, string> {
  const keys: Record<string, string> = {};
  const walk = (v: unknown, pointer: string) => {
    if (typeof v === 'string') {
      const key = storage.keyFromUrl(v);
      if (key) keys[pointer] = key;
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, `${pointer}/${i}`));
    } else if (v && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) walk(item, `${pointer}/${escapeToken(k)}`);
    }
  };
  walk(value, '');
  return keys;
}

/**
 * A copy of `value` in which the string at each pointer is the storage's current URL for its key: the public URL,
 * or one presigned now for the full STORAGE_PRESIGN_SECONDS (local HMAC signing, no request per URL).
 */
export async function withFreshUrls<T>(value: T, keys: Record<string, string>, storage: Pick<Storage, 'url'>): Promise<T> {
  const entries = Object.entries(keys);
  if (entries.length === 0) return value;
  const urls = await Promise.all(entries.map(([, key]) => storage.url(key)));
  const copy = structuredClone(value);
  entries.forEach(([pointer], i) => {
    const tokens = pointer.split('/').slice(1).map(unescapeToken);
    const last = tokens.pop();
    let parent: unknown = copy;
    for (const t of tokens) parent = parent && typeof parent === 'object' ? (parent as Record<string, unknown>)[t] : undefined;
    // Only a string that is still there is replaced (a pointer never adds to the output).
    if (last !== undefined && parent && typeof parent === 'object' && typeof (parent as Record<string, unknown>)[last] === 'string') {
      (parent as Record<string, unknown>)[last] = urls[i];
    }
  });
  return copy;
}
