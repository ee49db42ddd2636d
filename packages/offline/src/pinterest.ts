/**
 * The offline Pinterest scraper: deterministic 9:16 pins whose images are `local://pin/<n>` URLs, drawn on
 * demand (the generation worker's re-hosting activity draws them instead of downloading).
 */
import type { ScrapedPin } from '@gptmarket/contracts';
import { encodePng, renderPortrait } from './media/index.js';

/** Offline search results for a query: up to 10 pins, 4 per page asked for. */
export function localPins(query: string, pages: number): ScrapedPin[] {
  let h = 2166136261;
  for (const ch of query) h = Math.imul(h ^ ch.codePointAt(0)!, 16777619) >>> 0;
  const count = Math.min(10, 4 * Math.max(1, pages));
  return Array.from({ length: count }, (_, i) => {
    const n = (h + i * 7919) % 100_000;
    return {
      id: `local-${n}`,
      title: `${query} ${i + 1}`,
      description: `Offline sample image ${i + 1} for "${query}"`,
      image_url: `local://pin/${n}`,
      aspect_ratio: '9:16',
      image_width: 720 + 36 * (i % 5),
      image_height: 1280 + 64 * (i % 5),
    };
  });
}

const LOCAL_PIN = /^local:\/\/pin\/(\d{1,6})$/;

/** The number of an offline pin's image URL (`local://pin/<n>`), or null for any other URL. */
export function localPinNumber(url: string): number | null {
  const m = LOCAL_PIN.exec(url);
  return m ? Number(m[1]) : null;
}

/** The PNG behind `local://pin/<n>`. */
export const localPinImage = (n: number): Buffer => encodePng(renderPortrait({ width: 360, height: 640, seed: `pinterest-pin-${n}` }));
