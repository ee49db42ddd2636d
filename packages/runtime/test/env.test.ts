import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { deploymentEnvShape, integer, isProduction } from '../src/index.js';

const deployment = z.object(deploymentEnvShape);

describe("the deployment stage: NODE_ENV and the Python system's ENVIRONMENT", () => {
  it('either name saying production means production', () => {
    expect(isProduction(deployment.parse({}))).toBe(false);
    expect(isProduction(deployment.parse({ NODE_ENV: 'production' }))).toBe(true);
    expect(isProduction(deployment.parse({ ENVIRONMENT: 'production' }))).toBe(true);
    expect(isProduction(deployment.parse({ NODE_ENV: 'development', ENVIRONMENT: 'production' }))).toBe(true);
    expect(isProduction(deployment.parse({ NODE_ENV: 'production', ENVIRONMENT: 'local' }))).toBe(true);
    for (const stage of ['local', 'staging', 'testing', ''])
      expect(isProduction(deployment.parse({ ENVIRONMENT: stage })), stage).toBe(false);
  });

  it("ENVIRONMENT takes the Python system's four values only", () => {
    const bad = deployment.safeParse({ ENVIRONMENT: 'Production' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]).toMatchObject({ path: ['ENVIRONMENT'], message: 'expected one of local, staging, production, testing' });
  });
});

describe('env helpers', () => {
  it('integer() without a default leaves the variable unset', () => {
    expect(z.object({ X: integer(undefined, 1, 5) }).parse({})).toEqual({ X: undefined });
    expect(z.object({ X: integer(3, 1, 5) }).parse({ X: ' ' })).toEqual({ X: 3 });
  });
});
