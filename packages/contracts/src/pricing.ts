import { z } from 'zod';
import { getModel } from './models.js';

/**
 * What a generation costs: one price table (every priced model, its unit, its list price in USD, where the price
 * was read and when), the estimate a request leads to before it starts (`estimateCost`) and the cost once its
 * workflow has finished (`settleCost`, from the usage the workflow reports). Pure: the gateway estimates with it
 * before anything is paid for and settles with it when a workflow ends; the worker never prices anything.
 *
 * Prices are list prices for pay-as-you-go API use and change: re-read the sources when you update the table. The
 * offline `local` provider costs nothing.
 */

/** How a price is counted. Token prices are per million tokens, speech per thousand characters. */
export const PRICE_UNITS = ['image', 'second', 'character', 'input_token', 'output_token'] as const;
export type PriceUnit = (typeof PRICE_UNITS)[number];

interface PriceVariant {
  /** Request params that select this price (all must match). */
  when: Readonly<Record<string, string | number | boolean>>;
  usd: number;
}

export interface PriceEntry {
  provider: string;
  /** What one price is for: an image, a second of video, 1000 characters of speech, 1M input or output tokens. */
  per: 'image' | 'second' | '1k_characters' | '1m_tokens';
  /** USD per unit (per 1M input tokens for token prices). */
  usd: number;
  /** USD per 1M output tokens (token prices only). */
  outputUsd?: number;
  /** Prices that depend on the request (4K images, video with sound); the first that matches wins. */
  variants?: readonly PriceVariant[];
  /** Where the price was read. */
  source: string;
  /** When it was read (YYYY-MM-DD). */
  checked: string;
}

/**
 * THE price table. Keys are the model registry's ids (`packages/contracts/src/models.ts`, served by Replicate), the
 * prompt LLMs as `<provider>/<model>`, and the speech providers by name (their default models).
 */
export const PRICES = {
  'nano-banana': {
    provider: 'replicate',
    per: 'image',
    usd: 0.15,
    variants: [{ when: { resolution: '4K' }, usd: 0.3 }],
    source: 'https://replicate.com/google/nano-banana-pro',
    checked: '2026-12-02',
  },
  'hidream-fast': {
    provider: 'replicate',
    per: 'image',
    usd: 0.005,
    source: 'https://replicate.com/prunaai/hidream-l1-fast',
    checked: '2026-12-02',
  },
  'kling-v2.6': {
    provider: 'replicate',
    per: 'second',
    usd: 0.07,
    variants: [{ when: { generate_audio: true }, usd: 0.14 }],
    source: 'https://replicate.com/kwaivgi/kling-v2.6',
    checked: '2026-12-02',
  },
  'seedance-1.5-pro': {
    provider: 'replicate',
    per: 'second',
    usd: 0.052,
    variants: [{ when: { generate_audio: true }, usd: 0.104 }],
    source: 'https://replicate.com/bytedance/seedance-1.5-pro',
    checked: '2026-12-02',
  },
  'openai/gpt-4o-mini': {
    provider: 'openai',
    per: '1m_tokens',
    usd: 0.15,
    outputUsd: 0.6,
    source: 'https://platform.openai.com/docs/pricing',
    checked: '2026-12-02',
  },
  'openai/gpt-5-nano': {
    provider: 'openai',
    per: '1m_tokens',
    usd: 0.05,
    outputUsd: 0.4,
    source: 'https://platform.openai.com/docs/pricing',
    checked: '2026-12-02',
  },
  'gemini/gemini-2.0-flash': {
    provider: 'gemini',
    per: '1m_tokens',
    usd: 0.1,
    outputUsd: 0.4,
    source: 'https://ai.google.dev/gemini-api/docs/pricing',
    checked: '2026-12-02',
  },
  elevenlabs: {
    provider: 'elevenlabs',
    per: '1k_characters',
    usd: 0.1,
    source: 'https://elevenlabs.io/pricing/api',
    checked: '2026-12-02',
  },
  cartesia: {
    provider: 'cartesia',
    per: '1k_characters',
    usd: 0.04,
    source: 'https://cartesia.ai/pricing',
    checked: '2026-12-02',
  },
} as const satisfies Record<string, PriceEntry>;

export type PricedModel = keyof typeof PRICES;

/** The model the Ruby prompt calls use unless the worker names another (`OPENAI_PROMPT_MODEL`). */
export const DEFAULT_PROMPT_MODEL = 'gpt-4o-mini';
/** The most tokens a Ruby prompt answer may have (the activity's `maxTokens`): the estimate counts all of them. */
export const PROMPT_MAX_OUTPUT_TOKENS = 2048;
/** Tokens a Ruby prompt call sends (its template and the request), rounded up: the estimate's input side. */
export const PROMPT_INPUT_TOKENS_ESTIMATE = 1500;

