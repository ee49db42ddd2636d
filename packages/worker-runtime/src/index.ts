export * from './failures.js';
export * from './heartbeat.js';
export * from './health.js';
export * from './worker.js';
export * from './observe.js';
