export * from './env.js';
export * from './temporal-connection.js';
export * from './log.js';
export * from './paths.js';
export * from './health-server.js';
export * from './workflow-token.js';
export * from './net/index.js';
