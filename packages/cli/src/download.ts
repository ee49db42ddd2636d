import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/** One file of a generation's output. */
export interface OutputFile {
  /** Where it is in the output, as a JSON Pointer (`/final_video_url`, `/images/0/image_url`). */
  pointer: string;
  url: string;
  /** The file name it is saved under (`final_video.mp4`). */
  name: string;
}

export interface SavedFile extends OutputFile {
  path: string;
  bytes: number;
}

const EXTENSIONS: Record<string, string> = {
  'video/mp4': '.mp4',
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/gif': '.gif',
  'image/webp': '.webp',
  'audio/mpeg': '.mp3',
  'audio/wav': '.wav',
  'audio/x-wav': '.wav',
  'text/plain': '.txt',
  'text/markdown': '.md',
};

/**
 * The files of an output: every http(s) URL under a key ending in `_url`, anywhere in it (`failed_uploads` lists
 * pins that were not saved, by their address elsewhere: not ours to fetch). Relative URLs are resolved against
 * `base` (the gateway).
 */
export function outputFiles(output: unknown, base: string): OutputFile[] {
  const files: OutputFile[] = [];
  const used = new Set<string>();
  const walk = (value: unknown, pointer: string, label: string[], key: string) => {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${pointer}/${i}`, [...label, String(i)], key));
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value))
        if (k !== 'failed_uploads') walk(v, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, [...label, k], k);
    } else if (typeof value === 'string' && key.endsWith('_url') && value.length > 0) {
      let url: URL;
      try {
        url = new URL(value, `${base}/`);
      } catch {
        return;
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return;
      const ext = extname(url.pathname).toLowerCase();
      const stem =
        label
          .map((p) => p.replace(/_url$/, ''))
          .join('-')
          .replace(/[^A-Za-z0-9_.-]+/g, '_') || 'file';
      let name = `${stem}${/^\.[a-z0-9]{1,8}$/.test(ext) ? ext : ''}`;
      for (let n = 2; used.has(name); n++) name = `${stem}-${n}${ext}`;
      used.add(name);
      files.push({ pointer, url: url.href, name });
    }
  };
  walk(output, '', [], '');
  return files;
}

/**
 * Downloads each file into `dir` (created if need be): written to `<name>.part`, renamed when complete. No
 * credentials are sent: media URLs are public or presigned, and may be on another host than the gateway.
 */
export async function downloadFiles(files: readonly OutputFile[], dir: string, signal?: AbortSignal): Promise<SavedFile[]> {
  await mkdir(dir, { recursive: true });
  const saved: SavedFile[] = [];
  for (const file of files) {
    const res = await fetch(file.url, { signal, redirect: 'follow' });
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new Error(`downloading ${file.url} failed: the server answered ${res.status}`);
    }
    let name = file.name;
    if (!extname(name)) name += EXTENSIONS[(res.headers.get('content-type') ?? '').split(';')[0]!.trim()] ?? '';
    const path = join(dir, name);
    const partial = `${path}.part`;
    let bytes = 0;
    const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    try {
      await pipeline(body, createWriteStream(partial), { signal });
      await rename(partial, path);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
    saved.push({ ...file, name, path, bytes });
  }
  return saved;
}
