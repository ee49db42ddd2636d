export * from './common.js';
export * from './models.js';
export * from './render.js';
export * from './activities.js';
export * from './http.js';
export * from './generation-types.js';
export * from './workflows/ruby.js';
export * from './workflows/hello-world.js';
export { formatIssues, type ContractIssue } from './issues.js';
