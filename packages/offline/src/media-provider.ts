import { createHash } from 'node:crypto';
import type { ImageRequest, VideoRequest } from '@gptmarket/contracts';
import { encodePng, renderClip, renderPortrait } from './media/index.js';
import { decodePng } from './png-decode.js';

/** Width and height for an aspect ratio "W:H", longest side `longest`, both even. */
export function sizeForAspect(aspect: unknown, longest: number): { width: number; height: number } {
  const m = typeof aspect === 'string' ? /^(\d+):(\d+)$/.exec(aspect) : null;
  const w = m ? Number(m[1]) : 9;
  const h = m ? Number(m[2]) : 16;
  const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);
  return w >= h ? { width: even(longest), height: even((longest * h) / w) } : { width: even((longest * w) / h), height: even(longest) };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Pulls the person's attributes out of the JSON image prompt, when it is one of ours. */
function attributesFromPrompt(prompt: string): { skinTone?: string; hairColor?: string; emotion?: string; background?: string } {
  try {
    const p = JSON.parse(prompt) as {
      subject?: { ethnicity?: string; emotion?: string; hair?: { color?: string } };
      environment?: { setting?: string };
    };
    return {
      skinTone: p.subject?.ethnicity?.replace(/ /g, '_'),
      hairColor: p.subject?.hair?.color,
      emotion: p.subject?.emotion,
      background: p.environment?.setting,
    };
  } catch {
    return {};
  }
}

/** The offline image model: a deterministic PNG portrait that follows the prompt's attributes. */
export async function localImage(req: ImageRequest): Promise<{ data: Buffer; contentType: string }> {
  const prompt = str(req.params.prompt) ?? '';
  const { width, height } = sizeForAspect(req.params.aspect_ratio, 1024);
  const seed = createHash('sha256').update(`${req.model}\n${prompt}`).digest('hex');
  const image = renderPortrait({ width, height, seed, ...attributesFromPrompt(prompt) });
  return { data: encodePng(image), contentType: 'image/png' };
}

/** The offline video model: an H.264 clip that animates the start image (or a portrait when none is usable). */
export async function localVideo(
  req: VideoRequest,
  startImage: { data: Buffer; contentType: string } | null,
  heartbeat: () => void = () => {},
): Promise<{ data: Buffer; contentType: string }> {
  const duration = typeof req.params.duration === 'number' ? req.params.duration : 5;
  let image;
  if (startImage?.contentType === 'image/png') image = decodePng(startImage.data);
  const { width, height } = image ? sizeForAspect(`${image.width}:${image.height}`, 640) : sizeForAspect(req.params.aspect_ratio, 640);
  image ??= renderPortrait({
    width,
    height,
    seed: createHash('sha256')
      .update(str(req.params.prompt) ?? '')
      .digest('hex'),
  });
  heartbeat();
  const data = renderClip({ image, width, height, fps: 24, durationSeconds: duration });
  heartbeat();
  return { data, contentType: 'video/mp4' };
}
