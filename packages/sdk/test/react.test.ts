/**
 * The React hooks in a real React renderer (react-dom in a jsdom document) against the real stack: a form from the
 * registry, validated with the contracts' messages, submitted, then followed live over SSE through a dropped
 * connection until the video is there.
 */
import { randomBytes } from 'node:crypto';
import { JSDOM } from 'jsdom';
import { createElement, type ReactElement } from 'react';
import { flushSync } from 'react-dom';
import { createRoot, type Root } from 'react-dom/client';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { GENERATION_TYPES, RUBY_STEPS, checkModelRequest } from '@gptmarket/contracts';
import { GptMarketClient, getForm } from '../src/index.js';
import {
  GptMarketProvider,
  useCreateGeneration,
  useGeneration,
  useGenerationForm,
  useGenerationList,
  type CreateGenerationState,
  type GenerationFormState,
  type GenerationListState,
  type GenerationState,
} from '../src/react/index.js';
import { breakAfterFirstEvent, interceptEvents, startStack, type Stack } from './stack.js';

// A DOM for react-dom; fetch, streams and AbortController stay Node's own (the SDK's network is real).
const dom = new JSDOM('<!doctype html><html><body></body></html>', { url: 'http://localhost/' });
Object.assign(globalThis, { window: dom.window, document: dom.window.document });
const $ = (selector: string) => dom.window.document.querySelector(selector);

const USER = 'react-tests';
const PASSWORD = randomBytes(12).toString('hex');
const stack: Stack = await startStack('sdk_react', {
  BASIC_AUTH_USER: USER,
  BASIC_AUTH_PASSWORD: PASSWORD,
  RATE_LIMIT_MAX: '100000',
  SSE_HEARTBEAT_MS: '300',
});
// The first events connection breaks after its first event: the hook must resume with Last-Event-ID.
const net = interceptEvents((res, connection) => (connection === 0 ? breakAfterFirstEvent(res, { withStep: true }) : res));
const client = new GptMarketClient({ baseUrl: stack.baseUrl, basicAuth: { username: USER, password: PASSWORD }, fetch: net.fetch });

const container = dom.window.document.createElement('div');
dom.window.document.body.append(container);
const root: Root = createRoot(container);
afterAll(async () => {
  root.unmount();
  await stack.stop();
});

/** What the page renders, and handles to the hooks for the test to act as a user would. */
const seen: { form?: GenerationFormState; creator?: CreateGenerationState; live?: GenerationState; list?: GenerationListState } = {};

function FormView(): ReactElement {
  const form = useGenerationForm('ruby');
  const creator = useCreateGeneration();
  seen.form = form;
  seen.creator = creator;
  return createElement(
    'form',
    { id: 'ruby-form' },
    ...form.fields.map((f) =>
      createElement(
        'label',
        { key: f.name, 'data-field': f.name },
        f.label,
        createElement('input', { name: f.name, readOnly: true, value: form.values[f.name] == null ? '' : String(form.values[f.name]) }),
        form.errors[f.name] ? createElement('span', { className: 'error' }, form.errors[f.name]) : null,
      ),
    ),
    ...Object.entries(form.errors).map(([path, message]) => createElement('p', { key: `error:${path}`, 'data-error': path }, message)),
  );
}

function LiveView(props: { id: string }): ReactElement {
  const live = useGeneration(props.id);
  seen.live = live;
  const video = (live.generation?.output as { final_video_url?: string } | null)?.final_video_url;
  return createElement(
    'section',
    { id: 'live', 'data-status': live.status ?? '' },
    createElement('ol', null, ...live.steps.map((s) => createElement('li', { key: s.step_id, 'data-step': s.step_id }, s.step_name))),
    video ? createElement('video', { src: video }) : null,
  );
}

function ListView(props: { type: string; limit: number }): ReactElement {
  const list = useGenerationList({ type: props.type, limit: props.limit }, { pollMs: 200, idlePollMs: 300 });
  seen.list = list;
  return createElement(
    'ul',
    null,
    ...list.generations.map((g) => createElement('li', { key: g.id, 'data-id': g.id, 'data-status': g.status })),
  );
}

