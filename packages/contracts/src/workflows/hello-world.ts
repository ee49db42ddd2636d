import { z } from 'zod';
import { BaseWorkflowInput, boundedText, type StepDefinition } from '../common.js';

export const HELLO_WORLD_WORKFLOW = 'HelloWorldWorkflow';

export const HelloWorldInput = BaseWorkflowInput.extend({
  name: boundedText(100).default('World'),
});
export type HelloWorldInput = z.infer<typeof HelloWorldInput>;

export const HelloWorldOutput = z.object({ message: z.string() });
export type HelloWorldOutput = z.infer<typeof HelloWorldOutput>;

export const HELLO_WORLD_STEPS = {
  greet: { id: 'greet', name: 'Generate Greeting', pct: 50 },
} as const satisfies Record<string, StepDefinition>;
