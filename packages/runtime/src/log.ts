/**
 * One log format for every process: pino's JSON lines — `time` (ISO), `level` (a word), `service`, `msg`, then the
 * fields — info and below on stdout, warn and above on stderr. Secrets never reach the output: any field whose name
 * looks like a secret (at any depth of plain objects) and the paths in `REDACTED_PATHS` print as `[redacted]`.
 */
import { pino, type DestinationStream, type Logger as Pino } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Field names whose values are secrets. */
const SECRET_FIELD = /secret|password|token|api_?key|authorization|cookie|signature|credential/i;
/** Paths pino redacts besides the field names (headers of serialized requests and responses). */
const REDACTED_PATHS = ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'res.headers["set-cookie"]'];
const REDACTED = '[redacted]';
const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

/** Whether `redactFields` would change anything: a secret-looking field name, or an object or array to look into. */
function needsRedaction(value: Record<string, unknown>): boolean {
  for (const k in value) {
    const v = value[k];
    if (SECRET_FIELD.test(k) || (v !== null && typeof v === 'object')) return true;
  }
  return false;
}

function redactFields(value: unknown, depth: number): unknown {
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactFields(v, depth + 1));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value; // errors, buffers, class instances: serializers handle them
  // Most lines (an access line, for one) hold only harmless scalars: no copy then.
  if (!needsRedaction(value as Record<string, unknown>)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELD.test(k) ? REDACTED : redactFields(v, depth + 1);
  return out;
}

/** A URL for the log: the values of secret-looking query parameters (and presigned signatures) replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const key of new Set(params.keys())) if (SECRET_FIELD.test(key) || /^x-amz-/i.test(key)) params.set(key, REDACTED);
  return `${url.slice(0, q)}?${params.toString()}`;
}

let standardStreams: DestinationStream | undefined;

/**
 * stdout below warn, stderr from warn up (pino's multistream sends each line to the highest stream it reaches). The
 * writes are asynchronous (sonic-boom): a busy process writes many lines in one system call instead of one call per
 * line, and what is pending is written out when the process exits. One pair per process, shared by its loggers, so
 * their lines never interleave.
 */
function destination(): DestinationStream {
  standardStreams ??= pino.multistream(
    [
      { level: 'trace', stream: pino.destination({ dest: 1, sync: false }) },
      { level: 'warn', stream: pino.destination({ dest: 2, sync: false }) },
    ],
    { dedupe: true },
  );
  return standardStreams;
}

const pinos = new WeakMap<Logger, Pino>();

/** The pino logger of a service (Fastify's `loggerInstance`, the Temporal runtime's logger). */
export function createPino(service: string, level = 'info', stream: DestinationStream = destination()): Pino {
  const lvl = level.toLowerCase();
  return pino(
    {
      level: LEVELS.has(lvl) ? lvl : 'info',
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: (obj) => redactFields(obj, 0) as Record<string, unknown> },
      redact: { paths: REDACTED_PATHS, censor: REDACTED },
    },
    stream,
  );
}

/** Our `Logger` over a pino logger (fields first, message last, as pino takes them). */
function loggerOf(p: Pino): Logger {
  const at =
    (lvl: LogLevel) =>
    (msg: string, fields?: Record<string, unknown>): void =>
      fields ? p[lvl](fields, msg) : p[lvl](msg);
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  pinos.set(log, p);
  return log;
}

/** A one-line JSON logger for `service`; `stream` is for tests (default: stdout/stderr by level). */
export function createLogger(service: string, level: string = 'info', stream?: DestinationStream): Logger {
  return loggerOf(createPino(service, level, stream));
}

/** The pino logger behind a `Logger` made here, or a new one for the service when it was made elsewhere. */
export const pinoOf = (log: Logger, service: string): Pino => pinos.get(log) ?? createPino(service, 'silent');
