import type { z } from 'zod';
import type { StepDefinition } from './common.js';
import { HELLO_WORLD_WORKFLOW, HelloWorldInput, HelloWorldRequest, HelloWorldOutput } from './workflows/hello-world.js';
import type { ModelRequest } from './models.js';
import { RUBY_STEPS, RUBY_WORKFLOW, RubyInput, RubyRequest, RubyOutput, rubyModelRequests } from './workflows/ruby.js';
import {
  SLIDESHOWS_PINTEREST_WORKFLOW,
  SlideshowsPinterestInput,
  SlideshowsPinterestRequest,
  SlideshowsPinterestOutput,
} from './workflows/slideshows-pinterest.js';
import {
  TRANSCRIPT_SUMMARY_WORKFLOW,
  TranscriptSummaryInput,
  TranscriptSummaryRequest,
  TranscriptSummaryOutput,
} from './workflows/transcript-summary.js';
import { VOICEOVER_STEPS, VOICEOVER_WORKFLOW, VoiceoverInput, VoiceoverRequest, VoiceoverOutput } from './workflows/voiceover.js';

/** One generation type: the public `type` name, its Temporal workflow and its schemas. */
export interface GenerationTypeDefinition {
  readonly type: string;
  readonly workflowType: string;
  readonly name: string;
  readonly description: string;
  /** Prefix of workflow ids started for this type (`ruby-<uuid>` as in the Python docs). */
  readonly workflowIdPrefix: string;
  /** What a caller sends as `input` over HTTP (no `secret_key`: the gateway adds the workflow's credential). */
  readonly request: z.ZodType;
  /** What the workflow receives: the request and `secret_key`, as Python clients send it. */
  readonly input: z.ZodType;
  readonly output: z.ZodType;
  /** The paid model requests a validated input will lead to, checked before the workflow starts. */
  readonly modelRequests?: (input: never) => ModelRequest[];
  /** Its steps in the order they run, for types with paid steps (which were paid when it failed or was cancelled). */
  readonly steps?: readonly StepDefinition[];
}

export const GENERATION_TYPES = {
  ruby: {
    type: 'ruby',
    workflowType: RUBY_WORKFLOW,
    name: 'Ruby',
    description: 'Ruby - AI Influencer for Short-form Videos.',
    workflowIdPrefix: 'ruby',
    request: RubyRequest,
    input: RubyInput,
    output: RubyOutput,
    modelRequests: rubyModelRequests,
    steps: Object.values(RUBY_STEPS),
  },
  slideshows_pinterest: {
    type: 'slideshows_pinterest',
    workflowType: SLIDESHOWS_PINTEREST_WORKFLOW,
    name: 'Slideshows Pinterest',
    description: 'Finds, scores and saves Pinterest images for a slideshow topic.',
    workflowIdPrefix: 'slideshows-pinterest',
    request: SlideshowsPinterestRequest,
    input: SlideshowsPinterestInput,
    output: SlideshowsPinterestOutput,
  },
  voiceover: {
    type: 'voiceover',
    workflowType: VOICEOVER_WORKFLOW,
    name: 'Voiceover',
    description: 'Text to speech (ElevenLabs or Cartesia), optionally put under a video.',
    workflowIdPrefix: 'voiceover',
    request: VoiceoverRequest,
    input: VoiceoverInput,
    output: VoiceoverOutput,
    steps: Object.values(VOICEOVER_STEPS),
  },
  transcript_summary: {
    type: 'transcript_summary',
    workflowType: TRANSCRIPT_SUMMARY_WORKFLOW,
    name: 'Transcript Summary',
    description: 'Transcribes a recording and writes a structured meeting summary.',
    workflowIdPrefix: 'transcript',
    request: TranscriptSummaryRequest,
    input: TranscriptSummaryInput,
    output: TranscriptSummaryOutput,
  },
  hello_world: {
    type: 'hello_world',
    workflowType: HELLO_WORLD_WORKFLOW,
    name: 'Hello World',
    description: 'Connectivity check: greets a name.',
    workflowIdPrefix: 'hello',
    request: HelloWorldRequest,
    input: HelloWorldInput,
    output: HelloWorldOutput,
  },
} as const satisfies Record<string, GenerationTypeDefinition>;

export type GenerationType = keyof typeof GENERATION_TYPES;
export const GENERATION_TYPE_NAMES = Object.keys(GENERATION_TYPES) as GenerationType[];

export const getGenerationType = (type: string): GenerationTypeDefinition | undefined =>
  Object.hasOwn(GENERATION_TYPES, type) ? (GENERATION_TYPES as Record<string, GenerationTypeDefinition>)[type] : undefined;
