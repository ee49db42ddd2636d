export { createMediaWorker } from './worker.js';
export { createMediaActivities, type MediaActivityDeps } from './activities.js';
export { mediaWorkerEnv, loadMediaWorkerEnv, type MediaWorkerEnv } from './env.js';
export { compileRender, atempoChain, PROVENANCE, type CompiledRender, type CompilePaths } from './ffmpeg/plan.js';
export { wrapCaption, captionFontSize, lineLayout } from './ffmpeg/caption.js';
export { probeMedia, type MediaInfo } from './ffmpeg/probe.js';
export { runFfmpeg } from './ffmpeg/run.js';
export { fontPath, fontForLine, fontCovers, FONT_FILES, FALLBACK_FONT_FILES, MissingFontError } from './ffmpeg/fonts.js';
