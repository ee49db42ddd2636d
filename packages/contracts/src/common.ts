import { z } from 'zod';

/**
 * Default task queues. The generation queue name is the Python system's; TEMPORAL_TASK_QUEUE and MEDIA_TASK_QUEUE
 * rename them (the gateway, both workers and the workflows' media calls all follow).
 */
export const GENERATION_QUEUE = 'generation-queue';
export const MEDIA_QUEUE = 'media-queue';

/**
 * What a generation worker tells each workflow at its start (the answer of the auth local activity, recorded in the
 * history, so a replay sees the same values even if the worker's environment changed since).
 */
export interface WorkerSettings {
  /** Task queue of the media worker (MEDIA_TASK_QUEUE). */
  media_task_queue: string;
  /** How long a media step waits for a media worker to pick it up before it fails (MEDIA_WORKER_WAIT_SECONDS). */
  media_wait_seconds: number;
  /**
   * Task queue of the image and video activities (`generateImage`, `generateVideo`) when a worker serves them on a
   * queue of their own: the queue whose server-side dispatch rate is the provider's account-wide create rate. Absent
   * (the defaults, and histories from before it existed): they run on the workflow's own queue.
   */
  image_video_task_queue?: string;
}
export const DEFAULT_WORKER_SETTINGS: WorkerSettings = { media_task_queue: MEDIA_QUEUE, media_wait_seconds: 600 };

/** Query names, as the Python system registers them. */
export const QUERY_GET_STATUS = 'get_status';
export const QUERY_GET_CURRENT_STEP = 'get_current_step';

/** Workflow status, serialised lowercase exactly as the Python system does. */
export const WORKFLOW_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
export const WorkflowStatus = z.enum(WORKFLOW_STATUSES);
export type WorkflowStatus = z.infer<typeof WorkflowStatus>;
export const TERMINAL_STATUSES: readonly WorkflowStatus[] = ['completed', 'failed', 'cancelled'];
export const isTerminalStatus = (s: WorkflowStatus): boolean => TERMINAL_STATUSES.includes(s);

/** The `get_current_step` query answer (or null before the first step). */
export const StepProgress = z.object({
  step_id: z.string(),
  step_name: z.string(),
  status: WorkflowStatus,
  progress_pct: z.number().int().min(0).max(100),
  message: z.string().nullable(),
});
export type StepProgress = z.infer<typeof StepProgress>;

/**
 * What a workflow pushes to whoever follows its history: the memo field `PROGRESS_MEMO_KEY` holds its status and
 * current step (the two queries' answers), rewritten on every change, so a watcher of the history sees each change
 * as an event (WorkflowPropertiesModified) without querying the workflow. The queries stay for Python-era clients.
 */
export const PROGRESS_MEMO_KEY = 'gptmarket_progress';
/** The patch a run that pushes its progress records first (a marker in its first workflow task). */
export const PROGRESS_MEMO_PATCH = 'progress-in-memo';
export const WorkflowProgressMemo = z.object({ status: WorkflowStatus, current_step: StepProgress.nullable() });
export type WorkflowProgressMemo = z.infer<typeof WorkflowProgressMemo>;

/** A workflow's step table entry: id, display name and the percentage reported when the step starts. */
export interface StepDefinition {
  readonly id: string;
  readonly name: string;
  readonly pct: number;
}
export const COMPLETE_STEP: StepProgress = {
  step_id: 'complete',
  step_name: 'Complete',
  status: 'completed',
  progress_pct: 100,
  message: 'Done!',
};

/** Aspect ratios the Python system's `AspectRatio` enum accepts. */
export const ASPECT_RATIOS = ['9:16', '9:21', '3:4', '2:3', '16:9', '21:9', '4:3', '3:2', '1:1'] as const;
export const AspectRatio = z.enum(ASPECT_RATIOS);
export type AspectRatio = z.infer<typeof AspectRatio>;

/** Devices the Python `RewriteDevice` literal accepts (kept for wire compatibility; rewriting is not implemented). */
export const REWRITE_DEVICES = [
  ...(['17', '16', '15', '14'] as const).flatMap(
    (n) => [`iPhone ${n} Pro Max`, `iPhone ${n} Pro`, `iPhone ${n} Plus`, `iPhone ${n}`] as const,
  ),
  'iPhone 13 Pro Max',
  'iPhone 13 Pro',
  'iPhone 13',
  'iPhone 13 mini',
  'Ray-Ban Meta Smart Glasses',
] as const;
export const RewriteDevice = z.enum(REWRITE_DEVICES as unknown as [string, ...string[]]);

/** Longest secret or workflow token accepted in `secret_key`. */
export const SECRET_KEY_MAX = 512;

/**
 * Fields every generation request carries (Python `WorkflowInput`, less `secret_key`). Unknown keys are stripped, as
 * pydantic ignored them. `rewrite_*` are accepted for compatibility and ignored: the rewrite step existed to evade
 * platforms' duplicate and AI-content detection, which this project does not do (REWRITE_IGNORED_WARNING says so).
 */
export const BaseGenerationRequest = z.object({
  rewrite_enabled: z.boolean().default(false),
  rewrite_device: RewriteDevice.nullable().default(null),
});

/**
 * The credential every workflow input carries besides the request (Python `WorkflowInput.secret_key`): the raw
 * secret from Python clients that start workflows themselves, or the token the gateway derives for the workflow
 * id. It is no part of any HTTP request schema: callers of the API never send it.
 */
export const WorkflowCredential = {
  secret_key: z.string().max(SECRET_KEY_MAX).nullable().default(null),
};

/** Auth failure messages, word for word as the Python system's workers said them. */
export const AUTH_ERRORS = {
  missing: 'Authentication required: secret_key missing from input',
  invalid: 'Authentication failed: invalid secret_key',
  notConfigured: 'WORKFLOW_SECRET_KEY not configured on server',
} as const;

/** ApplicationError types our workflows and activities raise; clients can branch on them. */
export const ERROR_TYPES = {
  auth: 'AuthenticationError',
  invalidInput: 'InvalidInputError',
  provider: 'ProviderError',
  media: 'MediaError',
  storage: 'StorageError',
} as const;

/** The generator every provenance mark names: the manifests beside the media and the media's own metadata. */
export const GENERATOR_NAME = 'GPTMarket Generator';

/** The warning returned when a caller asks for the unsupported rewrite step. */
export const REWRITE_IGNORED_WARNING =
  'rewrite_enabled was ignored: rewriting media to evade duplicate or AI-content detection is not supported';

/** Free text that ends up in prompts: bounded, no control characters except newlines and tabs. */
export const boundedText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(s), {
      message: 'must not contain control characters',
    });

/** A short descriptive label such as an emotion or style: any word-like value, suggestions listed elsewhere. */
export const label = (max = 64) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[\p{L}\p{N}][\p{L}\p{N} _'&.\-]*$/u, "must be letters, digits, spaces, _ - . ' or &");

/** Provider-specific model parameters: a flat JSON object, bounded. Checked against the model's schema later. */
export const ModelParams = z
  .record(z.string().max(64), z.union([z.string().max(4000), z.number(), z.boolean(), z.null(), z.array(z.string().max(2048)).max(16)]))
  .refine((o) => Object.keys(o).length <= 32, { message: 'at most 32 parameters' })
  .default({});

/** A contract (a zod schema) and the value it parses to, for code that takes any contract without importing zod. */
export type Contract = z.ZodType;
export type ContractOutput<S extends Contract> = z.infer<S>;
