export { startStack, type Stack } from '@gptmarket/testkit';

/** What the running gateway offers, probed over HTTP, so tests of features still to land skip instead of failing. */
export interface Capabilities {
  openapi: boolean;
  sse: boolean;
  cancel: boolean;
  retry: boolean;
  cursor: boolean;
  idempotency: boolean;
  /** Requests without credentials are refused (with the auth configured for the stack). */
  auth: boolean;
  /** API keys can be created with the gateway's command. */
  apiKeys: boolean;
  /** Responses carry x-ratelimit-* headers. */
  rateLimit: boolean;
  /** A CORS preflight from `origin` is allowed. */
  cors: boolean;
}

export async function probeCapabilities(baseUrl: string, authorization: string, origin: string): Promise<Capabilities> {
  const get = (path: string, headers: Record<string, string> = { authorization }) => fetch(baseUrl + path, { headers });
  type OpenApi = { paths?: Record<string, Record<string, unknown>> };
  let openapi: OpenApi | null = null;
  const res = await get('/openapi.json');
  if (res.ok && /json/.test(res.headers.get('content-type') ?? '')) openapi = (await res.json()) as OpenApi;
  else await res.body?.cancel();
  const paths = openapi?.paths ?? {};
  const route = (p: string, method: string) => Boolean(paths[p]?.[method]);
  const events = route('/v1/generations/{id}/events', 'get');
  const listSpec = JSON.stringify(paths['/v1/generations']?.get ?? {});
  const createSpec = JSON.stringify(paths['/v1/generations']?.post ?? {});

  const open = await get('/v1/generation-types', {});
  await open.body?.cancel();
  const types = await get('/v1/generation-types');
  await types.body?.cancel();
  const preflight = await fetch(`${baseUrl}/v1/generation-types`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
  });
  await preflight.body?.cancel();
  return {
    openapi: openapi !== null,
    sse: events,
    cancel: route('/v1/generations/{id}/cancel', 'post'),
    retry: route('/v1/generations/{id}/retry', 'post'),
    cursor: /cursor/.test(listSpec),
    idempotency: /idempotency-key/i.test(createSpec),
    auth: open.status === 401,
    apiKeys: open.status === 401,
    rateLimit: types.headers.has('x-ratelimit-limit'),
    cors:
      preflight.headers.get('access-control-allow-origin') === origin &&
      /authorization/i.test(preflight.headers.get('access-control-allow-headers') ?? ''),
  };
}

/** A fetch that lets a test change what the network does to the events stream (a proxy in between, a dropped connection). */
export function interceptEvents(transform: (res: Response, connection: number) => Response | Promise<Response>): {
  fetch: typeof fetch;
  requests: { url: string; lastEventId: string | null }[];
} {
  const requests: { url: string; lastEventId: string | null }[] = [];
  let connections = 0;
  const wrapped: typeof fetch = async (input, init) => {
    const url = String(input);
    const lastEventId = new Headers(init?.headers).get('last-event-id');
    const res = await fetch(input, init);
    if (!/\/events$/.test(url)) return res;
    requests.push({ url, lastEventId });
    return transform(res, connections++);
  };
  return { fetch: wrapped, requests };
}

/**
 * The events response, broken like a reset connection right after its first event, or with `withStep` its first
 * event that names a step (a run on the offline providers can end within the reconnection delay: a listener that
 * lost the stream on a pending event would see no step but the last).
 */
export function breakAfterFirstEvent(res: Response, { withStep = false } = {}): Response {
  const first = withStep ? /(^|\n)id: \d+\n[^\n]*\ndata: [^\n]*"current_step":\{[^]*?\n\n/ : /(^|\n)id: \d+\n[^]*?\n\n/;
  if (!res.body) return res;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let seen = '';
  const body = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      const { done, value } = await reader.read();
      if (done) return ctl.close();
      ctl.enqueue(value);
      seen += decoder.decode(value, { stream: true });
      if (first.test(seen)) {
        await reader.cancel();
        ctl.error(new TypeError('connection reset by peer (test)'));
      }
    },
  });
  return new Response(body, { status: res.status, headers: res.headers });
}
