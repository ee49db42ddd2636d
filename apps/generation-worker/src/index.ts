export { createGenerationWorker, workflowsPath } from './worker.js';
export { workflowBundlerOptions } from './workflow-bundler.js';
export { createGenerationActivities } from './activities/index.js';
export { generationWorkerEnv, loadGenerationWorkerEnv, type GenerationWorkerEnv } from './env.js';
export { tracedBundlePath, workflowInterceptorModules } from '@gptmarket/worker-runtime';
