/**
 * Scoring and selection of scraped pins, as pure code: it runs inside the workflow, so the same history always
 * selects the same images. It reproduces the Python workflow's `_select_best_images`, `_score_pin`,
 * `_calculate_text_penalty`, `_compute_image_hash` and `_is_too_similar`
 * (`app/temporal/workflows/generations/slideshows_pinterest.py`): the same pins give the same picks.
 */
import { PINTEREST_MAX_IMAGES, type PinterestPin } from '@gptmarket/contracts';
import { md5Hex } from './md5.js';

/**
 * The Python system's 51 unwanted-image keywords: text-heavy pins, stock or watermarked images, and grids or
 * collages, none of which make a good full-screen slide. Matched as substrings of the lower-cased
 * `title + ' ' + description`; each keyword counts once, so "quotes" hits both "quote" and "quotes".
 */
export const TEXT_PENALTY_KEYWORDS: readonly string[] = [
  // Text-heavy content (27)
  'infographic',
  'template',
  'printable',
  'checklist',
  'worksheet',
  'quote',
  'quotes',
  'tips',
  'tutorial',
  'how to',
  'howto',
  'step by step',
  'guide',
  'cheat sheet',
  'cheatsheet',
  'recipe',
  'ingredients',
  'instructions',
  'diy',
  'download',
  'free',
  'pdf',
  'ebook',
  'chart',
  'diagram',
  'graph',
  'statistics',
  // Watermarks and stock (10)
  'logo',
  'watermark',
  'stock',
  'shutterstock',
  'getty',
  'adobe stock',
  'pin this',
  'save this',
  'click',
  'link in bio',
  // Grids and collages (14)
  'collage',
  'grid',
  'mood board',
  'moodboard',
  'collection',
  'compilation',
  'roundup',
  'round up',
  'best of',
  '3x3',
  '2x2',
  '4x4',
  'photo dump',
  'photodump',
];

export const FIRST_KEYWORD_PENALTY = 50;
export const FURTHER_KEYWORD_PENALTY = 15;
export const MAX_KEYWORD_PENALTY = 100;

/** The penalty for text-heavy, stock or collage pins: −50 for the first keyword hit, −15 per further hit, at most 100. */
export function textPenalty(pin: Pick<PinterestPin, 'title' | 'description'>): number {
  const text = `${pin.title ?? ''} ${pin.description ?? ''}`.toLowerCase();
  const hits = TEXT_PENALTY_KEYWORDS.filter((k) => text.includes(k)).length;
  if (hits === 0) return 0;
  return Math.min(MAX_KEYWORD_PENALTY, FIRST_KEYWORD_PENALTY + FURTHER_KEYWORD_PENALTY * (hits - 1));
}

/** A pin's quality score (`_score_pin`); a missing `aspect_ratio` earns no aspect points. */
export function scorePin(pin: PinterestPin): number {
  let score = 0;
  const w = pin.image_width ?? 0;
  const h = pin.image_height ?? 0;
  if (w && h) score += Math.min(40, (w * h) / 25000);
  if (pin.title) score += 10;
  if (pin.description) score += 10;
  const aspect = pin.aspect_ratio ?? '';
  if (aspect === '9:16') score += 30;
  else if (aspect === '2:3' || aspect === '3:4') score += 25;
  else if (aspect === '1:1') score += 15;
  else if (w && h && h > w) score += 20;
  if (pin.id) score += 10;
  return score - textPenalty(pin);
}

/**
 * 8 hex chars of md5(`a-b-c:w:h`), where a, b, c are the last three pieces of the whole URL split on "/"
 * (query string included, fewer pieces when the URL has fewer) and a missing or zero size counts as 0.
 */
export function similarityHash(pin: Pick<PinterestPin, 'image_url' | 'image_width' | 'image_height'>): string {
  const tail = pin.image_url.split('/').slice(-3).join('-');
  return md5Hex(`${tail}:${pin.image_width || 0}:${pin.image_height || 0}`).slice(0, 8);
}

export interface ScoredPin {
  pin: PinterestPin;
  score: number;
  hash: string;
}

/**
 * Dedupe by exact `image_url` (first wins) and drop pins without one, sort by score (highest first, ties
 * keep scrape order), then take pins in order, skipping any whose similarity hash shares its first 4 hex
 * characters with an already selected one, until `max` are chosen.
 */
export function selectPins(pins: readonly PinterestPin[], max = PINTEREST_MAX_IMAGES): ScoredPin[] {
  const seen = new Set<string>();
  const unique: ScoredPin[] = [];
  for (const pin of pins) {
    if (!pin.image_url || seen.has(pin.image_url)) continue;
    seen.add(pin.image_url);
    unique.push({ pin, score: scorePin(pin), hash: similarityHash(pin) });
  }
  unique.sort((a, b) => b.score - a.score);
  const prefixes = new Set<string>();
  const selected: ScoredPin[] = [];
  for (const entry of unique) {
    if (selected.length >= max) break;
    const prefix = entry.hash.slice(0, 4);
    if (prefixes.has(prefix)) continue;
    prefixes.add(prefix);
    selected.push(entry);
  }
  return selected;
}
