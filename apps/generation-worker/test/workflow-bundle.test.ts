/**
 * The workflow bundle: the contracts and their zod are one module the sandbox evaluates once and shares between runs
 * (every other module is evaluated again for each run), and workflows reach them through a per-run module.
 */
import { describe, expect, it } from 'vitest';
import { sharedContractsText } from '../src/workflow-bundler.js';
import { workflowBundle } from './harness.js';

describe('workflow bundle', () => {
  it('holds the contracts once, as a preloaded shared module, and no per-run copy of them or of zod', async () => {
    const { code } = await workflowBundle();
    const modules = [...code.matchAll(/^\/\*\*\*\/ "([^"]+)"/gm)].map((m) => m[1]!);
    expect(modules.filter((m) => /packages\/contracts\/|\/zod[@/]/.test(m))).toEqual([]);
    const shared = modules.filter((m) => /contracts-[0-9a-f]{16}\.cjs$/.test(m));
    expect(shared).toHaveLength(1);
    // Loaded before any workflow exists (so into the sandbox's shared modules).
    const preload = /exports\.preloadModules = function preloadModules\(\) \{([^}]*)\}/.exec(code)?.[1] ?? '';
    expect(preload).toContain(shared[0]);
    // What workflows import as @gptmarket/contracts: the per-run module handing out the shared contracts.
    expect(modules.filter((m) => /contracts-[0-9a-f]{16}\.access\.cjs$/.test(m))).toHaveLength(1);
  }, 120_000);

  it('exports only a function from the shared module (the sandbox freezes what shared modules export)', () => {
    const text = sharedContractsText();
    expect(text).toMatch(/\nmodule\.exports = \{ contracts: \(\) => load \};\n$/);
    expect(text).not.toMatch(/\brequire\("/); // self-contained: nothing outside the sandbox's reach
  });
});
