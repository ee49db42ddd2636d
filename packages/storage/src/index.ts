export * from './types.js';
export * from './keys.js';
export * from './local.js';
export * from './s3.js';
export * from './config.js';
