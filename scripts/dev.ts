/**
 * The dev stack on embedded defaults: Temporal dev server (SQLite, UI), gateway (PGlite, local storage),
 * generation worker and media worker, each a child process with prefixed logs. Ctrl-C stops them all.
 * Set TEMPORAL_ADDRESS (or TEMPORAL_HOST) to use an existing Temporal cluster instead of the dev server.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join, resolve } from 'node:path';
import { dataDir } from '../packages/runtime/src/paths.js';

const root = resolve(import.meta.dirname, '..');
// The same data directory the gateway and its `keys` command use (GPTMARKET_DATA_DIR, default .data here).
const data = dataDir();
mkdirSync(data, { recursive: true });

const port = Number(process.env.PORT ?? 3000);
const temporalPort = Number(process.env.TEMPORAL_PORT ?? 7233);
const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
const external = process.env.TEMPORAL_ADDRESS ?? process.env.TEMPORAL_HOST;
const temporalAddress = external ?? `127.0.0.1:${temporalPort}`;
const publicUrl = process.env.GATEWAY_PUBLIC_URL ?? `http://localhost:${port}`;

// A per-checkout workflow secret, so auth is on in development exactly as in production.
const secretFile = join(data, 'workflow-secret');
if (!process.env.WORKFLOW_SECRET_KEY && !existsSync(secretFile))
  writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
const workflowSecret = process.env.WORKFLOW_SECRET_KEY ?? readFileSync(secretFile, 'utf8').trim();

const colors = [36, 35, 33, 32, 34];
const children: { name: string; child: ChildProcess }[] = [];
let stopping = false;

function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const color = colors[children.length % colors.length];
  const prefix = `\x1b[${color}m${name.padEnd(17)}\x1b[0m│ `;
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout!, child.stderr!]) {
    let rest = '';
    stream.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) process.stdout.write(prefix + line + '\n');
    });
  }
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`\n${name} exited unexpectedly (${signal ?? code}); stopping the stack.`);
    void shutdown(1);
  });
  children.push({ name, child });
  return child;
}

function waitForLine(child: ChildProcess, pattern: RegExp, what: string, timeoutMs = 120_000): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not become ready within ${timeoutMs / 1000}s`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      if (pattern.test(chunk.toString('utf8'))) {
        clearTimeout(timer);
        resolvePromise();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  });
}

const portFree = (p: number) =>
  new Promise<boolean>((r) => {
    const s = createConnection({ host: '127.0.0.1', port: p });
    s.once('connect', () => (s.destroy(), r(false)));
    s.once('error', () => r(true));
  });

async function stopAll(group: { child: ChildProcess }[], graceMs: number): Promise<void> {
  for (const { child } of group) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (group.some(({ child }) => child.exitCode === null && child.signalCode === null) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const { child } of group) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

async function shutdown(code: number): Promise<never> {
  if (stopping) return new Promise(() => {}) as never;
  stopping = true;
  // Services first, so workers finish or hand back their tasks; Temporal last.
  await stopAll(
    children.filter((c) => c.name !== 'temporal'),
    35_000,
  );
  await stopAll(
    children.filter((c) => c.name === 'temporal'),
    10_000,
  );
  console.log('\nstack stopped.');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

async function main() {
  for (const [p, variable] of [
    [port, 'PORT'],
    ...(external
      ? []
      : [
          [temporalPort, 'TEMPORAL_PORT'],
          [uiPort, 'TEMPORAL_UI_PORT'],
        ]),
  ] as [number, string][]) {
    if (!(await portFree(p))) throw new Error(`port ${p} is in use: stop what uses it or set ${variable} to another port`);
  }
  if (!external) {
    const cli = process.env.TEMPORAL_CLI_PATH!;
    const temporal = start('temporal', cli, [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(temporalPort),
      '--ui-port',
      String(uiPort),
      '--db-filename',
      join(data, 'temporal.db'),
      '--log-level',
      'error',
      '--namespace',
      'default',
    ]);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const health = spawnSync(cli, ['operator', 'cluster', 'health', '--address', temporalAddress], { encoding: 'utf8' });
      if (health.status === 0) break;
      if (temporal.exitCode !== null || Date.now() > deadline) throw new Error('the Temporal dev server did not start');
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  const env = {
    TEMPORAL_ADDRESS: temporalAddress,
    WORKFLOW_SECRET_KEY: workflowSecret,
    GATEWAY_PUBLIC_URL: publicUrl,
    LOCAL_STORAGE_DIR: process.env.LOCAL_STORAGE_DIR ?? join(data, 'media'),
    // The gateway keeps its embedded database in the data directory (or PGLITE_DIR), where `keys` looks too.
    GPTMARKET_DATA_DIR: data,
    PORT: String(port),
  };
  // The dashboard the gateway serves at /dashboard: static files, built in a second or two.
  const dashboard = spawnSync(process.execPath, ['packages/dashboard/build.mjs'], { cwd: root, stdio: 'inherit' });
  if (dashboard.status !== 0) throw new Error('building the dashboard (packages/dashboard/build.mjs) failed');
  const node = (app: string) => ['--import', 'tsx', '--conditions=@gptmarket/source', `apps/${app}/src/main.ts`];
  const gen = start('generation-worker', process.execPath, node('generation-worker'), env);
  const media = start('media-worker', process.execPath, node('media-worker'), env);
  const gateway = start('gateway', process.execPath, node('gateway'), env);
  await Promise.all([
    waitForLine(gen, /generation-worker ready/, 'the generation worker'),
    waitForLine(media, /media-worker ready/, 'the media worker'),
    waitForLine(gateway, /gateway ready/, 'the gateway'),
  ]);
  const line = '─'.repeat(72);
  console.log(`
${line}
  GPTMarket Generator is running (embedded defaults, offline providers)

  Dashboard    ${publicUrl}/dashboard
  API          ${publicUrl}            (health: ${publicUrl}/health)
  Temporal UI  ${external ? `(external cluster at ${temporalAddress})` : `http://localhost:${uiPort}`}
  Media        ${publicUrl}/media/      (files in ${env.LOCAL_STORAGE_DIR})

  Try it:
    curl -s -X POST ${publicUrl}/v1/generations -H 'content-type: application/json' \\
      -d '{"type":"ruby","input":{"emotion":"shocked","text_overlay":"it'"'"'s 100% real"}}'
    curl -s ${publicUrl}/v1/generations/<id>
    pnpm gptmarket generate ruby --emotion shocked --wait     # the CLI: a progress bar, then the files

  Ctrl-C stops everything.
${line}
`);
}

main().catch((err) => {
  console.error(`\ncould not start the stack: ${(err as Error).message}`);
  void shutdown(1);
});
