/**
 * The generation worker's activities, one file per concern: auth.ts (the auth local activity), prompts.ts (Ruby's
 * prompts), replicate.ts (images and videos), storage.ts (re-hosting, JSON documents), pinterest.ts, voice.ts,
 * transcript.ts; failures.ts maps provider and network errors to Temporal failures; deps.ts types what they are given.
 */
import type { GenerationActivities } from '@gptmarket/contracts';
import { createAuthActivities } from './auth.js';
import type { GenerationActivityDeps } from './deps.js';
import { createPinterestActivities } from './pinterest.js';
import { createPromptActivities } from './prompts.js';
import { createReplicateActivities } from './replicate.js';
import { createStorageActivities } from './storage.js';
import { createTranscriptActivities } from './transcript.js';
import { createVoiceActivities } from './voice.js';

export type { ContentProviders, GenerationActivityDeps, PaidProviders } from './deps.js';
export type { PaidJobHeartbeat } from './replicate.js';

export function createGenerationActivities(deps: GenerationActivityDeps): GenerationActivities {
  return {
    ...createAuthActivities(deps),
    ...createPromptActivities(deps),
    ...createReplicateActivities(deps),
    ...createStorageActivities(deps),
    ...createPinterestActivities(deps),
    ...createVoiceActivities(deps),
    ...createTranscriptActivities(deps),
  };
}
