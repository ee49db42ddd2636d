export { buildApp, type AppDeps } from "./app.js";
export { gatewayEnv, loadGatewayEnv } from "./env.js";
export { TemporalGateway } from "./services/temporal.js";
