/**
 * `@gptmarket/temporal-client`: the types and workflow registry of the Python system's `@gptmarket/temporal-types`
 * (browser-safe). The Temporal helpers, which need `@temporalio/client` and run on a server only, are in
 * `@gptmarket/temporal-client/server`.
 */
export * from './types.js';
export * from './registry.js';
