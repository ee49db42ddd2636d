import { describe, expect, it } from 'vitest';
import { S3Client, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { startPostgres, startS3, startTemporal } from '../src/index.js';

describe('testkit starts real servers', () => {
  it('PostgreSQL: a throwaway cluster answers queries and is removed on stop', async () => {
    const cluster = await startPostgres();
    try {
      const url = await cluster.createDatabase('testkit_check');
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query('select current_database() as db, 1 + 1 as two');
      await client.end();
      expect(rows[0]).toEqual({ db: 'testkit_check', two: 2 });
    } finally {
      await cluster.stop();
    }
  }, 60_000);

  it('S3: objects round-trip through the S3 protocol', async () => {
    const s3 = await startS3();
    try {
      const client = new S3Client({
        endpoint: s3.endpoint,
        region: s3.region,
        forcePathStyle: true,
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      });
      await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'a/b.txt', Body: 'hello', ContentType: 'text/plain' }));
      const got = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'a/b.txt' }));
      expect(await got.Body?.transformToString()).toBe('hello');
      expect(got.ContentType).toBe('text/plain');
    } finally {
      await s3.stop();
    }
  }, 30_000);

  it('Temporal: the pinned dev server starts and serves the default namespace', async () => {
    const env = await startTemporal();
    try {
      const ns = await env.connection.workflowService.describeNamespace({ namespace: 'default' });
      expect(ns.namespaceInfo?.name).toBe('default');
    } finally {
      await env.teardown();
    }
  }, 60_000);
});
