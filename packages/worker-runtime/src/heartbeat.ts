import { Context } from '@temporalio/activity';

/**
 * Heartbeats the current activity every `ms` with the latest `details()` while a long call runs, so a cancel
 * reaches it between progress reports and the heartbeat timeout fires only when the worker is gone. Returns `stop`.
 */
export function keepAlive(ms: number, details?: () => unknown): () => void {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(details?.()), ms);
  return () => clearInterval(timer);
}
