/**
 * The contracts this SDK was built with (`@gptmarket/sdk/contracts`): every schema and constant of
 * `@gptmarket/contracts` (workflow names, inputs, outputs, steps, queries, HTTP shapes, the model registry). The
 * published package carries a compiled copy, so it installs without the workspace.
 */
export * from '@gptmarket/contracts';
