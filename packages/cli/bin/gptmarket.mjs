#!/usr/bin/env node
// The gptmarket command, run from its TypeScript sources (no build step): tsx compiles them, and workspace packages
// (@gptmarket/sdk) resolve to their sources through the `@gptmarket/source` export condition, as in the repo's
// scripts and tests.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
// Registered last, so it runs first: adds the condition, then hands on to tsx's resolver.
const addCondition = `export function resolve(specifier, context, next) {
  return next(specifier, { ...context, conditions: [...context.conditions, '@gptmarket/source'] });
}`;
register(`data:text/javascript,${encodeURIComponent(addCondition)}`);

const { main } = await import('../src/main.ts');
process.exit(await main(process.argv.slice(2)));