/** The price entry of a model: a registry id, `<provider>/<model>` (a dated snapshot matches its base), or a provider. */
export function priceOf(model: string): PriceEntry | undefined {
  const table = PRICES as Record<string, PriceEntry>;
  if (Object.hasOwn(table, model)) return table[model];
  // `openai/gpt-4o-mini-2024-07-18` is priced as `openai/gpt-4o-mini`: the longest key it starts with.
  let best: string | undefined;
  for (const key of Object.keys(table)) {
    if (key.includes('/') && model.startsWith(`${key}-`) && (!best || key.length > best.length)) best = key;
  }
  return best ? table[best] : undefined;
}

/** USD per unit for a request's params (its variant when one matches). */
function unitUsd(entry: PriceEntry, params: Record<string, unknown> = {}): number {
  const variant = entry.variants?.find((v) => Object.entries(v.when).every(([k, want]) => params[k] === want));
  return variant?.usd ?? entry.usd;
}

const PER_DIVISOR = { image: 1, second: 1, '1k_characters': 1000, '1m_tokens': 1_000_000 } as const;

/** USD in whole micro-dollars: every amount is rounded once, so sums add up exactly. */
export const toMicros = (usd: number): number => Math.round(usd * 1_000_000);
export const fromMicros = (micros: number): number => micros / 1_000_000;

export const CostItem = z.object({
  /** The workflow step that paid (a step id of `current_step`). */
  step: z.string(),
  provider: z.string(),
  model: z.string(),
  unit: z.enum(PRICE_UNITS),
  units: z.number(),
  /** USD. */
  amount: z.number(),
  /** `estimate`: from the request; `usage`: from what the provider reported; `not_paid`: the step did not run or pay. */
  basis: z.enum(['estimate', 'usage', 'not_paid']),
  /** Seconds of compute the provider reported (Replicate's `metrics.predict_time`), for reference. */
  predict_time: z.number().optional(),
});
export type CostItem = z.infer<typeof CostItem>;

/** `cost` of a generation (docs/api.md "Cost"). */
export const Cost = z.object({
  currency: z.literal('USD'),
  /** What the request was expected to cost when it was accepted. */
  estimated: z.number(),
  /** What it cost, once it has ended (completed, failed or cancelled); null until then. */
  actual: z.number().nullable(),
  /** The estimate's items until it ends, then what each paid step cost. */
  items: z.array(CostItem),
});
export type Cost = z.infer<typeof Cost>;

/** What a workflow reports of a provider call it made (its output's `usage`). New fields stay optional. */
export const ProviderUsage = z.object({
  step: z.string(),
  provider: z.string(),
  model: z.string(),
  input_tokens: z.number().optional(),
  output_tokens: z.number().optional(),
  /** Seconds of compute the provider reported. */
  predict_time: z.number().optional(),
});
export type ProviderUsage = z.infer<typeof ProviderUsage>;

function item(
  step: string,
  model: string,
  entry: PriceEntry,
  unit: PriceUnit,
  units: number,
  usdPerPriceUnit: number,
  basis: CostItem['basis'] = 'estimate',
): CostItem {
  const micros = toMicros((units * usdPerPriceUnit) / PER_DIVISOR[entry.per]);
  return { step, provider: entry.provider, model, unit, units, amount: fromMicros(micros), basis };
}

/** Both sides of an LLM call: input and output tokens. */
function tokenItems(step: string, model: string, inputTokens: number, outputTokens: number, basis: CostItem['basis']): CostItem[] {
  const entry = priceOf(model);
  if (!entry || entry.per !== '1m_tokens') return [];
  return [
    item(step, model, entry, 'input_token', inputTokens, entry.usd, basis),
    item(step, model, entry, 'output_token', outputTokens, entry.outputUsd ?? entry.usd, basis),
  ];
}

/** A registry model's request: one image, or the clip's seconds. */
function modelItem(step: string, modelId: string, params: Record<string, unknown>): CostItem[] {
  const entry = priceOf(modelId);
  const model = getModel(modelId);
  if (!entry || !model) return [];
  if (entry.per === 'second') {
    const seconds = typeof params.duration === 'number' ? params.duration : (model.durations?.[0] ?? 0);
    return [item(step, modelId, entry, 'second', seconds, unitUsd(entry, params))];
  }
  return [item(step, modelId, entry, 'image', 1, unitUsd(entry, params))];
}

const asRecord = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/**
 * The cost items a validated request leads to, priced at the paid providers' list prices (the gateway does not know
 * which provider a worker will use; a generation made offline settles at 0). Types that pay nothing, or whose size is
 * unknown before they run (a transcript's length), have no items.
 */
export function estimateCost(type: string, input: Record<string, unknown>): CostItem[] {
  switch (type) {
    case 'ruby': {
      const prompt = `openai/${DEFAULT_PROMPT_MODEL}`;
      const image = { aspect_ratio: input.aspect_ratio, ...asRecord(input.image_model_params) };
      const video = { duration: input.video_duration, generate_audio: false, ...asRecord(input.video_model_params) };
      return [
        // Two prompt calls (person and reaction), each up to the answer's token cap.
        ...tokenItems('prompts', prompt, 2 * PROMPT_INPUT_TOKENS_ESTIMATE, 2 * PROMPT_MAX_OUTPUT_TOKENS, 'estimate'),
        ...modelItem('face', String(input.image_model), image),
        ...modelItem('video', String(input.video_model), video),
      ];
    }
    case 'voiceover': {
      const provider = typeof input.provider === 'string' ? input.provider : 'elevenlabs';
      const entry = priceOf(provider);
      const text = typeof input.text === 'string' ? input.text : '';
      if (!entry || provider === 'local') return [];
      return [item('synthesize', provider, entry, 'character', [...text].length, entry.usd)];
    }
    default:
      return [];
  }
}

