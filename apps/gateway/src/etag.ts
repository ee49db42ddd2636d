import { hash } from 'node:crypto';

/** A strong ETag for a body: its SHA-256, base64url, cut to 27 characters (162 bits). */
export const strongEtag = (body: string | Buffer): string => `"${hash('sha256', body, 'base64url').slice(0, 27)}"`;

/** Whether an `If-None-Match` header names `etag` (weak comparison, RFC 9110 section 13.1.2; `*` matches any). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}
