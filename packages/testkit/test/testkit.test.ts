import { describe, expect, it } from 'vitest';
import { S3Client, PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { readFileSync } from 'node:fs';
import { spawnService, startPostgres, startRestartable, startS3, startTemporal } from '../src/index.js';

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

  it('a restartable service: kill() takes the process and its children at once, restart() brings a new one', async () => {
    // A service that starts a child of its own (as the media worker starts FFmpeg) and prints its pid.
    const script =
      "const c = require('node:child_process').spawn('sleep', ['300'], { stdio: 'ignore' }); console.log('ready child=' + c.pid); setInterval(() => {}, 1000);";
    const svc = await startRestartable(
      'svc',
      () => spawnService('svc', process.execPath, ['-e', script], { PATH: process.env.PATH }),
      /ready child=\d+/,
    );
    // Running, not a zombie waiting for its new parent to reap it.
    const alive = (pid: number) => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    const first = svc.current();
    const childPid = Number(/child=(\d+)/.exec(first.output())![1]);
    expect(alive(childPid)).toBe(true);
    await svc.kill();
    expect(first.child.signalCode).toBe('SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(childPid)).toBe(false);
    await svc.restart();
    expect(svc.current()).not.toBe(first);
    expect(svc.current().child.exitCode).toBeNull();
    expect(svc.output()).toMatch(/--- svc start 1 ---[\s\S]*--- svc start 2 ---/);
    await svc.stop();
    expect(svc.current().child.exitCode !== null || svc.current().child.signalCode !== null).toBe(true);
  });
});
