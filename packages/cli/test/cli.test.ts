/**
 * The gptmarket command against the real stack (Temporal dev server, PostgreSQL, both workers and the gateway as
 * processes, the offline provider), run as a user runs it: a separate process, and once under a real pseudo-terminal
 * (tmux) whose screen is captured to reports/.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startStack, type Stack } from '@gptmarket/testkit';

const repo = resolve(import.meta.dirname, '../../..');
const bin = resolve(import.meta.dirname, '../bin/gptmarket.mjs');
const reports = resolve(import.meta.dirname, '../reports');
const USER = 'cli-ops';
const PASSWORD = randomBytes(12).toString('hex');
const BASIC = `${USER}:${PASSWORD}`;

/** A media server that answers the headers of a video and then nothing: a generation that fetches from it runs until cancelled. */
const stalled = new Set<ServerResponse>();
const slowServer: Server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': '1000000' });
  res.write(Buffer.alloc(10));
  stalled.add(res);
});
await new Promise<void>((r) => slowServer.listen(0, '127.0.0.1', r));
const slowUrl = `http://127.0.0.1:${(slowServer.address() as AddressInfo).port}/clip.mp4`;

const stack: Stack = await startStack(
  'cli_e2e',
  { BASIC_AUTH_USER: USER, BASIC_AUTH_PASSWORD: PASSWORD, RATE_LIMIT_MAX: '100000', RATE_LIMIT_AUTH_FAILURES_MAX: '1000' },
  { 'media-worker': { MEDIA_ALLOWED_HOSTS: new URL(slowUrl).host } },
);
const work = mkdtempSync(join(tmpdir(), 'gptmarket-cli-'));
afterAll(async () => {
  for (const res of stalled) res.destroy();
  await new Promise((r) => slowServer.close(r));
  await stack.stop();
  rmSync(work, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The command as a process of its own, with nothing but the connection settings in its environment. */
function cli(args: string[], env: Record<string, string> = { GPTMARKET_BASIC_AUTH: BASIC }, timeout = 150_000): Promise<Run> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: work, env: { PATH: process.env.PATH!, HOME: process.env.HOME!, GPTMARKET_URL: stack.baseUrl, ...env }, timeout },
      (err, stdout, stderr) => done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
const jsonLines = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
/** No stack traces, no source paths: errors are plain words. */
const expectPlain = (text: string) => {
  expect(text).not.toMatch(/\n\s+at |\.ts:\d+|node_modules/);
};
const ffprobe = (path: string) =>
  JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path], { encoding: 'utf8' }),
  );
const count = async () => (jsonLines((await cli(['list', '--limit', '100', '--json'])).stdout)[0].data as unknown[]).length;

