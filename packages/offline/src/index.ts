export * from './prompts.js';
export * from './llm.js';
export * from './media-provider.js';
export * from './speech.js';
export * from './pinterest.js';
export { decodePng } from './png-decode.js';
export { encodeWav, synthesizeTone, encodePng, renderPortrait, renderClip } from './media/index.js';
