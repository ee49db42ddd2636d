#!/usr/bin/env node
/**
 * Prebuilds the generation worker's workflow bundles (the production image sets WORKFLOW_BUNDLE_PATH to the first,
 * so the worker starts without webpack). Uses the worker's own workflowsPath and bundler options. Two bundles: FILE
 * without the OpenTelemetry workflow interceptors, FILE's `.traced.js` sibling with them (the worker runs that one
 * when tracing is on; every workflow run evaluates a bundle's modules again, so tracing costs nothing when off).
 *
 *   node infra/scripts/bundle-workflows.mjs [--out FILE] [--app DIR]
 *
 * --app defaults to apps/generation-worker next to this script; its dist/ must be built (turbo run build).
 * --out defaults to <app>/dist/workflow-bundle.js.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { out: { type: 'string' }, app: { type: 'string' } } });
const appDir = resolve(values.app ?? join(import.meta.dirname, '../../apps/generation-worker'));
const out = resolve(values.out ?? join(appDir, 'dist/workflow-bundle.js'));
const entry = join(appDir, 'dist/index.js');
if (!existsSync(entry)) {
  console.error(
    `bundle-workflows: ${entry} does not exist; build the worker first (turbo run build --filter=@gptmarket/generation-worker)`,
  );
  process.exit(1);
}

// Resolve the SDK from the app, so the bundle is made by the same @temporalio/worker the worker runs.
const require = createRequire(join(appDir, 'package.json'));
const { bundleWorkflowCode } = await import(pathToFileURL(require.resolve('@temporalio/worker')).href);
const { workflowsPath, workflowBundlerOptions, workflowInterceptorModules, tracedBundlePath } = await import(pathToFileURL(entry).href);

mkdirSync(dirname(out), { recursive: true });
// The workflow interceptors (generation ids on log lines, tracing) are part of the bundle: the worker cannot add them.
for (const [file, tracing] of [
  [out, false],
  [tracedBundlePath(out), true],
]) {
  const started = Date.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    ...workflowBundlerOptions(),
    workflowInterceptorModules: workflowInterceptorModules(tracing),
  });
  writeFileSync(file, code);
  console.log(
    `bundle-workflows: ${file} (${(code.length / 1024).toFixed(0)} KiB, ${((Date.now() - started) / 1000).toFixed(1)} s) from ${workflowsPath}`,
  );
}
