/**
 * Temporal helpers for servers that start GPTMarket workflows directly (Next.js route handlers, server actions):
 * the names and behaviour of the Python system's generated `server.ts`, plus TLS/API-key connections, the workflow
 * secret added on the server, input checked against the contracts before anything starts, and the workflow's real
 * failure message. Never import this in browser code: it holds `WORKFLOW_SECRET_KEY`.
 */
import { readFileSync } from 'node:fs';
import { createHmac, randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowNotFoundError, type ConnectionOptions, type WorkflowHandle } from '@temporalio/client';
import {
  GENERATION_QUEUE,
  GENERATION_TYPES,
  QUERY_GET_CURRENT_STEP,
  QUERY_GET_STATUS,
  formatIssues,
  type ContractIssue,
} from '@gptmarket/sdk/contracts';
import { getWorkflow } from './registry.js';
import type { StepProgress, WorkflowClass, WorkflowId, WorkflowIdOf, WorkflowInputMap, WorkflowProgress, WorkflowStatus } from './types.js';

export interface TemporalTlsConfig {
  /** mTLS client certificate: the PEM itself or a file path (with `key`). */
  cert?: string;
  /** Its private key: the PEM itself or a file path. */
  key?: string;
  /** CA of the server's certificate, when the system's CAs do not cover it: PEM or path. */
  ca?: string;
  /** Name checked against the server's certificate, when it differs from the address's host. */
  serverName?: string;
}

export interface TemporalConfig {
  /** `host:port` of the Temporal frontend (TEMPORAL_ADDRESS; TEMPORAL_HOST is the Python-era name). */
  address: string;
  namespace: string;
  taskQueue: string;
  /**
   * WORKFLOW_SECRET_KEY. Server-side only. An input without `secret_key` gets the per-workflow token derived from it
   * (`workflowToken`), which the workers accept for that workflow id only, so the secret stays out of histories.
   */
  secretKey?: string;
  /** TLS: set for a public Temporal endpoint (mTLS) or Temporal Cloud; `{}` for TLS with the system's CAs. */
  tls?: TemporalTlsConfig;
  /** TEMPORAL_API_KEY (Temporal Cloud): sent as a bearer token, implies TLS. */
  apiKey?: string;
  /** How long connecting may take (ms); default 10 s. */
  connectTimeoutMs?: number;
}

/** `configureTemporalClient` also takes the Python package's `host`. */
export type TemporalConfigInput = Partial<TemporalConfig> & { host?: string };

type Env = Readonly<Record<string, string | undefined>>;
const nonEmpty = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());

/**
 * The configuration the variables describe: TEMPORAL_ADDRESS (or TEMPORAL_HOST), TEMPORAL_NAMESPACE,
 * TEMPORAL_TASK_QUEUE, WORKFLOW_SECRET_KEY, TEMPORAL_TLS_CERT / _KEY / _CA (each a PEM or a file path),
 * TEMPORAL_TLS_SERVER_NAME, TEMPORAL_API_KEY.
 */
export function temporalConfigFromEnv(env: Env = process.env): TemporalConfig {
  const config: TemporalConfig = {
    address: nonEmpty(env.TEMPORAL_ADDRESS) ?? nonEmpty(env.TEMPORAL_HOST) ?? 'localhost:7233',
    namespace: nonEmpty(env.TEMPORAL_NAMESPACE) ?? 'default',
    taskQueue: nonEmpty(env.TEMPORAL_TASK_QUEUE) ?? GENERATION_QUEUE,
  };
  const secretKey = nonEmpty(env.WORKFLOW_SECRET_KEY);
  if (secretKey) config.secretKey = secretKey;
  const tls: TemporalTlsConfig = {};
  const cert = nonEmpty(env.TEMPORAL_TLS_CERT);
  const key = nonEmpty(env.TEMPORAL_TLS_KEY);
  const ca = nonEmpty(env.TEMPORAL_TLS_CA);
  const serverName = nonEmpty(env.TEMPORAL_TLS_SERVER_NAME);
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  if (ca) tls.ca = ca;
  if (serverName) tls.serverName = serverName;
  if (Object.keys(tls).length > 0) config.tls = tls;
  const apiKey = nonEmpty(env.TEMPORAL_API_KEY);
  if (apiKey) config.apiKey = apiKey;
  return config;
}

/** A configuration problem, named by the variable to fix; it never holds a secret or key material. */
export class TemporalConfigError extends Error {
  override name = 'TemporalConfigError';
}