export const sumMicros = (items: readonly CostItem[]): number => items.reduce((s, i) => s + toMicros(i.amount), 0);

/** A cost not yet settled: the estimate. */
export function estimatedCost(items: CostItem[]): Cost {
  return { currency: 'USD', estimated: fromMicros(sumMicros(items)), actual: null, items };
}

/**
 * The cost of a finished generation. `ran(step)` says whether a step was paid for: every step of a completed
 * generation; for a failed one the steps before the one that failed (a provider that failed delivered nothing
 * and is not billed); for a cancelled one also the step it was cancelled in (it may have been paid). A step the
 * workflow reported usage for is priced from it: the `local` provider at 0, tokens at the model's price, an image or
 * clip at its price per output (`predict_time` kept for reference). Other paid steps keep their estimate.
 */
export function settleCost(estimate: Cost, usage: readonly ProviderUsage[], ran: (step: string) => boolean): Cost {
  const items: CostItem[] = [];
  const steps = [...new Set(estimate.items.map((i) => i.step))];
  for (const step of steps) {
    const planned = estimate.items.filter((i) => i.step === step);
    if (!ran(step)) {
      items.push(...planned.map((i) => ({ ...i, amount: 0, basis: 'not_paid' as const })));
      continue;
    }
    const reported = usage.filter((u) => u.step === step);
    if (reported.length === 0) {
      items.push(...planned);
      continue;
    }
    if (reported.every((u) => u.provider === 'local')) {
      items.push(...planned.map((i) => ({ ...i, provider: 'local', model: reported[0]!.model, amount: 0, basis: 'usage' as const })));
      continue;
    }
    const tokens = planned.some((i) => i.unit === 'input_token' || i.unit === 'output_token');
    if (tokens) {
      // One entry per LLM call; a call without token counts (or with a model the table lacks) keeps its share of the estimate.
      for (const u of reported) {
        const priced = u.provider === 'local' ? [] : tokenItems(step, u.model, u.input_tokens ?? 0, u.output_tokens ?? 0, 'usage');
        const counted = u.provider === 'local' || u.input_tokens !== undefined || u.output_tokens !== undefined;
        if (counted && (priced.length > 0 || u.provider === 'local')) items.push(...priced);
        else
          items.push(
            ...planned.map((i) => ({
              ...i,
              units: i.units / reported.length,
              amount: fromMicros(Math.round(toMicros(i.amount) / reported.length)),
            })),
          );
      }
      continue;
    }
    // An image or a clip: priced per output, by the provider that made it.
    const u = reported[0]!;
    items.push(
      ...planned.map((i) => ({
        ...i,
        provider: u.provider,
        basis: 'usage' as const,
        ...(u.predict_time !== undefined ? { predict_time: u.predict_time } : {}),
      })),
    );
  }
  return { currency: 'USD', estimated: estimate.estimated, actual: fromMicros(sumMicros(items)), items };
}

/**
 * Which steps of an ended generation were paid for, given its steps in order and the step it ended in: all of a
 * completed one; of a failed one those before the step that failed (a provider that failed delivered nothing and
 * does not bill it), none when it failed before its first step; of a cancelled one also the step it was cancelled in
 * (its provider job may have been paid).
 */
export function stepsPaid(
  order: readonly string[],
  status: 'completed' | 'failed' | 'cancelled',
  endedIn: string | null,
): (step: string) => boolean {
  if (status === 'completed') return () => true;
  const end = endedIn === null ? -1 : order.indexOf(endedIn);
  // A step outside the table (`complete`, or an unknown one) ends after every step of it.
  const last = endedIn !== null && end < 0 ? order.length : end;
  return (step) => {
    const i = order.indexOf(step);
    return i >= 0 && (status === 'cancelled' ? i <= last : i < last);
  };
}

/**
 * The usage a workflow output reports: its `usage` list, else what its `providers` (Ruby) or `provider` (Voiceover)
 * say made each step (outputs from before usage was reported).
 */
export function usageOf(type: string, output: unknown): ProviderUsage[] {
  const out = asRecord(output);
  const parsed = z.array(ProviderUsage).safeParse(out.usage);
  if (parsed.success) return parsed.data;
  const by = (step: string, provider: unknown, model: unknown): ProviderUsage[] =>
    typeof provider === 'string' ? [{ step, provider, model: typeof model === 'string' ? model : provider }] : [];
  if (type === 'ruby') {
    const p = asRecord(out.providers);
    return [...by('prompts', p.prompts, p.prompts), ...by('face', p.image, out.image_model), ...by('video', p.video, out.video_model)];
  }
  if (type === 'voiceover') return by('synthesize', out.provider, out.provider);
  return [];
}
