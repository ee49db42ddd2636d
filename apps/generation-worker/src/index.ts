export { createGenerationWorker, workflowsPath, workflowBundlerOptions } from './worker.js';
export { createGenerationActivities } from './activities/index.js';
export { generationWorkerEnv, loadGenerationWorkerEnv, type GenerationWorkerEnv } from './env.js';
export { tracedBundlePath, workflowInterceptorModules } from '@gptmarket/worker-runtime';
