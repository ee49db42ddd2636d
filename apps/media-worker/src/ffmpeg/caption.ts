import type { Caption, CaptionPosition } from '@gptmarket/contracts';

/**
 * Greedy word wrap with the same width on every line (the Python version allowed one character less on the
 * first line). Explicit newlines are kept; a word longer than the width stays whole on its own line.
 * Widths count user-perceived characters (grapheme clusters), so emoji and accents count once.
 */
export function wrapCaption(text: string, maxChars: number): string[] {
  const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  const width = (s: string) => [...segmenter.segment(s)].length;
  const lines: string[] = [];
  // Control characters other than newlines (tabs, NUL, escape, ...) become spaces: nothing invisible reaches the frame.
  const clean = text.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
  for (const paragraph of clean.split('\n')) {
    const words = paragraph.split(/[ \t]+/).filter(Boolean);
    if (words.length === 0) {
      if (lines.length > 0) lines.push('');
      continue;
    }
    let line = '';
    for (const word of words) {
      if (line === '') line = word;
      else if (width(line) + 1 + width(word) <= maxChars) line += ` ${word}`;
      else {
        lines.push(line);
        line = word;
      }
    }
    lines.push(line);
  }
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.length > 0 ? lines : [''];
}

/** Pixel font size: explicit, or the video height over the scale factor, clamped to 24–200 (as the Python system sized captions). */
export function captionFontSize(caption: Caption, videoHeight: number): number {
  if (caption.font_size !== null) return caption.font_size;
  return Math.max(24, Math.min(200, Math.floor(videoHeight / caption.font_scale_factor)));
}

const vertical = (p: CaptionPosition) => (p.startsWith('top') ? 'top' : p.startsWith('bottom') ? 'bottom' : 'center');
const horizontal = (p: CaptionPosition) => (p.endsWith('left') ? 'left' : p.endsWith('right') ? 'right' : 'center');

/** x and y expressions (numbers and FFmpeg's w/h/text_w only) for line `i` of `n`. */
export function lineLayout(
  position: CaptionPosition,
  i: number,
  n: number,
  fontSize: number,
  lineSpacing: number,
): { x: string; y: string } {
  const block = n * fontSize + (n - 1) * lineSpacing;
  const h = horizontal(position);
  const x = h === 'left' ? 'w*0.05' : h === 'right' ? 'w*0.95-text_w' : '(w-text_w)/2';
  const v = vertical(position);
  const top = v === 'top' ? 'h*0.08' : v === 'bottom' ? `h*0.85-${block}` : `(h-${block})/2`;
  return { x, y: `${top}+${i * (fontSize + lineSpacing)}` };
}
