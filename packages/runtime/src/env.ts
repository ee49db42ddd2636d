import { z } from 'zod';

/** Helpers every process's env.ts uses: empty values count as unset (as pydantic-settings did). */
export const optionalString = () =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

export const stringWithDefault = (fallback: string) => optionalString().transform((v) => v ?? fallback);

/** Booleans parsed explicitly: true/false/1/0/yes/no/on/off, anything else is an error. */
export const booleanFlag = (fallback: boolean) =>
  optionalString().transform((v, ctx) => {
    if (v === undefined) return fallback;
    const s = v.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(s)) return true;
    if (['false', '0', 'no', 'off'].includes(s)) return false;
    ctx.addIssue({ code: 'custom', message: `expected true or false, got "${v}"` });
    return z.NEVER;
  });

/** A whole number from `min` to `max`; `fallback` when unset (pass undefined for "no default"). */
export const integer = <F extends number | undefined>(fallback: F, min: number, max: number) =>
  optionalString().transform((v, ctx): number | F => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `expected a whole number from ${min} to ${max}, got "${v}"` });
      return z.NEVER;
    }
    return n;
  });

export const urlString = () =>
  optionalString().refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), { message: 'expected an http(s) URL' });

/** Secrets may not carry the placeholder value the Python system refused too. */
export const secretString = () =>
  optionalString().refine((v) => v !== 'changethis', { message: 'still has the placeholder value "changethis"' });

/**
 * Parses `source` with `schema`; on failure prints every bad variable by name (never its value) and exits.
 */
export function loadEnv<T extends z.ZodType>(schema: T, source: NodeJS.ProcessEnv = process.env, processName = 'process'): z.infer<T> {
  const parsed = schema.safeParse(source);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.') || '(env)'}: ${i.message}`);
  const message = `${processName}: invalid environment:\n${lines.join('\n')}`;
  if (process.env.VITEST) throw new Error(message);
  console.error(message);
  process.exit(78);
}

/**
 * The deployment stage, under Node's name and the Python system's: `NODE_ENV=production` and
 * `ENVIRONMENT=production` both mean production (`isProduction`). ENVIRONMENT takes the Python system's values.
 */
export const ENVIRONMENTS = ['local', 'staging', 'production', 'testing'] as const;
export const deploymentEnvShape = {
  NODE_ENV: stringWithDefault('development'),
  ENVIRONMENT: optionalString().refine((v) => v === undefined || (ENVIRONMENTS as readonly string[]).includes(v), {
    message: `expected one of ${ENVIRONMENTS.join(', ')}`,
  }),
};
/** True when either NODE_ENV or ENVIRONMENT says production: every production-only rule asks this. */
export const isProduction = (env: { NODE_ENV?: string | undefined; ENVIRONMENT?: string | undefined }): boolean =>
  env.NODE_ENV === 'production' || env.ENVIRONMENT === 'production';
