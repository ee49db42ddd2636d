import { execFileSync, spawnSync } from 'node:child_process';
import type { Generation } from '@gptmarket/contracts';
import { S3Storage } from '@gptmarket/storage';
import type { Stack } from '@gptmarket/testkit';

export { startStack, type Stack } from '@gptmarket/testkit';

/**
 * A private bucket whose URLs are presigned locally and never fetched (its endpoint is a closed port): for tests that
 * read and write records only.
 */
export const unreachableBucket = (presignSeconds = 3600) =>
  new S3Storage({
    kind: 's3',
    bucket: 'media',
    region: 'us-east-1',
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'not-a-real-secret-key',
    endpoint: 'http://127.0.0.1:9',
    presignSeconds,
  });

export async function api(stack: Stack, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(stack.baseUrl + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** Polls `GET /v1/generations/:id` until its status is one of `statuses`. */
export async function waitForStatus(stack: Stack, id: string, statuses: string[], timeoutMs = 60_000): Promise<Generation> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { json } = await api(stack, 'GET', `/v1/generations/${id}`);
    if (statuses.includes(json.status)) return json;
    if (Date.now() > deadline) throw new Error(`${id} is ${json.status}, wanted ${statuses}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface SseEvent {
  id: string | null;
  event: string;
  data: string;
  /** When the event arrived (Date.now()). */
  at: number;
}

/** Reads an SSE stream at `url` into events until it closes, `until` says stop, or the timeout passes. */
export async function readSse(
  url: string,
  opts: { lastEventId?: string; timeoutMs?: number; until?: (e: SseEvent[]) => boolean; headers?: Record<string, string> } = {},
) {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), opts.timeoutMs ?? 60_000);
  const res = await fetch(url, {
    headers: { ...opts.headers, ...(opts.lastEventId ? { 'last-event-id': opts.lastEventId } : {}) },
    signal: ctrl.signal,
  });
  const events: SseEvent[] = [];
  let comments = 0;
  let buffer = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let idx;
      while ((idx = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, idx);
        buffer = buffer.slice(idx + 2);
        const e: SseEvent = { id: null, event: 'message', data: '', at: Date.now() };
        let isEvent = false;
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) comments++;
          else if (line.startsWith('id: ')) e.id = line.slice(4);
          else if (line.startsWith('event: ')) (e.event = line.slice(7)), (isEvent = true);
          else if (line.startsWith('data: ')) e.data += line.slice(6);
        }
        if (isEvent) events.push(e);
        if (opts.until?.(events)) ctrl.abort();
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  } finally {
    clearTimeout(timer);
  }
  return { status: res.status, contentType: res.headers.get('content-type'), events, comments };
}

export function ffprobe(path: string): any {
  return JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path], { encoding: 'utf8' }),
  );
}

/** One decoded frame as raw RGB bytes. */
export function frameAt(path: string, seconds: number, width: number, height: number): Buffer {
  const res = spawnSync(
    'ffmpeg',
    ['-v', 'error', '-ss', String(seconds), '-i', path, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (res.status !== 0) throw new Error(`ffmpeg frame extraction failed: ${res.stderr}`);
  const frame = res.stdout as Buffer;
  if (frame.length !== width * height * 3) throw new Error(`unexpected frame size ${frame.length}`);
  return frame;
}

/** Mean absolute difference of two RGB frames inside rows [y0, y1). */
export function meanDiff(a: Buffer, b: Buffer, width: number, y0: number, y1: number): number {
  let sum = 0;
  const start = y0 * width * 3;
  const end = y1 * width * 3;
  for (let i = start; i < end; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / (end - start);
}

/** Top-level MP4 boxes in order (to check faststart: moov before mdat). */
export function topLevelBoxes(buf: Buffer): string[] {
  const boxes: string[] = [];
  let pos = 0;
  while (pos + 8 <= buf.length) {
    let size = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    if (size === 1) size = Number(buf.readBigUInt64BE(pos + 8));
    if (size === 0) size = buf.length - pos;
    boxes.push(type);
    if (size < 8) break;
    pos += size;
  }
  return boxes;
}
