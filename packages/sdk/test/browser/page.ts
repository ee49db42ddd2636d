/** The page loaded in Chromium: the SDK bundled by esbuild for the browser, driven from the test through `runSdk`. */
import { GptMarketClient, GptMarketError, getForm, type ProgressEvent } from '../../src/index.js';

interface RunConfig {
  baseUrl: string;
  username: string;
  password: string;
  crossOrigin: boolean;
}

async function runSdk(config: RunConfig): Promise<Record<string, unknown>> {
  const client = new GptMarketClient({
    baseUrl: config.baseUrl,
    basicAuth: { username: config.username, password: config.password },
    timeoutMs: 10_000,
  });
  const result: Record<string, unknown> = {
    constructed: client.baseUrl === config.baseUrl,
    rubyFields: getForm('ruby')?.fields.map((f) => f.name),
  };
  if (!config.crossOrigin) return result;
  result.health = await client.health();
  result.types = (await client.generationTypes()).map((t) => t.type);
  const created = await client.createGeneration('hello_world', { name: 'Browser' }, { metadata: { from: 'chromium' } });
  const progress: ProgressEvent[] = [];
  let events = 0;
  const reconnects: string[] = [];
  const sub = client.subscribe(
    created.id,
    { onProgress: (p) => progress.push(p), onEvent: () => events++, onReconnect: (r) => reconnects.push(String(r.reason)) },
    { maxReconnects: 2, signal: AbortSignal.timeout(30_000) },
  );
  const final = await sub.done;
  result.subscription =
    final.status === 'final'
      ? { status: final.generation.status, events, reconnects }
      : { status: final.status, error: String((final as { error?: unknown }).error), reconnects };
  const done = await client.waitFor(created, { timeoutMs: 30_000 });
  result.done = { status: done.status, message: done.output?.message ?? null };
  try {
    await client.getGeneration('gen_doesnotexist0000');
  } catch (err) {
    if (err instanceof GptMarketError) result.error = { name: err.name, status: err.status, code: err.code, requestId: err.requestId };
    else result.error = String(err);
  }
  return result;
}

(globalThis as unknown as { runSdk: typeof runSdk; sdkReady: boolean }).runSdk = runSdk;
(globalThis as unknown as { sdkReady: boolean }).sdkReady = true;
