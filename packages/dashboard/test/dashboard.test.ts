/**
 * The dashboard as an operator meets it: built (node build.mjs), served by the gateway of the real stack (Temporal,
 * PostgreSQL, both workers, local storage, a fake Replicate answering as Replicate does), driven in Chromium. An
 * open gateway says so; then with a key: sign in, submit a Ruby generation through the form (a contract message
 * first), watch its steps reach `complete`, play the video, copy it as curl and run that; the list filters, pages
 * and updates itself; cancel a running generation and retry it. axe checks every page for WCAG 2 A/AA violations;
 * screenshots (also at 375 px) go to reports/ (look at them).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUBY_STEPS } from '@gptmarket/sdk/contracts';
import { freePort, spawnApp, startStack, type ServiceProcess, type Stack } from '@gptmarket/testkit';
import { launchChromium } from '@gptmarket/testkit/browser';
import { FAKE_REPLICATE_KEY, startFakeReplicate, type FakeReplicate } from '../../providers/test/fakes/replicate.js';

const run = promisify(execFile);
const pkgDir = resolve(import.meta.dirname, '..');
const reports = join(pkgDir, 'reports');
const axeSource = readFileSync(join(dirname(createRequire(import.meta.url).resolve('axe-core')), 'axe.min.js'), 'utf8');

let stack: Stack;
let replicate: FakeReplicate;
let browser: Browser;
let context: BrowserContext;
let apiKey = '';
/** Messages the browser logged about the page's Content-Security-Policy refusing something, and uncaught errors. */
const refused: string[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(reports, { recursive: true });
  replicate = await startFakeReplicate({ pollsToFinish: 1, videoSize: '288x512' });
  const [started] = await Promise.all([
    startStack(
      'dashboard',
      {},
      {
        'generation-worker': {
          REPLICATE_API_KEY: FAKE_REPLICATE_KEY,
          REPLICATE_BASE_URL: replicate.baseUrl,
          REPLICATE_POLL_MS: '200',
          PROVIDER_DOWNLOAD_ALLOWED_HOSTS: new URL(replicate.url).host,
        },
      },
    ),
    run(process.execPath, [join(pkgDir, 'build.mjs')], { cwd: pkgDir, timeout: 120_000 }),
  ]);
  stack = started;
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  await context.addInitScript(reportCspViolations);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await replicate?.close();
});

const dashboard = (path = '') => `${stack.baseUrl}/dashboard${path}`;

/** Runs in each page before its scripts: every CSP refusal becomes a console line the test collects. */
const reportCspViolations = () =>
  document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));

/** A full-page screenshot in reports/; the page scrolls back to the top (Chromium mis-aims the next click otherwise). */
async function snap(page: Page, name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: join(reports, `${name}.png`), fullPage });
  await page.evaluate(() => window.scrollTo(0, 0));
}

async function open(path: string, ctx = context): Promise<Page> {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (/CSP violation|Content Security Policy|Refused to|script-src/i.test(m.text())) refused.push(m.text());
  });
  await page.goto(dashboard(path));
  return page;
}

/** axe-core's WCAG 2 A and AA rules on the page as it is now; returns the violations (id and first target). */
async function axe(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const result = await (window as unknown as { axe: { run(c: unknown, o: unknown): Promise<{ violations: any[] }> } }).axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n: any) => n.target.join(' ')).join(', ')})`);
  });
  return violations;
}

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(stack.baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any };
}

const noHorizontalScroll = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

describe('served by the gateway', () => {
  it('serves the page with no-cache and a self-only CSP, hashed assets for a year, and the page for deep links', async () => {
    const res = await fetch(dashboard());
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe|\*|https:(?!\/)/);
    const html = await res.text();
    const assets = [...html.matchAll(/(?:src|href)="(\/dashboard\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => /\/app-\w+\.js$/.test(a))).toBe(true);
    expect(assets.some((a) => /\/app-\w+\.css$/.test(a))).toBe(true);
    expect(html).not.toMatch(/https?:\/\//); // nothing from elsewhere
    for (const asset of assets) {
      const a = await fetch(stack.baseUrl + asset, { headers: { 'accept-encoding': 'gzip' } });
      expect(a.status, asset).toBe(200);
      expect(a.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(a.headers.get('content-type')).toMatch(
        asset.endsWith('.js') ? /^text\/javascript/ : asset.endsWith('.css') ? /^text\/css/ : /^image\/svg/,
      );
      await a.arrayBuffer();
    }
    // A revalidation of the page costs nothing; deep links get the page; unknown assets are 404.
    const again = await fetch(dashboard(), { headers: { 'if-none-match': res.headers.get('etag')! } });
    expect(again.status).toBe(304);
    const deep = await fetch(dashboard('/generations/gen_0123456789abcdef'));
    expect(deep.status).toBe(200);
    expect(await deep.text()).toBe(html);
    expect((await fetch(dashboard('/assets/app-NOTHERE.js'))).status).toBe(404);
    // Not an API operation.
    const doc = (await (await fetch(`${stack.baseUrl}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/dashboard'))).toEqual([]);
  });

  it('on an open gateway, says so in a banner and needs no sign-in', async () => {
    const page = await open('');
    await page.getByRole('heading', { name: 'Generations' }).waitFor();
    const banner = page.getByRole('note', { name: 'Open gateway' });
    await expect(banner.textContent()).resolves.toMatch(/This gateway is open/);
    expect(await axe(page)).toEqual([]);
    await page.close();
  }, 60_000);
});

