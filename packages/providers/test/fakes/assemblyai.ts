/** Fake AssemblyAI: /v2/upload (raw bytes), /v2/transcript (create), /v2/transcript/{id} (poll). */
import { sendJson, startFake, type FakeServer } from './http.js';

export interface FakeAssemblyAi extends FakeServer {
  uploads: Buffer[];
  pollsToFinish: number;
  /** Fail this many uploads with 503 first. */
  uploadFailures: number;
  outcome: 'completed' | 'error';
}

export async function startFakeAssemblyAi(key = 'aai-test-key-0123456789'): Promise<FakeAssemblyAi> {
  const transcripts = new Map<string, { polls: number }>();
  let self: FakeAssemblyAi;
  self = Object.assign(
    await startFake((req, res) => {
      if (req.headers.authorization !== key) return sendJson(res, 401, { error: 'Authentication error, API token missing/invalid' });
      if (req.method === 'POST' && req.path === '/v2/upload') {
        if (self.uploadFailures > 0) {
          self.uploadFailures--;
          return sendJson(res, 503, { error: 'upstream unavailable' });
        }
        self.uploads.push(req.body);
        return sendJson(res, 200, { upload_url: `https://cdn.assemblyai.test/upload/${self.uploads.length}` });
      }
      if (req.method === 'POST' && req.path === '/v2/transcript') {
        const id = `t${transcripts.size + 1}`;
        transcripts.set(id, { polls: 0 });
        return sendJson(res, 200, { id, status: 'queued' });
      }
      const m = /^\/v2\/transcript\/([^/]+)$/.exec(req.path);
      if (req.method === 'GET' && m) {
        const t = transcripts.get(m[1]!);
        if (!t) return sendJson(res, 404, { error: 'not found' });
        t.polls++;
        if (t.polls < self.pollsToFinish) return sendJson(res, 200, { id: m[1], status: 'processing' });
        if (self.outcome === 'error') return sendJson(res, 200, { id: m[1], status: 'error', error: 'Audio file contains no speech' });
        return sendJson(res, 200, {
          id: m[1],
          status: 'completed',
          text: 'Hi. Hello.',
          utterances: [
            { speaker: 'A', text: 'Hi.' },
            { speaker: 'B', text: 'Hello.' },
          ],
        });
      }
      return sendJson(res, 404, { error: 'no route' });
    }),
    { uploads: [] as Buffer[], pollsToFinish: 2, uploadFailures: 0, outcome: 'completed' as const },
  ) as FakeAssemblyAi;
  return self;
}
