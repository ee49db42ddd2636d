/**
 * How the workflows are bundled for Temporal's sandbox.
 *
 * Every workflow run evaluates the bundle's modules again (that is how the sandbox keeps runs apart), and the
 * contracts are most of that work: zod itself and every schema the workflows import, rebuilt for each run (about half
 * of the worker's CPU for a short workflow). So the contracts, with their zod, are bundled into one module that the
 * sandbox loads once and shares (`preloadModules`), and the workflows reach them through a small module evaluated per
 * run. The schemas are read-only once built and parsing is deterministic, so runs sharing them cannot affect one
 * another. The shared module exports only a function (the sandbox deep-freezes what shared modules export, and zod
 * schemas complete themselves lazily on first use); the contracts live in its closure.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';

type BundlerOptions = NonNullable<WorkerOptions['bundlerOptions']>;

const require = createRequire(import.meta.url);

/** Writes `text` to `dir/name` unless it is there already (a name per content, so concurrent processes agree). */
function writeOnce(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  if (!existsSync(path)) {
    const partial = `${path}.${process.pid}.partial`;
    writeFileSync(partial, text);
    renameSync(partial, path);
  }
  return path;
}

let built: { shared: string; access: string } | undefined;

/** The shared contracts module and the per-run module that hands them to the workflows (built once per process). */
function sharedContracts(): { shared: string; access: string } {
  if (built) return built;
  // The contracts this process resolves (their sources in development, their build in production), zod included.
  const entry = require.resolve('@gptmarket/contracts');
  const esbuild = require('esbuild') as typeof import('esbuild');
  const out = esbuild.buildSync({
    entryPoints: [entry],
    bundle: true,
    format: 'cjs',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['@gptmarket/source'],
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const code = out.outputFiles[0]!.text;
  const shared = `// Generated: @gptmarket/contracts for the workflow sandbox, shared by every run.
const load = (() => {
  const module = { exports: {} };
  const exports = module.exports;
${code}
  return module.exports;
})();
module.exports = { contracts: () => load };
`;
  const dir = join(tmpdir(), 'gptmarket-workflow-contracts');
  mkdirSync(dir, { recursive: true });
  const hash = createHash('sha256').update(shared).digest('hex').slice(0, 16);
  const sharedPath = writeOnce(dir, `contracts-${hash}.cjs`, shared);
  const access = writeOnce(
    dir,
    `contracts-${hash}.access.cjs`,
    `// Generated: what a workflow run imports as @gptmarket/contracts.\nmodule.exports = require(${JSON.stringify(sharedPath)}).contracts();\n`,
  );
  built = { shared: sharedPath, access };
  return built;
}

/**
 * Bundler options of the generation worker's workflows: workspace packages resolve to their sources (development and
 * tests run them unbuilt), and `@gptmarket/contracts` is the shared module above.
 */
export function workflowBundlerOptions(): BundlerOptions {
  const { shared, access } = sharedContracts();
  return {
    preloadModules: [shared],
    webpackConfigHook: (config) => {
      config.resolve ??= {};
      config.resolve.conditionNames = ['@gptmarket/source', '...'];
      config.resolve.alias = { ...(config.resolve.alias as Record<string, string | false>), '@gptmarket/contracts$': access };
      return config;
    },
  };
}

/** For tests: the generated shared module's text. */
export const sharedContractsText = (): string => readFileSync(sharedContracts().shared, 'utf8');
