import { HELLO_WORLD_STEPS, HelloWorldInput, type HelloWorldOutput } from '@gptmarket/contracts';
import { GenerationRun } from './run.js';

/** `HelloWorldWorkflow`: auth check, one step that calls no activity, a greeting. */
export async function HelloWorldWorkflow(input: unknown): Promise<HelloWorldOutput> {
  const run = new GenerationRun();
  return run.execute(async () => {
    const { name } = await run.start(HelloWorldInput, input);
    const message = await run.step(HELLO_WORLD_STEPS.greet, async () => `Hello, ${name}!`);
    run.complete();
    return { message };
  });
}
