export * from './schema.js';
export * from './client.js';
export * from './statements.js';
