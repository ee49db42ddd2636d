/** Small AbortSignal helpers that do not rely on `AbortSignal.any` (missing in older browsers). */

export interface LinkedSignal {
  readonly signal: AbortSignal;
  readonly controller: AbortController;
  /** Detaches the listeners from the parent signals and clears the timer. */
  dispose(): void;
}

/** A signal that aborts when any parent aborts, or after `timeoutMs` with `timeoutReason`. */
export function linkSignals(
  parents: readonly (AbortSignal | undefined)[],
  timeoutMs?: number,
  timeoutReason?: () => unknown,
): LinkedSignal {
  const controller = new AbortController();
  const cleanups: (() => void)[] = [];
  for (const parent of parents) {
    if (!parent) continue;
    if (parent.aborted) {
      controller.abort(parent.reason);
      break;
    }
    const onAbort = () => controller.abort(parent.reason);
    parent.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => parent.removeEventListener('abort', onAbort));
  }
  if (timeoutMs !== undefined && Number.isFinite(timeoutMs) && !controller.signal.aborted) {
    const timer = setTimeout(() => controller.abort(timeoutReason ? timeoutReason() : new Error('timeout')), Math.max(0, timeoutMs));
    cleanups.push(() => clearTimeout(timer));
  }
  const dispose = () => {
    for (const c of cleanups.splice(0)) c();
  };
  controller.signal.addEventListener('abort', dispose, { once: true });
  return { signal: controller.signal, controller, dispose };
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Exponential backoff with "equal jitter": half fixed, half random, capped. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}
