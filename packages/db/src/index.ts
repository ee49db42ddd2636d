export * from './schema.js';
export * from './client.js';
