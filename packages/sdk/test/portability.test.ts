import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';

const pkgDir = resolve(import.meta.dirname, '..');
const srcDir = join(pkgDir, 'src');
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'gptmarket-sdk-build-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
/** Every module specifier of import/export statements and dynamic imports in a JS or TS text. */
function specifiers(code: string): string[] {
  const found: string[] = [];
  const re =
    /(?:\bimport\s*(?:type\s+)?(?:[^'"();]*?\bfrom\s*)?|\bexport\s*(?:type\s+)?[^'"();]*?\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;
  for (const m of code.matchAll(re)) found.push(m[1]!);
  return found;
}
const filesUnder = (dir: string, ext: RegExp): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => ext.test(f))
    .map((f) => join(dir, f));

/** Node-only globals a browser bundle must not touch. */
const NODE_GLOBALS = /\b(process\.|Buffer\b|__dirname|__filename|require\(|setImmediate\()/;

describe('browser safety', () => {
  it('the source imports only relative modules, @gptmarket/contracts and zod (react in src/react only), and uses no Node globals', () => {
    const files = filesUnder(srcDir, /\.ts$/);
    expect(files.length).toBeGreaterThan(4);
    for (const file of files) {
      const code = readFileSync(file, 'utf8');
      const isReact = file.startsWith(join(srcDir, 'react'));
      for (const spec of specifiers(code)) {
        expect(NODE_BUILTINS.has(spec), `${file} imports ${spec}`).toBe(false);
        const allowed =
          spec.startsWith('./') ||
          spec === '@gptmarket/contracts' ||
          spec === 'zod' ||
          (isReact && (spec === 'react' || spec.startsWith('../')));
        expect(allowed, `${file} imports ${spec}`).toBe(true);
      }
      expect(code, file).not.toMatch(NODE_GLOBALS);
    }
    // The scanner itself finds what it is looking for.
    expect(specifiers("import { x } from 'node:fs';\nexport * from \"./a.js\";\nawait import('os');")).toEqual(['node:fs', './a.js', 'os']);
  });

  it('bundles for the browser platform, contracts and zod included, without any Node module', async () => {
    const result = await build({
      entryPoints: [join(srcDir, 'index.ts'), join(srcDir, 'react', 'index.ts')],
      outdir: join(work, 'bundle'),
      external: ['react'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      conditions: ['@gptmarket/source'],
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile!.inputs);
    expect(inputs.some((i) => /contracts\/src\//.test(i))).toBe(true);
    expect(inputs.some((i) => i.includes('zod'))).toBe(true);
    for (const input of inputs) expect(input, input).not.toMatch(/^(node:|<define)/);
    expect(result.outputFiles.length).toBe(2);
    for (const out of result.outputFiles) expect(out.text).not.toMatch(/from\s*["']node:/);
    // A Node import anywhere in the graph fails a browser build: prove the check can fail.
    await expect(
      build({
        stdin: { contents: "import 'node:fs';", resolveDir: srcDir },
        bundle: true,
        platform: 'browser',
        write: false,
        logLevel: 'silent',
      }),
    ).rejects.toThrow();
  });

  it('builds to dist with declarations; the exports map points at what the build writes', () => {
    const outDir = join(work, 'dist');
    execFileSync(process.execPath, [join(pkgDir, 'scripts', 'build.mjs'), outDir], { cwd: pkgDir, stdio: 'pipe' });
    expect(pkg.exports['.']['@gptmarket/source']).toBe('./src/index.ts');
    expect(pkg.sideEffects).toBe(false);
    for (const [name, entry] of Object.entries<Record<string, string>>(pkg.exports)) {
      if (typeof entry === 'string') continue;
      for (const key of ['types', 'import']) {
        const target = entry[key]!;
        expect(target.startsWith('./dist/'), `${name} ${key}`).toBe(true);
        expect(existsSync(join(outDir, target.slice('./dist/'.length))), `${name} ${key} → ${target}`).toBe(true);
      }
    }
    // The published files import only each other, zod and react: the contracts are compiled into dist/_contracts.
    for (const file of filesUnder(outDir, /\.(js|d\.ts)$/)) {
      const code = readFileSync(file, 'utf8');
      for (const spec of specifiers(code)) {
        expect(
          spec.startsWith('./') || spec.startsWith('../') || spec === 'zod' || spec.startsWith('zod/') || spec === 'react',
          `${file} imports ${spec}`,
        ).toBe(true);
      }
    }
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['zod']);
  }, 240_000); // two tsc runs (the SDK, the contracts' copy): minutes on a loaded machine
});
