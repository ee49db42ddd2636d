import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Logger, Tracing } from '@gptmarket/runtime';
import { prebuiltBundleFor, tracedBundlePath, workflowInterceptorModules } from '../src/index.js';

const tracing = (enabled: boolean) => ({ enabled }) as Tracing;
const recorder = () => {
  const warnings: string[] = [];
  const log: Logger = { debug() {}, info() {}, warn: (m) => void warnings.push(m), error() {} };
  return { log, warnings };
};

describe('workflow bundles with and without tracing', () => {
  it("bundles OpenTelemetry's workflow interceptors only when tracing is on; ours always", () => {
    const off = workflowInterceptorModules(false);
    const on = workflowInterceptorModules(true);
    expect(off).toHaveLength(1);
    expect(off[0]).toMatch(/workflow-interceptors\.[jt]s$/);
    expect(on).toEqual([...off, expect.stringMatching(/interceptors-opentelemetry\/lib\/workflow-interceptors/)]);
  });

  it('runs the traced prebuilt bundle when tracing is on, and says so when it is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bundles-'));
    const bundle = join(dir, 'workflow-bundle.js');
    writeFileSync(bundle, '');
    expect(tracedBundlePath(bundle)).toBe(join(dir, 'workflow-bundle.traced.js'));

    const quiet = recorder();
    expect(prebuiltBundleFor(bundle, tracing(false), quiet.log)).toBe(bundle);
    const missing = recorder();
    expect(prebuiltBundleFor(bundle, tracing(true), missing.log)).toBe(bundle);
    expect(missing.warnings).toEqual([expect.stringContaining('workflows run without spans')]);

    writeFileSync(tracedBundlePath(bundle), '');
    const present = recorder();
    expect(prebuiltBundleFor(bundle, tracing(true), present.log)).toBe(tracedBundlePath(bundle));
    expect([...quiet.warnings, ...present.warnings]).toEqual([]);
  });
});
