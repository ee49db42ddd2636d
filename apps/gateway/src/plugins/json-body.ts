import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';

export const MAX_JSON_DEPTH = 32;

/** Depth of a JSON text, counted outside strings, without parsing it (refuses absurd nesting before JSON.parse). */
export function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      depth++;
      if (depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 125 || c === 93) depth--;
  }
  return max;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** First string (value or key) that PostgreSQL's jsonb cannot store or that is not valid Unicode, as a path. */
function badString(value: unknown, path: string[]): { path: string; message: string } | null {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) return { path: path.join('.') || '(root)', message: 'must not contain NUL characters' };
    if (LONE_SURROGATE.test(value)) return { path: path.join('.') || '(root)', message: 'must be valid Unicode (lone surrogate)' };
    return null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = badString(value[i], [...path, String(i)]);
      if (bad) return bad;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const keyBad = badString(k, [...path, k]);
      if (keyBad) return { ...keyBad, message: `key ${keyBad.message}` };
      const bad = badString(v, [...path, k]);
      if (bad) return bad;
    }
  }
  return null;
}

/**
 * JSON is the only body type. The parser refuses deep nesting, prototype-pollution keys (`__proto__`,
 * `constructor.prototype`), NUL characters and lone surrogates with a 400 before anything else sees the body.
 */
export function registerJsonBody(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  const parse = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = body as string;
    if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      return done(new ApiError(400, 'validation_failed', `the JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`));
    }
    parse(req, text, (err, value) => {
      if (err) {
        const proto = /prototype|__proto__|constructor/i.test(err.message);
        return done(
          new ApiError(
            400,
            'validation_failed',
            proto ? 'the JSON body contains forbidden keys (__proto__ or constructor.prototype)' : 'the body is not valid JSON',
          ),
        );
      }
      const bad = badString(value, []);
      if (bad) return done(new ApiError(400, 'validation_failed', 'the JSON body contains text that cannot be stored', [bad]));
      done(null, value);
    });
  });
}
