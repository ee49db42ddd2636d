/**
 * Child process of bench/media.ts: the media activity (as the worker runs it) on one large input URL; prints
 * its own peak RSS as JSON. Args: <input url> <temp root>.
 */
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [url, tempRoot] = process.argv.slice(2) as [string, string];
const req = createRequire(join(process.cwd(), 'package.json'));
const { MockActivityEnvironment } = (await import(req.resolve('@temporalio/testing'))) as typeof import('@temporalio/testing');
const { DefaultLogger } = (await import(req.resolve('@temporalio/worker'))) as typeof import('@temporalio/worker');
const { LocalStorage } = await import('../packages/storage/src/index.js');
const { createMediaActivities } = await import('../apps/media-worker/src/activities.js');

const storage = new LocalStorage({ dir: mkdtempSync(join(tempRoot, 'out-')), publicBaseUrl: 'http://bench.invalid/media' });
const host = new URL(url).host;
const activities = createMediaActivities({ storage, policy: { allowHosts: [host] }, maxInputBytes: 1024 ** 3, tempRoot });
const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
const baselineRssMb = process.memoryUsage().rss / 1024 ** 2;
const t = process.hrtime.bigint();
const output = await env.run(() =>
  activities.renderVideo({
    input_url: url,
    speed: 0.7,
    caption: { text: 'a large input, streamed' },
    output: { folder: 'bench', thumbnails: true },
  }),
);
const seconds = Number(process.hrtime.bigint() - t) / 1e9;
// resourceUsage().maxRSS is in kilobytes: the high-water mark of this process over its whole life.
console.log(JSON.stringify({ seconds, maxRssMb: process.resourceUsage().maxRSS / 1024, baselineRssMb, output }));
