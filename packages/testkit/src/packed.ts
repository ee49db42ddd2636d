import { execFileSync } from 'node:child_process';

/** How long one command of a package test may take before it is killed (a stuck install must not stall the run). */
const COMMAND_TIMEOUT_MS = 180_000;

/**
 * Runs a command synchronously and returns its stdout. A failure carries the command's output in its message (and
 * `stdout`, `status`); one that outlives `COMMAND_TIMEOUT_MS` is killed and fails the same way, marked `timedOut`.
 */
export function runCommand(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, {
      cwd,
      encoding: 'utf8',
      stdio: 'pipe',
      timeout: COMMAND_TIMEOUT_MS,
      env: { ...process.env, npm_config_loglevel: 'error' },
    });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string; status?: number | null; code?: string };
    const timedOut = e.code === 'ETIMEDOUT';
    throw Object.assign(
      new Error(`${cmd} ${args.join(' ')}${timedOut ? ' timed out' : ''}: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`),
      { stdout: e.stdout, status: e.status, timedOut },
    );
  }
}

/**
 * `pnpm add` of packed tarballs and registry packages into a consumer project outside the workspace, as a user
 * installs a published package. When TLS to the registry fails (a proxy's CA certificate not handed to Node), pnpm
 * waits forever rather than failing: the timeout turns that into a failure that says where to look.
 */
export function installPacked(app: string, specs: string[]): void {
  try {
    runCommand('pnpm', ['add', '--prefer-offline', '--ignore-workspace', ...specs], app);
  } catch (err) {
    if (!(err as { timedOut?: boolean }).timedOut) throw err;
    throw new Error(
      `${(err as Error).message}\nThe install needs the npm registry: are proxy and CA settings (HTTPS_PROXY, NODE_EXTRA_CA_CERTS) set, and passed to tests by turbo.json's globalPassThroughEnv?`,
    );
  }
}
