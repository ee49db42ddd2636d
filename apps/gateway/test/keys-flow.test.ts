import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnService, startTemporal, type ServiceProcess } from '@gptmarket/testkit';

/**
 * The README's key flow as a new user runs it: `./scripts/keys.sh create --name ...` (from wherever the shell
 * happens to be, with nothing but the machine's own PATH: pnpm and Node 22 come from the setup), then the README's stack (`./scripts/dev.sh`, which runs scripts/dev.ts), which must
 * then refuse anonymous calls and accept the key.
 */
const repo = resolve(import.meta.dirname, '../../..');
let temporal: Awaited<ReturnType<typeof startTemporal>>;
let data: string;
let elsewhere: string;
const relativeData = `.data/test-keys-${randomBytes(4).toString('hex')}`;
/** Where the setup keeps its tools (a test run may have moved it). */
const toolsDir: Record<string, string> = Object.fromEntries(
  (['GPTMARKET_TOOLS_DIR', 'XDG_CACHE_HOME'] as const).filter((k) => process.env[k]).map((k) => [k, process.env[k]!]),
);

beforeAll(async () => {
  temporal = await startTemporal();
  data = mkdtempSync(join(tmpdir(), 'gptmarket-keys-data-'));
  elsewhere = mkdtempSync(join(tmpdir(), 'gptmarket-keys-cwd-'));
}, 120_000);
afterAll(async () => {
  await temporal?.teardown();
  for (const dir of [data, elsewhere, join(repo, relativeData)]) if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The README's command, as typed: `<repo>/scripts/keys.sh ...`, run from another directory with a plain PATH. */
function keys(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((done) => {
    execFile(
      join(repo, 'scripts/keys.sh'),
      args,
      { cwd: elsewhere, env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: process.env.HOME!, ...toolsDir, ...env }, timeout: 120_000 },
      (err, stdout, stderr) => done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

describe('API keys land where the README stack looks', () => {
  it('keys create, then ./scripts/dev.sh: anonymous calls are refused and the key works; the command refuses while the stack runs', async () => {
    const created = await keys(['create', '--name', 'x'], { GPTMARKET_DATA_DIR: data });
    expect(created.code, created.out).toBe(0);
    expect(created.out).toContain(`database: embedded PGlite in ${join(data, 'pglite')}`);
    const key = /key: (gmk_\w+)/.exec(created.out)?.[1];
    expect(key).toBeDefined();

    // The stack as ./scripts/dev.sh starts it (dev.sh runs setup, then this), on an existing Temporal.
    const port = await freePort();
    const stack: ServiceProcess = spawnService(
      'dev-stack',
      process.execPath,
      ['--import', 'tsx', '--conditions=@gptmarket/source', 'scripts/dev.ts'],
      {
        PATH: process.env.PATH!,
        HOME: process.env.HOME!,
        GPTMARKET_DATA_DIR: data,
        TEMPORAL_ADDRESS: temporal.address,
        PORT: String(port),
      },
      repo,
    );
    try {
      await stack.waitForOutput(/GPTMarket Generator is running/, 240_000);
      expect(stack.output()).not.toMatch(/the API is OPEN/);
      const get = (headers: Record<string, string> = {}) => fetch(`http://127.0.0.1:${port}/v1/generations`, { headers });
      const anonymous = await get();
      expect(anonymous.status).toBe(401);
      expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
      const withKey = await get({ authorization: `Bearer ${key}` });
      expect(withKey.status).toBe(200);

      // PGlite is single-process: while the stack runs the command refuses, and says what to do.
      const refused = await keys(['create', '--name', 'y'], { GPTMARKET_DATA_DIR: data });
      expect(refused.code).not.toBe(0);
      expect(refused.out).toMatch(/has the embedded database in .* open: stop it first/);
    } finally {
      stack.child.kill('SIGINT'); // Ctrl-C
      await stack.waitForOutput(/stack stopped/, 60_000).catch(() => {});
      await stack.stop();
    }

    const listed = await keys(['list'], { GPTMARKET_DATA_DIR: data });
    expect(listed.code, listed.out).toBe(0);
    expect(listed.out.match(/^key_\w+/gm)).toHaveLength(1); // the refused create wrote nothing
    expect(listed.out).toMatch(/\tx\t/);
  }, 600_000);

  it('a relative GPTMARKET_DATA_DIR counts from the repository root, not from the working directory', async () => {
    const listed = await keys(['list'], { GPTMARKET_DATA_DIR: relativeData });
    expect(listed.code, listed.out).toBe(0);
    expect(listed.out).toContain(`database: embedded PGlite in ${join(repo, relativeData, 'pglite')}`);
    expect(listed.out).toContain('no API keys');
  }, 180_000);
});
