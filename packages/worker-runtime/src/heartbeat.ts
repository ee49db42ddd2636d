import { Context } from '@temporalio/activity';

/** How often long activities heartbeat: the heartbeat timeouts (5-6 s) allow for several missed beats. */
export const HEARTBEAT_EVERY_MS = 1_000;

/**
 * Heartbeats the current activity every `ms` with the latest `details()` while a long call runs, so a cancel
 * reaches it between progress reports and the heartbeat timeout fires only when the worker is gone. Returns `stop`.
 */
export function keepAlive(ms: number, details?: () => unknown): () => void {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(details?.()), ms);
  return () => clearInterval(timer);
}
