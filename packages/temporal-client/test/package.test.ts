/**
 * The published package as a Python-era frontend gets it: both tarballs (`pnpm pack`: this package and the SDK it
 * depends on) installed into an empty project, a consumer written against the Python package's names with only the
 * package name changed type-checks there, the main entry bundles for the browser without Temporal or Node, and the
 * `gptmarket-temporal` command runs from the install.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, installPacked, runCommand } from '@gptmarket/testkit';

const pkgDir = resolve(import.meta.dirname, '..');
const sdkDir = resolve(pkgDir, '../sdk');
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'gptmarket-temporal-client-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const tsc = join(pkgDir, 'node_modules', 'typescript', 'bin', 'tsc');
const version = (name: string) => JSON.parse(readFileSync(join(pkgDir, 'node_modules', name, 'package.json'), 'utf8')).version as string;

// The Python package's names, imported from the new package name: the only change a migration makes.
const CONSUMER = `
import {
  workflowRegistry, getWorkflow, getAllWorkflows, getWorkflowIds,
  type WorkflowId, type WorkflowInputMap, type WorkflowOutputMap, type WorkflowStatus, type StepProgress,
  type WorkflowProgress, type FieldDefinition, type WorkflowDefinition,
} from '@gptmarket/temporal-client';
import {
  configureTemporalClient, getTemporalClient, getTaskQueue, startWorkflow, getWorkflowProgress, waitForWorkflow,
  cancelWorkflow, getWorkflowHandle,
} from '@gptmarket/temporal-client/server';
import type { RubyInput, RubyOutput } from '@gptmarket/temporal-client/types';
import { ruby } from '@gptmarket/temporal-client/registry';

export async function run(): Promise<string | undefined> {
  configureTemporalClient({ host: 'localhost:7233' });
  const ids: WorkflowId[] = getWorkflowIds();
  const def: WorkflowDefinition | undefined = getWorkflow('RubyWorkflow');
  const fields: FieldDefinition[] = ruby.fields.concat(getAllWorkflows()[0]!.fields);
  const input: RubyInput = { emotion: 'shocked', secret_key: null };
  const typed: WorkflowInputMap['ruby'] = input;
  const { workflowId } = await startWorkflow('RubyWorkflow', typed);
  // @ts-expect-error video_duration is a number in the contract
  await startWorkflow('ruby', { video_duration: 'five' });
  const progress: WorkflowProgress<RubyOutput> = await getWorkflowProgress<RubyOutput>(workflowId);
  const status: WorkflowStatus = progress.status;
  const step: StepProgress | null = progress.currentStep;
  const waited = await waitForWorkflow<WorkflowOutputMap['ruby']>(workflowId, 1000);
  await cancelWorkflow(workflowId);
  await (await getWorkflowHandle(workflowId)).describe();
  for await (const w of (await getTemporalClient()).workflow.list({ query: 'WorkflowType="RubyWorkflow"' })) void w.workflowId;
  void [ids, def, fields, status, step, getTaskQueue(), workflowRegistry.ruby.workflowClass];
  return waited.result?.final_video_url;
}
`;

describe('the npm package', () => {
  it('is publishable: not private, ESM exports for ., ./types, ./registry, ./server, the bin, @temporalio/client a peer', () => {
    expect(pkg.private).toBeUndefined();
    expect(Object.keys(pkg.exports)).toEqual(['.', './types', './registry', './server', './package.json']);
    expect(pkg.bin).toEqual({ 'gptmarket-temporal': './dist/cli.js' });
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['@gptmarket/sdk', 'zod']);
    expect(pkg.peerDependencies).toHaveProperty('@temporalio/client');
  });

  it('installs from its tarball, type-checks a Python-era consumer, bundles for the browser and runs its command', async () => {
    const packDir = join(work, 'pack');
    runCommand('pnpm', ['pack', '--pack-destination', packDir], sdkDir);
    runCommand('pnpm', ['pack', '--pack-destination', packDir], pkgDir);
    const tarballs = readdirSync(packDir);
    const sdkTgz = join(packDir, tarballs.find((f) => f.startsWith('gptmarket-sdk-'))!);
    const ownTgz = join(packDir, tarballs.find((f) => f.startsWith('gptmarket-temporal-client-'))!);
    const packed = JSON.parse(runCommand('tar', ['-xzOf', ownTgz, 'package/package.json'], work));
    expect(packed.dependencies['@gptmarket/sdk']).toBe(JSON.parse(readFileSync(join(sdkDir, 'package.json'), 'utf8')).version);

    const app = join(work, 'app');
    mkdirSync(app);
    // The SDK is not on a registry in this test: its tarball stands in for the version the package names.
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module', pnpm: { overrides: { '@gptmarket/sdk': `file:${sdkTgz}` } } }),
    );
    installPacked(app, [ownTgz, `@temporalio/client@${version('@temporalio/client')}`, `@types/node@${version('@types/node')}`]);
    writeFileSync(join(app, 'consumer.ts'), CONSUMER);
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        // skipLibCheck as Next.js projects set it: @temporalio/common's own declarations want @types/ms otherwise.
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          types: ['node'],
          skipLibCheck: true,
        },
        files: ['consumer.ts'],
      }),
    );
    runCommand(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
    writeFileSync(join(app, 'consumer.ts'), `${CONSUMER}\nexport const wrong: number = getWorkflowIds();\n`);
    // tsc's report is in the error (sh adds the output): the wrong line is found.
    expect(() => runCommand(process.execPath, [tsc, '-p', 'tsconfig.json'], app)).toThrow(/consumer\.ts\(\d+,\d+\): error TS2322/);

    // The main entry (types and registry) is browser-safe: no Temporal client, no Node module.
    const bundle = await build({
      stdin: { contents: "export { workflowRegistry } from '@gptmarket/temporal-client';", resolveDir: app },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(bundle.metafile!.inputs);
    // (pnpm names peers in its folder names, e.g. `…temporal-client@…_@temporalio+client@…`: look at files in packages.)
    expect(inputs.filter((i) => /node_modules\/@temporalio\/|^node:/.test(i))).toEqual([]);
    expect(inputs.some((i) => i.endsWith('node_modules/@gptmarket/temporal-client/dist/registry.js'))).toBe(true);
    expect(inputs.some((i) => i.includes('gptmarket/sdk/dist/_contracts'))).toBe(true);

    // The command from the install, against an address where nothing listens.
    const port = await freePort();
    let out = '';
    let code = 0;
    try {
      out = runCommand(join(app, 'node_modules', '.bin', 'gptmarket-temporal'), ['test-connection', '--address', `127.0.0.1:${port}`], app);
    } catch (err) {
      const e = err as { status?: number; stdout?: string };
      code = e.status ?? -1;
      out = e.stdout ?? '';
    }
    expect(code, out).toBe(1);
    expect(out).toMatch(new RegExp(`^FAIL address: cannot reach Temporal at 127\\.0\\.0\\.1:${port} without TLS`, 'm'));
  }, 600_000); // two builds, an install, two tsc runs: minutes on a loaded machine
});
