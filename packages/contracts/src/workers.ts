/**
 * The wire format between generation workers and the gateway: the capabilities a worker sells, which provider
 * serves each (its provider plan), and how the plan rides in the worker's Temporal identity. The generation
 * worker writes it (packages/providers/src/provider-config decides the plan from its keys); the gateway's
 * `/ready` reads it from the live pollers.
 */

/**
 * What the generation worker sells, each served by a real provider when its key is set and by the offline
 * `local` provider otherwise; each lists the variables that give it a real provider (any one of them).
 */
export const PROVIDER_CAPABILITIES = {
  /** Face images and animated videos (Replicate). */
  image_video: ['REPLICATE_API_KEY'],
  /** The Ruby prompt writer (OpenAI). */
  prompts: ['OPENAI_API_KEY'],
  /** Search queries and summaries (Gemini, OpenAI as the fallback). */
  llm: ['GEMINI_API_KEY', 'OPENAI_API_KEY'],
  /** Pinterest search (GPTMarket API). */
  pinterest: ['GPTMARKET_API_KEY'],
  /** Voice-overs (ElevenLabs, Cartesia). */
  speech: ['ELEVENLABS_API_KEY', 'CARTESIA_API_KEY'],
  /** Transcripts (AssemblyAI, else OpenAI). */
  transcription: ['ASSEMBLYAI_API_KEY', 'OPENAI_API_KEY'],
} as const;
export type ProviderCapability = keyof typeof PROVIDER_CAPABILITIES;
export const CAPABILITY_NAMES = Object.keys(PROVIDER_CAPABILITIES) as ProviderCapability[];

/** Which provider serves each capability: real ones joined by `+` (`gemini+openai`), or `local` (offline). */
export type ProviderPlan = Record<ProviderCapability, string>;

/**
 * Workers report their providers in their Temporal worker identity, which every poll carries: the gateway reads
 * the live pollers of the task queue (DescribeTaskQueue) and so learns which providers serve each capability
 * without holding a single provider key. Names and provider labels only, never a key.
 */
export function workerIdentity(base: string, plan: ProviderPlan): string {
  return `${base} providers=${CAPABILITY_NAMES.map((c) => `${c}:${plan[c]}`).join(',')}`;
}

/** The plan a worker identity reports, or null when the identity carries none (another kind of worker). */
export function planFromIdentity(identity: string): Partial<ProviderPlan> | null {
  const m = / providers=(\S+)/.exec(identity);
  if (!m) return null;
  const plan: Partial<ProviderPlan> = {};
  for (const pair of m[1]!.split(',')) {
    const [capability, provider] = pair.split(':');
    if (capability && provider && capability in PROVIDER_CAPABILITIES && /^[a-z0-9+_-]{1,64}$/.test(provider))
      plan[capability as ProviderCapability] = provider;
  }
  return plan;
}
