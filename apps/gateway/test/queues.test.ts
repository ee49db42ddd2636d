/**
 * The whole stack as processes on renamed task queues (TEMPORAL_TASK_QUEUE, MEDIA_TASK_QUEUE given to every
 * process, as docker-compose.prod.yml does), with the provider key given to the generation worker only: a Ruby
 * generation renders on the media worker, its webhook is delivered, and /ready reports the workers and the
 * providers they serve although the gateway holds no provider key.
 */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATION_QUEUE, MEDIA_QUEUE } from '@gptmarket/contracts';
import { startFakeReplicate, FAKE_REPLICATE_KEY, type FakeReplicate } from '../../../packages/providers/test/fakes/replicate.js';
import { api, startStack, waitForStatus, type Stack } from './helpers.js';

const GEN_QUEUE = `gen-renamed-${process.pid}`;
const MEDIA_RENAMED = `media-renamed-${process.pid}`;
const WEBHOOK_SECRET = 'whsec_queues_0123456789';

let stack: Stack;
let replicate: FakeReplicate;
let hooks: Server;
let hookUrl: string;
const received: { headers: Record<string, string>; body: string }[] = [];

beforeAll(async () => {
  replicate = await startFakeReplicate({ pollsToFinish: 1 });
  hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers as Record<string, string>, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hooks.address() as { port: number }).port}/hooks`;
  stack = await startStack(
    'gateway_queues',
    {
      TEMPORAL_TASK_QUEUE: GEN_QUEUE,
      MEDIA_TASK_QUEUE: MEDIA_RENAMED,
      WEBHOOK_SIGNING_SECRET: WEBHOOK_SECRET,
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      TRACKER_INTERVAL_MS: '100',
    },
    {
      'generation-worker': {
        REPLICATE_API_KEY: FAKE_REPLICATE_KEY,
        REPLICATE_BASE_URL: `${replicate.url}/v1`,
        PROVIDER_DOWNLOAD_ALLOWED_HOSTS: new URL(replicate.url).host,
      },
    },
  );
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  await replicate?.close();
  if (hooks) await new Promise<void>((r) => hooks.close(() => r()));
});

describe('renamed task queues', () => {
  it('runs a generation with a media step and delivers its webhook on the renamed queues', async () => {
    const { status, json: gen } = await api(stack, 'POST', '/v1/generations', {
      type: 'ruby',
      input: { text_overlay: 'renamed queues' },
      webhook_url: hookUrl,
    });
    expect(status).toBe(202);
    const done = await waitForStatus(stack, gen.id, ['completed', 'failed', 'cancelled'], 90_000);
    expect(done.status, JSON.stringify(done.error)).toBe('completed');
    expect(done.output?.final_video_url).toMatch(/\/media\/ruby\/videos\//);
    expect(done.output?.providers).toMatchObject({ image: 'replicate', video: 'replicate' });

    const handle = stack.temporal.client.workflow.getHandle(done.workflow_id);
    expect((await handle.describe()).taskQueue).toBe(GEN_QUEUE);
    // The render ran on the renamed media queue: its worker is the only one that could take it.
    const history = await handle.fetchHistory();
    const mediaQueues = (history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => a?.activityType?.name === 'renderVideo')
      .map((a) => a!.taskQueue?.name);
    expect(mediaQueues).toEqual([MEDIA_RENAMED]);

    const deadline = Date.now() + 60_000;
    while (!received.some((r) => JSON.parse(r.body).id === gen.id)) {
      if (Date.now() > deadline) throw new Error('the webhook was not delivered');
      await new Promise((r) => setTimeout(r, 200));
    }
    const hook = received.find((r) => JSON.parse(r.body).id === gen.id)!;
    const expected = `v1,${createHmac('sha256', WEBHOOK_SECRET).update(`${hook.headers['webhook-id']}.${hook.headers['webhook-timestamp']}.${hook.body}`).digest('base64')}`;
    expect(hook.headers['webhook-signature']).toBe(expected);
    expect(JSON.parse(hook.body).status).toBe('completed');
    // The delivery workflow ran on the renamed generation queue too.
    const delivery = stack.temporal.client.workflow.getHandle(`webhook-${hook.headers['webhook-id']}`);
    expect((await delivery.describe()).taskQueue).toBe(GEN_QUEUE);
  }, 150_000);

  it('/ready shows the workers on the renamed queues and the provider serving each capability (the gateway has no key)', async () => {
    const res = await api(stack, 'GET', '/ready');
    expect(res.status).toBe(200);
    expect(res.json.workers).toEqual({ generation: 1, media: 1 });
    expect(res.json.providers).toEqual({
      image_video: ['replicate'],
      prompts: ['local'],
      llm: ['local'],
      pinterest: ['local'],
      speech: ['local'],
      transcription: ['local'],
    });
  });

  it('leaves the default queues unpolled', async () => {
    const workflowService = stack.temporal.client.connection.workflowService;
    for (const [name, type] of [
      [GENERATION_QUEUE, 1],
      [MEDIA_QUEUE, 2],
    ] as const) {
      const res = await workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name, kind: 1 }, taskQueueType: type });
      expect(res.pollers ?? [], name).toEqual([]);
    }
  });
});
