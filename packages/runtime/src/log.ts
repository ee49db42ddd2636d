/** A one-line JSON logger; `redact` keys never reach the output. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}
const SECRET_FIELD = /secret|password|token|api_?key|authorization/i;
export function createLogger(service: string, level: string = 'info'): Logger {
  const min = LEVELS[level.toLowerCase() as LogLevel] ?? LEVELS.info;
  const emit =
    (lvl: LogLevel) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (LEVELS[lvl] < min) return;
      const safe: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(fields)) safe[k] = SECRET_FIELD.test(k) ? '[redacted]' : v;
      const line = JSON.stringify({ time: new Date().toISOString(), level: lvl, service, msg, ...safe });
      (lvl === 'error' || lvl === 'warn' ? process.stderr : process.stdout).write(line + '\n');
    };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