/** A PEM given inline (`\n` escapes count as line breaks) or the path of a file holding it. */
function readPem(value: string, variable: string, label: 'CERTIFICATE' | 'PRIVATE KEY'): Buffer {
  let text = value;
  if (value.startsWith('-----BEGIN')) {
    if (!value.includes('\n')) text = value.replaceAll('\\n', '\n');
  } else {
    try {
      text = readFileSync(value, 'utf8');
    } catch (err) {
      throw new TemporalConfigError(`${variable}: cannot read the file ${value} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
  }
  if (!new RegExp(`-----BEGIN ([A-Z0-9 ]*${label})-----[\\s\\S]+?-----END \\1-----`).test(text)) {
    throw new TemporalConfigError(`${variable}: ${text === value ? 'the value' : `the file ${value}`} holds no PEM ${label.toLowerCase()}`);
  }
  return Buffer.from(text);
}

/** What `Connection.connect` takes for a configuration (TLS when any TLS setting or an API key is given). */
export function connectionOptions(config: TemporalConfig): ConnectionOptions {
  const options: ConnectionOptions = { address: config.address, connectTimeout: config.connectTimeoutMs ?? 10_000 };
  const tls = config.tls;
  if (tls || config.apiKey) {
    if (Boolean(tls?.cert) !== Boolean(tls?.key)) {
      throw new TemporalConfigError(
        'set TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY together (the client certificate and its private key), or neither',
      );
    }
    options.tls = {
      ...(tls?.serverName ? { serverNameOverride: tls.serverName } : {}),
      ...(tls?.ca ? { serverRootCACertificate: readPem(tls.ca, 'TEMPORAL_TLS_CA', 'CERTIFICATE') } : {}),
      ...(tls?.cert && tls.key
        ? {
            clientCertPair: {
              crt: readPem(tls.cert, 'TEMPORAL_TLS_CERT', 'CERTIFICATE'),
              key: readPem(tls.key, 'TEMPORAL_TLS_KEY', 'PRIVATE KEY'),
            },
          }
        : {}),
    };
  }
  if (config.apiKey) options.apiKey = config.apiKey;
  return options;
}

let config: TemporalConfig | undefined;
let client: Promise<Client> | undefined;

/** Replaces the configuration (over the environment's) and drops the current client; the next call connects anew. */
export function configureTemporalClient(partial: TemporalConfigInput = {}): void {
  const { host, ...rest } = partial;
  const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as Partial<TemporalConfig>;
  config = { ...temporalConfigFromEnv(), ...(host ? { address: host } : {}), ...defined };
  const previous = client;
  client = undefined;
  void previous?.then((c) => c.connection.close()).catch(() => undefined);
}

function currentConfig(): TemporalConfig {
  config ??= temporalConfigFromEnv();
  return config;
}

/** The shared client (one connection per process), connected on first use. */
export function getTemporalClient(): Promise<Client> {
  if (!client) {
    const cfg = currentConfig();
    const connecting = Connection.connect(connectionOptions(cfg)).then(
      (connection) => new Client({ connection, namespace: cfg.namespace }),
    );
    connecting.catch(() => {
      if (client === connecting) client = undefined; // the next call tries again
    });
    client = connecting;
  }
  return client;
}

export function getTaskQueue(): string {
  return currentConfig().taskQueue;
}

/**
 * The credential a workflow input carries instead of the secret: `v1.` + hex HMAC-SHA256(secret, workflowId). The
 * workers accept it for that workflow id only (as they accept the raw secret from Python-era clients), so a history
 * never holds the secret itself.
 */
export function workflowToken(secret: string, workflowId: string): string {
  return `v1.${createHmac('sha256', secret).update(workflowId, 'utf8').digest('hex')}`;
}

/** The input does not match the workflow's contract; nothing was started. */
export class WorkflowInputError extends Error {
  override name = 'WorkflowInputError';
  constructor(
    message: string,
    readonly issues: ContractIssue[],
  ) {
    super(message);
  }
}

export interface StartWorkflowOptions {
  /** The workflow id; default `<idPrefix>-<uuid>`. */
  id?: string;
  /** Default: the workflow's (`ruby`, `slideshows-pinterest`, ...). */
  idPrefix?: string;
}

export interface StartWorkflowResult {
  workflowId: string;
}

/**
 * Starts a workflow by registry id (`ruby`) or workflow type (`RubyWorkflow`) on the configured task queue. The input
 * is checked against the contract first (a `WorkflowInputError` lists the problems); an input without `secret_key`
 * gets the workflow's token derived from WORKFLOW_SECRET_KEY (`workflowToken`).
 */
export async function startWorkflow<W extends WorkflowId | WorkflowClass>(
  workflowName: W,
  input: WorkflowInputMap[WorkflowIdOf<W>],
  options: StartWorkflowOptions = {},
): Promise<StartWorkflowResult> {
  const workflow = getWorkflow(workflowName);
  if (!workflow) throw new WorkflowInputError(`unknown workflow "${workflowName}"`, []);
  const cfg = currentConfig();
  const workflowId = options.id ?? `${options.idPrefix ?? workflow.idPrefix}-${randomUUID()}`;
  const withSecret = { ...(input as Record<string, unknown>) };
  if (withSecret.secret_key == null && cfg.secretKey) withSecret.secret_key = workflowToken(cfg.secretKey, workflowId);
  const parsed = GENERATION_TYPES[workflow.id as WorkflowId].input.safeParse(withSecret);
  if (!parsed.success) {
    const issues = formatIssues(parsed.error);
    const list = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    throw new WorkflowInputError(`the ${workflow.workflowClass} input does not match the contract: ${list}`, issues);
  }
  const temporal = await getTemporalClient();
  // The caller's input as given (plus the secret): the workflow applies the contract's defaults itself.
  await temporal.workflow.start(workflow.workflowClass, { taskQueue: cfg.taskQueue, workflowId, args: [withSecret] });
  return { workflowId };
}

/** The workflow's own failure message, from a Temporal failure chain (WorkflowFailedError → ApplicationFailure). */
export function failureMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  let message = e?.message ?? String(err);
  while (e?.cause) {
    e = e.cause as { message?: string; cause?: unknown };
    if (e?.message) message = e.message;
  }
  return message;
}

const RUNNING = new Set(['RUNNING', 'CONTINUED_AS_NEW']);

/**
 * Where a workflow is: while it runs, the `get_status` and `get_current_step` queries (`pending` or `running`: a
 * terminal status only once the execution closed, so `completed` always comes with `result`); when it completed, its result;
 * when it failed, the workflow's failure message. An unknown id answers `executionStatus: 'NOT_FOUND'`; connection
 * errors are thrown.
 */
export async function getWorkflowProgress<TResult = unknown>(workflowId: string): Promise<WorkflowProgress<TResult>> {
  const handle = (await getTemporalClient()).workflow.getHandle(workflowId);
  let executionStatus: string;
  try {
    executionStatus = (await handle.describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      return { workflowId, status: 'failed', executionStatus: 'NOT_FOUND', currentStep: null, error: `Workflow not found: ${workflowId}` };
    }
    throw err;
  }
  const progress: WorkflowProgress<TResult> = { workflowId, status: 'pending', executionStatus, currentStep: null };
  if (RUNNING.has(executionStatus)) {
    try {
      const status = await handle.query<WorkflowStatus>(QUERY_GET_STATUS);
      progress.currentStep = await handle.query<StepProgress | null>(QUERY_GET_CURRENT_STEP);
      // The workflow reports `completed` a moment before it returns: terminal only once the result is there.
      progress.status = status === 'pending' ? 'pending' : 'running';
    } catch {
      progress.status = 'running'; // no worker answered yet
    }
  } else if (executionStatus === 'COMPLETED') {
    progress.status = 'completed';
    progress.result = (await handle.result()) as TResult;
  } else if (executionStatus === 'CANCELLED') {
    progress.status = 'cancelled';
  } else {
    progress.status = 'failed';
    try {
      await handle.result();
      progress.error = `Workflow ${executionStatus.toLowerCase()}`;
    } catch (err) {
      progress.error = failureMessage(err);
    }
  }
  return progress;
}

/** Waits for the result: `{result}`, `{error}` (the workflow's failure message) or `{timedOut: true}` after `timeoutMs`. */
export async function waitForWorkflow<TResult = unknown>(
  workflowId: string,
  timeoutMs = 300_000,
): Promise<{ result?: TResult; error?: string; timedOut?: boolean }> {
  const handle = (await getTemporalClient()).workflow.getHandle(workflowId);
  const timedOut = Symbol('timeout');
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const outcome = await Promise.race([
      handle.result() as Promise<TResult>,
      new Promise<typeof timedOut>((resolve) => {
        timer = setTimeout(() => resolve(timedOut), timeoutMs);
      }),
    ]);
    return outcome === timedOut ? { timedOut: true } : { result: outcome as TResult };
  } catch (err) {
    return { error: failureMessage(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** Asks the workflow to cancel (it stops its provider jobs and FFmpeg and ends `cancelled`). */
export async function cancelWorkflow(workflowId: string): Promise<{ success: boolean; error?: string }> {
  try {
    await (await getTemporalClient()).workflow.getHandle(workflowId).cancel();
    return { success: true };
  } catch (err) {
    return { success: false, error: failureMessage(err) };
  }
}

export async function getWorkflowHandle(workflowId: string): Promise<WorkflowHandle> {
  return (await getTemporalClient()).workflow.getHandle(workflowId);
}
