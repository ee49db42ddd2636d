import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CaptionFont } from '@gptmarket/contracts';

/**
 * Caption fonts by file path, so "bold" is really bold (fontconfig names like "DejaVu Sans Bold" resolve
 * to the regular face). The names keep the Python system's enum; the files come from Debian's font packages.
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

export class MissingFontError extends Error {
  constructor(font: string, path: string) {
    super(`caption font ${font} is not installed (expected ${path}); install the font package or choose another font`);
    this.name = 'MissingFontError';
  }
}

/** Absolute path of a caption font; a missing file is an error, never a silent fallback. */
export function fontPath(font: CaptionFont, fontDir = process.env.FONT_DIR || '/usr/share/fonts/truetype'): string {
  const path = join(fontDir, FONT_FILES[font]);
  if (!existsSync(path)) throw new MissingFontError(font, path);
  return path;
}
