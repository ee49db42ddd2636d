// Builds the publishable package: the SDK's ESM and declarations, plus a compiled copy of @gptmarket/contracts in
// dist/_contracts (the contracts package is private to the workspace), with every `@gptmarket/contracts` import
// rewritten to that copy. Usage: node scripts/build.mjs [outDir]   (default: dist)
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const pkgDir = resolve(import.meta.dirname, '..');
const outDir = resolve(process.argv[2] ?? join(pkgDir, 'dist'));
const require = createRequire(join(pkgDir, 'package.json'));
const tsc = require.resolve('typescript/bin/tsc');
const contractsDir = resolve(pkgDir, '../contracts');
const noMaps = ['--sourceMap', 'false', '--declarationMap', 'false'];

rmSync(outDir, { recursive: true, force: true });
const run = (args) => execFileSync(process.execPath, [tsc, ...args], { cwd: pkgDir, stdio: 'inherit' });
run(['-p', join(pkgDir, 'tsconfig.build.json'), '--outDir', outDir, ...noMaps]);
run(['-p', join(contractsDir, 'tsconfig.build.json'), '--outDir', join(outDir, '_contracts'), ...noMaps]);

const contractsEntry = join(outDir, '_contracts', 'index.js');
for (const file of readdirSync(outDir, { recursive: true, encoding: 'utf8' })) {
  if (file.startsWith(`_contracts${sep}`) || !/\.(js|d\.ts)$/.test(file)) continue;
  const path = join(outDir, file);
  let target = relative(dirname(path), contractsEntry).split(sep).join('/');
  if (!target.startsWith('.')) target = `./${target}`;
  const code = readFileSync(path, 'utf8');
  const rewritten = code.replace(/(['"])@gptmarket\/contracts\1/g, `'${target}'`);
  if (rewritten !== code) writeFileSync(path, rewritten);
}
