export { createMediaWorker } from './worker.js';
export { createMediaActivities } from './activities.js';
export { mediaWorkerEnv, loadMediaWorkerEnv, type MediaWorkerEnv } from './env.js';
export { compileRender, atempoChain, PROVENANCE } from './ffmpeg/plan.js';
export { wrapCaption, captionFontSize, lineLayout } from './ffmpeg/caption.js';
export { probeMedia, type MediaInfo } from './ffmpeg/probe.js';
export { runFfmpeg } from './ffmpeg/run.js';
export { fontPath, FONT_FILES } from './ffmpeg/fonts.js';
