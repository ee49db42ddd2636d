import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';
import { spawnService } from './process.js';

export interface S3Server {
  readonly endpoint: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  stop(): Promise<void>;
}

/** Starts s3rver (put/get/head/list/multipart/presigned URLs over the S3 protocol) as a separate process. */
export async function startS3(bucket = 'gptmarket-test'): Promise<S3Server> {
  const dir = mkdtempSync(join(tmpdir(), 'gptmarket-s3-'));
  const port = await freePort();
  const script = fileURLToPath(new URL('./s3-server.mjs', import.meta.url));
  const service = spawnService('s3rver', process.execPath, [script, String(port), dir, bucket], { PATH: process.env.PATH });
  try {
    await service.waitForOutput(/s3 ready/, 30_000);
  } catch (err) {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    region: 'us-east-1',
    async stop() {
      await service.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
