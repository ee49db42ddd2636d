import { z } from 'zod';
import { BaseGenerationRequest, WorkflowCredential, boundedText, type StepDefinition } from '../common.js';

export const SLIDESHOWS_PINTEREST_WORKFLOW = 'SlideshowsPinterestWorkflow';

export const PINTEREST_PROMPT_MAX = 1000;
/** The Python system's constants: 5 queries, 2 pages each, at most 25 images. */
export const PINTEREST_MAX_QUERIES = 5;
export const PINTEREST_PAGES_PER_QUERY = 2;
export const PINTEREST_MAX_IMAGES = 25;
/** The model the Python system asked for query generation (an OpenAI fallback applies, packages/providers/src/llm). */
export const PINTEREST_QUERY_MODEL = 'gemini-2.0-flash-lite';
export const PINTEREST_IMAGE_FOLDER = 'pinterest/images';

/** What a caller asks for (the HTTP API's `input`). */
export const SlideshowsPinterestRequest = BaseGenerationRequest.extend({
  prompt: boundedText(PINTEREST_PROMPT_MAX).refine((s) => s.trim().length > 0, { message: 'must not be empty' }),
});
/** What the workflow receives: the request and its credential. */
export const SlideshowsPinterestInput = SlideshowsPinterestRequest.extend(WorkflowCredential);
export type SlideshowsPinterestInput = z.infer<typeof SlideshowsPinterestInput>;

/** A pin as the scraper returns it (packages/providers/src/gptmarket). */
export const PinterestPin = z.object({
  id: z.string(),
  title: z.string().nullable().optional(),
  description: z.string().nullable().optional(),
  image_url: z.string(),
  aspect_ratio: z.string().optional(),
  image_width: z.number().int().nullable().optional(),
  image_height: z.number().int().nullable().optional(),
});
export type PinterestPin = z.infer<typeof PinterestPin>;

/** An image of the result (Python `PinterestImage`); `image_url` is in our storage. */
export const PinterestImage = z.object({
  id: z.string(),
  title: z.string().nullable().optional(),
  description: z.string().nullable().optional(),
  image_url: z.string(),
  aspect_ratio: z.string(),
  image_width: z.number().int().nullable().optional(),
  image_height: z.number().int().nullable().optional(),
});
export type PinterestImage = z.infer<typeof PinterestImage>;

export const FailedUpload = z.object({ image_url: z.string(), error: z.string() });
export type FailedUpload = z.infer<typeof FailedUpload>;

export const SlideshowsPinterestOutput = z.object({
  images: z.array(PinterestImage).default([]),
  queries_used: z.array(z.string()),
  total_scraped: z.number().int(),
  /** Additions (ignored by Python-era clients): selected pins whose upload failed, and warnings. */
  failed_uploads: z.array(FailedUpload),
  warnings: z.array(z.string()),
});
export type SlideshowsPinterestOutput = z.infer<typeof SlideshowsPinterestOutput>;

/** Step ids, names and start percentages exactly as the Python system reports them. */
export const SLIDESHOWS_PINTEREST_STEPS = {
  generate_queries: { id: 'generate_queries', name: 'Generate Search Queries', pct: 10 },
  scrape: { id: 'scrape', name: 'Collecting Images', pct: 50 },
  select: { id: 'select', name: 'Select Best Images', pct: 70 },
  rewrite: { id: 'rewrite', name: 'Rewrite Images', pct: 80 },
  upload: { id: 'upload', name: 'Save Images', pct: 90 },
} as const satisfies Record<string, StepDefinition>;
