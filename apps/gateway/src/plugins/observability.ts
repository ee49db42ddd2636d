import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ROOT_CONTEXT, propagation } from '@opentelemetry/api';
import {
  SpanKind,
  SpanStatusCode,
  currentTracing,
  metrics,
  otelContext,
  otelTrace,
  redactUrl,
  tracer,
  type Span,
} from '@gptmarket/runtime';

/**
 * Per request: one access line (Fastify's request logger, so it carries `request_id`; the URL with secret query
 * values redacted, never headers), the latency histogram by route pattern and status, and — when tracing is on —
 * a server span (continuing a caller's `traceparent`) that is active while the handler runs, so the workflow
 * start and everything after it join the request's trace.
 */
export function registerObservability(app: FastifyInstance): void {
  const spans = new WeakMap<FastifyRequest, Span>();
  const tracing = currentTracing().enabled;
  const routeOf = (req: FastifyRequest) => req.routeOptions.url ?? '(unmatched)';

  if (tracing) {
    app.addHook('onRequest', async (req) => {
      const parent = propagation.extract(ROOT_CONTEXT, req.headers);
      const span = tracer().startSpan(
        `${req.method} ${routeOf(req)}`,
        { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'http.route': routeOf(req), 'request.id': req.id } },
        parent,
      );
      spans.set(req, span);
    });
    // Handlers run in the request span's context (hooks and body parsing run in the socket's).
    app.addHook('onRoute', (route) => {
      const handler = route.handler;
      route.handler = function (this: unknown, req, reply) {
        const span = spans.get(req);
        return span
          ? otelContext.with(otelTrace.setSpan(ROOT_CONTEXT, span), () => handler.call(this as never, req, reply))
          : handler.call(this as never, req, reply);
      };
    });
  }

  /** The histogram's series by method, route and status, looked up once each (prom-client hashes the labels per call). */
  const series = new Map<string, ReturnType<typeof metrics.httpDuration.labels>>();
  const durationOf = (method: string, route: string, status: number) => {
    const key = `${method} ${status} ${route}`;
    let s = series.get(key);
    if (!s) series.set(key, (s = metrics.httpDuration.labels({ method, route, status_code: String(status) })));
    return s;
  };

  app.addHook('onResponse', (req, reply, done) => {
    const route = routeOf(req);
    durationOf(req.method, route, reply.statusCode).observe(reply.elapsedTime / 1000);
    const span = spans.get(req);
    req.log.info(
      {
        method: req.method,
        url: redactUrl(req.url),
        route,
        status_code: reply.statusCode,
        duration_ms: Math.round(reply.elapsedTime),
        ...(span ? { trace_id: span.spanContext().traceId } : {}),
      },
      'request',
    );
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
}
