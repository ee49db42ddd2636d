/**
 * Compile-time contract of the client's types: `pnpm typecheck` (tsc --noEmit) fails when these drift.
 * The runtime assertions only keep vitest from reporting an empty file.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { HelloWorldOutput, RubyOutput } from '@gptmarket/contracts';
import { GptMarketClient, isGenerationOfType, type Generation, type GenerationInput, type TypedGeneration } from '../src/index.js';

const client = new GptMarketClient({ baseUrl: 'http://127.0.0.1:9' });

// Never called: only type-checked.
async function compileOnly() {
  const ruby = await client.createGeneration('ruby', { emotion: 'shocked', video_duration: 10 });
  expectTypeOf(ruby.output).toEqualTypeOf<RubyOutput | null>();
  expectTypeOf(ruby.input.video_duration).toEqualTypeOf<number>();
  // @ts-expect-error the gateway fills secret_key in; a client never sends it
  await client.createGeneration('ruby', { secret_key: 'x' });
  // @ts-expect-error unknown field of a known type
  await client.createGeneration('hello_world', { nmae: 'typo' });
  // @ts-expect-error video_duration is a number
  await client.createGeneration('ruby', { video_duration: '5' });
  // A type the SDK does not know (a newer gateway) still works, untyped.
  const other = await client.createGeneration('future_type', { anything: 1 });
  expectTypeOf(other).toEqualTypeOf<Generation>();

  const done = await client.waitFor(ruby);
  expectTypeOf(done).toEqualTypeOf<TypedGeneration<'ruby'>>();
  const byId = await client.waitFor('gen_x');
  expectTypeOf(byId).toEqualTypeOf<Generation>();
  if (isGenerationOfType(byId, 'hello_world')) expectTypeOf(byId.output).toEqualTypeOf<HelloWorldOutput | null>();
  const typedGet = await client.getGeneration<'hello_world'>('gen_x');
  expectTypeOf(typedGet.output).toEqualTypeOf<HelloWorldOutput | null>();
  expectTypeOf<GenerationInput<'voiceover'>>().toHaveProperty('text');
}

describe('types', () => {
  it('are checked by tsc; the checks are compiled, never run', () => {
    expect(typeof compileOnly).toBe('function');
  });
});
