import { z } from 'zod';
import { BaseGenerationRequest, WorkflowCredential, boundedText, type StepDefinition } from '../common.js';

export const HELLO_WORLD_WORKFLOW = 'HelloWorldWorkflow';

/** What a caller asks for (the HTTP API's `input`). */
export const HelloWorldRequest = BaseGenerationRequest.extend({
  name: boundedText(100).default('World'),
});
/** What the workflow receives: the request and its credential. */
export const HelloWorldInput = HelloWorldRequest.extend(WorkflowCredential);
export type HelloWorldInput = z.infer<typeof HelloWorldInput>;

export const HelloWorldOutput = z.object({ message: z.string() });
export type HelloWorldOutput = z.infer<typeof HelloWorldOutput>;

export const HELLO_WORLD_STEPS = {
  greet: { id: 'greet', name: 'Generate Greeting', pct: 50 },
} as const satisfies Record<string, StepDefinition>;
