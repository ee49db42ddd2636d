/** Fake OpenAI (chat completions, audio transcriptions) and Gemini (generateContent) servers. */
import type { ServerResponse } from 'node:http';
import { sendJson, startFake, type FakeServer, type RecordedRequest } from './http.js';

export type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | { content: string };

export interface FakeLlm extends FakeServer {
  /** Queue of replies; when empty, `fallback` answers. */
  replies: Reply[];
  /** Milliseconds a completion takes to answer (a model's latency; default 0; OpenAI's chat completions only). */
  delayMs: number;
  fallback: (req: RecordedRequest) => Reply;
  calls(): RecordedRequest[];
}

function answerOpenAi(req: RecordedRequest, res: ServerResponse, r: Reply) {
  if ('status' in r)
    return sendJson(res, r.status, r.body ?? { error: { message: `fake error ${r.status}`, type: 'server_error' } }, r.headers);
  const model = (req.json as { model?: string })?.model ?? 'unknown';
  return sendJson(res, 200, {
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: r.content, refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
  });
}

export async function startFakeOpenAi(key = 'sk-test-openai-key-123456'): Promise<FakeLlm & { baseUrl: string }> {
  const state = { replies: [] as Reply[], delayMs: 0, fallback: (_r: RecordedRequest): Reply => ({ content: '{"ok":true}' }) };
  let self: FakeLlm = state as unknown as FakeLlm;
  const server = await startFake(async (req, res) => {
    if (req.headers.authorization !== `Bearer ${key}`)
      return sendJson(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } });
    if (req.method === 'POST' && req.path === '/v1/chat/completions') {
      if (self.delayMs > 0) await new Promise((r) => setTimeout(r, self.delayMs));
      return answerOpenAi(req, res, self.replies.shift() ?? self.fallback(req));
    }
    if (req.method === 'POST' && req.path === '/v1/audio/transcriptions') {
      const r = self.replies.shift() ?? self.fallback(req);
      if ('status' in r) return sendJson(res, r.status, r.body ?? { error: { message: 'fake error' } }, r.headers);
      return sendJson(res, 200, { text: r.content });
    }
    return sendJson(res, 404, { error: { message: 'no route' } });
  });
  self = Object.assign(server, state, { baseUrl: `${server.url}/v1`, calls: () => server.requests }) as FakeLlm & { baseUrl: string };
  return self as FakeLlm & { baseUrl: string };
}

export async function startFakeGemini(key = 'AIzaFakeGeminiKey0123456789abcdefghij'): Promise<FakeLlm> {
  const state = { replies: [] as Reply[], delayMs: 0, fallback: (_r: RecordedRequest): Reply => ({ content: '{"ok":true}' }) };
  let self: FakeLlm = state as unknown as FakeLlm;
  const server = await startFake((req, res) => {
    if (req.headers['x-goog-api-key'] !== key)
      return sendJson(res, 403, { error: { code: 403, message: 'API key not valid', status: 'PERMISSION_DENIED' } });
    const m = /^\/(v1|v1beta)\/models\/([^/:]+):generateContent$/.exec(req.path);
    if (req.method === 'POST' && m) {
      const r = self.replies.shift() ?? self.fallback(req);
      if ('status' in r)
        return sendJson(
          res,
          r.status,
          r.body ?? { error: { code: r.status, message: `fake error ${r.status}`, status: 'UNAVAILABLE' } },
          r.headers,
        );
      return sendJson(res, 200, {
        candidates: [{ content: { parts: [{ text: r.content }], role: 'model' }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 5, totalTokenCount: 10 },
        modelVersion: m[2],
      });
    }
    return sendJson(res, 404, { error: { code: 404, message: `no route ${req.path}` } });
  });
  self = Object.assign(server, state, { calls: () => server.requests.filter((r) => r.path.includes(':generateContent')) }) as FakeLlm;
  return self;
}