describe('with an API key', () => {
  let page: Page;
  let rubyId = '';
  const sent: { url: string; authorization: string | undefined }[] = [];

  beforeAll(async () => {
    const created = await stack.gatewayCli(['keys', 'create', '--name', 'dashboard test']);
    apiKey = /key: (gmk_\w+)/.exec(created)![1]!;
    await new Promise((r) => setTimeout(r, 5_100)); // the gateway caches its active-key count for 5 s
    expect((await fetch(`${stack.baseUrl}/v1/generations`)).status).toBe(401);
    // The files stay public: the page asks for the credential.
    expect((await fetch(dashboard())).status).toBe(200);
  }, 90_000);

  it('signs in with the key (a wrong one is refused in words); the key stays in sessionStorage, out of URLs', async () => {
    page = await open('/new');
    page.on('request', (r) => sent.push({ url: r.url(), authorization: r.headers().authorization }));
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.getByRole('note', { name: 'Open gateway' }).count()).toBe(0);
    expect(await axe(page)).toEqual([]);
    await page.getByLabel('API key', { exact: true }).fill('gmk_not_a_real_key_at_all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe('This API key is not accepted.');
    await snap(page, 'dashboard-sign-in', false);

    await page.getByLabel('API key', { exact: true }).fill(apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Generations' }).waitFor();
    const stored = await page.evaluate(() => ({ session: JSON.stringify(sessionStorage), local: JSON.stringify(localStorage) }));
    expect(stored.session).toContain(apiKey);
    expect(stored.local).not.toContain(apiKey);
    expect(await page.getByText('Signed in with an API key').count()).toBe(1);
  }, 60_000);

  it('submits a Ruby generation through the form, after the contracts refused a value next to its field', async () => {
    await page.getByRole('link', { name: 'New generation' }).first().click();
    await page.getByRole('heading', { name: 'New generation' }).waitFor();
    expect(await page.locator('#type').inputValue()).toBe('ruby');
    // Every type's form comes from the registry.
    await page.selectOption('#type', 'hello_world');
    await page.locator('[data-field=name]').waitFor();
    await page.selectOption('#type', 'ruby');
    await page.locator('[data-field=video_duration]').waitFor();
    expect(await page.inputValue('input[name=video_duration]')).toBe('5');
    expect(await axe(page)).toEqual([]);

    await page.fill('input[name=video_duration]', '11');
    await page.getByRole('button', { name: 'Start generation' }).click();
    const message = page.locator('[data-field=video_duration] .error');
    await message.waitFor();
    expect(await message.textContent()).toMatch(/10/);
    const input = page.locator('input[name=video_duration]');
    expect(await input.getAttribute('aria-invalid')).toBe('true');
    expect((await input.getAttribute('aria-describedby'))!.split(' ')).toContain(await message.getAttribute('id'));
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('video_duration');
    expect(await axe(page)).toEqual([]);
    await snap(page, 'dashboard-form-error');

    // The model's params are typed per model: the chosen model's own fields.
    await page.getByText('Models and their parameters').click();
    await page.locator('[data-field="image_model_params.output_format"] select').waitFor();
    await page.selectOption('select[name=image_model]', 'hidream-fast');
    await page.locator('[data-field="image_model_params.speed_mode"] select').waitFor();
    expect(await page.locator('[data-field="image_model_params.image_input"]').count()).toBe(0);
    await page.selectOption('select[name=image_model]', 'nano-banana');
    await page.locator('[data-field="image_model_params.image_input"]').waitFor();

    await page.fill('input[name=video_duration]', '5');
    await page.fill('textarea[name=text_overlay]', 'made in the dashboard');
    // Each Replicate prediction takes ten polls (about 2 s): long enough for the page to watch the steps go by.
    replicate.script.pollsToFinish = 10;
    await page.getByRole('button', { name: 'Start generation' }).click();
    await page.waitForURL(/\/dashboard\/generations\/gen_\w+$/);
    rubyId = /gen_\w+$/.exec(page.url())![0];
    await page.getByRole('heading', { name: 'Ruby generation' }).waitFor();
  }, 120_000);

  it('shows the steps as they happen until complete, then plays the video, labelled AI-generated', async () => {
    await page.locator('#progress li[data-step]').first().waitFor({ timeout: 120_000 });
    await page.locator('#progress[data-status=completed]').waitFor({ timeout: 180_000 });
    const steps = await page.locator('#progress li[data-step]').evaluateAll((els) => els.map((e) => e.getAttribute('data-step')));
    const known = [...Object.values(RUBY_STEPS).map((s) => s.id), 'complete'];
    expect(steps.length).toBeGreaterThanOrEqual(3);
    expect(steps.at(-1)).toBe('complete');
    for (const s of steps) expect(known).toContain(s);
    const statuses = await page.locator('#progress li[data-step]').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
    expect(statuses).toEqual(steps.map(() => 'completed'));
    expect(steps).toContain('video'); // seen while it ran, not only the final record
    const order = steps.map((s) => known.indexOf(s ?? ''));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    replicate.script.pollsToFinish = 1;

    const video = page.locator('video[data-output=final_video_url]');
    await video.waitFor();
    expect(await video.getAttribute('poster')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/media\//);
    await video.evaluate(async (v: HTMLVideoElement) => {
      v.muted = true;
      await v.play();
    });
    await page.waitForFunction(
      () => {
        const v = document.querySelector<HTMLVideoElement>('video[data-output=final_video_url]');
        return v !== null && v.readyState >= 2 && v.videoWidth > 0 && v.currentTime > 0.2;
      },
      undefined,
      { timeout: 60_000 },
    );
    expect(await video.evaluate((v: HTMLVideoElement) => v.error)).toBeNull();
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLImageElement>('img[data-output]')].every((i) => i.complete && i.naturalWidth > 0),
    );
    expect(await page.locator('img[data-output=final_video_preview_url]').count()).toBe(1);
    expect(await page.locator('figure .ai-label').count()).toBeGreaterThanOrEqual(2);
    await video.evaluate((v: HTMLVideoElement) => {
      v.pause();
      v.currentTime = 0.5;
    });
    expect(await axe(page)).toEqual([]);
    await snap(page, 'dashboard-generation');
  }, 300_000);

  it('copies the generation as curl with a placeholder for the key; the command starts the same generation', async () => {
    await page.getByRole('button', { name: 'Copy as curl' }).click();
    const command = (await page.getByLabel('curl command').textContent())!;
    expect(command).toContain('$GPTMARKET_API_KEY');
    expect(command).not.toContain(apiKey);
    const { stdout } = await run('bash', ['-c', command.replace(/^curl /, 'curl -s ')], {
      env: { PATH: process.env.PATH!, GPTMARKET_API_KEY: apiKey },
      timeout: 30_000,
    });
    const again = JSON.parse(stdout) as { id: string; type: string; input: Record<string, unknown> };
    const original = await api('GET', `/v1/generations/${rubyId}`);
    expect(again.type).toBe('ruby');
    expect(again.id).not.toBe(rubyId);
    expect(again.input).toEqual(original.json.input);
    await api('POST', `/v1/generations/${again.id}/cancel`);
  }, 60_000);

  it('lists generations with status, type, age and cost; filters; loads more; updates itself', async () => {
    for (let i = 0; i < 21; i++)
      expect((await api('POST', '/v1/generations', { type: 'hello_world', input: { name: `n${i}` } })).status).toBe(202);
    await page.getByRole('link', { name: 'Generations', exact: true }).click();
    await page.getByRole('heading', { name: 'Generations' }).waitFor();
    const rows = page.locator('li.row');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(20);

    await page.selectOption('#filter-type', 'ruby');
    await page.waitForURL(/type=ruby/);
    await page.locator(`li.row[data-id="${rubyId}"]`).waitFor();
    const ruby = page.locator(`li.row[data-id="${rubyId}"]`);
    expect(await ruby.textContent()).toMatch(/Ruby.*Completed.*ago.*\$\d/);
    await page.selectOption('#filter-status', 'completed');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('li.row')];
      return rows.length > 0 && rows.every((r) => r.getAttribute('data-status') === 'completed');
    });
    expect(await page.locator(`li.row[data-id="${rubyId}"]`).count()).toBe(1);
    expect(await axe(page)).toEqual([]);

    await page.selectOption('#filter-status', '');
    await page.selectOption('#filter-type', 'hello_world');
    await page.waitForFunction(() => document.querySelectorAll('li.row').length === 20);
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.waitForFunction(() => document.querySelectorAll('li.row').length === 21);
    const ids = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
    expect(new Set(ids).size).toBe(21);

    // A generation started elsewhere appears at the top and reaches completed without a reload.
    const { json: fresh } = await api('POST', '/v1/generations', { type: 'hello_world', input: { name: 'live' } });
    await page.locator(`li.row[data-id="${fresh.id}"][data-status=completed]`).waitFor({ timeout: 30_000 });
    expect(await rows.first().getAttribute('data-id')).toBe(fresh.id);
    await snap(page, 'dashboard-list');
  }, 120_000);

  it('cancels a running generation, then retries it: the new generation page appears', async () => {
    replicate.script.pollsToFinish = 1_000_000; // the face image stays in progress until cancelled
    const { json: created } = await api('POST', '/v1/generations', { type: 'ruby', input: { text_overlay: 'cancel me' } });
    await page.goto(dashboard(`/generations/${created.id}`));
    await page.locator('#progress[data-status=running]').waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('#progress[data-status=cancelled]').waitFor({ timeout: 60_000 });
    expect(await page.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
    await snap(page, 'dashboard-cancelled');

    await page.getByRole('button', { name: 'Retry' }).click();
    await page.waitForURL((url) => /\/generations\/gen_\w+$/.test(url.pathname) && !url.pathname.endsWith(created.id));
    await page.getByRole('heading', { name: 'Ruby generation' }).waitFor();
    const retried = /gen_\w+$/.exec(page.url())![0];
    await page.getByRole('link', { name: created.id }).waitFor();
    expect((await api('GET', `/v1/generations/${retried}`)).json).toMatchObject({
      retry_of: created.id,
      input: { text_overlay: 'cancel me' },
    });
    await api('POST', `/v1/generations/${retried}/cancel`);
    replicate.script.pollsToFinish = 1;
  }, 120_000);

  it('fits a phone (375 px) without horizontal scrolling', async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
    await phone.addInitScript(reportCspViolations);
    await phone.addInitScript(
      ([key]) => sessionStorage.setItem('gptmarket.dashboard.credential', JSON.stringify({ kind: 'key', key })),
      [apiKey],
    );
    for (const [path, name] of [
      ['', 'list'],
      [`/generations/${rubyId}`, 'generation'],
      ['/new', 'new'],
    ] as const) {
      const p = await open(path, phone);
      await p.locator('h1').waitFor();
      if (name === 'generation') await p.locator('video[data-output=final_video_url]').waitFor();
      if (name === 'list') await p.locator('li.row').first().waitFor();
      expect(await noHorizontalScroll(p), name).toBe(true);
      await snap(p, `dashboard-phone-${name}`, name !== 'generation');
      await p.close();
    }
    await phone.close();
  }, 120_000);

  it('sent the key only in the Authorization header, never in a URL; the page broke no CSP rule', () => {
    const api = sent.filter((r) => r.url.includes('/v1/'));
    expect(api.filter((r) => r.authorization === `Bearer ${apiKey}`).length).toBeGreaterThan(10);
    for (const r of api) {
      if (r.authorization === `Bearer ${apiKey}` || r.authorization === 'Bearer gmk_not_a_real_key_at_all') continue;
      // Only the open-gateway probe goes without credentials.
      expect(r).toEqual({ url: `${stack.baseUrl}/v1/generations?limit=1`, authorization: undefined });
    }
    for (const r of sent) expect(r.url).not.toContain(apiKey);
    for (const r of sent.filter((r) => !r.url.includes('/v1/'))) expect(r.authorization, r.url).toBeUndefined();
    expect(refused).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('signs out: the credential is forgotten', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.close();
  });
});

describe('with basic auth', () => {
  let gateway: ServiceProcess | undefined;
  afterAll(async () => void (await gateway?.stop(10_000)));

  it('signs in with a username and password on a gateway that has them', async () => {
    const port = await freePort();
    gateway = spawnApp(
      'gateway',
      {
        ...stack.env,
        PORT: String(port),
        GATEWAY_PUBLIC_URL: `http://127.0.0.1:${port}`,
        BASIC_AUTH_USER: 'ops',
        BASIC_AUTH_PASSWORD: 'dashboard-test-password',
      },
      'gateway (basic auth)',
    );
    await gateway.waitForOutput(/gateway ready/, 60_000);
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${port}/dashboard`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('A username and password').check();
    await page.getByLabel('Username', { exact: true }).fill('ops');
    await page.getByLabel('Password', { exact: true }).fill('wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe('This username and password are not accepted.');
    await page.getByLabel('Password', { exact: true }).fill('dashboard-test-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Basic auth sees every generation: the key's Ruby is listed.
    await page.locator('li.row').first().waitFor();
    expect(await page.getByText('Signed in as ops').count()).toBe(1);
    await page.close();
  }, 90_000);
});
