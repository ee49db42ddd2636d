export * from './env.js';
export * from './storage/index.js';
export * from './security/workflow-token.js';
export * from './local/prompts.js';
export * from './local/media-provider.js';
export { decodePng } from './local/png-decode.js';
export * from './net/index.js';
export { encodeWav, synthesizeTone, encodePng, renderPortrait, renderClip } from './local/media/index.js';
