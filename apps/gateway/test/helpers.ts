import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, spawnService, startPostgres, startTemporal, type PostgresCluster, type ServiceProcess } from '@gptmarket/testkit';

const repo = resolve(import.meta.dirname, '../../..');

/** The whole stack as separate processes (as deployed): Temporal dev server, PostgreSQL, both workers, the gateway. */
export interface Stack {
  baseUrl: string;
  temporal: Awaited<ReturnType<typeof startTemporal>>;
  secret: string;
  mediaDir: string;
  databaseUrl: string;
  services: ServiceProcess[];
  stop(): Promise<void>;
}

export async function startStack(name: string, extraEnv: Record<string, string> = {}): Promise<Stack> {
  const [temporal, pg] = await Promise.all([startTemporal(), startPostgres()]);
  const databaseUrl = await pg.createDatabase(name);
  const mediaDir = mkdtempSync(join(tmpdir(), 'gptmarket-media-'));
  const port = await freePort();
  const secret = randomBytes(24).toString('hex');
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    TEMPORAL_ADDRESS: temporal.address,
    WORKFLOW_SECRET_KEY: secret,
    DATABASE_URL: databaseUrl,
    LOCAL_STORAGE_DIR: mediaDir,
    GATEWAY_PUBLIC_URL: baseUrl,
    HOST: '127.0.0.1',
    PORT: String(port),
    ...extraEnv,
  };
  const node = (app: string) => ['--import', 'tsx', '--conditions=@gptmarket/source', join(repo, 'apps', app, 'src', 'main.ts')];
  const services = [
    spawnService('generation-worker', process.execPath, node('generation-worker'), env, repo),
    spawnService('media-worker', process.execPath, node('media-worker'), env, repo),
    spawnService('gateway', process.execPath, node('gateway'), env, repo),
  ];
  try {
    await Promise.all([
      services[0]!.waitForOutput(/generation-worker ready/, 120_000),
      services[1]!.waitForOutput(/media-worker ready/, 60_000),
      services[2]!.waitForOutput(/gateway ready/, 60_000),
    ]);
  } catch (err) {
    await Promise.all(services.map((s) => s.stop()));
    await temporal.teardown();
    await pg.stop();
    throw err;
  }
  return {
    baseUrl,
    temporal,
    secret,
    mediaDir,
    databaseUrl,
    services,
    async stop() {
      await Promise.all(services.map((s) => s.stop()));
      await temporal.teardown();
      await (pg as PostgresCluster).stop();
      rmSync(mediaDir, { recursive: true, force: true });
    },
  };
}

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

export function ffprobe(path: string): any {
  return JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path], { encoding: 'utf8' }));
}

/** One decoded frame as raw RGB bytes. */
export function frameAt(path: string, seconds: number, width: number, height: number): Buffer {
  const res = spawnSync('ffmpeg', ['-v', 'error', '-ss', String(seconds), '-i', path, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
    maxBuffer: 64 * 1024 * 1024,
  });
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
