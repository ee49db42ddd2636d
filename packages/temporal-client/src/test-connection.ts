/**
 * `gptmarket-temporal test-connection`: checks, in order, that Temporal answers at the address (with the TLS/API key
 * settings), that the namespace exists, that a worker polls the task queue, and that the workers accept the secret
 * (a HelloWorld run with it). Each failure says what is wrong and which variable to look at; secrets are never
 * printed.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowFailedError, isGrpcServiceError } from '@temporalio/client';
import { AUTH_ERRORS, HELLO_WORLD_WORKFLOW } from '@gptmarket/sdk/contracts';
import { TemporalConfigError, connectionOptions, failureMessage, workflowToken, type TemporalConfig } from './server.js';

export interface CheckResult {
  check: 'address' | 'namespace' | 'task_queue' | 'secret';
  ok: boolean;
  message: string;
}

const GRPC_NOT_FOUND = 5;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNAUTHENTICATED = 16;
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_WORKFLOW = 1;

function describeConnectError(err: unknown, config: TemporalConfig): string {
  const detail = failureMessage(err);
  const where = `Temporal at ${config.address}`;
  if (/UNAUTHENTICATED|authentication credentials|certificate.?required|status(?: code)?:? 40[01]\b/i.test(detail)) {
    return config.tls?.cert
      ? `${where} refused the client certificate: is TEMPORAL_TLS_CERT signed by the CA the server trusts, and still valid?`
      : config.apiKey
        ? `${where} refused the API key (TEMPORAL_API_KEY), or wants a client certificate (TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY)`
        : `${where} wants a client certificate: set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY`;
  }
  if (/UnknownIssuer|unable to get (local )?issuer|self.signed|unknown ca/i.test(detail)) {
    return `${where} presented a certificate no trusted CA signed: set TEMPORAL_TLS_CA to the CA that signed it`;
  }
  if (/NotValidForName|altnames|does not match|hostname/i.test(detail)) {
    return `${where} presented a certificate for another name: set TEMPORAL_TLS_SERVER_NAME to a name it holds`;
  }
  const tls = config.tls || config.apiKey ? 'over TLS' : 'without TLS';
  const hint =
    config.tls || config.apiKey
      ? ''
      : '; if it needs TLS (mTLS, Temporal Cloud) set TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY or TEMPORAL_API_KEY';
  return `cannot reach ${where} ${tls}: is TEMPORAL_ADDRESS (host:port) right, the server up and the port open${hint}? (${detail})`;
}

/** Runs the checks in order, stopping at the first that fails (the later ones depend on it). */
export async function testConnection(config: TemporalConfig, options: { timeoutMs?: number } = {}): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  let connection: Connection;
  try {
    connection = await Connection.connect(connectionOptions({ ...config, connectTimeoutMs: config.connectTimeoutMs ?? 10_000 }));
    await connection.workflowService.getSystemInfo({});
  } catch (err) {
    const message = err instanceof TemporalConfigError ? err.message : describeConnectError(err, config);
    results.push({ check: 'address', ok: false, message });
    return results;
  }
  try {
    results.push({
      check: 'address',
      ok: true,
      message: `Temporal answers at ${config.address}${config.tls || config.apiKey ? ' over TLS' : ''}`,
    });
    const service = connection.workflowService;
    try {
      await service.describeNamespace({ namespace: config.namespace });
      results.push({ check: 'namespace', ok: true, message: `namespace "${config.namespace}" exists` });
    } catch (err) {
      const code = isGrpcServiceError(err) ? err.code : undefined;
      const message =
        code === GRPC_NOT_FOUND
          ? `namespace "${config.namespace}" does not exist on this server: check TEMPORAL_NAMESPACE`
          : code === GRPC_PERMISSION_DENIED || code === GRPC_UNAUTHENTICATED
            ? `not allowed to use namespace "${config.namespace}": check TEMPORAL_NAMESPACE and the credentials' permissions`
            : `could not look up namespace "${config.namespace}" (${failureMessage(err)})`;
      results.push({ check: 'namespace', ok: false, message });
      return results;
    }

    const queue = await service.describeTaskQueue({
      namespace: config.namespace,
      taskQueue: { name: config.taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
      taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
    });
    const pollers = queue.pollers?.length ?? 0;
    if (pollers === 0) {
      results.push({
        check: 'task_queue',
        ok: false,
        message: `no worker polls task queue "${config.taskQueue}" in namespace "${config.namespace}": is the generation worker running, with the same TEMPORAL_TASK_QUEUE and TEMPORAL_NAMESPACE?`,
      });
      return results;
    }
    results.push({ check: 'task_queue', ok: true, message: `${pollers} worker(s) poll task queue "${config.taskQueue}"` });

    const client = new Client({ connection, namespace: config.namespace });
    const workflowId = `hello-test-connection-${randomUUID()}`;
    const input = { name: 'test-connection', ...(config.secretKey ? { secret_key: workflowToken(config.secretKey, workflowId) } : {}) };
    try {
      const handle = await client.workflow.start(HELLO_WORLD_WORKFLOW, {
        taskQueue: config.taskQueue,
        workflowId,
        args: [input],
        workflowExecutionTimeout: `${Math.ceil((options.timeoutMs ?? 60_000) / 1000)}s`,
      });
      await handle.result();
      results.push({
        check: 'secret',
        ok: true,
        message: config.secretKey
          ? 'the workers accept WORKFLOW_SECRET_KEY (HelloWorld ran)'
          : 'HelloWorld ran without a secret: the workers do not check one',
      });
    } catch (err) {
      const message = failureMessage(err);
      let plain: string;
      if (message === AUTH_ERRORS.missing) plain = 'the workers require a secret: set WORKFLOW_SECRET_KEY';
      else if (message === AUTH_ERRORS.invalid)
        plain = "the workers refused WORKFLOW_SECRET_KEY: it is not the workers' WORKFLOW_SECRET_KEY";
      else if (err instanceof WorkflowFailedError && /timed? ?out/i.test(message)) {
        plain = `HelloWorld did not finish in time on task queue "${config.taskQueue}": are the workers there GPTMarket generation workers, and healthy?`;
      } else plain = `HelloWorld failed: ${message}`;
      results.push({ check: 'secret', ok: false, message: plain });
    }
    return results;
  } finally {
    await connection.close();
  }
}
