import { defineConfig } from 'vitest/config';

/**
 * Shared test settings for every package: resolve workspace packages to their TypeScript sources
 * (the `@gptmarket/source` export condition) and write a JSON report that scripts/test.sh sums up.
 */
export const sharedConfig = defineConfig({
  resolve: { conditions: ['@gptmarket/source'] },
  ssr: { resolve: { conditions: ['@gptmarket/source'], externalConditions: ['@gptmarket/source'] } },
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    passWithNoTests: true,
  },
});
