import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import {
  ERROR_TYPES,
  PINTEREST_IMAGE_FOLDER,
  PINTEREST_MAX_QUERIES,
  PINTEREST_PAGES_PER_QUERY,
  PINTEREST_QUERY_MODEL,
  REWRITE_IGNORED_WARNING,
  SLIDESHOWS_PINTEREST_STEPS as STEPS,
  SlideshowsPinterestInput,
  type FailedUpload,
  type GenerationActivities,
  type PinterestImage,
  type PinterestPin,
  type SlideshowsPinterestOutput,
} from '@gptmarket/contracts';
import { fast, failureMessage } from './options.js';
import { selectPins } from './pinterest-selection.js';
import { GenerationRun } from './run.js';

const llm = proxyActivities<GenerationActivities>(fast('2m'));
const scraper = proxyActivities<GenerationActivities>(fast('2m'));
const storage = proxyActivities<GenerationActivities>(fast('2m'));

const QUERY_MAX_CHARS = 200;

/** The first 5 non-empty string queries of the model's `{"queries": [...]}` answer. */
export function queriesFromAnswer(parsed: unknown): string[] {
  const list = (parsed as { queries?: unknown } | null)?.queries;
  if (!Array.isArray(list)) return [];
  return list
    .filter((q): q is string => typeof q === 'string')
    .map((q) => q.trim().slice(0, QUERY_MAX_CHARS))
    .filter((q) => q.length > 0)
    .slice(0, PINTEREST_MAX_QUERIES);
}

/** `SlideshowsPinterestWorkflow`: search queries from an LLM, parallel Pinterest scraping, scoring, uploads. */
export async function SlideshowsPinterestWorkflow(rawInput: unknown): Promise<SlideshowsPinterestOutput> {
  const run = new GenerationRun();
  return run.execute(async () => {
    const input = await run.start(SlideshowsPinterestInput, rawInput);
    const prompt = input.prompt.trim();
    const warnings: string[] = [];

    const queries = await run.step(STEPS.generate_queries, async () => {
      try {
        const answer = await llm.generateJson({
          template: 'pinterest-queries',
          vars: { prompt, count: PINTEREST_MAX_QUERIES },
          model: PINTEREST_QUERY_MODEL,
          temperature: 0.9,
          maxTokens: 512,
        });
        const parsed = queriesFromAnswer(answer.parsed);
        if (parsed.length > 0) return parsed;
        warnings.push('The query model returned no usable queries: searched for the prompt itself');
      } catch (err) {
        warnings.push(`Query generation failed (${failureMessage(err)}): searched for the prompt itself`);
      }
      return [prompt];
    });

    const scraped = await run.step(STEPS.scrape, async () => {
      const results = await Promise.allSettled(
        queries.map((search_query) => scraper.scrapePinterest({ search_query, pages: PINTEREST_PAGES_PER_QUERY })),
      );
      const pins: PinterestPin[] = [];
      const errors: string[] = [];
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') pins.push(...r.value.pins);
        else errors.push(`${queries[i]}: ${failureMessage(r.reason)}`);
      });
      if (pins.length === 0 && errors.length > 0) {
        throw ApplicationFailure.create({
          message: `All Pinterest queries failed: ${errors.join('; ')}`,
          type: ERROR_TYPES.provider,
          nonRetryable: true,
        });
      }
      if (errors.length > 0) warnings.push(`${errors.length} of ${queries.length} Pinterest queries failed: ${errors.join('; ')}`);
      return pins;
    });

    const selected = await run.step(STEPS.select, async () => selectPins(scraped));

    if (input.rewrite_enabled) warnings.push(REWRITE_IGNORED_WARNING);

    const { images, failed } = await run.step(STEPS.upload, async () => {
      const uploads = await Promise.allSettled(
        selected.map(({ pin }) => storage.rehostMedia({ url: pin.image_url, folder: PINTEREST_IMAGE_FOLDER, kind: 'image' })),
      );
      const images: PinterestImage[] = [];
      const failed: FailedUpload[] = [];
      uploads.forEach((u, i) => {
        const pin = selected[i]!.pin;
        if (u.status === 'fulfilled') {
          images.push({
            id: pin.id,
            title: pin.title ?? null,
            description: pin.description ?? null,
            image_url: u.value.url,
            aspect_ratio: pin.aspect_ratio || '9:16',
            image_width: pin.image_width ?? null,
            image_height: pin.image_height ?? null,
          });
        } else {
          failed.push({ image_url: pin.image_url, error: failureMessage(u.reason) });
        }
      });
      return { images, failed };
    });
    if (failed.length > 0) warnings.push(`${failed.length} of ${selected.length} selected images could not be saved (see failed_uploads)`);

    run.complete();
    return { images, queries_used: queries, total_scraped: scraped.length, failed_uploads: failed, warnings };
  });
}
