import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repo } from './repo.js';

/**
 * The boundaries biome.json enforces, checked the way CI meets them: Biome run on files laid out like the repo.
 * Each case is a small tree in a temporary folder with the repo's own biome.json (version control off, since the
 * folder is no checkout), so a rule that stops catching its violation fails here.
 */
const biome = join(repo, 'node_modules/.bin/biome');
const work = mkdtempSync(join(tmpdir(), 'gptmarket-lint-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
function lint(files: Record<string, string>): { code: number; out: string } {
  const dir = join(work, `case-${n++}`);
  const config = JSON.parse(readFileSync(join(repo, 'biome.json'), 'utf8')) as Record<string, unknown>;
  config.$schema = join(repo, 'node_modules/@biomejs/biome/configuration_schema.json');
  config.vcs = { enabled: false };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'biome.json'), JSON.stringify(config));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const r = spawnSync(biome, ['lint', '--max-diagnostics=50', '.'], { cwd: dir, encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

const use = (names: string) => `\nexport const used = [${names}];\n`;

describe('lint boundaries (biome.json)', () => {
  it('passes the repository as it is, formatting included (biome check)', () => {
    const r = spawnSync(biome, ['check', '.'], { cwd: repo, encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });

  it('lets workflow code import contracts, @temporalio/workflow and its own modules', () => {
    const r = lint({
      'apps/generation-worker/src/workflows/ok.ts':
        "import { proxyActivities } from '@temporalio/workflow';\nimport { RUBY_STEPS } from '@gptmarket/contracts';\nimport { run } from './run.js';" +
        use('proxyActivities, RUBY_STEPS, run'),
    });
    expect(r.code, r.out).toBe(0);
  });

  it.each([
    ["import { readFileSync } from 'node:fs';", 'readFileSync'],
    ["import { Context } from '@temporalio/activity';", 'Context'],
    ["import { createLogger } from '@gptmarket/runtime';", 'createLogger'],
    ["import { createActivities } from '../activities/index.js';", 'createActivities'],
  ])('refuses workflow code that imports anything else: %s', (line, name) => {
    const r = lint({ 'apps/generation-worker/src/workflows/bad.ts': line + use(name) });
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/noRestrictedImports/);
    expect(r.out).toMatch(/workflow code imports only/);
  });

  it.each([
    ['apps/gateway/src/bad.ts', "import { createMediaActivities } from '@gptmarket/media-worker';"],
    ['apps/media-worker/src/bad.ts', "import { buildApp } from '@gptmarket/gateway';"],
    ['apps/gateway/src/bad.ts', "import { createMediaActivities } from '../../media-worker/src/activities.js';"],
    ['packages/sdk/src/bad.ts', "import { buildApp } from '@gptmarket/gateway';"],
  ])('refuses an app or package importing an app: %s %s', (path, line) => {
    const r = lint({ [path]: line + use(/import \{ (\w+) \}/.exec(line)![1]!) });
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/apps do not import apps/);
  });

  it.each([
    "import { createReplicate } from '@gptmarket/providers';",
    "import { localImage } from '@gptmarket/offline';",
    "import OpenAI from 'openai';",
  ])('refuses provider code in the public gateway: %s', (line) => {
    const r = lint({ 'apps/gateway/src/bad.ts': line + use(/import \{? ?(\w+)/.exec(line)![1]!) });
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/holds no provider code or SDK/);
  });

  it("allows an app's own relative imports", () => {
    const r = lint({ 'apps/gateway/src/routes/ok.ts': "import { ApiError } from '../errors.js';" + use('ApiError') });
    expect(r.code, r.out).toBe(0);
  });
});
