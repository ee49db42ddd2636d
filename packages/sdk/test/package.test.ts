/**
 * The published package as a stranger gets it: `pnpm pack` (the npm tarball, with `catalog:` versions resolved and
 * the `prepack` build run), installed into an empty project outside the workspace, type-checked there with a
 * consumer file that uses every entry point, and run under Node.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { installPacked, runCommand } from '@gptmarket/testkit';
import { afterAll, describe, expect, it } from 'vitest';

const pkgDir = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'gptmarket-sdk-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const tsc = join(pkgDir, 'node_modules', 'typescript', 'bin', 'tsc');

const CONSUMER = `
import { GptMarketClient, getForm, verifyWebhook, WebhookVerificationError, type Generation } from '@gptmarket/sdk';
import { GptMarketProvider, useCreateGeneration, useGeneration, useGenerationForm } from '@gptmarket/sdk/react';
import { GENERATION_TYPES, RUBY_WORKFLOW, type RubyOutput } from '@gptmarket/sdk/contracts';
import { createElement, type ReactElement } from 'react';

const client = new GptMarketClient({ baseUrl: 'https://api.example.com', apiKey: 'gmk_x' });

export async function start(): Promise<string | undefined> {
  const gen = await client.createGeneration('ruby', { emotion: 'shocked', video_duration: 5 });
  // @ts-expect-error video_duration is a number in the Ruby contract
  await client.createGeneration('ruby', { video_duration: 'five' });
  const done = await client.waitFor(gen);
  const url: string | undefined = done.output?.final_video_url;
  const out: RubyOutput | null = done.output;
  return out ? url : undefined;
}

export async function receive(req: Request): Promise<Generation | null> {
  try {
    const { id, generation } = await verifyWebhook('whsec', req.headers, await req.text());
    return id ? generation : null;
  } catch (err) {
    if (err instanceof WebhookVerificationError && err.code === 'timestamp_too_old') return null;
    throw err;
  }
}

function Progress(props: { id: string }): ReactElement {
  const { status, steps, generation } = useGeneration(props.id);
  const { create, isPending } = useCreateGeneration();
  const form = useGenerationForm('ruby');
  void create; void isPending; void form.validate(); void form.modelParamFields('image_model_params');
  return createElement('p', null, status ?? 'loading', steps.length, generation?.id);
}

export const app = createElement(GptMarketProvider, { client }, createElement(Progress, { id: 'gen_0123456789' }));
export const names: string[] = [RUBY_WORKFLOW, GENERATION_TYPES.ruby.workflowType, getForm('ruby')?.name ?? ''];
`;

const RUN = `
import { createHmac } from 'node:crypto';
import { verifyWebhook, getForm } from '@gptmarket/sdk';
import { RUBY_WORKFLOW } from '@gptmarket/sdk/contracts';
const body = JSON.stringify({ id: 'gen_0123456789', status: 'completed' });
const ts = Math.floor(Date.now() / 1000);
const sig = 'v1,' + createHmac('sha256', 's3cret').update('msg_1.' + ts + '.' + body).digest('base64');
const ok = await verifyWebhook('s3cret', { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': sig }, body);
const bad = await verifyWebhook('other', { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': sig }, body).catch((e) => e.code);
const react = await import('@gptmarket/sdk/react');
console.log(JSON.stringify({ id: ok.generation.id, bad, form: getForm('ruby').workflowType, workflow: RUBY_WORKFLOW, hooks: typeof react.useGeneration }));
`;

describe('the npm package', () => {
  it('is publishable: not private, ESM with an exports map for ., ./react and ./contracts, react an optional peer', () => {
    expect(pkg.private).toBeUndefined();
    expect(pkg.type).toBe('module');
    for (const entry of ['.', './react', './contracts']) {
      expect(pkg.exports[entry], entry).toMatchObject({
        types: expect.stringMatching(/^\.\/dist\/.*\.d\.ts$/),
        import: expect.stringMatching(/^\.\/dist\/.*\.js$/),
      });
    }
    expect(Object.keys(pkg.dependencies)).toEqual(['zod']);
    expect(pkg.peerDependencies).toHaveProperty('react');
    expect(pkg.peerDependenciesMeta.react.optional).toBe(true);
  });

  it('packs, installs into an empty project, type-checks a consumer there and runs under Node', () => {
    const packDir = join(work, 'pack');
    runCommand('pnpm', ['pack', '--pack-destination', packDir], pkgDir);
    const tarball = join(packDir, readdirSync(packDir).find((f) => f.endsWith('.tgz'))!);
    const listing = runCommand('tar', ['-tzf', tarball], work).split('\n');
    expect(listing).toContain('package/dist/index.js');
    expect(listing).toContain('package/dist/react/index.d.ts');
    expect(listing).toContain('package/dist/_contracts/index.js');
    expect(listing).toContain('package/README.md');
    expect(listing.some((f) => f.startsWith('package/src/') || f.startsWith('package/test/'))).toBe(false);
    const packed = JSON.parse(runCommand('tar', ['-xzOf', tarball, 'package/package.json'], work));
    expect(JSON.stringify(packed)).not.toMatch(/workspace:|catalog:/);

    const app = join(work, 'app');
    runCommand('mkdir', ['-p', app], work);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    installPacked(app, [tarball, `react@${readVersion('react')}`, `@types/react@${readVersion('@types/react')}`]);
    writeFileSync(join(app, 'consumer.ts'), CONSUMER);
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          lib: ['ES2023', 'DOM'],
          types: [],
        },
        files: ['consumer.ts'],
      }),
    );
    // The consumer type-checks; the same file with one wrong call does not (the check can fail).
    runCommand(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
    writeFileSync(join(app, 'consumer.ts'), `${CONSUMER}\nexport const wrong: number = getForm('ruby');\n`);
    let failure = '';
    try {
      runCommand(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
    } catch (err) {
      failure = String((err as { stdout?: string }).stdout);
    }
    expect(failure).toMatch(/consumer\.ts\(\d+,\d+\): error TS2322/);

    writeFileSync(join(app, 'run.mjs'), RUN);
    const out = JSON.parse(runCommand(process.execPath, ['run.mjs'], app).trim());
    expect(out).toEqual({
      id: 'gen_0123456789',
      bad: 'invalid_signature',
      form: 'RubyWorkflow',
      workflow: 'RubyWorkflow',
      hooks: 'function',
    });
    // The consumer project has no @gptmarket/contracts: the package carries its own copy.
    expect(readdirSync(join(app, 'node_modules', '@gptmarket'))).toEqual(['sdk']);
  }, 480_000); // the build, an install and two tsc runs: minutes on a loaded machine
});

function readVersion(name: string): string {
  return JSON.parse(readFileSync(join(pkgDir, 'node_modules', name, 'package.json'), 'utf8')).version;
}
