/**
 * Scoring and selection of scraped pins (the Python system's rules), as pure code: it runs inside the workflow, so the
 * same history always selects the same images.
 */
import { PINTEREST_MAX_IMAGES, type PinterestPin } from '@gptmarket/contracts';
import { md5Hex } from './md5.js';

/**
 * Words that mark text-heavy pins, stock or watermarked images, and grids or collages: none of them make
 * a good full-screen slide. Matched as substrings of the lower-cased `title + ' ' + description`.
 */
export const TEXT_PENALTY_KEYWORDS: readonly string[] = [
  // Text-heavy content (20)
  'infographic', 'quote', 'recipe', 'typography', 'lettering', 'poster', 'flyer', 'checklist', 'worksheet', 'printable',
  'step by step', 'how to', 'tutorial', 'diagram', 'chart', 'cheat sheet', 'affirmation', 'word art', 'saying', 'caption',
  // Stock photos, watermarks and calls to action (16)
  'shutterstock', 'getty images', 'istock', 'adobe stock', 'dreamstime', 'depositphotos', '123rf', 'alamy', 'stock photo',
  'watermark', 'link in bio', 'click the link', 'shop now', 'promo code', 'discount code', 'free download',
  // Grids and collages (15)
  'moodboard', 'mood board', 'collage', '3x3', '2x2', '4x4', 'grid', 'photo dump', 'photodump', 'before and after',
  'side by side', 'compilation', 'vision board', 'aesthetic board', 'split screen',
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

/** A pin's quality score (the Python system's `_score_pin`). */
export function scorePin(pin: PinterestPin): number {
  let score = 0;
  const w = pin.image_width ?? 0;
  const h = pin.image_height ?? 0;
  if (w && h) score += Math.min(40, (w * h) / 25000);
  if (pin.title) score += 10;
  if (pin.description) score += 10;
  const aspect = pin.aspect_ratio || '9:16';
  if (aspect === '9:16') score += 30;
  else if (aspect === '2:3' || aspect === '3:4') score += 25;
  else if (aspect === '1:1') score += 15;
  else if (w && h && h > w) score += 20;
  if (pin.id) score += 10;
  return score - textPenalty(pin);
}

/** The path of a URL without parsing it with `URL` (any scheme, including `local://`). */
function urlPath(url: string): string {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/.exec(url);
  return m ? m[1]! : url.split(/[?#]/)[0]!;
}

/** 8 hex chars of md5(last three path segments joined by '-' + ':' + w + ':' + h); a missing size reads "None". */
export function similarityHash(pin: Pick<PinterestPin, 'image_url' | 'image_width' | 'image_height'>): string {
  const segments = urlPath(pin.image_url).split('/').slice(-3).join('-');
  const dim = (n: number | null | undefined) => (n === null || n === undefined ? 'None' : String(n));
  return md5Hex(`${segments}:${dim(pin.image_width)}:${dim(pin.image_height)}`).slice(0, 8);
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
