/**
 * How a generation's id travels with its work, so every log line of it carries the id: the gateway starts the
 * workflow with the id in its memo (`GENERATION_ID_MEMO`, shown in Temporal's UI too); the workflow interceptor
 * (`packages/worker-runtime/src/workflow-interceptors.ts`) adds it to its own log lines and passes it to every activity
 * in a header (`GENERATION_ID_HEADER`), which the workers' activity interceptor adds to the activity's log lines.
 * Workflows started by direct Temporal clients carry no memo, and their lines just the workflow id.
 */
export const GENERATION_ID_MEMO = 'generation_id';
export const GENERATION_ID_HEADER = 'gptmarket-generation-id';
