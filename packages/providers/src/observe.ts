/**
 * The one place provider requests are measured and traced: every attempt the limiter makes (`limits.ts`) runs
 * here, so each provider's latency, errors and 429s are counted by provider and model, and each request is a span
 * (its HTTP exchange, through undici, is a child of it when tracing is on).
 */
import { SpanKind, metrics, withSpan } from '@gptmarket/runtime';
import { ProviderError } from './errors.js';

export async function observeProviderCall<T>(provider: string, model: string | undefined, fn: () => Promise<T>): Promise<T> {
  const labels = { provider, model: model ?? 'none' };
  const end = metrics.providerDuration.startTimer(labels);
  return withSpan(
    `provider ${provider}`,
    { 'gptmarket.provider': provider, 'gptmarket.model': labels.model },
    async () => {
      try {
        const result = await fn();
        end({ outcome: 'ok' });
        return result;
      } catch (err) {
        const code = err instanceof ProviderError ? err.code : 'unknown';
        end({ outcome: code === 'rate_limited' ? 'rate_limited' : 'error' });
        metrics.providerErrors.inc({ ...labels, code });
        if (code === 'rate_limited') metrics.providerRateLimited.inc(labels);
        throw err;
      }
    },
    SpanKind.CLIENT,
  );
}
