import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exists, read, walk } from './repo.js';

/**
 * The repository stands on its own: someone who clones it has every document it points to. Nothing links or
 * refers outside it (design notes that are not in the repository, numbered sections of an outside spec).
 */
const TEXT = /\.(ts|mts|js|mjs|json|md|ya?ml|sh|sql|txt|html)$/;
const files = [
  'README.md',
  'ARCHITECTURE.md',
  '.env.example',
  ...['apps', 'packages', 'docs', 'scripts', 'infra', 'bench'].flatMap((dir) => walk(dir, TEXT)),
].filter((f) => !f.includes('/reports/') && f !== 'infra/test/standalone.test.ts');

describe('the repository stands alone', () => {
  it('scans the sources, tests and documents', () => {
    expect(files).toContain('docs/api.md');
    expect(files).toContain('apps/gateway/src/app.ts');
    expect(files.length).toBeGreaterThan(100);
  });

  it('points at nothing outside it and cites no outside spec sections', () => {
    const outside = /\.\.\/shared\/|\/work\/shared|§\s*\d|\\u00a7\s*\d|\b(design|conventions|toolchain)\.md\b/;
    const offenders = files.filter((f) => outside.test(read(f))).map((f) => `${f}: ${outside.exec(read(f))![0]}`);
    expect(offenders).toEqual([]);
  });

  it('has a file behind every relative Markdown link', () => {
    const broken: string[] = [];
    for (const f of files.filter((name) => name.endsWith('.md'))) {
      for (const [, target] of read(f).matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/i.test(target!)) continue; // https:, mailto:
        if (!exists(join(dirname(f), target!))) broken.push(`${f} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
