// Builds the dashboard into dist/: index.html and assets/ with content-hashed names (the gateway serves
// them at /dashboard, index.html with `no-cache`, assets cached for a year). Everything the page loads comes
// from those files: no CDN, no remote fonts. The SDK and contracts are bundled from their sources.
// Usage: node build.mjs
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { build } from 'esbuild';

const pkgDir = import.meta.dirname;
const outDir = join(pkgDir, 'dist');
const BASE = '/dashboard/';

rmSync(outDir, { recursive: true, force: true });
const result = await build({
  entryPoints: { app: join(pkgDir, 'src/main.tsx') },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  conditions: ['@gptmarket/source'],
  jsx: 'automatic',
  minify: true,
  legalComments: 'eof',
  define: { 'process.env.NODE_ENV': '"production"' },
  outdir: join(outDir, 'assets'),
  entryNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((f) => resolve(f));
const script = outputs.find((f) => f.endsWith('.js'));
const style = outputs.find((f) => f.endsWith('.css'));
if (!script || !style) throw new Error('the dashboard build made no script or no stylesheet');

// The icon, named by its content like the bundle.
const icon = readFileSync(join(pkgDir, 'src/icon.svg'));
const iconName = `icon-${createHash('sha256').update(icon).digest('hex').slice(0, 8)}.svg`;
mkdirSync(join(outDir, 'assets'), { recursive: true });
writeFileSync(join(outDir, 'assets', iconName), icon);

const asset = (file) => `${BASE}assets/${basename(file)}`;
writeFileSync(
  join(outDir, 'index.html'),
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>GPTMarket dashboard</title>
<link rel="icon" href="${asset(iconName)}" type="image/svg+xml">
<link rel="stylesheet" href="${asset(style)}">
<script type="module" src="${asset(script)}"></script>
</head>
<body>
<div id="root"></div>
<noscript>The dashboard needs JavaScript.</noscript>
</body>
</html>
`,
);
console.log(`dashboard: ${outDir} (${basename(script)}, ${basename(style)})`);
