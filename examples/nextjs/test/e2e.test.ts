/**
 * The example as a user meets it: `next build` (telemetry off, no remote fonts: nothing fetched), `next start` with
 * the API key in its server environment only, and Chromium driving the page against the real stack: pick the
 * type, fill the form, submit, watch the steps, see the video load. Saves a screenshot of the finished page in
 * reports/ (look at it).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUBY_STEPS } from '@gptmarket/sdk/contracts';
import { freePort, startStack, type Stack } from '@gptmarket/testkit';
import { launchChromium } from '@gptmarket/testkit/browser';

const run = promisify(execFile);
const appDir = resolve(import.meta.dirname, '..');
const sdkDir = resolve(appDir, '../../packages/sdk');
const nextBin = join(appDir, 'node_modules', 'next', 'dist', 'bin', 'next');
const reports = join(appDir, 'reports');

let stack: Stack | undefined;
let starting: Promise<Stack> | undefined;
let apiKey: string;
let next: ChildProcess;
let appUrl: string;
let browser: Browser;
const nextEnv = (extra: Record<string, string> = {}) => ({
  PATH: process.env.PATH!,
  HOME: process.env.HOME!,
  NEXT_TELEMETRY_DISABLED: '1',
  ...extra,
});

beforeAll(async () => {
  // The SDK as the app imports it (its exports' dist), then the production build of the app.
  await run(process.execPath, [join(sdkDir, 'scripts', 'build.mjs')], { cwd: sdkDir, timeout: 400_000 });
  // Kept so afterAll stops the stack also when the build fails first (else its servers outlive the test run).
  starting = startStack('example_nextjs');
  const [started, built] = await Promise.all([
    starting,
    run(process.execPath, [nextBin, 'build'], { cwd: appDir, env: nextEnv({ NODE_ENV: 'production' }), timeout: 600_000 }),
  ]);
  stack = started;
  expect(built.stdout + built.stderr).not.toMatch(/fonts\.googleapis|telemetry/i);

  const created = await stack.gatewayCli(['keys', 'create', '--name', 'nextjs example']);
  apiKey = /key: (gmk_\w+)/.exec(created)![1]!;
  await new Promise((r) => setTimeout(r, 5_100)); // the gateway caches its active-key count for 5 s
  expect((await fetch(`${stack.baseUrl}/v1/generations`)).status).toBe(401);

  const port = await freePort();
  appUrl = `http://127.0.0.1:${port}`;
  next = spawn(process.execPath, [nextBin, 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: appDir,
    env: nextEnv({ NODE_ENV: 'production', GPTMARKET_URL: stack.baseUrl, GPTMARKET_API_KEY: apiKey }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (let i = 0; ; i++) {
    const up = await fetch(appUrl).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (i > 240) throw new Error('next start did not answer');
    await new Promise((r) => setTimeout(r, 250));
  }
  browser = await launchChromium();
}, 900_000);

afterAll(async () => {
  await browser?.close();
  next?.kill('SIGTERM');
  await (stack ?? (await starting?.catch(() => undefined)))?.stop();
});

describe('examples/nextjs', () => {
  it('the API key stays on the server: not in the built client files, not in what the browser sends', () => {
    const staticDir = join(appDir, '.next', 'static');
    const files = readdirSync(staticDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(readFileSync(join(staticDir, f), 'utf8')).not.toContain(apiKey);
  });

  it('renders the form for any type, submits a Ruby generation, shows the steps live and the video loads', async () => {
    const page = await browser.newPage({ viewport: { width: 900, height: 1400 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const sent: { url: string; authorization: string | undefined }[] = [];
    page.on('request', (r) => sent.push({ url: r.url(), authorization: r.headers().authorization }));
    await page.goto(appUrl);

    // Every type's form renders from the registry; Hello World's one field, then back to Ruby.
    await page.selectOption('select[name=type]', 'hello_world');
    await page.waitForSelector('[data-field=name]');
    await page.selectOption('select[name=type]', 'ruby');
    await page.waitForSelector('[data-field=video_duration]');
    expect(await page.inputValue('input[name=video_duration]')).toBe('5');

    // The contracts' message for a value out of range, before anything is sent.
    await page.fill('input[name=video_duration]', '11');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-field=video_duration] .error');
    expect(await page.locator('#progress').count()).toBe(0);

    await page.fill('input[name=video_duration]', '5');
    await page.fill('textarea[name=text_overlay]', 'made in the next.js example');
    await page.locator('textarea[name=text_overlay]').blur();
    await page.click('button[type=submit]');
    await page.waitForSelector('#progress');
    // Steps appear while it runs, then the final record with its media.
    await page.waitForSelector('#progress li[data-step]', { timeout: 120_000 });
    await page.waitForSelector('#progress[data-status=completed]', { timeout: 180_000 });
    const steps = await page.locator('#progress li[data-step]').evaluateAll((els) => els.map((e) => e.getAttribute('data-step')));
    const known = [...Object.values(RUBY_STEPS).map((s) => s.id), 'complete'];
    expect(steps.length).toBeGreaterThanOrEqual(2);
    for (const s of steps) expect(known).toContain(s);
    const statuses = await page.locator('#progress li[data-step]').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
    expect(statuses).toEqual(steps.map(() => 'completed'));

    const video = page.locator('video[data-output=final_video_url]');
    await video.waitFor();
    await page.waitForFunction(
      () => {
        const v = document.querySelector<HTMLVideoElement>('video[data-output=final_video_url]');
        return v !== null && v.readyState >= 1 && v.duration > 0;
      },
      undefined,
      { timeout: 60_000 },
    );
    expect(await video.evaluate((v: HTMLVideoElement) => v.error)).toBeNull();
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLImageElement>('img[data-output]')].every((i) => i.complete && i.naturalWidth > 0),
    );
    expect(await page.locator('img[data-output]').count()).toBeGreaterThanOrEqual(1);

    mkdirSync(reports, { recursive: true });
    await page.screenshot({ path: join(reports, 'nextjs-completed.png'), fullPage: true });

    // The browser only ever talked to the app (and loaded media); no request carried a key.
    const apiCalls = sent.filter((r) => r.url.includes('/v1/'));
    expect(apiCalls.length).toBeGreaterThan(0);
    for (const r of apiCalls) expect(r.url.startsWith(`${appUrl}/api/gptmarket/`), r.url).toBe(true);
    for (const r of sent) expect(r.authorization, r.url).toBeUndefined();
    expect(errors).toEqual([]);
    await page.close();
  }, 400_000);
});
