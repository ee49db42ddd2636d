import { afterEach, describe, expect, it } from 'vitest';
import { buildPrediction, createProviderLimiter, createReplicate, ProviderError, runPrediction } from '../src/index.js';
import { FAKE_REPLICATE_KEY, startFakeReplicate, type FakeReplicate } from './fakes/replicate.js';

let fake: FakeReplicate | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const client = (f: FakeReplicate, concurrency = 4) =>
  createReplicate(
    { REPLICATE_API_KEY: FAKE_REPLICATE_KEY, REPLICATE_BASE_URL: f.baseUrl },
    { limiter: createProviderLimiter('replicate', concurrency) },
  );

async function caught(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ProviderError);
    return e as ProviderError;
  }
  throw new Error('expected a rejection');
}

describe('replicate through the official SDK', () => {
  it('sends the exact registry payload to the official-model endpoint and polls to the output', async () => {
    fake = await startFakeReplicate({ pollsToFinish: 3 });
    const c = client(fake);
    const pred = buildPrediction('hidream-fast', { prompt: 'a red fox', aspect_ratio: '9:16' }, 'image');
    const submitted: string[] = [];
    let polls = 0;
    const res = await runPrediction({
      client: c,
      modelLabel: 'hidream-fast',
      ...pred,
      pollMs: 5,
      onSubmitted: (id) => void submitted.push(id),
      onPoll: () => void polls++,
    });
    const create = fake.requests.find((r) => r.method === 'POST')!;
    expect(create.path).toBe('/v1/models/prunaai/hidream-l1-fast/predictions');
    expect(create.json).toEqual({ input: pred.input });
    expect((create.json as { input: { resolution: string } }).input.resolution).toBe('768 × 1360 (Portrait)');
    expect(create.headers.authorization).toBe(`Bearer ${FAKE_REPLICATE_KEY}`);
    expect(submitted).toEqual([res.id]);
    expect(polls).toBe(3);
    expect(res.outputUrl).toBe(`${fake.url}/files/${res.id}.png`);
  });

  it('list outputs use the first element; an empty output is invalid_output', async () => {
    fake = await startFakeReplicate({ outputShape: 'list' });
    const pred = buildPrediction('kling-v2.6', { prompt: 'p' }, 'video');
    expect((await runPrediction({ client: client(fake), ...pred, pollMs: 5 })).outputUrl).toMatch(/\.mp4$/);
    fake.script.outputShape = 'empty';
    const err = await caught(runPrediction({ client: client(fake), ...pred, pollMs: 5 }));
    expect(err.code).toBe('invalid_output');
    expect(err.retryable).toBe(false);
  });

  it('a failed prediction is a non-retryable typed error naming the model and reason; nothing else is paid for', async () => {
    fake = await startFakeReplicate({ outcome: 'failed', failReason: 'E005: input flagged as sensitive', pollsToFinish: 2 });
    const pred = buildPrediction('seedance-1.5-pro', { prompt: 'p' }, 'video');
    const err = await caught(runPrediction({ client: client(fake), modelLabel: 'seedance-1.5-pro', ...pred, pollMs: 5 }));
    expect(err.code).toBe('failed');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('seedance-1.5-pro');
    expect(err.message).toContain('E005: input flagged as sensitive');
    expect(fake.creates()).toBe(1);
    expect(fake.requests.length).toBe(3); // create + 2 polls
  });

  it('resumes a recorded prediction instead of creating another', async () => {
    fake = await startFakeReplicate({ pollsToFinish: 2 });
    const c = client(fake);
    const first = await c.create('kwaivgi/kling-v2.6', { prompt: 'p' });
    const res = await runPrediction({ client: c, model: 'kwaivgi/kling-v2.6', input: { prompt: 'p' }, resumeId: first.id, pollMs: 5 });
    expect(res.id).toBe(first.id);
    expect(fake.creates()).toBe(1);
  });

  it('adopts the prediction a dead attempt created but never learned the id of (create in flight): no second create', async () => {
    fake = await startFakeReplicate({ pollsToFinish: 2, createDelayMs: 300 });
    const c = client(fake);
    const since = new Date(Date.now() - 1000);
    const input = { prompt: 'p', start_image: 'https://bucket.example/ruby/faces/a.png?X-Amz-Signature=first' };
    // The first attempt stops waiting (its worker is going away) while Replicate is still answering the create.
    const detach = new AbortController();
    const first = runPrediction({ client: c, model: 'kwaivgi/kling-v2.6', input, pollMs: 5, detachSignal: detach.signal });
    await new Promise((r) => setTimeout(r, 100));
    detach.abort(new Error('worker shutting down'));
    await expect(first).rejects.toThrow('worker shutting down');
    expect(fake.predictions.size).toBe(1);
    const [created] = [...fake.predictions.keys()];
    // Another prediction of the same model with another prompt, and one of another model, made since: not ours.
    await c.create('kwaivgi/kling-v2.6', { prompt: 'someone else', start_image: input.start_image });
    await c.create('google/nano-banana-pro', input);
    const before = fake.creates();
    const adopted: string[] = [];
    // The retry presigns the face afresh: the same object under another signature is the same input.
    const res = await runPrediction({
      client: c,
      model: 'kwaivgi/kling-v2.6',
      input: { ...input, start_image: 'https://bucket.example/ruby/faces/a.png?X-Amz-Signature=second' },
      pollMs: 5,
      adoptCreatedAfter: since,
      onAdopted: (id) => void adopted.push(id),
    });
    expect(res.id).toBe(created);
    expect(adopted).toEqual([created]);
    expect(fake.creates()).toBe(before);
    const list = fake.requests.find((r) => r.method === 'GET' && r.path === '/v1/predictions')!;
    expect(list.query.get('created_after')).toBe(since.toISOString());
  });

  it('with nothing to adopt (the dead attempt never reached Replicate, or sent another input), it creates once', async () => {
    fake = await startFakeReplicate({ pollsToFinish: 1 });
    const c = client(fake);
    const since = new Date(Date.now() - 1000);
    await c.create('kwaivgi/kling-v2.6', { prompt: 'p', duration: 10 });
    const res = await runPrediction({
      client: c,
      model: 'kwaivgi/kling-v2.6',
      input: { prompt: 'p', duration: 5 },
      pollMs: 5,
      adoptCreatedAfter: since,
    });
    expect(fake.creates()).toBe(2);
    expect(fake.predictions.get(res.id)!.input).toEqual({ prompt: 'p', duration: 5 });
  });

  it('lists every page of predictions created since a time, newest first', async () => {
    fake = await startFakeReplicate();
    const c = client(fake);
    for (let i = 0; i < 130; i++) await c.create('google/nano-banana-pro', { prompt: `p${i}` });
    const listed = await c.listSince(new Date(Date.now() - 60_000));
    expect(listed).toHaveLength(130);
    expect(listed[0]!.input).toEqual({ prompt: 'p129' });
    expect(listed.at(-1)!.input).toEqual({ prompt: 'p0' });
    expect(fake.requests.filter((r) => r.method === 'GET' && r.path === '/v1/predictions')).toHaveLength(2);
    expect(await c.listSince(new Date(Date.now() + 60_000))).toEqual([]);
  });

  it('an abort cancels the prediction at the provider', async () => {
    fake = await startFakeReplicate({ pollsToFinish: 1000 });
    const ac = new AbortController();
    const pending = runPrediction({
      client: client(fake),
      model: 'kwaivgi/kling-v2.6',
      input: { prompt: 'p' },
      pollMs: 10,
      signal: ac.signal,
      onPoll: (p) => {
        if (p.status === 'processing') ac.abort();
      },
    });
    const err = await caught(pending);
    expect(err.code).toBe('canceled');
    expect(err.retryable).toBe(false);
    const id = [...fake.predictions.keys()][0]!;
    expect(fake.cancels()).toEqual([id]);
    expect(fake.predictions.get(id)!.status).toBe('canceled');
  });

  it('429 on create waits for Retry-After, then creates once', async () => {
    fake = await startFakeReplicate({ createFailures: [{ status: 429, retryAfter: '1' }] });
    const t0 = Date.now();
    await runPrediction({ client: client(fake), model: 'google/nano-banana-pro', input: { prompt: 'p' }, pollMs: 5 });
    const posts = fake.requests.filter((r) => r.method === 'POST');
    expect(posts.length).toBe(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(fake.creates()).toBe(2); // one refused with 429, one created
    expect(fake.predictions.size).toBe(1);
  });

  it('5xx on a poll is retried; 5xx on a create is not retried in process (it may have been billed)', async () => {
    fake = await startFakeReplicate({ getFailures: [{ status: 503 }, { status: 502 }] });
    await runPrediction({ client: client(fake), model: 'google/nano-banana-pro', input: { prompt: 'p' }, pollMs: 5 });
    expect(fake.requests.filter((r) => r.method === 'GET').length).toBe(3);
    fake.script.createFailures.push({ status: 500 });
    const before = fake.requests.length;
    const err = await caught(runPrediction({ client: client(fake), model: 'google/nano-banana-pro', input: { prompt: 'p' }, pollMs: 5 }));
    expect(err.code).toBe('unavailable');
    expect(err.retryable).toBe(true);
    expect(fake.requests.length - before).toBe(1);
  });

  it('4xx is not retried and is typed; the key never appears in the message', async () => {
    fake = await startFakeReplicate({ createFailures: [{ status: 422 }] });
    const err = await caught(runPrediction({ client: client(fake), model: 'google/nano-banana-pro', input: { prompt: 'p' }, pollMs: 5 }));
    expect(err.code).toBe('bad_request');
    expect(err.retryable).toBe(false);
    expect(err.status).toBe(422);
    expect(fake.requests.length).toBe(1);
    const wrongKey = createReplicate(
      { REPLICATE_API_TOKEN: 'r8_wrong_key_abcdefghijkl', REPLICATE_BASE_URL: fake.baseUrl },
      { limiter: createProviderLimiter('replicate', 1) },
    );
    const auth = await caught(wrongKey.get('x'));
    expect(auth.code).toBe('auth');
    expect(auth.message).not.toContain('r8_wrong_key');
  });

  it('the concurrency gate bounds predictions in flight', async () => {
    fake = await startFakeReplicate({ pollsToFinish: 3 });
    const c = client(fake, 2);
    let max = 0;
    await Promise.all(
      Array.from({ length: 5 }, () =>
        runPrediction({
          client: c,
          model: 'google/nano-banana-pro',
          input: { prompt: 'p' },
          pollMs: 5,
          onPoll: () => void (max = Math.max(max, c.limiter.active)),
        }),
      ),
    );
    expect(max).toBe(2);
    expect(fake.creates()).toBe(5);
  });
});
