export * from './ports.js';
export * from './postgres.js';
export * from './redis.js';
export * from './temporal.js';
export * from './s3.js';
export * from './process.js';
export * from './stack.js';
export * from './tls-proxy.js';