const render = (el: ReactElement) => flushSync(() => root.render(createElement(GptMarketProvider, { client }, el)));
const act = (fn: () => void) => flushSync(fn);

describe('React hooks', () => {
  it('useGenerationForm: the registry form, defaults, per-model params and the contracts’ messages', () => {
    render(createElement(FormView));
    const registry = getForm('ruby')!;
    const visible = registry.fields.filter((f) => !f.hidden).map((f) => f.name);
    expect([...container.querySelectorAll('[data-field]')].map((l) => l.getAttribute('data-field'))).toEqual(visible);
    expect(($('input[name=video_duration]') as HTMLInputElement).value).toBe('5');
    expect(($('input[name=aspect_ratio]') as HTMLInputElement).value).toBe('9:16');
    expect(container.innerHTML).not.toContain('secret_key');

    // Out of range: the message is the request contract's own.
    act(() => seen.form!.setValue('video_duration', 11));
    act(() => void seen.form!.validate());
    const expected = GENERATION_TYPES.ruby.request.safeParse({ video_duration: 11 });
    expect(expected.success).toBe(false);
    expect($('[data-field=video_duration] .error')?.textContent).toBe(expected.error!.issues[0]!.message);
    // Changing the field clears its message.
    act(() => seen.form!.setValue('video_duration', 10));
    expect($('[data-field=video_duration] .error')).toBeNull();

    // Per-model params follow the chosen model.
    expect(seen.form!.modelParamFields('image_model_params').map((f) => f.name)).toEqual(
      registry.fields.find((f) => f.name === 'image_model_params')!.models!['nano-banana']!.map((f) => f.name),
    );
    act(() => seen.form!.setValue('image_model', 'hidream-fast'));
    const hidream = seen.form!.modelParamFields('image_model_params').map((f) => f.name);
    expect(hidream).toContain('output_quality');
    expect(hidream).not.toContain('prompt'); // set by the workflow
    act(() => seen.form!.setModelParam('image_model_params', 'output_quality', 0));
    act(() => void seen.form!.validate());
    // The message the gateway would give: the model's own check of the request Ruby will make.
    const parsed = GENERATION_TYPES.ruby.request.parse({
      video_duration: 10,
      image_model: 'hidream-fast',
      image_model_params: { output_quality: 0 },
    });
    let modelMessage = '';
    try {
      for (const request of GENERATION_TYPES.ruby.modelRequests(parsed as never)) checkModelRequest(request);
    } catch (err) {
      modelMessage = (err as Error).message;
    }
    expect(modelMessage).not.toBe('');
    expect($('[data-error="image_model_params.output_quality"]')?.textContent).toBe(modelMessage);

    // Unknown params are warnings, as the gateway reports them; valid values give the input to send.
    act(() => seen.form!.setModelParam('image_model_params', 'output_quality', 90));
    act(() => seen.form!.setModelParam('image_model_params', 'guidance', 3));
    let input: Record<string, unknown> | null = null;
    act(() => {
      input = seen.form!.validate();
    });
    expect(container.querySelectorAll('[data-error]')).toHaveLength(0);
    expect(seen.form!.warnings).toEqual(['image_model_params.guidance was ignored: hidream-fast has no such parameter']);
    expect(input).toMatchObject({
      video_duration: 10,
      image_model: 'hidream-fast',
      image_model_params: { output_quality: 90, guidance: 3 },
    });
    act(() => seen.form!.reset());
    expect(seen.form!.values).toEqual(
      Object.fromEntries(registry.fields.filter((f) => f.default !== undefined).map((f) => [f.name, f.default])),
    );
  });

  it('useCreateGeneration reports the gateway’s validation error; useGeneration follows a run live through a dropped connection', async () => {
    render(createElement(FormView));
    // The gateway refuses what the contract refuses; the hook keeps the error.
    const refused = await seen.creator!.create('ruby', { video_duration: 99 }).catch((err: unknown) => err);
    expect(refused, String(refused)).toMatchObject({ status: 400, code: 'validation_failed' });
    await vi.waitFor(() => expect(seen.creator!.error).toMatchObject({ code: 'validation_failed' }));

    act(() => seen.form!.setValue('text_overlay', 'react hooks'));
    let input: Record<string, unknown> | null = null;
    act(() => {
      input = seen.form!.validate();
    });
    const created = await seen.creator!.create('ruby', input!);
    expect(created.id).toMatch(/^gen_/);
    await vi.waitFor(() => expect(seen.creator!.generation?.id).toBe(created.id));
    expect(seen.creator!.isPending).toBe(false);

    render(createElement(LiveView, { id: created.id }));
    await vi.waitFor(() => expect(seen.live!.isFinal).toBe(true), { timeout: 150_000, interval: 200 });
    const live = seen.live!;
    expect(live.status, JSON.stringify(live.generation?.error)).toBe('completed');
    expect(live.error).toBeNull();
    expect($('#live')?.getAttribute('data-status')).toBe('completed');
    // Steps in the workflow's order, the last one reported as complete.
    const order = [...Object.values(RUBY_STEPS).map((s) => s.id), 'complete'];
    const stepIds = live.steps.map((s) => s.step_id);
    expect(stepIds.length).toBeGreaterThanOrEqual(2);
    expect(stepIds.map((id) => order.indexOf(id))).toEqual([...stepIds.map((id) => order.indexOf(id))].sort((a, b) => a - b));
    expect(stepIds.every((id) => order.includes(id))).toBe(true);
    expect(stepIds.at(-1)).toBe('complete');
    expect(live.steps.map((s) => s.status)).toEqual(live.steps.map(() => 'completed'));
    expect([...container.querySelectorAll('[data-step]')].map((li) => li.getAttribute('data-step'))).toEqual(stepIds);
    // The connection broke after the first event that named a step and was resumed from its id.
    expect(live.reconnects).toBeGreaterThanOrEqual(1);
    expect(net.requests.length).toBeGreaterThanOrEqual(2);
    expect(net.requests[0]!.lastEventId).toBeNull();
    expect(net.requests[1]!.lastEventId).toMatch(/^\d+$/);
    // The final record's video plays from the gateway.
    const src = $('#live video')?.getAttribute('src');
    expect(src).toMatch(/^http/);
    const video = await fetch(src!);
    expect(video.status).toBe(200);
    expect(video.headers.get('content-type')).toMatch(/video\/mp4/);
    expect((await video.arrayBuffer()).byteLength).toBeGreaterThan(1000);
  }, 200_000);

  it('useGenerationList: pages with the cursor, keeps every row current, shows new ones on top, starts over on new filters', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await client.createGeneration('hello_world', { name: `list ${i}` })).id);
    render(createElement(ListView, { type: 'hello_world', limit: 2 }));
    await vi.waitFor(() => expect(seen.list!.generations.map((g) => g.id)).toEqual([ids[2], ids[1]]));
    expect(seen.list!.hasMore).toBe(true);
    act(() => seen.list!.loadMore());
    await vi.waitFor(() => expect(seen.list!.generations.map((g) => g.id)).toEqual([ids[2], ids[1], ids[0]]));
    expect(seen.list!.hasMore).toBe(false);
    // The one below the first page is read again too, until it is finished.
    await vi.waitFor(() => expect(seen.list!.generations.map((g) => g.status)).toEqual(['completed', 'completed', 'completed']), {
      timeout: 60_000,
      interval: 200,
    });
    const fresh = await client.createGeneration('hello_world', { name: 'list new' });
    await vi.waitFor(() => expect(seen.list!.generations.map((g) => g.id)).toEqual([fresh.id, ids[2], ids[1], ids[0]]), {
      timeout: 10_000,
    });
    expect(container.querySelectorAll('li[data-id]')).toHaveLength(4);

    render(createElement(ListView, { type: 'ruby', limit: 2 }));
    expect(seen.list!.generations).toEqual([]);
    await vi.waitFor(() => expect(seen.list!.isLoading).toBe(false));
    expect(seen.list!.generations.length).toBeGreaterThan(0);
    expect(seen.list!.generations.every((g) => g.type === 'ruby')).toBe(true);
  }, 90_000);
});
