import type { z } from 'zod';
import type { StepDefinition } from './common.js';
import { HELLO_WORLD_STEPS, HELLO_WORLD_WORKFLOW, HelloWorldInput, HelloWorldOutput } from './workflows/hello-world.js';
import { RUBY_STEPS, RUBY_WORKFLOW, RubyInput, RubyOutput } from './workflows/ruby.js';

/** One generation type: the public `type` name, its Temporal workflow, its schemas and step table. */
export interface GenerationTypeDefinition {
  readonly type: string;
  readonly workflowType: string;
  readonly name: string;
  readonly description: string;
  /** Prefix of workflow ids started for this type (`ruby-<uuid>` as in the Python docs). */
  readonly workflowIdPrefix: string;
  readonly input: z.ZodType;
  readonly output: z.ZodType;
  readonly steps: Readonly<Record<string, StepDefinition>>;
}

export const GENERATION_TYPES = {
  ruby: {
    type: 'ruby',
    workflowType: RUBY_WORKFLOW,
    name: 'Ruby',
    description: 'Ruby - AI Influencer for Short-form Videos.',
    workflowIdPrefix: 'ruby',
    input: RubyInput,
    output: RubyOutput,
    steps: RUBY_STEPS,
  },
  hello_world: {
    type: 'hello_world',
    workflowType: HELLO_WORLD_WORKFLOW,
    name: 'Hello World',
    description: 'Connectivity check: greets a name.',
    workflowIdPrefix: 'hello',
    input: HelloWorldInput,
    output: HelloWorldOutput,
    steps: HELLO_WORLD_STEPS,
  },
} as const satisfies Record<string, GenerationTypeDefinition>;

export type GenerationType = keyof typeof GENERATION_TYPES;
export const GENERATION_TYPE_NAMES = Object.keys(GENERATION_TYPES) as GenerationType[];

export const getGenerationType = (type: string): GenerationTypeDefinition | undefined =>
  Object.hasOwn(GENERATION_TYPES, type) ? (GENERATION_TYPES as Record<string, GenerationTypeDefinition>)[type] : undefined;

export const generationTypeOfWorkflow = (workflowType: string): GenerationTypeDefinition | undefined =>
  Object.values(GENERATION_TYPES).find((t) => t.workflowType === workflowType);