describe('generate --wait', () => {
  it('ruby --json: JSON lines of its steps, then completed with the files downloaded and valid', async () => {
    const out = join(work, 'ruby-out');
    const run = await cli(['generate', 'ruby', '--emotion', 'shocked', '--text-overlay', 'from the CLI', '--wait', '--json', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    const events = jsonLines(run.stdout);
    expect(events[0]).toMatchObject({ event: 'created', generation: { type: 'ruby', input: { text_overlay: 'from the CLI' } } });
    const id = events[0].generation.id;
    const steps = events.filter((e) => e.event === 'progress').map((e) => e.current_step?.step_id);
    expect(steps).toContain('video');
    expect(steps.at(-1)).toBe('complete');
    const last = events.at(-1);
    expect(last).toMatchObject({ event: 'completed', generation: { id, status: 'completed' } });
    const files = last.files as { pointer: string; path: string; bytes: number; url: string }[];
    expect(files.map((f) => f.pointer).sort()).toEqual(
      ['/face_image_url', '/final_video_poster_url', '/final_video_preview_url', '/final_video_url', '/raw_video_url'].sort(),
    );
    expect(readdirSync(out).sort()).toEqual(files.map((f) => f.path.slice(out.length + 1)).sort());
    for (const f of files) {
      expect(statSync(f.path).size).toBe(f.bytes);
      expect(f.bytes).toBeGreaterThan(100);
    }
    const video = ffprobe(files.find((f) => f.pointer === '/final_video_url')!.path);
    expect(video.streams.find((s: { codec_type: string }) => s.codec_type === 'video').codec_name).toBe('h264');
    expect(Number(video.format.duration)).toBeGreaterThan(1);
    expect(ffprobe(files.find((f) => f.pointer === '/face_image_url')!.path).streams[0].codec_name).toMatch(/png|mjpeg/);
    expect(ffprobe(files.find((f) => f.pointer === '/final_video_preview_url')!.path).streams[0].codec_name).toBe('gif');
  }, 180_000);

  it('not on a terminal: one plain line per change, then the outcome', async () => {
    const run = await cli(['generate', 'hello_world', '--name', 'CLI', '--wait', '--out', join(work, 'hello')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^started gen_\w+ \(hello_world\)\n/);
    // A line per change seen (hello_world may be over before the first), the last one its final state.
    expect(run.stdout).toMatch(/^\[\d+:\d\d\] +100% {2}completed {2}Complete \(Done!\)$/m);
    expect(run.stdout).toMatch(/^gen_\w+ completed after \d+:\d\d$/m);
    expect(run.stdout).not.toMatch(/\x1b\[|\r/); // no terminal codes in a pipe
  }, 120_000);

  it('a failing generation exits 1 with its error in plain words', async () => {
    const run = await cli(['generate', 'voiceover', '--text', 'hi', '--video-url', 'http://127.0.0.2:9/clip.mp4', '--wait']);
    expect(run.code).toBe(1);
    const id = /^started (gen_\w+)/.exec(run.stdout)![1]!;
    const g = JSON.parse((await cli(['get', id, '--json'])).stdout);
    expect(g.status).toBe('failed');
    expect(run.stderr).toContain(`gptmarket: ${id} failed in step Mix Audio: ${g.error.message}`);
    expect(run.stderr).toContain(`gptmarket retry ${id}`);
    expectPlain(run.stderr);
  }, 120_000);
});

describe('bad command lines start nothing', () => {
  it('an unknown field, a value the contract refuses, an unknown type: exit 2 with the message, no generation', async () => {
    const before = await count();
    const unknown = await cli(['generate', 'ruby', '--colour', 'red']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^gptmarket: unknown field --colour for ruby; its fields: --additional_prompt, --emotion/);
    const tooLong = await cli(['generate', 'ruby', '--video_duration', '99', '--wait']);
    expect(tooLong.code).toBe(2);
    expect(tooLong.stderr).toContain('--video_duration: Too big: expected number to be <=10');
    const notNumber = await cli(['generate', 'voiceover', '--text', 'x', '--speed', 'fast']);
    expect(notNumber.code).toBe(2);
    expect(notNumber.stderr).toContain('--speed: Invalid input: expected number, received string');
    const badJson = await cli(['generate', 'ruby', '--image_model_params', '{seed: 1}']);
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain('--image_model_params: not valid JSON');
    const type = await cli(['generate', 'rubyy']);
    expect(type.code).toBe(2);
    expect(type.stderr).toContain('unknown generation type "rubyy" (one of ruby, ');
    const limit = await cli(['list', '--limit', '1000']);
    expect(limit).toMatchObject({ code: 2, stderr: 'gptmarket: --limit: Too big: expected number to be <=100\n' });
    for (const r of [unknown, tooLong, notNumber, badJson, type]) expect(r.stdout).toBe('');
    expect(await count()).toBe(before);
  }, 60_000);

  it('unreachable gateway, bad credentials, unknown id: plain words, exit 1', async () => {
    const port = await freePort();
    const down = await cli(['list', '--url', `http://127.0.0.1:${port}`]);
    expect(down.code).toBe(1);
    expect(down.stderr).toBe(
      `gptmarket: cannot reach the gateway at http://127.0.0.1:${port} (ECONNREFUSED). Is it running (./scripts/dev.sh)? Point the CLI elsewhere with GPTMARKET_URL or --url.\n`,
    );
    const wrong = await cli(['list'], { GPTMARKET_BASIC_AUTH: `${USER}:wrong` });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(
      /^gptmarket: the gateway refused the credentials: the username or password is not valid\. To sign in, set GPTMARKET_API_KEY/,
    );
    const none = await cli(['list'], {});
    expect(none.stderr).toMatch(/^gptmarket: the gateway refused the credentials: authentication required/);
    const missing = await cli(['get', 'gen_doesnotexist000']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^gptmarket: not found: /);
    for (const r of [down, wrong, none, missing]) expectPlain(r.stderr);
  }, 60_000);
});

describe('list, get, watch, cancel, retry', () => {
  it('cancels a running generation, watches it end as cancelled, retries it, and finds both', async () => {
    // Its video never finishes downloading (the stalled server): it is still running whenever the cancel arrives,
    // however slowly the commands start (a Ruby run on the offline providers could end first under load).
    const started = await cli(['generate', 'voiceover', '--text', 'cancel me', '--video-url', slowUrl, '--json']);
    expect(started.code, started.stderr).toBe(0);
    const id = JSON.parse(started.stdout).id as string;
    const cancel = await cli(['cancel', id]);
    expect(cancel, cancel.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(new RegExp(`^cancelling ${id}: `)) });
    const watched = await cli(['watch', id, '--json']);
    expect(watched.code).toBe(3);
    expect(jsonLines(watched.stdout).at(-1)).toMatchObject({ event: 'cancelled', generation: { id, status: 'cancelled' } });
    expect(watched.stderr).toBe(`gptmarket: ${id} was cancelled\n`);

    const retried = await cli(['retry', id, '--json']);
    expect(retried.code, retried.stderr).toBe(0);
    const retry = JSON.parse(retried.stdout);
    expect(retry).toMatchObject({ retry_of: id, type: 'voiceover', input: { text: 'cancel me', video_url: slowUrl } });
    const cancelRetry = await cli(['cancel', retry.id]);
    expect(cancelRetry.code, cancelRetry.stderr).toBe(0);

    const listed = JSON.parse((await cli(['list', '--type', 'voiceover', '--limit', '50', '--json'])).stdout);
    expect(listed.data.map((g: { id: string }) => g.id)).toEqual(expect.arrayContaining([id, retry.id]));
    const tsv = await cli(['list', '--status', 'cancelled']);
    expect(tsv.stdout.split('\n')[0]).toBe('ID\tTYPE\tSTATUS\tSTEP\tCOST\tCREATED');
    expect(tsv.stdout).toMatch(new RegExp(`^${id}\\tvoiceover\\tcancelled\\t`, 'm'));

    const got = await cli(['get', id]);
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(new RegExp(`^id +${id}$`, 'm'));
    expect(got.stdout).toMatch(/^status +cancelled$/m);
    const gotRetry = await cli(['get', retry.id]);
    expect(gotRetry.stdout).toMatch(new RegExp(`^retry of +${id}$`, 'm'));
  }, 120_000);
});

describe('keys', () => {
  it('create, list, budget and revoke with basic auth; a key may use the API but not manage keys', async () => {
    const created = await cli(['keys', 'create', '--name', 'cli key', '--rate-limit', '500', '--daily-budget', '5', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const key = JSON.parse(created.stdout);
    expect(key).toMatchObject({ name: 'cli key', rate_limit: 500, daily_budget_usd: 5, key: expect.stringMatching(/^gmk_/) });
    const text = await cli(['keys', 'create', '--name', 'second']);
    expect(text.stdout).toMatch(/^created key_\w+ \(second\), no budget\nkey: gmk_\w+\nStore it now: it is shown only once\.\n$/);

    const listed = await cli(['keys', 'list']);
    expect(listed.stdout.split('\n')[0]).toBe('ID\tPREFIX\tNAME\tRATE LIMIT\tSTATUS\tLAST USED\tBUDGETS');
    expect(listed.stdout).toContain(`${key.id}\t${key.prefix}…\tcli key\t500\tactive\t-\tdaily $5.00 (spent $0.00)`);
    expect(listed.stdout).not.toContain(key.key);

    const budget = await cli(['keys', 'budget', key.id, '--daily-budget', 'none', '--monthly-budget', '20']);
    expect(budget).toMatchObject({ code: 0, stdout: `${key.id} (cli key): monthly $20.00 (spent $0.00)\n` });
    const badBudget = await cli(['keys', 'budget', key.id, '--daily-budget', 'lots']);
    expect(badBudget).toMatchObject({
      code: 2,
      stderr: 'gptmarket: --daily-budget: must be an amount of USD from 0 to 1000000000 (e.g. 25 or 2.50)\n',
    });

    // The key works for generations, and is refused on the key API with words that say why.
    const asKey = { GPTMARKET_API_KEY: key.key };
    expect((await cli(['list', '--limit', '1'], asKey)).code).toBe(0);
    const forbidden = await cli(['keys', 'list'], asKey);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/^gptmarket: not allowed: API keys cannot manage API keys: sign in with basic auth/);
    // Both set: the key for generations, basic auth for keys.
    expect((await cli(['keys', 'list', '--json'], { ...asKey, GPTMARKET_BASIC_AUTH: BASIC })).code).toBe(0);

    const revoked = await cli(['keys', 'revoke', key.id, '--json']);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout).revoked_at).toEqual(expect.any(String));
    const after = await cli(['list'], asKey);
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/^gptmarket: the gateway refused the credentials: the API key is not valid/);
  }, 90_000);
});

describe('under a terminal (tmux)', () => {
  const socket = `gptmarket-cli-${randomBytes(4).toString('hex')}`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  afterAll(() => {
    try {
      tmux('kill-server');
    } catch {
      /* not started */
    }
  });
  const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

  /** Runs `command` in a detached 110×30 tmux window; answers a function that captures its screen. */
  function terminal(name: string, command: string): () => string {
    const env = `GPTMARKET_URL=${shellQuote(stack.baseUrl)} GPTMARKET_BASIC_AUTH=${shellQuote(BASIC)}`;
    execFileSync(
      'tmux',
      [
        '-L',
        socket,
        '-f',
        '/dev/null',
        'new-session',
        '-d',
        '-s',
        name,
        '-x',
        '110',
        '-y',
        '30',
        `cd ${shellQuote(repo)} && env ${env} ${command}; echo "EXIT=$?"; sleep 600`,
      ],
      { env: { ...process.env, TERM: 'xterm-256color' } },
    );
    return () => tmux('capture-pane', '-p', '-J', '-t', name);
  }
  async function until(
    capture: () => string,
    test: (screen: string) => boolean,
    timeoutMs: number,
    onScreen?: (s: string) => void,
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = capture();
      onScreen?.(screen);
      if (test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`the screen never matched:\n${screen}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const BAR = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \[[█░]{24}\] +\d+% {2}\S.* {2}\d+:\d\d {2}gen_\w+/;

  it('pnpm gptmarket generate ruby --wait draws the progress bar, then the steps, then the saved files', async () => {
    mkdirSync(reports, { recursive: true });
    const out = join(work, 'tty');
    const capture = terminal(
      'generate',
      `pnpm gptmarket generate ruby --emotion shocked --text-overlay 'in a terminal' --video_duration 10 --wait --out ${shellQuote(out)}`,
    );
    // The first screen with the bar part way (the offline provider takes a second or two), and the last.
    let midway = '';
    const running = /\] +\d{1,2}% {2}(Generate|Apply|Add|Upload)/;
    const done = await until(
      capture,
      (s) => /EXIT=\d+/.test(s),
      180_000,
      (s) => {
        if (!midway && BAR.test(s) && running.test(s)) midway = s;
      },
    );
    writeFileSync(join(reports, 'tmux-generate-progress.txt'), midway);
    writeFileSync(join(reports, 'tmux-generate-done.txt'), done);
    expect(midway, done).toMatch(BAR);
    expect(midway).toMatch(running);
    expect(done).toContain('EXIT=0');
    for (const step of ['Generate Prompts', 'Generate Face', 'Generate Video', 'Upload'])
      expect(done).toMatch(new RegExp(`✓ ${step} +\\d+\\.\\ds`));
    expect(done).toMatch(/\[█{24}\] 100% {2}Complete/);
    expect(done).toMatch(/saved .*final_video\.mp4 \(\d/);
    expect(existsSync(join(out, 'final_video.mp4'))).toBe(true);
  }, 200_000);

  it('Ctrl-C stops watching, says how to resume, and the generation goes on', async () => {
    const started = await cli(['generate', 'voiceover', '--text', 'wait for it', '--video-url', slowUrl, '--json']);
    const id = JSON.parse(started.stdout).id as string;
    const capture = terminal('watch', `node packages/cli/bin/gptmarket.mjs watch ${id}`);
    await until(capture, (s) => BAR.test(s) && /Mix Audio/.test(s), 60_000);
    tmux('send-keys', '-t', 'watch', 'C-c');
    const screen = await until(capture, (s) => /EXIT=\d+/.test(s), 30_000);
    writeFileSync(join(reports, 'tmux-watch-interrupted.txt'), screen);
    expect(screen).toContain(`stopped watching ${id}; it goes on. Resume with: gptmarket watch ${id}`);
    expect(screen).toContain('EXIT=130');
    // Still running (watching stopped, not the generation); then cancelled, which a resumed watch reports.
    expect(JSON.parse((await cli(['get', id, '--json'])).stdout)).toMatchObject({ status: 'running', current_step: { step_id: 'mix' } });
    expect((await cli(['cancel', id])).code).toBe(0);
    const after = await cli(['watch', id, '--json']);
    expect(after.code).toBe(3);
    expect(jsonLines(after.stdout).at(-1).generation).toMatchObject({ id, status: 'cancelled' });
  }, 200_000);
});
