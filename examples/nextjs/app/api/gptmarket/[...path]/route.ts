/**
 * The browser's door to the gateway: it forwards the generation calls and adds the API key, which stays on this
 * server (GPTMARKET_API_KEY is never sent to the browser: no NEXT_PUBLIC_ prefix, read here only). Only the routes
 * the page needs are forwarded; the event stream is passed through as it arrives.
 */
export const dynamic = 'force-dynamic';

const ROUTES = /^v1\/(generation-types|generations(\/gen_[A-Za-z0-9]{10,40}(\/(events|cancel|retry))?)?)$/;
const REQUEST_HEADERS = ['accept', 'content-type', 'idempotency-key', 'last-event-id'];
const RESPONSE_HEADERS = ['content-type', 'cache-control', 'retry-after', 'x-request-id'];

const problem = (status: number, code: string, message: string) => Response.json({ error: { code, message } }, { status });

async function forward(req: Request, ctx: { params: Promise<{ path: string[] }> }): Promise<Response> {
  const path = (await ctx.params).path.join('/');
  if (!ROUTES.test(path)) return problem(404, 'not_found', 'no such route');
  const base = process.env.GPTMARKET_URL;
  if (!base) return problem(503, 'unavailable', 'the example is not configured (GPTMARKET_URL)');
  const url = new URL(`${base.replace(/\/+$/, '')}/${path}`);
  url.search = new URL(req.url).search;
  const headers = new Headers();
  for (const name of REQUEST_HEADERS) {
    const value = req.headers.get(name);
    if (value) headers.set(name, value);
  }
  const key = process.env.GPTMARKET_API_KEY;
  if (key) headers.set('authorization', `Bearer ${key}`);
  let upstream: Response;
  try {
    upstream = await fetch(url, {
      method: req.method,
      headers,
      body: req.method === 'POST' ? await req.text() : undefined,
      signal: req.signal,
      cache: 'no-store',
    });
  } catch {
    return problem(502, 'network_error', 'the generation service could not be reached');
  }
  const out = new Headers();
  for (const name of RESPONSE_HEADERS) {
    const value = upstream.headers.get(name);
    if (value) out.set(name, value);
  }
  if (/event-stream/.test(out.get('content-type') ?? '')) out.set('x-accel-buffering', 'no');
  return new Response(upstream.body, { status: upstream.status, headers: out });
}

export { forward as GET, forward as POST };
