/// <reference path="./s3rver.d.ts" />
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// s3rver speaks the S3 protocol (put/get/head/list/multipart/presigned) over HTTP.
import S3rver from 's3rver';
import { freePort } from './ports.js';

export interface S3Server {
  readonly endpoint: string;
  readonly bucket: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  stop(): Promise<void>;
}

export async function startS3(bucket = 'gptmarket-test'): Promise<S3Server> {
  const dir = mkdtempSync(join(tmpdir(), 'gptmarket-s3-'));
  const port = await freePort();
  const server = new S3rver({
    port,
    address: '127.0.0.1',
    directory: dir,
    silent: true,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    region: 'us-east-1',
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
