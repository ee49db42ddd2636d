import { GptMarketError } from '@gptmarket/sdk';
import { UsageError } from './args.js';

/** Exit codes: documented in the package README. */
export const EXIT = { ok: 0, failed: 1, usage: 2, cancelled: 3, interrupted: 130 } as const;

const credentialsHint =
  'set GPTMARKET_API_KEY (or --api-key), or GPTMARKET_BASIC_AUTH=user:password (or --basic-auth) for a gateway with basic auth';

/** An error in plain words, for a person at a terminal: what happened and what to do; never a stack trace. */
export function explain(err: unknown, baseUrl: string): { message: string; code: number } {
  if (err instanceof UsageError) return { message: err.message, code: EXIT.usage };
  if (!(err instanceof GptMarketError)) {
    const e = err as { message?: string };
    return { message: `something went wrong: ${e?.message ?? String(err)}`, code: EXIT.failed };
  }
  const ref = err.requestId ? ` (request ${err.requestId})` : '';
  const details = err.issues.map((i) => `\n  ${i.path}: ${i.message}`).join('');
  switch (err.status === 0 ? err.code : err.status) {
    case 'network_error': {
      const cause = (err.cause as { cause?: { code?: string; message?: string } } | undefined)?.cause;
      const why = cause?.code ?? cause?.message ?? err.message;
      return {
        message: `cannot reach the gateway at ${baseUrl} (${why}). Is it running (./scripts/dev.sh)? Point the CLI elsewhere with GPTMARKET_URL or --url.`,
        code: EXIT.failed,
      };
    }
    case 'timeout':
      return { message: `the gateway at ${baseUrl} did not answer in time (${err.message})`, code: EXIT.failed };
    case 401:
      return { message: `the gateway refused the credentials: ${err.message}. To sign in, ${credentialsHint}.`, code: EXIT.failed };
    case 403:
      return { message: `not allowed: ${err.message}`, code: EXIT.failed };
    case 404:
      return { message: `not found: ${err.message}`, code: EXIT.failed };
    case 429: {
      const wait = err.retryAfterSeconds !== null ? `; try again in ${err.retryAfterSeconds} s` : '';
      return { message: `the gateway is limiting requests: ${err.message}${wait}`, code: EXIT.failed };
    }
    default:
      if (err.status >= 500) return { message: `the gateway could not do it: ${err.message}${ref}`, code: EXIT.failed };
      return { message: `${err.message}${details}${ref}`, code: EXIT.failed };
  }
}
