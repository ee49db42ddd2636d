/**
 * Cost per generation and budgets per API key, on the whole stack as processes with the Replicate and OpenAI fakes
 * given to the generation worker: a completed Ruby generation shows its estimate and its actual cost (tokens and
 * outputs at the price table's prices); a request over a key's budget is refused with 402 before any provider call
 * or workflow; concurrent requests at the edge of a budget cannot both pass; the keys command sets and shows budgets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRICES } from '@gptmarket/contracts';
import { startFakeReplicate, FAKE_REPLICATE_KEY, type FakeReplicate } from '../../../packages/providers/test/fakes/replicate.js';
import { startFakeOpenAi, type FakeLlm } from '../../../packages/providers/test/fakes/llm.js';
import { api, startStack, type Stack } from './helpers.js';

const PERSON = { subject: { description: 'a person' }, environment: {} };
const REACTION = { movements: ['Eyes widen', 'Brows lift'], final_prompt: 'Eyes widen, brows lift.' };

let stack: Stack;
let replicate: FakeReplicate;
let openai: FakeLlm & { baseUrl: string };

const createKey = async (args: string[]) => {
  const out = await stack.gatewayCli(['keys', 'create', ...args]);
  const key = /key: (gmk_\w+)/.exec(out)?.[1];
  const id = /created (key_\w+)/.exec(out)?.[1];
  if (!key || !id) throw new Error(`no key in: ${out}`);
  return { key, id, out, auth: { authorization: `Bearer ${key}` } };
};
const ruby = { type: 'ruby', input: { text_overlay: 'what did it cost' } };
const providerCalls = () => replicate.requests.length + openai.calls().length;

// The estimate of the default Ruby request, from the price table: two prompt calls of 1500 input and up to 2048
// output tokens on gpt-4o-mini, one nano-banana image, 5 seconds of kling-v2.6 without sound.
const llm = PRICES['openai/gpt-4o-mini'];
const micros = (usd: number) => Math.round(usd * 1e6);
const ESTIMATE_MICROS =
  micros((3000 * llm.usd) / 1e6) +
  micros((4096 * llm.outputUsd) / 1e6) +
  micros(PRICES['nano-banana'].usd) +
  micros(5 * PRICES['kling-v2.6'].usd);
// Actual: the fake reports 10 prompt and 10 completion tokens per call, Replicate bills per output.
const CALL_MICROS = micros((10 * llm.usd) / 1e6) + micros((10 * llm.outputUsd) / 1e6);
const ACTUAL_MICROS = 2 * CALL_MICROS + micros(PRICES['nano-banana'].usd) + micros(5 * PRICES['kling-v2.6'].usd);

beforeAll(async () => {
  [replicate, openai] = await Promise.all([startFakeReplicate({ pollsToFinish: 1, predictTime: 3.25 }), startFakeOpenAi()]);
  openai.fallback = (req) => {
    const user = (req.json as { messages: Array<{ role: string; content: string }> }).messages.find((m) => m.role === 'user')!.content;
    return { content: JSON.stringify(user.includes('final_prompt') ? REACTION : PERSON) };
  };
  stack = await startStack(
    'gateway_cost',
    { TRACKER_INTERVAL_MS: '100' },
    {
      'generation-worker': {
        REPLICATE_API_KEY: FAKE_REPLICATE_KEY,
        REPLICATE_BASE_URL: `${replicate.url}/v1`,
        PROVIDER_DOWNLOAD_ALLOWED_HOSTS: new URL(replicate.url).host,
        OPENAI_API_KEY: 'sk-test-openai-key-123456',
        OPENAI_BASE_URL: openai.baseUrl,
      },
    },
  );
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  await Promise.all([replicate?.close(), openai?.close()]);
});

describe('cost and budgets', () => {
  it('shows the estimate, then the actual cost of a completed Ruby generation; refuses the next one over the daily budget', async () => {
    const owner = await createKey(['--name', 'costs', '--daily-budget', '1']);
    expect(owner.out).toMatch(/daily \$1\.00 \(spent \$0\.00, resets \d{4}-\d\d-\d\dT00:00:00\.000Z\)/);

    const { status, json: created } = await api(stack, 'POST', '/v1/generations', ruby, owner.auth);
    expect(status, JSON.stringify(created)).toBe(202);
    expect(created.cost).toMatchObject({ currency: 'USD', estimated: ESTIMATE_MICROS / 1e6, actual: null });
    expect(created.cost.items.map((i: { step: string; unit: string }) => `${i.step}:${i.unit}`)).toEqual([
      'prompts:input_token',
      'prompts:output_token',
      'face:image',
      'video:second',
    ]);

    const read = await waitForEnd(created.id, owner.auth);
    expect(read.status, JSON.stringify(read.error)).toBe('completed');
    expect(read.cost.estimated).toBe(ESTIMATE_MICROS / 1e6);
    expect(read.cost.actual).toBe(ACTUAL_MICROS / 1e6);
    const byStep = (step: string) => read.cost.items.filter((i: { step: string }) => i.step === step);
    expect(byStep('prompts')).toHaveLength(4); // two calls, input and output tokens each
    for (const i of byStep('prompts'))
      expect(i).toMatchObject({ provider: 'openai', model: 'openai/gpt-4o-mini', units: 10, basis: 'usage' });
    expect(byStep('face')).toEqual([
      {
        step: 'face',
        provider: 'replicate',
        model: 'nano-banana',
        unit: 'image',
        units: 1,
        amount: 0.15,
        basis: 'usage',
        predict_time: 3.25,
      },
    ]);
    expect(byStep('video')).toEqual([
      {
        step: 'video',
        provider: 'replicate',
        model: 'kling-v2.6',
        unit: 'second',
        units: 5,
        amount: 0.35,
        basis: 'usage',
        predict_time: 3.25,
      },
    ]);

    // 1 USD - what the first cost is less than the second's estimate: refused, nothing called, nothing started.
    const before = { calls: providerCalls(), workflows: await countWorkflows() };
    const refused = await api(stack, 'POST', '/v1/generations', ruby, owner.auth);
    expect(refused.status).toBe(402);
    expect(refused.json.error.code).toBe('budget_exceeded');
    const tomorrow = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1));
    expect(refused.json.error.details).toEqual({
      window: 'day',
      currency: 'USD',
      limit: 1,
      spent: ACTUAL_MICROS / 1e6,
      remaining: (1e6 - ACTUAL_MICROS) / 1e6,
      estimated: ESTIMATE_MICROS / 1e6,
      resets_at: tomorrow.toISOString(),
    });
    expect(refused.json.error.message).toContain(tomorrow.toISOString());
    const page = await api(stack, 'GET', '/v1/generations', undefined, owner.auth);
    expect(page.json.data).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 500));
    expect(providerCalls()).toBe(before.calls);
    expect(await countWorkflows()).toBe(before.workflows);

    // The keys command shows what was spent, and lifting the budget lets the next request through.
    const listed = await stack.gatewayCli(['keys', 'list']);
    expect(listed).toContain(`daily $1.00 (spent $${(ACTUAL_MICROS / 1e6).toFixed(2)}`);
    expect(await stack.gatewayCli(['keys', 'budget', owner.id, '--daily-budget', 'none', '--monthly-budget', '20'])).toMatch(
      /monthly \$20\.00 \(spent \$0\.50, resets \d{4}-\d\d-01T00:00:00\.000Z\)/,
    );
    const lifted = await api(stack, 'POST', '/v1/generations', ruby, owner.auth);
    expect(lifted.status).toBe(202);
    await api(stack, 'POST', `/v1/generations/${lifted.json.id}/cancel`, undefined, owner.auth);
  }, 180_000);

  it('lets exactly one of several concurrent requests through when the budget fits one', async () => {
    // Room for one estimate, not two.
    const budget = ((ESTIMATE_MICROS * 1.5) / 1e6).toFixed(6);
    const edge = await createKey(['--name', 'edge', '--monthly-budget', budget]);
    const answers = await Promise.all(Array.from({ length: 6 }, () => api(stack, 'POST', '/v1/generations', ruby, edge.auth)));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([202, 402, 402, 402, 402, 402]);
    for (const a of answers.filter((x) => x.status === 402)) {
      expect(a.json.error.details).toMatchObject({ window: 'month', remaining: (micros(Number(budget)) - ESTIMATE_MICROS) / 1e6 });
    }
    const accepted = answers.find((a) => a.status === 202)!;
    await api(stack, 'POST', `/v1/generations/${accepted.json.id}/cancel`, undefined, edge.auth);
  }, 120_000);

  it('refuses a budget that is not an amount', async () => {
    await expect(stack.gatewayCli(['keys', 'create', '--name', 'bad', '--daily-budget', 'lots'])).rejects.toThrow(
      /budget must be an amount of USD/,
    );
  });
});

/** Polls a generation with the key's credentials until it has ended. */
async function waitForEnd(id: string, auth: Record<string, string>, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { json } = await api(stack, 'GET', `/v1/generations/${id}`, undefined, auth);
    if (['completed', 'failed', 'cancelled'].includes(json?.status)) return json;
    if (Date.now() > deadline) throw new Error(`${id} is ${json?.status ?? JSON.stringify(json)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function countWorkflows(): Promise<number> {
  let n = 0;
  for await (const _ of stack.temporal.client.workflow.list({ query: 'WorkflowType = "RubyWorkflow"' })) n++;
  return n;
}
