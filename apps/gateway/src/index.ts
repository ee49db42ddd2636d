export { buildApp, type AppDeps, type App } from './app.js';
export { gatewayEnv, loadGatewayEnv } from './env.js';
export { TemporalGateway } from './services/temporal.js';
export { signWebhook } from './services/webhooks.js';
export { runCli } from './cli.js';
