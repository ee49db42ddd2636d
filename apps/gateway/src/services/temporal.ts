import { Client, Connection } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client/index.js';
import { currentTracing, explainTemporalConnectError, type TemporalConnectionOptions } from '@gptmarket/runtime';

// Values of temporal.api.enums.v1.TaskQueueKind / TaskQueueType.
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_WORKFLOW = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;

/** One lazily connected Temporal client per gateway process. */
export class TemporalGateway {
  private client: Promise<Client> | null = null;
  private connection: Connection | null = null;

  /** `opts`: what `temporalConnectionOptions(env)` builds (address, TLS, API key), and the namespace. */
  constructor(private readonly opts: TemporalConnectionOptions & { namespace: string }) {}

  get(): Promise<Client> {
    const { namespace, ...options } = this.opts;
    this.client ??= Connection.connect({ ...options, connectTimeout: '5s' }).then(
      (connection) => {
        this.connection = connection;
        // Workflow starts (and signals, queries, cancels) join the caller's trace when tracing is on. Off, the
        // interceptor would still add an empty trace header to every start (and its history).
        const workflow = currentTracing().enabled ? [new OpenTelemetryWorkflowClientInterceptor()] : [];
        return new Client({ connection, namespace, interceptors: { workflow } });
      },
      (err) => {
        this.client = null; // try again on the next request
        throw new TemporalConnectError(explainTemporalConnectError(err, options), { cause: err });
      },
    );
    return this.client;
  }

  /** Readiness: the namespace answers within the deadline. */
  async check(timeoutMs = 3_000): Promise<void> {
    const client = await this.get();
    await client.connection.withDeadline(Date.now() + timeoutMs, () =>
      client.connection.workflowService.describeNamespace({ namespace: this.opts.namespace }),
    );
  }

  /**
   * Identities of the workers that polled `taskQueue` for workflow or activity tasks in the last few minutes
   * (Temporal keeps a poller about five minutes after its last poll).
   */
  async pollers(taskQueue: string, type: 'workflow' | 'activity', timeoutMs = 3_000): Promise<string[]> {
    const client = await this.get();
    const res = await client.connection.withDeadline(Date.now() + timeoutMs, () =>
      client.connection.workflowService.describeTaskQueue({
        namespace: this.opts.namespace,
        taskQueue: { name: taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
        taskQueueType: type === 'workflow' ? TASK_QUEUE_TYPE_WORKFLOW : TASK_QUEUE_TYPE_ACTIVITY,
      }),
    );
    return [...new Set((res.pollers ?? []).map((p) => p.identity ?? '').filter(Boolean))];
  }

  async close(): Promise<void> {
    await this.connection?.close();
  }
}

/** Temporal could not be reached, or refused the connection; the message says why in plain words. */
export class TemporalConnectError extends Error {
  override name = 'TemporalConnectError';
}

/** True when an error means Temporal could not be reached (as opposed to a refusal of the request). */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: number; name?: string; message?: string };
  // gRPC UNAVAILABLE (14) and DEADLINE_EXCEEDED (4), or a failed connect.
  if (err instanceof TemporalConnectError) return true;
  return e?.code === 14 || e?.code === 4 || /connect|UNAVAILABLE|ECONNREFUSED|deadline/i.test(`${e?.name} ${e?.message}`);
}
