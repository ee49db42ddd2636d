/**
 * OpenTelemetry traces, exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise nothing is
 * installed and every span below is OpenTelemetry's no-op one (free). One trace follows a generation: the gateway's
 * HTTP span → the workflow start (Temporal's client interceptor) → the workflow and its activities (its worker
 * interceptors) → each provider request (`withSpan` in the providers' limiter, and fetch through undici) → FFmpeg.
 */
import { SpanKind, SpanStatusCode, context, trace, type Attributes, type Span } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { optionalString } from './env.js';

/** The variables of tracing, in every process's env schema. */
export const tracingEnvShape = {
  /** OTLP/HTTP collector base URL (spans go to <url>/v1/traces); tracing is off while unset. */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString(),
};

export interface Tracing {
  /** Where finished spans go (Temporal's workflow span sink feeds it too); a no-op one when tracing is off. */
  processor: SpanProcessor;
  resource: Resource;
  enabled: boolean;
  /** Exports what is buffered (call before exit). */
  flush(): Promise<void>;
}

let installed: Tracing | null = null;

/** Installs tracing for this process once (later calls return the first); off unless the endpoint is set. */
export function startTracing(service: string, env: { OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined }): Tracing {
  if (installed) return installed;
  const resource = new Resource({ 'service.name': service });
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.replace(/\/+$/, '');
  if (!endpoint) {
    installed = { processor: new NoopSpanProcessor(), resource, enabled: false, flush: async () => {} };
    return installed;
  }
  const processor = new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }), { scheduledDelayMillis: 1_000 });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register(); // the global tracer, AsyncLocalStorage context and W3C trace-context propagation
  registerInstrumentations({ tracerProvider: provider, instrumentations: [new UndiciInstrumentation()] });
  installed = { processor, resource, enabled: true, flush: () => provider.forceFlush() };
  return installed;
}

/** The process's tracing: what `startTracing` installed, or the off one. */
export const currentTracing = (): Tracing => installed ?? startTracing('gptmarket', {});

export const tracer = () => trace.getTracer('gptmarket');

/** Runs `fn` in a new active span; a throw marks the span failed (its message only) and is rethrown. */
export async function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  return tracer().startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

export { SpanKind, SpanStatusCode, context as otelContext, trace as otelTrace, type Span };
