import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CaptionFont } from '@gptmarket/contracts';

/**
 * Caption fonts by file path, so "bold" is really bold (fontconfig names like "DejaVu Sans Bold" resolve
 * to the regular face). The names keep the Python system's enum; the files come from Debian's font packages
 * (fonts-dejavu-core, fonts-liberation, fonts-freefont-ttf, fonts-roboto-unhinted).
 */
export const FONT_FILES: Record<CaptionFont, string> = {
  IMPACT: 'dejavu/DejaVuSans-Bold.ttf',
  ARIAL_BLACK: 'liberation/LiberationSans-Bold.ttf',
  HELVETICA_BOLD: 'freefont/FreeSansBold.ttf',
  ARIAL: 'liberation/LiberationSans-Regular.ttf',
  HELVETICA: 'freefont/FreeSans.ttf',
  ROBOTO: 'roboto/unhinted/RobotoTTF/Roboto-Regular.ttf',
  GEORGIA: 'liberation/LiberationSerif-Regular.ttf',
  TIMES: 'freefont/FreeSerif.ttf',
  COURIER: 'liberation/LiberationMono-Regular.ttf',
};

/**
 * Fonts tried, in order, for a caption line holding characters the chosen font lacks (emoji, Hebrew,
 * Arabic, symbols): drawtext draws with one font file and has no fallback of its own, so a line the
 * chosen font cannot draw is drawn whole in the first of these that can (monochrome emoji included).
 */
export const FALLBACK_FONT_FILES = [
  'dejavu/DejaVuSans-Bold.ttf',
  'dejavu/DejaVuSans.ttf',
  'freefont/FreeSerif.ttf',
  'ancient-scripts/Symbola_hint.ttf',
];

export class MissingFontError extends Error {
  /** The message names the font; where it was looked for is for the worker's log (`path`). */
  constructor(
    font: string,
    readonly path: string,
  ) {
    super(`caption font ${font} is not installed on the media worker; choose another font`);
    this.name = 'MissingFontError';
  }
}

const defaultFontDir = () => process.env.FONT_DIR || '/usr/share/fonts/truetype';

/** Absolute path of a caption font; a missing file is an error, never a silent fallback. */
export function fontPath(font: CaptionFont, fontDir = defaultFontDir()): string {
  const path = join(fontDir, FONT_FILES[font]);
  if (!existsSync(path)) throw new MissingFontError(font, path);
  return path;
}

const coverageCache = new Map<string, Array<[number, number]>>();

/** Code point ranges a font file has glyphs for (fontconfig's charset, read once per file). */
export function fontCoverage(path: string): Array<[number, number]> {
  let ranges = coverageCache.get(path);
  if (!ranges) {
    const out = execFileSync('fc-query', ['--format=%{charset}', path], { encoding: 'utf8', timeout: 10_000 });
    ranges = out
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((r) => {
        const [a, b] = r.split('-');
        const lo = Number.parseInt(a!, 16);
        return [lo, b === undefined ? lo : Number.parseInt(b, 16)] as [number, number];
      });
    coverageCache.set(path, ranges);
  }
  return ranges;
}

/** Characters that need no glyph of their own (spaces, joiners, variation selectors, direction marks). */
const INVISIBLE = /[\s\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufe00-\ufe0f\u{e0020}-\u{e007f}]/u;

export function fontCovers(path: string, text: string): boolean {
  const ranges = fontCoverage(path);
  for (const ch of text) {
    if (INVISIBLE.test(ch)) continue;
    const cp = ch.codePointAt(0)!;
    let lo = 0;
    let hi = ranges.length - 1;
    let found = false;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [a, b] = ranges[mid]!;
      if (cp < a) hi = mid - 1;
      else if (cp > b) lo = mid + 1;
      else {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

/**
 * The font file one caption line is drawn with: the chosen font when it has every glyph, else the first
 * installed fallback that does, else the chosen font (unknown characters then show as its missing-glyph box).
 */
export function fontForLine(line: string, primary: string, fontDir = defaultFontDir()): string {
  if (fontCovers(primary, line)) return primary;
  for (const rel of FALLBACK_FONT_FILES) {
    const path = join(fontDir, rel);
    if (existsSync(path) && fontCovers(path, line)) return path;
  }
  return primary;
}
